//! Ends every process a helper started, when the helper is done or
//! abandoned: its process group, and a sweep for descendants that left the
//! group (`setsid()`, a double fork), found by a marker variable each
//! helper run carries in its environment and every descendant inherits.

/// The variable that marks a helper run's processes.
pub const MARKER: &str = "ALEMBOT_HELPER_RUN";

/// A new marker value, unique to one helper run.
pub fn new_mark() -> String {
    format!("{}-{:016x}", std::process::id(), fastrand::u64(..))
}

/// Kills process group `pgid` and every process whose environment carries
/// `MARKER=mark`. Best effort: a process that exits meanwhile is fine.
pub fn kill_tree(pgid: Option<u32>, mark: &str) {
    #[cfg(unix)]
    {
        if let Some(pid) = pgid.and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a negative pid signals a process group;
            // it has no memory-safety preconditions.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        for pid in marked(mark) {
            // SAFETY: as above, for one process.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (pgid, mark);
}

/// The processes whose environment holds `MARKER=mark` (Linux: /proc;
/// elsewhere the process group is all there is).
pub fn marked(mark: &str) -> Vec<i32> {
    let needle = format!("{MARKER}={mark}\0").into_bytes();
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    let me = std::process::id() as i32;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        // Other users' processes are unreadable, and cannot be ours.
        let Ok(env) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if env.windows(needle.len()).any(|w| w == needle.as_slice()) {
            out.push(pid);
        }
    }
    out
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A child that leaves the process group with setsid is still found.
    #[test]
    fn a_setsid_descendant_is_found_and_killed() {
        let mark = new_mark();
        let mut child = std::process::Command::new("setsid")
            .args(["sleep", "60"])
            .env(MARKER, &mark)
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while marked(&mark).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!marked(&mark).is_empty());
        kill_tree(None, &mark);
        let _ = child.wait();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !marked(&mark).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(marked(&mark).is_empty());
    }
}
