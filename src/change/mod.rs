//! What changed: a pull-request range, the staged index or the working tree,
//! read with git2. Everything here returns plain data (paths, statuses and
//! bytes); nothing here knows about models or migrations.

mod git;
pub mod index;
mod lines;
mod mapped;
mod staged;

pub use git::{ChangeError, Source};
pub use lines::{added_line_ranges, diff_line_ranges};

use std::path::PathBuf;

use crate::findings::LineRange;

/// Which change to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    /// Working tree and index against HEAD (untracked files included).
    Worktree,
    /// The index against HEAD: what the next commit would record.
    Staged,
    /// What `head` adds since its merge-base with `base`, as GitHub shows a
    /// pull request.
    Commits { base: String, head: String },
    /// No change at all: the whole project as it stands on disk.
    All,
}

/// One side of the change to read files from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Before the change: HEAD, or the merge-base of a range.
    Old,
    /// After the change: the working tree, the index, or the range's head.
    New,
    /// The tip of the base branch of a range (for `stale-parent`); the same
    /// as `Old` for the other ranges.
    BaseTip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Repository-relative path on the new side (the old path if deleted).
    pub path: String,
    /// The path before a rename.
    pub old_path: Option<String>,
    pub status: FileStatus,
    /// A submodule pointer: there is no text to read.
    pub submodule: bool,
}

impl ChangedFile {
    /// The path to read on the old side.
    pub fn old_side_path(&self) -> &str {
        self.old_path.as_deref().unwrap_or(&self.path)
    }

    pub fn exists_on_new_side(&self) -> bool {
        self.status != FileStatus::Deleted
    }

    pub fn exists_on_old_side(&self) -> bool {
        self.status != FileStatus::Added
    }
}

/// Resolved commits of a range, for reports and the GitHub publisher.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revisions {
    pub old: Option<String>,
    pub new: Option<String>,
    pub base_tip: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChangeSet {
    /// The repository's working directory (or the plain directory for
    /// [`Range::All`] outside git).
    pub root: PathBuf,
    pub range: Range,
    pub revisions: Revisions,
    pub files: Vec<ChangedFile>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A file's text, decoded leniently: Python files in other encodings still
/// lex, their non-UTF-8 bytes become U+FFFD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub path: String,
    pub text: String,
    pub binary: bool,
    /// Why the bytes are not text alembot can read (a NUL byte, invalid
    /// UTF-8), with the offset of the first bad byte; `text` is then a
    /// lossy reading that must not be analysed.
    pub unreadable: Option<Unreadable>,
}

/// The first reason a file's bytes are not UTF-8 source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    Nul { offset: usize },
    InvalidUtf8 { offset: usize },
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Nul { offset } => write!(f, "it holds a NUL byte (at byte {offset})"),
            Unreadable::InvalidUtf8 { offset } => {
                write!(f, "it is not valid UTF-8 (at byte {offset})")
            }
        }
    }
}

impl Text {
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        let binary = bytes[..bytes.len().min(8000)].contains(&0);
        let nul = bytes.iter().position(|&b| b == 0);
        let (text, invalid) = match String::from_utf8(bytes) {
            Ok(s) => (s, None),
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                (
                    String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    Some(offset),
                )
            }
        };
        let unreadable = match (nul, invalid) {
            (Some(n), Some(i)) if i < n => Some(Unreadable::InvalidUtf8 { offset: i }),
            (Some(n), _) => Some(Unreadable::Nul { offset: n }),
            (None, Some(i)) => Some(Unreadable::InvalidUtf8 { offset: i }),
            (None, None) => None,
        };
        Text {
            path: path.into(),
            text,
            binary,
            unreadable,
        }
    }
}

/// Head-side ranges of lines a change touched, per file: what GitHub shows.
pub type DiffLines = std::collections::BTreeMap<String, Vec<LineRange>>;

impl crate::config::ProjectFiles for Source {
    fn files_named(&self, names: &[&str]) -> Result<Vec<String>, crate::config::BoxError> {
        Ok(Source::files_named(self, Side::New, names)?)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, crate::config::BoxError> {
        Ok(Source::read(self, Side::New, path)?)
    }

    fn files_under(&self, dir: &str) -> Result<Vec<String>, crate::config::BoxError> {
        Ok(Source::files_under(self, Side::New, dir)?)
    }
}
