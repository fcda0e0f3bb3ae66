//! The revision cache: the identifiers of revision files, keyed by the git
//! object id of their content, so a pre-commit run reads only the revision
//! files it has not seen before.
//!
//! The graph findings need the identifiers of every revision of a touched
//! environment. Reading hundreds of files (open, stat, read, close each) was
//! most of a pre-commit run; a content-keyed entry can never be stale, so
//! the cache needs no invalidation. It lives in the repository's git
//! directory (`.git/alembot/revisions.json`, shared by worktrees), where
//! `git clean` and `git status` never see it. An entry written by another
//! alembot version, or a file that does not parse, is ignored. A failure to
//! read or write it only costs speed: the check never depends on it.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;

use git2::Oid;

use crate::alembic::revision::RevisionFile;

/// Bumped when the stored form or the meaning of an entry changes.
const FORMAT: u32 = 1;
const FILE_NAME: &str = "revisions";

/// The first line: the format and the alembot version that wrote the
/// file. A newer parser may read a revision file differently, so entries of
/// another version are not trusted.
fn header() -> String {
    format!(
        "alembot revision cache {FORMAT} {}\n",
        env!("CARGO_PKG_VERSION")
    )
}

type Key = [u8; 20];

fn key(id: Oid) -> Key {
    let mut k = [0u8; 20];
    let bytes = id.as_bytes();
    if bytes.len() == k.len() {
        k.copy_from_slice(bytes);
    }
    k
}

/// Parsed revision headers by content id, for one run. Stored entries are
/// parsed only when asked for, and written back as they were read.
#[derive(Debug, Default)]
pub struct RevisionCache {
    /// The cache directory; `None` when caching is off or there is no
    /// git directory.
    dir: Option<PathBuf>,
    /// The file as read, and where each entry's line is in it.
    text: String,
    stored: HashMap<Key, Range<usize>>,
    used: HashSet<Key>,
    /// Lines for entries this run learnt.
    added: HashMap<Key, String>,
}

impl RevisionCache {
    /// A cache that never stores anything (`--no-cache`, or no repository).
    pub fn off() -> Self {
        Self::default()
    }

    /// Loads the cache kept in `dir` (created on the first save).
    pub fn open(dir: PathBuf) -> Self {
        let text = fs::read_to_string(dir.join(FILE_NAME)).unwrap_or_default();
        let stored = index_lines(&text).unwrap_or_default();
        RevisionCache {
            dir: Some(dir),
            text,
            stored,
            ..Self::default()
        }
    }

    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// The revision stored for content `id`, placed at `path`. An entry
    /// that does not read back is a miss, and is replaced.
    pub fn get(&mut self, id: Oid, path: &str) -> Option<RevisionFile> {
        let k = key(id);
        let range = self.stored.get(&k)?.clone();
        let mut file = read_entry(&self.text[range])?;
        file.path = path.to_string();
        self.used.insert(k);
        Some(file)
    }

    pub fn insert(&mut self, id: Oid, file: &RevisionFile) {
        if !self.enabled() {
            return;
        }
        let k = key(id);
        self.stored.remove(&k);
        self.added.insert(k, entry_line(id, file));
    }

    /// Writes the entries this run used, when it learnt anything new: the
    /// file follows the history instead of growing with every revision ever
    /// seen. Atomic (a temporary file renamed over the old one), so a
    /// concurrent run reads either version whole.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        if self.added.is_empty() {
            return Ok(());
        }
        let mut text = header();
        for (k, range) in &self.stored {
            if self.used.contains(k) {
                text.push_str(&self.text[range.clone()]);
                text.push('\n');
            }
        }
        for line in self.added.values() {
            text.push_str(line);
        }
        fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".revisions-")
            .tempfile_in(dir)?;
        tmp.write_all(text.as_bytes())?;
        tmp.persist(dir.join(FILE_NAME)).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Where each entry's line is, by content id; `None` for a file of another
