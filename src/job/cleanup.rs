//! Everything a run creates (temporary directories, databases, clusters,
//! containers) is registered here *before* it exists, and removed when the
//! run ends: on success, failure, timeout, Ctrl-C and SIGTERM.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::helper::Helper;
use super::protocol::Request;

#[derive(Debug, Clone)]
pub enum Cleanup {
    RemoveDir(PathBuf),
    /// A SQLite database file and its journal / WAL companions.
    RemoveSqlite(PathBuf),
    /// A database alembot created on a server (name `alembot_<12>`).
    DropDatabase {
        server_url: String,
        name: String,
    },
    /// A private PostgreSQL cluster started with `pg_ctl`.
    StopCluster {
        pg_ctl: PathBuf,
        data_dir: PathBuf,
        as_user: Option<(u32, u32)>,
    },
    RemoveContainer {
        id: String,
    },
}

impl Cleanup {
    fn describe(&self) -> String {
        match self {
            Cleanup::RemoveDir(p) | Cleanup::RemoveSqlite(p) => format!("remove {}", p.display()),
            Cleanup::DropDatabase { name, .. } => format!("drop database {name}"),
            Cleanup::StopCluster { data_dir, .. } => {
                format!("stop the cluster in {}", data_dir.display())
            }
            Cleanup::RemoveContainer { id } => format!("remove container {id}"),
        }
    }

    /// The command that removes it by hand, for when cleanup could not.
    pub fn by_hand(&self) -> String {
        let quoted =
            |p: &std::path::Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
        match self {
            Cleanup::RemoveDir(p) => format!("rm -rf {}", quoted(p)),
            Cleanup::RemoveSqlite(p) => format!("rm -f {}*", quoted(p)),
            Cleanup::DropDatabase { server_url, name } => {
                let shown = crate::redact::redact(server_url).into_owned();
                // The client tools take the plain scheme, not SQLAlchemy's `+driver`.
                let scheme = shown.split("://").next().unwrap_or("");
                let plain = match scheme.split_once('+') {
                    Some((base, _)) => shown.replacen(scheme, base, 1),
                    None => shown.clone(),
                };
                if scheme.starts_with("mysql") || scheme.starts_with("mariadb") {
                    format!("mysql -e 'DROP DATABASE `{name}`'   # on {plain}")
                } else {
                    format!("psql '{plain}' -c 'DROP DATABASE \"{name}\"'")
                }
            }
            Cleanup::StopCluster {
                pg_ctl, data_dir, ..
            } => format!(
                "{} -D {} -m immediate stop; rm -rf {}",
                pg_ctl.display(),
                quoted(data_dir),
                quoted(data_dir)
            ),
            Cleanup::RemoveContainer { id } => format!("docker rm -f -v {id}"),
        }
    }

    fn failure(&self, why: &str) -> String {
        format!(
            "could not {}: {why}; remove it by hand: {}",
            self.describe(),
            self.by_hand()
        )
    }
}

/// How long cleanup may take in all after the job ends (timeout, signal or
/// success): a server that stopped answering must not hold the run. What
/// is left then is reported with the command that removes it.
pub const CLEANUP_GRACE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupId(u64);

#[derive(Default)]
pub struct Janitor {
    items: Mutex<Vec<(u64, Cleanup)>>,
    next: AtomicU64,
    helper: Mutex<Option<Helper>>,
    /// The cleanup `run_all` is performing, so a second signal can say
    /// what it leaves behind.
    current: Mutex<Option<Cleanup>>,
}

impl Janitor {
    pub fn new() -> Janitor {
        Janitor::default()
    }

    /// The helper used to drop databases (set once it is installed).
    pub fn set_helper(&self, helper: Helper) {
        if let Ok(mut h) = self.helper.lock() {
            *h = Some(helper);
        }
    }

