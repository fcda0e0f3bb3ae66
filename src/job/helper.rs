//! Runs the embedded Python helper with the project's own interpreter.
//!
//! Each call is one process (one environment's checks share it, so imports
//! happen once). The process runs in its own process group, so a timeout or
//! an interrupt kills everything it started.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use super::protocol::{Event, Request};
use super::{child_env, reaper};

/// How long the helper may take to exit after its last word: its own
/// interpreter shutdown (atexit handlers, non-daemon threads). Then it and
/// everything it started is killed; the result is already in hand.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// How long to wait for the rest of stderr once the helper's tree is
/// killed: a descendant that cleared its environment (so the sweep cannot
/// find it) may still hold the pipe.
const STDERR_GRACE: Duration = Duration::from_secs(2);

/// The helper's source, shipped inside the binary.
pub const SCRIPT: &str = include_str!("helper.py");

const STDERR_TAIL: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    /// Something to install or configure: exit code 2.
    #[error("{message}\n  help: {help}")]
    Environment { message: String, help: String },
    #[error("cannot connect to the database: {message}\n  help: {help}")]
    Connection { message: String, help: String },
    #[error("the request to the job helper was refused: {message}")]
    Request { message: String },
    #[error(
        "cannot start `{python}`: {source}\n  help: set `python:` in .alembot.yml, pass --python, or activate the project's virtual environment"
    )]
    Spawn {
        python: String,
        #[source]
        source: std::io::Error,
    },
    /// `status` is the exit status as Rust shows it (`exit status: 3`,
    /// `signal: 9 (SIGKILL)`), so the message does not say it again.
    #[error("the job helper stopped without a result ({status}){}", tail_text(.stderr))]
    Crashed { status: String, stderr: Vec<String> },
    #[error("the job helper failed: {message}{}", tail_text(.stderr))]
    Internal {
        message: String,
        stderr: Vec<String>,
    },
}

fn tail_text(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n  its last output:\n    {}", lines.join("\n    "))
    }
}

/// The helper script on disk (in the run's private temporary directory) and
/// the interpreter that runs it.
#[derive(Debug, Clone)]
pub struct Helper {
    pub python: String,
    pub script: PathBuf,
}

/// Kills the helper's whole process tree when the call ends or is
/// abandoned (timeout, interrupt): its process group, and the descendants
/// that left it (`setsid`), found by the run's marker. `kill_on_drop`
/// alone would reach only the child.
struct TreeGuard {
    pgid: Option<u32>,
    mark: String,
}

impl Drop for TreeGuard {
    fn drop(&mut self) {
        reaper::kill_tree(self.pgid, &self.mark);
    }
}

impl Helper {
    /// Writes the script into `dir`.
    pub fn install(python: String, dir: &Path) -> std::io::Result<Helper> {
        let script = dir.join("alembot_helper.py");
        std::fs::write(&script, SCRIPT)?;
        Ok(Helper { python, script })
    }

    /// Sends `request` and returns the `result` object. `on_event` sees
    /// progress events as they arrive.
    pub async fn call(
        &self,
        request: &Request,
        cwd: Option<&Path>,
        on_event: &(dyn Fn(&Event) + Send + Sync),
    ) -> Result<serde_json::Map<String, serde_json::Value>, HelperError> {
        let mut cmd = Command::new(&self.python);
        let mark = reaper::new_mark();
        cmd.arg(&self.script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Project code runs in the helper: an allow-listed environment,
            // never the runner's secrets.
            .env_clear()
            .envs(child_env::build(std::env::vars_os(), &request.pass_env))
            // Bytecode caches would be files alembot leaves in the project.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env(reaper::MARKER, &mark)
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn().map_err(|source| HelperError::Spawn {
            python: self.python.clone(),
            source,
        })?;
        let _tree = TreeGuard {
            pgid: child.id(),
            mark: mark.clone(),
        };
        let body = serde_json::to_vec(request).map_err(|e| HelperError::Internal {
            message: format!("encoding the request: {e}"),
            stderr: Vec::new(),
        })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that dies at once closes the pipe; its exit explains why.
            let _ = stdin.write_all(&body).await;
            let _ = stdin.shutdown().await;
        }
        let tail: Arc<Mutex<VecDeque<String>>> = Arc::new(Mutex::new(VecDeque::new()));
        let stderr_task = child.stderr.take().map(|stderr| {
            let tail = Arc::clone(&tail);
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    // Project code prints what it likes, URLs included.
                    let line = crate::redact::redact_string(line);
                    tracing::debug!(target: "alembot::helper", "{line}");
                    if let Ok(mut t) = tail.lock() {
                        if t.len() == STDERR_TAIL {
                            t.pop_front();
                        }
                        t.push_back(line);
                    }
                }
            })
        });
        let mut outcome: Option<Result<serde_json::Map<String, serde_json::Value>, HelperError>> =
            None;
        if let Some(stdout) = child.stdout.take() {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let event: Event = match serde_json::from_str(&line) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(
                            "unreadable helper output ({e}): {}",
                            crate::redact::redact(&line)
                        );
                        continue;
                    }
                };
                let last = matches!(event, Event::Result(_) | Event::Fatal { .. });
                match event {
                    Event::Result(map) => outcome = Some(Ok(map)),
                    Event::Fatal {
                        kind,
                        message,
                        help,
                    } => {
                        let help = help.unwrap_or_default();
                        outcome = Some(Err(match kind.as_str() {
                            "environment" => HelperError::Environment { message, help },
                            "connection" => HelperError::Connection { message, help },
                            "request" => HelperError::Request { message },
                            _ => HelperError::Internal {
                                message,
                                stderr: Vec::new(),
                            },
                        }));
                    }
                    other => on_event(&other),
                }
                // The helper's last word: a background process the project
                // started may hold stdout open for as long as it likes.
                if last {
                    break;
                }
            }
        }
        let status = match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
            Ok(status) => status,
            Err(_) => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        // The helper is gone: so must be everything it started.
        reaper::kill_tree(child.id().or(_tree.pgid), &mark);
        if let Some(task) = stderr_task
            && tokio::time::timeout(STDERR_GRACE, task).await.is_err()
        {
            tracing::debug!("a process the helper started still holds its stderr");
        }
        let stderr: Vec<String> = tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        match outcome {
            Some(Err(HelperError::Internal { message, .. })) => {
                Err(HelperError::Internal { message, stderr })
            }
            Some(result) => result,
            None => Err(HelperError::Crashed {
                status: status.map_or_else(|e| e.to_string(), |s| s.to_string()),
                stderr,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_is_embedded_and_speaks_the_protocol() {
        assert!(SCRIPT.contains("HELPER_PROTOCOL = 1"));
        assert!(SCRIPT.contains("def status_action"));
    }

    #[tokio::test]
    async fn a_missing_interpreter_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let helper = Helper::install("/nonexistent/python3".into(), dir.path()).unwrap();
        let err = helper
            .call(&Request::default(), None, &|_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot start `/nonexistent/python3`"), "{err}");
        assert!(err.contains("--python"), "{err}");
    }

    #[tokio::test]
    async fn a_crashing_interpreter_shows_its_last_output() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("python");
        std::fs::write(&fake, "#!/bin/sh\necho 'Traceback: boom' >&2\nexit 3\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let helper = Helper::install(fake.display().to_string(), dir.path()).unwrap();
        let err = helper
            .call(&Request::default(), None, &|_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("without a result"), "{err}");
        assert!(err.contains("Traceback: boom"), "{err}");
    }
}
