//! Installs the pre-commit hook where git will run it: `core.hooksPath` when
//! set, else the common git directory's `hooks/` (shared by worktrees).

use std::fs;
use std::path::{Path, PathBuf};

use git2::Repository;

/// The hook script, as shipped in `hooks/pre-commit`.
pub const HOOK_SCRIPT: &str = include_str!("../../hooks/pre-commit");

/// Identifies a hook as alembot's, so reinstalling updates it in place.
const MARKER: &str = "alembot pre-commit hook";
const CHAINED: &str = "pre-commit.alembot-chained";
const BACKUP: &str = "pre-commit.alembot-backup";

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{}: not inside a git repository", .0.display())]
    NotARepository(PathBuf),
    #[error(
        "{} already exists and is not alembot's hook.\n  help: rerun with --chain to keep it and run it before alembot, or with --force to replace it (a copy is kept as {BACKUP})",
        .0.display()
    )]
    ForeignHook(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the git configuration: {0}")]
    Git(#[from] git2::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `alembot check --staged`: milliseconds.
    Fast,
    /// `alembot verify --staged --database sqlite`: runs the migrations.
    Deep,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct InstallOptions {
    pub force: bool,
    pub chain: bool,
    pub deep: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    Created(PathBuf),
    Updated(PathBuf),
    Unchanged(PathBuf),
    /// Installed, with the previous hook kept and run first.
    Chained {
        hook: PathBuf,
        previous: PathBuf,
    },
    /// Installed over a foreign hook, which was saved.
    Replaced {
        hook: PathBuf,
        backup: PathBuf,
    },
}

/// The hook text for a mode.
pub fn script(mode: Mode) -> String {
    match mode {
        Mode::Fast => HOOK_SCRIPT.to_string(),
        Mode::Deep => HOOK_SCRIPT.replace(
            "mode=${ALEMBOT_HOOK_MODE:-fast}",
            "mode=${ALEMBOT_HOOK_MODE:-deep}",
        ),
    }
}

/// The directory git runs hooks from for the repository around `dir`.
pub fn hooks_dir(dir: &Path) -> Result<PathBuf, HookError> {
    let repo =
        Repository::discover(dir).map_err(|_| HookError::NotARepository(dir.to_path_buf()))?;
    let config = repo.config()?;
    if let Ok(custom) = config.get_path("core.hooksPath") {
        // A relative hooksPath is relative to where hooks run: the top of
        // the working tree.
        if custom.is_absolute() {
            return Ok(custom);
        }
        let base = repo.workdir().unwrap_or_else(|| repo.path());
        return Ok(base.join(custom));
    }
    Ok(repo.commondir().join("hooks"))
}

pub fn install(dir: &Path, opts: InstallOptions) -> Result<Installed, HookError> {
    let hooks = hooks_dir(dir)?;
    fs::create_dir_all(&hooks).map_err(|source| HookError::Io {
        path: hooks.clone(),
        source,
    })?;
    let path = hooks.join("pre-commit");
    let wanted = script(if opts.deep { Mode::Deep } else { Mode::Fast });
    let existing = match fs::read(&path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(HookError::Io { path, source }),
    };
    let outcome = match existing {
        None => {
            write_hook(&path, &wanted)?;
            Installed::Created(path)
        }
        Some(text) if text == wanted => Installed::Unchanged(path),
        Some(text) if text.contains(MARKER) => {
            write_hook(&path, &wanted)?;
            Installed::Updated(path)
        }
        Some(_) if opts.chain => {
            let previous = hooks.join(CHAINED);
            rename(&path, &previous)?;
            write_hook(&path, &wanted)?;
            Installed::Chained {
                hook: path,
                previous,
            }
        }
        Some(_) if opts.force => {
            let backup = hooks.join(BACKUP);
            rename(&path, &backup)?;
            write_hook(&path, &wanted)?;
            Installed::Replaced { hook: path, backup }
        }
        Some(_) => return Err(HookError::ForeignHook(path)),
    };
    Ok(outcome)
}

fn rename(from: &Path, to: &Path) -> Result<(), HookError> {
    fs::rename(from, to).map_err(|source| HookError::Io {
        path: from.to_path_buf(),
        source,
    })
}

fn write_hook(path: &Path, text: &str) -> Result<(), HookError> {
    fs::write(path, text).map_err(|source| HookError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|source| {
            HookError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_script_is_posix_sh_and_marked() {
        assert!(HOOK_SCRIPT.starts_with("#!/bin/sh\n"));
        assert!(HOOK_SCRIPT.contains(MARKER));
        assert!(HOOK_SCRIPT.contains("check --staged"));
        assert!(HOOK_SCRIPT.contains("--no-verify"));
    }

    #[test]
    fn deep_mode_changes_only_the_default_mode() {
        let deep = script(Mode::Deep);
        assert!(deep.contains("mode=${ALEMBOT_HOOK_MODE:-deep}"));
        assert_eq!(deep.lines().count(), HOOK_SCRIPT.lines().count());
    }
}