/// format or alembot version.
fn index_lines(text: &str) -> Option<HashMap<Key, Range<usize>>> {
    let header = header();
    let body = text.strip_prefix(header.as_str())?;
    let mut out = HashMap::with_capacity(body.len() / 64);
    let mut start = header.len();
    for line in body.split_inclusive('\n') {
        let end = start + line.len();
        let k = decode_hex(line.get(..40)?)?;
        out.insert(k, start..end - usize::from(line.ends_with('\n')));
        start = end;
    }
    Some(out)
}

fn decode_hex(hex: &str) -> Option<Key> {
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut k = [0u8; 20];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        k[i] = digit(pair[0])? << 4 | digit(*pair.get(1)?)?;
    }
    Some(k)
}

/// One line per revision, tab-separated: content id, revision, down
/// revisions, branch labels, depends-on (lists comma-separated), the four
/// line numbers (`-` for none) and the message (`+` before it, empty for
/// none). Text is escaped so tabs, newlines, commas and backslashes in
/// identifiers or messages survive.
fn entry_line(id: Oid, file: &RevisionFile) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            // `\e` keeps an empty item apart from an empty list.
            .map(|s| {
                if s.is_empty() {
                    "\\e".to_string()
                } else {
                    escape(s)
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let line = |n: Option<u32>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
    format!(
        "{id}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
        escape(&file.revision),
        list(&file.down_revisions),
        list(&file.branch_labels),
        list(&file.depends_on),
        file.revision_line,
        line(file.down_revision_line),
        line(file.branch_labels_line),
        line(file.depends_on_line),
        file.message
            .as_deref()
            .map_or_else(String::new, |m| format!("+{}", escape(m))),
    )
}

fn read_entry(line: &str) -> Option<RevisionFile> {
    let mut fields = line.split('\t');
    let mut next = || fields.next();
    next()?; // the content id
    let revision = unescape(next()?)?;
    let list = |field: &str| -> Option<Vec<String>> {
        if field.is_empty() {
            return Some(Vec::new());
        }
        field
            .split(',')
            .map(|item| {
                if item == "\\e" {
                    Some(String::new())
                } else {
                    unescape(item)
                }
            })
            .collect()
    };
    let line_no = |field: &str| -> Option<Option<u32>> {
        match field {
            "-" => Some(None),
            n => n.parse().ok().map(Some),
        }
    };
    let down_revisions = list(next()?)?;
    let branch_labels = list(next()?)?;
    let depends_on = list(next()?)?;
    let revision_line = next()?.parse().ok()?;
    let down_revision_line = line_no(next()?)?;
    let branch_labels_line = line_no(next()?)?;
    let depends_on_line = line_no(next()?)?;
    let message = match next()? {
        "" => None,
        m => Some(unescape(m.strip_prefix('+')?)?),
    };
    if next().is_some() {
        return None;
    }
    Some(RevisionFile {
        path: String::new(),
        revision,
        down_revisions,
        branch_labels,
        depends_on,
        revision_line,
        down_revision_line,
        branch_labels_line,
        depends_on_line,
        message,
    })
}

fn escape(s: &str) -> String {
    if !s.contains(['\\', '\t', '\n', '\r', ',']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ',' => out.push_str("\\c"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'c' => ',',
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(id: &str, down: &[&str]) -> RevisionFile {
        RevisionFile {
            path: String::new(),
            revision: id.into(),
            down_revisions: down.iter().map(|s| s.to_string()).collect(),
            branch_labels: vec!["lbl".into()],
            depends_on: vec![],
            revision_line: 3,
            down_revision_line: Some(4),
            branch_labels_line: Some(5),
            depends_on_line: None,
            message: Some("add users".into()),
        }
    }

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes")
    }

    #[test]
    fn entries_survive_a_save_and_come_back_at_the_asked_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = RevisionCache::open(dir.path().join("alembot"));
        assert!(cache.get(oid(1), "a.py").is_none());
        cache.insert(oid(1), &revision("aaa", &["bbb", "ccc"]));
        cache.save().expect("save");

        let mut again = RevisionCache::open(dir.path().join("alembot"));
        let hit = again.get(oid(1), "migrations/versions/x.py").expect("hit");
        assert_eq!(hit.path, "migrations/versions/x.py");
        assert_eq!(
            hit,
            RevisionFile {
                path: "migrations/versions/x.py".into(),
                ..revision("aaa", &["bbb", "ccc"])
            }
        );
    }

    #[test]
    fn a_run_that_learns_nothing_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = RevisionCache::open(dir.path().join("alembot"));
        cache.save().expect("save");
        assert!(!dir.path().join("alembot").exists());
    }

    #[test]
    fn a_save_keeps_only_the_entries_the_run_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut first = RevisionCache::open(dir.path().to_path_buf());
        first.insert(oid(1), &revision("aaa", &[]));
        first.insert(oid(2), &revision("bbb", &["aaa"]));
        first.save().expect("save");

        let mut second = RevisionCache::open(dir.path().to_path_buf());
        assert!(second.get(oid(2), "b.py").is_some());
        second.insert(oid(3), &revision("ccc", &["bbb"]));
        second.save().expect("save");

        let mut third = RevisionCache::open(dir.path().to_path_buf());
        assert!(third.get(oid(1), "a.py").is_none(), "unused entry pruned");
        assert!(third.get(oid(2), "b.py").is_some());
        assert!(third.get(oid(3), "c.py").is_some());
    }

    #[test]
    fn a_damaged_or_foreign_file_is_an_empty_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(FILE_NAME);
        let id = oid(7);
        let good = format!("{id}\taaa\t\t\t\t3\t-\t-\t-\t+m\n");
        fs::write(&file, format!("{}{good}", header())).expect("write");
        assert!(
            RevisionCache::open(dir.path().to_path_buf())
                .get(id, "x")
                .is_some()
        );
        for text in [
            "{not the format".to_string(),
            format!("alembot revision cache {FORMAT} 0.0.0-other\n{good}"),
            format!(
                "alembot revision cache 99 {}\n{good}",
                env!("CARGO_PKG_VERSION")
            ),
            format!("{}nothex\taaa\t\t\t\t3\t-\t-\t-\t\n", header()),
            format!("{}{id}\taaa\t\t\t\tthree\t-\t-\t-\t\n", header()),
            format!("{}{id}\taaa\t\t\t\t3\t-\t-\t-\t\textra\n", header()),
            format!("{}{id}\taaa\t\t\t\t3\t-\n", header()),
            format!("{}{id}\ta\\qa\t\t\t\t3\t-\t-\t-\t\n", header()),
        ] {
            fs::write(&file, &text).expect("write");
            let mut cache = RevisionCache::open(dir.path().to_path_buf());
            assert!(cache.get(id, "x").is_none(), "{text:?}");
        }
    }

    #[test]
    fn odd_identifiers_and_messages_survive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let odd = RevisionFile {
            path: String::new(),
            revision: "a,b\\c".into(),
            down_revisions: vec!["x\ty".into(), String::new(), "z".into()],
            branch_labels: vec![String::new()],
            depends_on: vec!["d,e".into()],
            revision_line: 1,
            down_revision_line: None,
            branch_labels_line: Some(0),
            depends_on_line: Some(9),
            message: Some("tab\there, newline\nthere \\ + -".into()),
        };
        let empty_message = RevisionFile {
            message: Some(String::new()),
            ..revision("bbb", &[])
        };
        let mut cache = RevisionCache::open(dir.path().to_path_buf());
        cache.insert(oid(1), &odd);
        cache.insert(oid(2), &empty_message);
        cache.insert(
            oid(3),
            &RevisionFile {
                message: None,
                ..revision("ccc", &[])
            },
        );
        cache.save().expect("save");
        let mut again = RevisionCache::open(dir.path().to_path_buf());
        assert_eq!(again.get(oid(1), ""), Some(odd));
        assert_eq!(again.get(oid(2), ""), Some(empty_message));
        assert_eq!(again.get(oid(3), "").map(|r| r.message), Some(None));
    }

    #[test]
    fn off_stores_nothing() {
        let mut cache = RevisionCache::off();
        cache.insert(oid(1), &revision("aaa", &[]));
        assert!(cache.get(oid(1), "a.py").is_none());
        cache.save().expect("nothing to save");
    }
}
