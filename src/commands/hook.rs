//! `alembot hook install`.

use crate::cli::{HookArgs, HookCommand};
use crate::error::Error;
use crate::hook::{InstallOptions, Installed, install};

use super::{Exit, Globals};

pub fn run(globals: &Globals, args: &HookArgs) -> Result<Exit, Error> {
    match &args.command {
        HookCommand::Install(opts) => {
            let outcome = install(
                &globals.dir,
                InstallOptions {
                    force: opts.force,
                    chain: opts.chain,
                    deep: opts.deep,
                },
            )?;
            let message = match outcome {
                Installed::Created(p) => {
                    format!("installed the alembot pre-commit hook: {}", p.display())
                }
                Installed::Updated(p) => {
                    format!("updated the alembot pre-commit hook: {}", p.display())
                }
                Installed::Unchanged(p) => format!(
                    "the alembot pre-commit hook is already installed: {}",
                    p.display()
                ),
                Installed::Chained { hook, previous } => format!(
                    "installed the alembot pre-commit hook: {}\nthe previous hook was kept as {} and runs first",
                    hook.display(),
                    previous.display()
                ),
                Installed::Replaced { hook, backup } => format!(
                    "installed the alembot pre-commit hook: {}\nthe previous hook was saved as {}",
                    hook.display(),
                    backup.display()
                ),
            };
            println!("{message}");
            println!(
                "skip it once with `git commit --no-verify`; silence a model line with `# alembot: ignore`"
            );
            Ok(Exit::Clean)
        }
    }
}
