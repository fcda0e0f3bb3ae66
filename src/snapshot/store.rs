//! Where base snapshots live: one file per key in the repository's git
//! directory (`.git/alembot/snapshots/<key>.snapshot`, beside the revision
//! cache, shared by worktrees, never seen by `git status` or `git clean`).
//!
//! A file is a header line (the format and the alembot version that wrote
//! it), one line of JSON (the [`Manifest`]) and the payload (a SQLite file,
//! or the SQL that recreates a server schema). Writes go to a temporary
//! file renamed over the old one, so a concurrent reader sees a whole file
//! or none; a reader checks the payload's length and SHA-256, so a
//! truncated or damaged file is a miss, never a wrong base state. Files
//! are pruned least recently used first (a hit refreshes the file's
//! modification time) once they exceed the size cap.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bumped when the file layout or the meaning of a field changes.
pub const FORMAT: u32 = 1;
const EXTENSION: &str = "snapshot";
/// Temporary files of writes that never finished (a killed run) are
/// removed when older than this.
const STALE_TEMP: Duration = Duration::from_secs(3600);
/// The default size cap of the store: a SQLite base state of a thousand
/// revisions is a few megabytes, a schema dump a few hundred kilobytes.
pub const DEFAULT_CAP: u64 = 256 * 1024 * 1024;

fn header() -> String {
    format!("alembot snapshot {FORMAT} {}\n", env!("CARGO_PKG_VERSION"))
}

/// What a snapshot is and what was verified when it was made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The key it was saved under (the hash of its inputs).
    pub key: String,
    /// When it was saved, seconds since the Unix epoch.
    pub created: u64,
    /// `sqlite` (the database file) or `sql` (statements run in one batch).
    pub kind: String,
    /// The environment of the run that made it: Python, SQLAlchemy,
    /// Alembic, the driver, the dialect and the server version. The helper
    /// uses the snapshot only when its own environment is the same.
    pub runtime: serde_json::Map<String, serde_json::Value>,
    /// The revisions the base state is at.
    pub heads: Vec<String>,
    /// The checks the making run passed on the history the snapshot holds.
    pub verified: Vec<String>,
    /// No finding at error severity in that history: only a clean
    /// snapshot is ever used.
    pub clean: bool,
    /// The warnings that history gave (an irreversible old migration):
    /// reported again on every hit, so a hit says what a replay says.
    #[serde(default)]
    pub findings: Vec<serde_json::Value>,
    pub payload_len: u64,
    pub payload_sha256: String,
}

/// A snapshot read back whole and checked.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub manifest: Manifest,
    pub payload: Vec<u8>,
}

/// Why a stored snapshot was not used. None of these is an error: a miss
/// costs speed, never a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No snapshot has this key.
    Absent,
    /// Written by another alembot version or format.
    Foreign,
    /// Truncated, damaged, or not a snapshot at all.
    Corrupt(String),
    /// Made by a run that found errors in the history it holds.
    Unclean,
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Absent => f.write_str("no snapshot has this key yet"),
            Miss::Foreign => {
                f.write_str("the stored snapshot was written by another alembot version")
            }
            Miss::Corrupt(why) => write!(f, "the stored snapshot is damaged ({why})"),
            Miss::Unclean => f.write_str("the stored snapshot comes from a history with errors"),
        }
    }
}

/// What pruning removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub removed: usize,
    pub kept_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    cap: u64,
}

impl Store {
    /// The store in `dir` (created on the first save) with a size cap.
    pub fn new(dir: PathBuf, cap: u64) -> Self {
        Store { dir, cap }
    }

    /// The store under a repository's cache directory (`.git/alembot`).
    pub fn in_cache_dir(cache_dir: &Path) -> Self {
        Store::new(cache_dir.join("snapshots"), DEFAULT_CAP)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{EXTENSION}"))
    }

