//! One module per subcommand: each composes the pipeline stages it needs.

pub mod check;
pub mod github;
pub mod hook;
pub mod status;
pub mod verify;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::change::{ChangeSet, Range, Source};
use crate::cli::{ColorChoice, OutputArgs, RangeArgs};
use crate::config::{Overrides, Settings};
use crate::error::Error;
use crate::findings::Report;
use crate::report::{Format, RenderOptions, render};

/// What a run ends with: the exit code the report calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean,
    Findings,
    /// The report was written, but something could not be checked at all
    /// (a database that cannot be reached): exit code 2.
    Incomplete,
}

impl Exit {
    pub fn of(report: &Report) -> Exit {
        if report.has_errors() {
            Exit::Findings
        } else {
            Exit::Clean
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Incomplete => 2,
        }
    }
}

/// Options every command shares, resolved from the global flags.
#[derive(Debug, Clone)]
pub struct Globals {
    pub dir: PathBuf,
    pub config: Option<PathBuf>,
    pub color: ColorChoice,
    pub no_cache: bool,
}

pub fn range_of(args: &RangeArgs) -> Range {
    match (&args.base, &args.head, args.staged) {
        (Some(base), Some(head), _) => Range::Commits {
            base: base.clone(),
            head: head.clone(),
        },
        (_, _, true) => Range::Staged,
        _ => Range::Worktree,
    }
}

/// Opens the change and loads the settings for it.
pub fn open(
    globals: &Globals,
    range: &Range,
    mut overrides: Overrides,
) -> Result<(Source, ChangeSet, Settings), Error> {
    let (source, change) = Source::open(&globals.dir, range)?;
    let start_dir = start_dir(&globals.dir, source.root());
    overrides.config = globals.config.clone();
    overrides.no_cache = globals.no_cache;
    let settings = Settings::load(source.root(), &start_dir, &source, &overrides)?;
    Ok((source, change, settings))
}

/// `-C DIR` relative to the repository root, where the search for
/// `.alembot.yml` starts.
fn start_dir(dir: &Path, root: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    dir.strip_prefix(&root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

pub fn use_color(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

pub fn render_options(settings: &Settings, color: bool) -> RenderOptions {
    let mut opts = RenderOptions::default().with_color(color);
    for env in &settings.environments {
        if let Some(file) = env.alembic_ini.clone().or(env.pyproject.clone()) {
            opts.environment_files.insert(env.name.clone(), file);
        }
    }
    opts.fallback_file = settings
        .config_file
        .clone()
        .or_else(|| opts.environment_files.values().next().cloned());
    opts
}

/// Writes the report where `--output` says (stdout by default).
pub fn emit(
    report: &Report,
    output: &OutputArgs,
    globals: &Globals,
    settings: Option<&Settings>,
) -> Result<(), Error> {
    let to_terminal = output.output.is_none() && std::io::stdout().is_terminal();
    let color = output.format == Format::Human && use_color(globals.color, to_terminal);
    let opts = match settings {
        Some(s) => render_options(s, color),
        None => RenderOptions::default().with_color(color),
    };
    let text = render(report, output.format, &opts);
    match &output.output {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Output {
            path: path.display().to_string(),
            source,
        }),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`alembot check | head`) is not an error worth a stack of text.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(())
        }
    }
}
