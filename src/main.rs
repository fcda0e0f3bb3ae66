use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use alembot::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match alembot::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) => {
            // The message may quote a driver's error, which may quote a URL.
            eprintln!(
                "alembot: error: {}",
                alembot::redact::redact(&err.to_string())
            );
            ExitCode::from(err.exit_code())
        }
    }
}

/// Logs go to stderr so stdout carries only the report.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "alembot=info",
        _ => "alembot=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ALEMBOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Escape codes only on a terminal: CI logs and files get plain text.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false)
        .without_time()
        .try_init();
}