    /// The snapshot saved under `key`, checked whole. A hit refreshes the
    /// file's modification time: pruning goes by last use.
    pub fn load(&self, key: &str) -> Result<Loaded, Miss> {
        if !valid_key(key) {
            return Err(Miss::Absent);
        }
        let path = self.path(key);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Miss::Absent),
            Err(e) => return Err(Miss::Corrupt(format!("cannot read it: {e}"))),
        };
        let loaded = decode(&bytes, key)?;
        if let Ok(file) = fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
        Ok(loaded)
    }

    /// Saves `payload` under `manifest.key`, atomically; the manifest's
    /// length and checksum are filled in here. Only clean snapshots are
    /// saved.
    pub fn save(&self, mut manifest: Manifest, payload: &[u8]) -> std::io::Result<bool> {
        if !manifest.clean || !valid_key(&manifest.key) {
            return Ok(false);
        }
        manifest.payload_len = payload.len() as u64;
        manifest.payload_sha256 = hex::encode(Sha256::digest(payload));
        let mut text = header().into_bytes();
        serde_json::to_writer(&mut text, &manifest).map_err(std::io::Error::other)?;
        text.push(b'\n');
        fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".snapshot-")
            .tempfile_in(&self.dir)?;
        tmp.write_all(&text)?;
        tmp.write_all(payload)?;
        tmp.as_file().sync_data()?;
        tmp.persist(self.path(&manifest.key)).map_err(|e| e.error)?;
        Ok(true)
    }

    /// Removes the least recently used snapshots until the rest fit in the
    /// cap, and temporary files left by writes that never finished.
    pub fn prune(&self) -> std::io::Result<Pruned> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Pruned::default()),
            Err(e) => return Err(e),
        };
        let now = SystemTime::now();
        let mut files: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        let mut pruned = Pruned::default();
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            let modified = meta.modified().unwrap_or(now);
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".snapshot-") {
                if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            if path.extension().is_some_and(|e| e == EXTENSION) {
                files.push((modified, meta.len(), path));
            }
        }
        // Newest use first: keep while they fit.
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        for (_, len, path) in files {
            if pruned.kept_bytes + len <= self.cap {
                pruned.kept_bytes += len;
            } else if fs::remove_file(&path).is_ok() {
                pruned.removed += 1;
            }
        }
        Ok(pruned)
    }
}

/// A key is the hex SHA-256 of the inputs: anything else never names a
/// file (a key is spliced into a path).
fn valid_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

fn decode(bytes: &[u8], key: &str) -> Result<Loaded, Miss> {
    let header = header();
    let Some(rest) = bytes.strip_prefix(header.as_bytes()) else {
        return Err(if bytes.starts_with(b"alembot snapshot ") {
            Miss::Foreign
        } else {
            Miss::Corrupt("no snapshot header".into())
        });
    };
    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
        return Err(Miss::Corrupt("no manifest".into()));
    };
    let manifest: Manifest = serde_json::from_slice(&rest[..end])
        .map_err(|e| Miss::Corrupt(format!("unreadable manifest: {e}")))?;
    if manifest.key != key {
        return Err(Miss::Corrupt("saved under another key".into()));
    }
    let payload = &rest[end + 1..];
    if payload.len() as u64 != manifest.payload_len {
        return Err(Miss::Corrupt(format!(
            "{} bytes of {}",
            payload.len(),
            manifest.payload_len
        )));
    }
    if hex::encode(Sha256::digest(payload)) != manifest.payload_sha256 {
        return Err(Miss::Corrupt("checksum mismatch".into()));
    }
    if !manifest.clean {
        return Err(Miss::Unclean);
    }
    Ok(Loaded {
        manifest,
        payload: payload.to_vec(),
    })
}