    pub fn register(&self, cleanup: Cleanup) -> CleanupId {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut items) = self.items.lock() {
            items.push((id, cleanup));
        }
        CleanupId(id)
    }

    fn take(&self, id: Option<CleanupId>) -> Vec<Cleanup> {
        let Ok(mut items) = self.items.lock() else {
            return Vec::new();
        };
        match id {
            Some(CleanupId(id)) => {
                let mut out = Vec::new();
                items.retain(|(i, c)| {
                    if *i == id {
                        out.push(c.clone());
                        false
                    } else {
                        true
                    }
                });
                out
            }
            // Last created, first removed: databases before their cluster,
            // clusters before their directory.
            None => items.drain(..).rev().map(|(_, c)| c).collect(),
        }
    }

    /// Runs one cleanup now (its resource is no longer needed).
    pub async fn run(&self, id: CleanupId) -> Vec<String> {
        let mut errors = Vec::new();
        for c in self.take(Some(id)) {
            if let Err(e) = self.perform(&c).await {
                errors.push(format!("could not {}: {e}", c.describe()));
            }
        }
        errors
    }

    /// Runs every remaining cleanup, last created first, within
    /// [`CLEANUP_GRACE`]; returns what could not be removed, each with the
    /// command that removes it.
    pub async fn run_all(&self) -> Vec<String> {
        self.run_all_within(CLEANUP_GRACE).await
    }

    pub async fn run_all_within(&self, grace: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + grace;
        let mut errors = Vec::new();
        while let Some(c) = self.pop_last() {
            if let Ok(mut cur) = self.current.lock() {
                *cur = Some(c.clone());
            }
            match tokio::time::timeout_at(deadline, self.perform(&c)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(c.failure(&e)),
                Err(_) => {
                    errors.push(c.failure(&format!("cleanup ran out of its {} s", grace.as_secs())))
                }
            }
            if let Ok(mut cur) = self.current.lock() {
                *cur = None;
            }
        }
        errors
    }

    fn pop_last(&self) -> Option<Cleanup> {
        self.items.lock().ok()?.pop().map(|(_, c)| c)
    }

    /// What is still to be removed (in flight first), each with the
    /// command that removes it: for a second signal, which ends the run at
    /// once.
    pub fn leftovers(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(cur) = self.current.lock()
            && let Some(c) = cur.as_ref()
        {
            out.push(format!("{} (interrupted): {}", c.describe(), c.by_hand()));
        }
        if let Ok(items) = self.items.lock() {
            for (_, c) in items.iter().rev() {
                out.push(format!("{}: {}", c.describe(), c.by_hand()));
            }
        }
        out
    }

    /// Forgets a registration whose resource turned out not to exist.
    pub fn forget(&self, id: CleanupId) {
        self.take(Some(id));
    }

    pub fn pending(&self) -> usize {
        self.items.lock().map(|i| i.len()).unwrap_or(0)
    }

    async fn perform(&self, cleanup: &Cleanup) -> Result<(), String> {
        tracing::info!("cleanup: {}", cleanup.describe());
        match cleanup {
            Cleanup::RemoveDir(path) => match tokio::fs::remove_dir_all(path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            Cleanup::RemoveSqlite(path) => {
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    match tokio::fs::remove_file(&p).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok(())
            }
            Cleanup::DropDatabase { server_url, name } => {
                let helper = self.helper.lock().ok().and_then(|h| h.clone());
                let Some(helper) = helper else {
                    return Err("no Python helper to drop it with".into());
                };
                let request = Request {
                    action: "drop-database",
                    server_url: Some(server_url.clone()),
                    name: Some(name.clone()),
                    ..Request::default()
                };
                helper
                    .call(&request, None, &|_| {})
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Cleanup::StopCluster {
                pg_ctl,
                data_dir,
                as_user,
            } => {
                let mut cmd = tokio::process::Command::new(pg_ctl);
                cmd.arg("-D")
                    .arg(data_dir)
                    .args(["-m", "immediate", "-w", "stop"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    // Cut at the cleanup grace: nothing of it may outlive alembot.
                    .kill_on_drop(true);
                #[cfg(unix)]
                if let Some((uid, gid)) = as_user {
                    cmd.uid(*uid).gid(*gid);
                }
                let out = cmd.output().await.map_err(|e| e.to_string())?;
                // A cluster that never started has nothing to stop.
                if out.status.success() || !data_dir.join("postmaster.pid").exists() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
                }
            }
            Cleanup::RemoveContainer { id } => {
                let out = tokio::process::Command::new("docker")
                    .args(["rm", "-f", "-v", id])
                    .stdin(Stdio::null())
                    .kill_on_drop(true)
                    .output()
                    .await
                    .map_err(|e| e.to_string())?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
                }
            }
        }
    }
}

impl Drop for Janitor {
    /// A safety net for paths that never reached `run_all` (a panic): the
    /// filesystem and containers can be cleaned without the async runtime.
    fn drop(&mut self) {
        for c in self.take(None) {
            match c {
                Cleanup::RemoveDir(p) => {
                    let _ = std::fs::remove_dir_all(p);
                }
                Cleanup::RemoveSqlite(p) => {
                    let _ = std::fs::remove_file(p);
                }
                Cleanup::StopCluster {
                    pg_ctl, data_dir, ..
                } => {
                    let _ = std::process::Command::new(pg_ctl)
                        .arg("-D")
                        .arg(data_dir)
                        .args(["-m", "immediate", "stop"])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                }
                Cleanup::RemoveContainer { id } => {
                    let _ = std::process::Command::new("docker")
                        .args(["rm", "-f", "-v", &id])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                }
                Cleanup::DropDatabase { name, .. } => {
                    eprintln!("alembot: could not drop database {name}; drop it by hand");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_one_or_all_in_reverse_order() {
        let j = Janitor::new();
        let a = tempfile::tempdir().unwrap().keep();
        let b = tempfile::tempdir().unwrap().keep();
        let id_a = j.register(Cleanup::RemoveDir(a.clone()));
        j.register(Cleanup::RemoveDir(b.clone()));
        assert!(j.run(id_a).await.is_empty());
        assert!(!a.exists() && b.exists());
        assert_eq!(j.pending(), 1);
        assert!(j.run_all().await.is_empty());
        assert!(!b.exists());
        assert_eq!(j.pending(), 0);
    }

    /// A cleanup step that never ends (a server that stopped answering)
    /// is cut at the grace and reported with the command to finish it.
    #[tokio::test]
    async fn cleanup_is_bounded_and_says_what_is_left() {
        let j = Janitor::new();
        let dir = tempfile::tempdir().unwrap().keep();
        j.register(Cleanup::RemoveDir(dir.clone()));
        // pg_ctl that hangs: `sleep` stands in for a stuck server.
        let stuck = tempfile::tempdir().unwrap();
        let pg_ctl = stuck.path().join("pg_ctl");
        std::fs::write(&pg_ctl, "#!/bin/sh\nexec sleep 60\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&pg_ctl, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        j.register(Cleanup::StopCluster {
            pg_ctl: pg_ctl.clone(),
            data_dir: stuck.path().join("data"),
            as_user: None,
        });
        let started = std::time::Instant::now();
        let errors = j.run_all_within(Duration::from_secs(2)).await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("could not stop the cluster"),
            "{errors:?}"
        );
        assert!(errors[0].contains("remove it by hand:"), "{errors:?}");
        assert!(errors[0].contains("-m immediate stop"), "{errors:?}");
        assert!(
            errors[1].contains(&format!("rm -rf '{}'", dir.display())),
            "{errors:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn by_hand_commands_hide_passwords() {
        let c = Cleanup::DropDatabase {
            server_url: "postgresql+psycopg2://app:s3cret@db/postgres".into(),
            name: "alembot_abc".into(),
        };
        let cmd = c.by_hand();
        assert!(!cmd.contains("s3cret"), "{cmd}");
        assert!(
            cmd.starts_with("psql 'postgresql://app:***@db/postgres'"),
            "{cmd}"
        );
    }

    #[test]
    fn drop_removes_leftover_directories() {
        let dir = tempfile::tempdir().unwrap().keep();
        {
            let j = Janitor::new();
            j.register(Cleanup::RemoveDir(dir.clone()));
        }
        assert!(!dir.exists());
    }
}