/// `2026-12-01 06:50 UTC` for a Unix time: the report's wording.
pub fn utc_minute(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    fn manifest(key: &str) -> Manifest {
        Manifest {
            key: key.into(),
            created: 1_790_000_000,
            kind: "sqlite".into(),
            runtime: serde_json::Map::new(),
            heads: vec!["3b06dd20bf9d".into()],
            verified: vec!["upgrade".into(), "roundtrip".into()],
            clean: true,
            findings: Vec::new(),
            payload_len: 0,
            payload_sha256: String::new(),
        }
    }

    fn store(dir: &Path) -> Store {
        Store::new(dir.join("snapshots"), DEFAULT_CAP)
    }

    #[test]
    fn a_saved_snapshot_loads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        assert_eq!(s.load(KEY).unwrap_err(), Miss::Absent);
        assert!(s.save(manifest(KEY), b"SQLite format 3\0...").unwrap());
        let loaded = s.load(KEY).unwrap();
        assert_eq!(loaded.payload, b"SQLite format 3\0...");
        assert_eq!(loaded.manifest.heads, ["3b06dd20bf9d"]);
        assert_eq!(loaded.manifest.payload_len, 19);
        assert_eq!(s.load(OTHER).unwrap_err(), Miss::Absent);
        // No temporary file is left beside it.
        let names: Vec<_> = fs::read_dir(s.dir()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_truncated_or_damaged_snapshot_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.save(manifest(KEY), b"CREATE TABLE a (id INTEGER);")
            .unwrap();
        let path = s.path(KEY);
        let whole = fs::read(&path).unwrap();
        fs::write(&path, &whole[..whole.len() - 3]).unwrap();
        assert!(matches!(s.load(KEY), Err(Miss::Corrupt(w)) if w.contains("bytes of")));
        let mut flipped = whole.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x20;
        fs::write(&path, &flipped).unwrap();
        assert!(matches!(s.load(KEY), Err(Miss::Corrupt(w)) if w.contains("checksum")));
        fs::write(&path, b"garbage").unwrap();
        assert!(matches!(s.load(KEY), Err(Miss::Corrupt(_))));
        let header_only = header();
        fs::write(&path, header_only.as_bytes()).unwrap();
        assert!(matches!(s.load(KEY), Err(Miss::Corrupt(w)) if w.contains("manifest")));
    }

    #[test]
    fn a_snapshot_of_another_version_or_key_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.save(manifest(KEY), b"x").unwrap();
        let path = s.path(KEY);
        let text = fs::read(&path).unwrap();
        let foreign = [
            b"alembot snapshot 1 0.0.0-other\n".as_slice(),
            &text[header().len()..],
        ]
        .concat();
        fs::write(&path, foreign).unwrap();
        assert_eq!(s.load(KEY).unwrap_err(), Miss::Foreign);
        // A file copied under another key's name.
        s.save(manifest(OTHER), b"x").unwrap();
        fs::copy(s.path(OTHER), &path).unwrap();
        assert!(matches!(s.load(KEY), Err(Miss::Corrupt(w)) if w.contains("another key")));
    }

    #[test]
    fn a_snapshot_from_a_history_with_errors_is_neither_saved_nor_used() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let mut m = manifest(KEY);
        m.clean = false;
        assert!(!s.save(m.clone(), b"x").unwrap());
        assert_eq!(s.load(KEY).unwrap_err(), Miss::Absent);
        // Written by hand (or by a future version that saves them).
        m.payload_len = 1;
        m.payload_sha256 = hex::encode(Sha256::digest(b"x"));
        let mut text = header().into_bytes();
        serde_json::to_writer(&mut text, &m).unwrap();
        text.extend_from_slice(b"\nx");
        fs::create_dir_all(s.dir()).unwrap();
        fs::write(s.path(KEY), text).unwrap();
        assert_eq!(s.load(KEY).unwrap_err(), Miss::Unclean);
    }

    #[test]
    fn keys_that_are_not_hashes_never_name_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        assert!(!s.save(manifest("../escape"), b"x").unwrap());
        assert_eq!(s.load("../escape").unwrap_err(), Miss::Absent);
        assert!(!dir.path().join("escape.snapshot").exists());
    }

    #[test]
    fn pruning_keeps_the_most_recently_used_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<String> = (0..4).map(|i| format!("{i}").repeat(64)).collect();
        let big = Store::new(dir.path().join("s"), DEFAULT_CAP);
        for k in &keys {
            big.save(manifest(k), &[0u8; 1000]).unwrap();
        }
        // Ages: key 0 oldest ... key 3 newest; then key 0 is used.
        let now = SystemTime::now();
        for (i, k) in keys.iter().enumerate() {
            let f = fs::File::options().append(true).open(big.path(k)).unwrap();
            f.set_modified(now - Duration::from_secs(100 * (4 - i as u64)))
                .unwrap();
        }
        big.load(&keys[0]).unwrap();
        let one = fs::metadata(big.path(&keys[0])).unwrap().len();
        let capped = Store::new(dir.path().join("s"), one * 2 + 10);
        let pruned = capped.prune().unwrap();
        assert_eq!(pruned.removed, 2);
        assert!(capped.load(&keys[0]).is_ok(), "just used: kept");
        assert!(capped.load(&keys[3]).is_ok(), "newest: kept");
        assert_eq!(capped.load(&keys[1]).unwrap_err(), Miss::Absent);
        assert_eq!(capped.load(&keys[2]).unwrap_err(), Miss::Absent);
    }

    #[test]
    fn pruning_removes_only_stale_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        fs::create_dir_all(s.dir()).unwrap();
        let fresh = s.dir().join(".snapshot-fresh");
        let stale = s.dir().join(".snapshot-stale");
        fs::write(&fresh, b"in progress").unwrap();
        fs::write(&stale, b"abandoned").unwrap();
        fs::File::options()
            .append(true)
            .open(&stale)
            .unwrap()
            .set_modified(SystemTime::now() - STALE_TEMP * 2)
            .unwrap();
        s.prune().unwrap();
        assert!(fresh.exists(), "a concurrent write in progress survives");
        assert!(!stale.exists());
    }

    #[test]
    fn concurrent_saves_and_loads_never_see_a_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.save(manifest(KEY), &[1u8; 4096]).unwrap();
        std::thread::scope(|scope| {
            for t in 0..4u8 {
                let s = s.clone();
                scope.spawn(move || {
                    for i in 0..50u8 {
                        if (i + t) % 2 == 0 {
                            let fill = i.wrapping_mul(t + 1);
                            s.save(manifest(KEY), &vec![fill; 4096 + usize::from(i)])
                                .unwrap();
                        } else {
                            let loaded = s.load(KEY).expect("always a whole snapshot");
                            let first = loaded.payload[0];
                            assert!(loaded.payload.iter().all(|&b| b == first));
                        }
                    }
                });
            }
        });
        let names: Vec<_> = fs::read_dir(s.dir()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
    }

    #[test]
    fn dates_read_as_utc_minutes() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_796_107_800), "2026-12-01 06:50 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
    }
}
