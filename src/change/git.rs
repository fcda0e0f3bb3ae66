use std::fs;
use std::path::{Path, PathBuf};

use git2::{
    Delta, DiffFindOptions, DiffOptions, FileMode, ObjectType, Oid, Repository,
    RepositoryOpenFlags, TreeWalkMode, TreeWalkResult,
};

use super::index::{GITLINK, IndexFile};
use super::{ChangeSet, ChangedFile, FileStatus, Range, Revisions, Side};

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{}: no such directory (check the -C argument)", .0.display())]
    NoSuchDirectory(PathBuf),
    #[error(
        "{}: not inside a git repository. Run alembot in a git checkout or pass -C DIR; `alembot verify --all` also works outside git",
        .0.display()
    )]
    NotARepository(PathBuf),
    #[error(
        "cannot resolve `{rev}` ({message}). Fetch it first (for example `{}`; in GitHub Actions use `actions/checkout` with `fetch-depth: 0`)",
        fetch_hint(rev)
    )]
    UnknownRevision { rev: String, message: String },
    #[error(
        "`{rev}` is not a revision git can read ({message}); pass one branch, tag or commit to each of --base and --head (for example `--base origin/main --head HEAD`)"
    )]
    BadRevision { rev: String, message: String },
    #[error(
        "`{rev}` names no commit: this repository has no commit yet. Commit first, or check the working tree or the index (`alembot check`, `alembot check --staged`)"
    )]
    UnbornHead { rev: String },
    #[error(
        "`{base}` and `{head}` share no history, so there is no pull-request diff between them"
    )]
    NoMergeBase { base: String, head: String },
    #[error(
        "the merge-base of `{base}` and `{head}` is not in this shallow clone, so the pull-request diff cannot be computed. Fetch more history (`git fetch --unshallow`, or `fetch-depth: 0` with actions/checkout)"
    )]
    ShallowMergeBase { base: String, head: String },
    #[error("{} is a bare repository: alembot needs a working tree", .0.display())]
    Bare(PathBuf),
    #[error("git: {context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The fetch that brings `rev` in: a remote-tracking name such as
/// `origin/main` is fetched as `git fetch origin main` (fetching
/// `origin/main` from origin asks it for a branch of that name, which it
/// does not have); anything else from origin as it is.
fn fetch_hint(rev: &str) -> String {
    match rev.split_once('/') {
        Some((remote, branch))
            if !remote.is_empty()
                && !branch.is_empty()
                && remote != "refs"
                && !rev.contains("..") =>
        {
            format!("git fetch {remote} {branch}")
        }
        _ => format!("git fetch origin {rev}"),
    }
}

fn git<T>(context: impl Into<String>, r: Result<T, git2::Error>) -> Result<T, ChangeError> {
    r.map_err(|source| ChangeError::Git {
        context: context.into(),
        source,
    })
}

/// Where the new side of the change lives.
enum NewSide {
    Workdir,
    Index(Box<IndexFile>),
    Tree(Oid),
}

/// An opened change: reads files on either side of it.
pub struct Source {
    repo: Option<Repository>,
    root: PathBuf,
    old: Option<Oid>,
    new: NewSide,
    base_tip: Option<Oid>,
    /// Untracked files of a working-tree change, which the index cannot list.
    untracked: Vec<String>,
    /// Modification time of the index file (seconds, nanoseconds): entries
    /// not older than it may be racily clean.
    index_mtime: Option<(i64, i64)>,
    /// `root` with every symbolic link resolved: a working-tree file whose
    /// real path is not under it is outside the repository.
    real_root: PathBuf,
}

/// Git's mode of a symbolic link: its blob holds the target path.
const SYMLINK: u32 = 0o120000;

/// Links followed in a row before a path counts as absent (a loop).
const MAX_LINK_HOPS: usize = 8;

impl Source {
    /// Opens the repository around `dir` and computes the change `range`.
    pub fn open(dir: &Path, range: &Range) -> Result<(Source, ChangeSet), ChangeError> {
        if !dir.is_dir() {
            return Err(ChangeError::NoSuchDirectory(dir.to_path_buf()));
        }
        // alembot only reads objects git already verified when it wrote
        // them; re-hashing every blob read was a quarter of a pre-commit run.
        git2::opts::strict_hash_verification(false);
        let repo = match Repository::open_ext(
            dir,
            RepositoryOpenFlags::empty(),
            std::iter::empty::<&std::ffi::OsStr>(),
        ) {
            Ok(repo) => repo,
            Err(_) if *range == Range::All => return Ok(Self::plain_directory(dir)),
            Err(_) => {
                let shown = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
                return Err(ChangeError::NotARepository(shown));
            }
        };
        let root = match repo.workdir() {
            Some(w) => w.to_path_buf(),
            None => return Err(ChangeError::Bare(repo.path().to_path_buf())),
        };
        let head_tree = head_tree(&repo)?;
        let (old, new, base_tip, revisions) = match range {
            Range::Worktree | Range::All => (
                head_tree.map(|(_, t)| t),
                NewSide::Workdir,
                head_tree.map(|(_, t)| t),
                Revisions {
                    old: head_tree.map(|(c, _)| c.to_string()),
                    ..Revisions::default()
                },
            ),
            Range::Staged => {
                let index = load_index(&repo)?;
                (
                    head_tree.map(|(_, t)| t),
                    NewSide::Index(Box::new(index)),
                    head_tree.map(|(_, t)| t),
                    Revisions {
                        old: head_tree.map(|(c, _)| c.to_string()),
                        ..Revisions::default()
                    },
                )
            }
            Range::Commits { base, head } => {
                let base_commit = resolve(&repo, base)?;
                let head_commit = resolve(&repo, head)?;
                let merge_base = repo.merge_base(base_commit, head_commit).map_err(|_| {
                    // In a shallow clone the common history may exist but
                    // not be fetched: that needs a deeper fetch, not a
                    // different base.
                    if repo.is_shallow() {
                        ChangeError::ShallowMergeBase {
                            base: base.clone(),
                            head: head.clone(),
                        }
                    } else {
                        ChangeError::NoMergeBase {
                            base: base.clone(),
                            head: head.clone(),
                        }
                    }
                })?;
                let tree_of = |oid: Oid| -> Result<Oid, ChangeError> {
                    let commit = git("reading a commit", repo.find_commit(oid))?;
                    Ok(commit.tree_id())
                };
                (
                    Some(tree_of(merge_base)?),
                    NewSide::Tree(tree_of(head_commit)?),
                    Some(tree_of(base_commit)?),
                    Revisions {
                        old: Some(merge_base.to_string()),
                        new: Some(head_commit.to_string()),
                        base_tip: Some(base_commit.to_string()),
                    },
                )
            }
        };
        let mut source = Source {
            repo: None,
            root: root.clone(),
            old,
            new,
            base_tip,
            untracked: Vec::new(),
            index_mtime: index_mtime(&repo),
            real_root: root.canonicalize().unwrap_or_else(|_| root.clone()),
        };
        let files = if *range == Range::All {
            Vec::new()
        } else {
            source.diff(&repo, range)?
        };
        source.untracked = files
            .iter()
            .filter(|f| f.status == FileStatus::Added && matches!(source.new, NewSide::Workdir))
            .map(|f| f.path.clone())
            .collect();
        source.repo = Some(repo);
        let change = ChangeSet {
            root,
            range: range.clone(),
            revisions,
            files,
        };
        Ok((source, change))
    }

    fn plain_directory(dir: &Path) -> (Source, ChangeSet) {
        let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let source = Source {
            repo: None,
            root: root.clone(),
            old: None,
            new: NewSide::Workdir,
            base_tip: None,
            untracked: Vec::new(),
            index_mtime: None,
            real_root: root.clone(),
        };
        let change = ChangeSet {
            root,
            range: Range::All,
            revisions: Revisions::default(),
            files: Vec::new(),
        };
        (source, change)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn diff(&self, repo: &Repository, range: &Range) -> Result<Vec<ChangedFile>, ChangeError> {
        if let NewSide::Index(index) = &self.new {
            return super::staged::staged_changes(repo, self.old, index);
        }
        let old_tree = match self.old {
            Some(oid) => Some(git("reading the old tree", repo.find_tree(oid))?),
            None => None,
        };
        let mut opts = DiffOptions::new();
        opts.ignore_submodules(false);
        let mut diff = match (&self.new, range) {
            (NewSide::Index(_), _) => unreachable!("handled above"),
            (NewSide::Tree(oid), _) => {
                let new_tree = git("reading the head tree", repo.find_tree(*oid))?;
                git(
                    "comparing the commits",
                    repo.diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut opts)),
                )?
            }
            (NewSide::Workdir, _) => {
                opts.include_untracked(true).recurse_untracked_dirs(true);
                git(
                    "comparing the working tree with HEAD",
                    repo.diff_tree_to_workdir_with_index(old_tree.as_ref(), Some(&mut opts)),
                )?
            }
        };
        let mut find = DiffFindOptions::new();
        find.renames(true).for_untracked(true);
        git("detecting renames", diff.find_similar(Some(&mut find)))?;
        let mut files = Vec::with_capacity(diff.deltas().len());
        for delta in diff.deltas() {
            let status = match delta.status() {
                Delta::Added | Delta::Untracked | Delta::Copied => FileStatus::Added,
                Delta::Deleted => FileStatus::Deleted,
                Delta::Renamed => FileStatus::Renamed,
                Delta::Unmodified | Delta::Ignored => continue,
                Delta::Modified | Delta::Typechange | Delta::Unreadable | Delta::Conflicted => {
                    FileStatus::Modified
                }
            };
            let new_path = delta.new_file().path().map(path_string);
            let old_path = delta.old_file().path().map(path_string);
            let path = match (status, new_path, old_path.clone()) {
                (FileStatus::Deleted, _, Some(old)) => old,
                (_, Some(new), _) => new,
                (_, None, Some(old)) => old,
                (_, None, None) => continue,
            };
            let submodule = delta.new_file().mode() == FileMode::Commit
                || delta.old_file().mode() == FileMode::Commit;
            files.push(ChangedFile {
                old_path: (status == FileStatus::Renamed)
                    .then_some(old_path)
                    .flatten()
                    .filter(|o| *o != path),
                path,
                status,
                submodule,
            });
        }
        Ok(files)
    }

    /// The bytes of `path` on `side`, or `None` if it does not exist there.
    ///
    /// A symbolic link is followed inside the repository on every side (the
    /// working tree, the index, a commit), so a range and the working tree
    /// read the same files; a link that leads out of the repository, dangles
    /// or loops reads as absent: a pull request must not make alembot read
    /// files outside its checkout.
    pub fn read(&self, side: Side, path: &str) -> Result<Option<Vec<u8>>, ChangeError> {
        self.read_following(side, path, 0)
    }

    fn read_following(
        &self,
        side: Side,
        path: &str,
        hops: usize,
    ) -> Result<Option<Vec<u8>>, ChangeError> {
        let tree = match side {
            Side::Old => self.old,
            Side::BaseTip => self.base_tip,
            Side::New => match &self.new {
                NewSide::Workdir => return self.read_disk(path),
                NewSide::Index(index) => {
                    let Some(entry) = index.get(path) else {
                        return Ok(None);
                    };
                    if entry.mode == GITLINK {
                        return Ok(None);
                    }
                    if entry.mode == SYMLINK {
                        let target = self.read_blob(entry.oid)?;
                        return self.follow(side, path, target, hops);
                    }
                    if let Some(bytes) = read_if_clean(&self.root, self.index_mtime, path, entry) {
                        return Ok(Some(bytes));
                    }
                    return self.read_blob(entry.oid);
                }
                NewSide::Tree(oid) => Some(*oid),
            },
        };
        let (Some(tree), Some(repo)) = (tree, &self.repo) else {
            return Ok(None);
        };
        let tree = git("reading a tree", repo.find_tree(tree))?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(e) => e,
            Err(_) => return Ok(None),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        if entry.filemode() == SYMLINK as i32 {
            let target = self.read_blob(entry.id())?;
            return self.follow(side, path, target, hops);
        }
        self.read_blob(entry.id())
    }

    /// Reads what the link at `path` (whose blob is `target`) points to,
    /// when that stays inside the repository.
    fn follow(
        &self,
        side: Side,
        path: &str,
        target: Option<Vec<u8>>,
        hops: usize,
    ) -> Result<Option<Vec<u8>>, ChangeError> {
        if hops >= MAX_LINK_HOPS {
            return Ok(None);
        }
        let Some(target) = target.and_then(|t| String::from_utf8(t).ok()) else {
            return Ok(None);
        };
        match resolve_link(path, &target) {
            Some(resolved) => self.read_following(side, &resolved, hops + 1),
            None => Ok(None),
        }
    }

    /// Reads several files of one side. Hundreds of revision files are read
    /// on every pre-commit run, so clean index entries are read from the
    /// working tree on a few threads; the rest go through libgit2 here.
    pub fn read_many(
        &self,
        side: Side,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, ChangeError> {
        let mut out: Vec<Option<Vec<u8>>> = vec![None; paths.len()];
        if let (Side::New, NewSide::Index(index)) = (side, &self.new) {
            let threads = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(4);
            let chunk = paths.len().div_ceil(threads).max(64);
            let (root, index_mtime) = (self.root.as_path(), self.index_mtime);
            let index = &**index;
            let read_part = move |slots: &mut [Option<Vec<u8>>], names: &[String]| {
                for (slot, path) in slots.iter_mut().zip(names) {
                    if let Some(entry) = index
                        .get(path)
                        .filter(|e| e.mode != GITLINK && e.mode != SYMLINK)
                    {
                        *slot = read_if_clean(root, index_mtime, path, entry);
                    }
                }
            };
            if paths.len() <= chunk {
                // Starting a thread costs more than reading a few files.
                read_part(&mut out, paths);
            } else {
                std::thread::scope(|scope| {
                    for (slots, names) in out.chunks_mut(chunk).zip(paths.chunks(chunk)) {
                        scope.spawn(move || read_part(slots, names));
                    }
                });
            }
        }
        for (slot, path) in out.iter_mut().zip(paths) {
            if slot.is_none() {
                *slot = self.read(side, path)?;
            }
        }
        Ok(out)
    }

    /// The git object id of each file's content on `side`, where it is
    /// known without reading the file: from the index for a staged change,
    /// from the tree for a commit, and for the working tree from the index
    /// when git's stat data proves the file unchanged. `None` elsewhere.
    pub fn content_ids(
        &self,
        side: Side,
        paths: &[String],
    ) -> Result<Vec<Option<Oid>>, ChangeError> {
        let Some(repo) = &self.repo else {
            return Ok(vec![None; paths.len()]);
        };
        let tree = match side {
            Side::Old => self.old,
            Side::BaseTip => self.base_tip,
            Side::New => match &self.new {
                NewSide::Index(index) => {
                    return Ok(paths
                        .iter()
                        .map(|p| {
                            index
                                .get(p)
                                .filter(|e| e.mode != GITLINK && e.mode != SYMLINK)
                                .map(|e| e.oid)
                        })
                        .collect());
                }
                NewSide::Workdir => {
                    let Some(index_mtime) = self.index_mtime else {
                        return Ok(vec![None; paths.len()]);
                    };
                    let index = load_index(repo)?;
                    return Ok(paths
                        .iter()
                        .map(|p| {
                            let entry = index
                                .get(p)
                                .filter(|e| e.mode != GITLINK && e.mode != SYMLINK)?;
                            let meta = fs::symlink_metadata(self.root.join(p)).ok()?;
                            stat_clean(&meta, index_mtime, entry).then_some(entry.oid)
                        })
                        .collect());
                }
                NewSide::Tree(oid) => Some(*oid),
            },
        };
        let Some(tree) = tree else {
            return Ok(vec![None; paths.len()]);
        };
        let tree = git("reading a tree", repo.find_tree(tree))?;
        Ok(paths
            .iter()
            .map(|p| {
                let entry = tree.get_path(Path::new(p)).ok()?;
                // A link's blob is its target path, not the content read.
                (entry.kind() == Some(ObjectType::Blob) && entry.filemode() != SYMLINK as i32)
                    .then(|| entry.id())
            })
            .collect())
    }

    /// Where alembot may keep caches for this repository: inside its git
    /// directory (the common one, so worktrees share it).
    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.repo.as_ref().map(|r| r.commondir().join("alembot"))
    }

    fn read_blob(&self, oid: Oid) -> Result<Option<Vec<u8>>, ChangeError> {
        let Some(repo) = &self.repo else {
            return Ok(None);
        };
        let blob = git(format!("reading blob {oid}"), repo.find_blob(oid))?;
        Ok(Some(blob.content().to_vec()))
    }

    fn read_disk(&self, path: &str) -> Result<Option<Vec<u8>>, ChangeError> {
        let full = self.root.join(path);
        // The real path, links resolved (the file's own and its
        // directories'): outside the repository it is not read at all.
        match full.canonicalize() {
            Ok(real) if !real.starts_with(&self.real_root) => return Ok(None),
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.kind() == std::io::ErrorKind::NotADirectory =>
            {
                return Ok(None);
            }
            Err(source) => return Err(ChangeError::Io { path: full, source }),
        }
        match fs::read(&full) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.kind() == std::io::ErrorKind::IsADirectory =>
            {
                Ok(None)
            }
            Err(source) => Err(ChangeError::Io { path: full, source }),
        }
    }

    /// Every file path on `side` under `dir` (recursively; `""` for all).
    pub fn files_under(&self, side: Side, dir: &str) -> Result<Vec<String>, ChangeError> {
        let prefix = if dir.is_empty() || dir == "." {
            String::new()
        } else {
            format!("{}/", dir.trim_end_matches('/'))
        };
        let tree = match side {
            Side::Old => self.old,
            Side::BaseTip => self.base_tip,
            Side::New => match &self.new {
                NewSide::Workdir => return self.disk_files_under(&prefix),
                NewSide::Index(index) => return Ok(index_paths_under(index, &prefix)),
                NewSide::Tree(oid) => Some(*oid),
            },
        };
        let (Some(tree), Some(repo)) = (tree, &self.repo) else {
            return Ok(Vec::new());
        };
        let mut tree = git("reading a tree", repo.find_tree(tree))?;
        if !prefix.is_empty() {
            match tree.get_path(Path::new(prefix.trim_end_matches('/'))) {
                Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
                    tree = git("reading a tree", repo.find_tree(entry.id()))?;
                }
                _ => return Ok(Vec::new()),
            }
        }
        let mut out = Vec::new();
        git(
            "listing a tree",
            tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
                if entry.kind() == Some(ObjectType::Blob)
                    && let Some(name) = entry.name()
                {
                    out.push(format!("{prefix}{parent}{name}"));
                }
                TreeWalkResult::Ok
            }),
        )?;
        out.sort();
        Ok(out)
    }

    /// Where the new side's files can be run from: the working tree itself
    /// when it holds them, otherwise `None` (export them first).
    pub fn new_side_on_disk(&self) -> Option<&Path> {
        match &self.new {
            NewSide::Workdir => Some(&self.root),
            NewSide::Index(_) => None,
            NewSide::Tree(oid) => {
                // A pull-request checkout usually is the head commit.
                let repo = self.repo.as_ref()?;
                let head = repo.head().ok()?.peel_to_tree().ok()?;
                if head.id() != *oid {
                    return None;
                }
                let mut opts = git2::StatusOptions::new();
                opts.include_untracked(false).include_ignored(false);
                let clean = repo.statuses(Some(&mut opts)).ok()?.is_empty();
                clean.then_some(self.root.as_path())
            }
        }
    }

    /// Writes the new side's files into `dir` (the index for a staged
    /// change, the head commit of a range), so the project can run from it.
    pub fn export_new_side(&self, dir: &Path) -> Result<(), ChangeError> {
        let Some(repo) = &self.repo else {
            return Ok(());
        };
        let mut opts = git2::build::CheckoutBuilder::new();
        // A checkout into another directory still writes the repository's
        // index unless told not to: the user's staged state must survive.
        opts.target_dir(dir)
            .force()
            .recreate_missing(true)
            .update_index(false);
        match &self.new {
            NewSide::Index(_) => {
                let mut index = git("reading the index", repo.index())?;
                git(
                    "exporting the staged files",
                    repo.checkout_index(Some(&mut index), Some(&mut opts)),
                )
            }
            NewSide::Tree(oid) => {
                let tree = git("reading the head tree", repo.find_tree(*oid))?;
                git(
                    "exporting the head commit",
                    repo.checkout_tree(tree.as_object(), Some(&mut opts)),
                )
            }
            NewSide::Workdir => Ok(()),
        }
    }

    /// Every file on `side` whose name (last component) is one of `names`
    /// (`*.ini` matches any name with that ending): finds configuration
    /// files without listing the whole tree.
    pub fn files_named(&self, side: Side, names: &[&str]) -> Result<Vec<String>, ChangeError> {
        // Called over every index entry: a suffix test, not a split.
        let matches = |path: &[u8]| {
            names.iter().any(|n| match n.strip_prefix('*') {
                Some(ending) => path.ends_with(ending.as_bytes()),
                None => {
                    path.ends_with(n.as_bytes())
                        && (path.len() == n.len() || path[path.len() - n.len() - 1] == b'/')
                }
            })
        };
        let from_index = |index: &IndexFile| -> Vec<String> {
            index
                .entries()
                .filter(|(p, e)| e.mode != GITLINK && matches(p.as_bytes()))
                .map(|(p, _)| p.to_string())
                .collect()
        };
        let mut out = match (side, &self.new, &self.repo) {
            (Side::New, NewSide::Index(index), _) => from_index(index),
            (Side::New, NewSide::Workdir, Some(repo)) => {
                let index = load_index(repo)?;
                let mut v: Vec<String> = from_index(&index)
                    .into_iter()
                    .filter(|p| self.root.join(p).is_file())
                    .collect();
                v.extend(
                    self.untracked
                        .iter()
                        .filter(|p| matches(p.as_bytes()))
                        .cloned(),
                );
                v
            }
            _ => self
                .files_under(side, "")?
                .into_iter()
                .filter(|p| matches(p.as_bytes()))
                .collect(),
        };
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Files in the working tree under `prefix`. Inside git the index lists
    /// tracked files cheaply; untracked ones of this change are added. Outside
    /// git the directory is walked.
    fn disk_files_under(&self, prefix: &str) -> Result<Vec<String>, ChangeError> {
        let mut out = Vec::new();
        if let Some(repo) = &self.repo {
            let index = load_index(repo)?;
            out.extend(
                index_paths_under(&index, prefix)
                    .into_iter()
                    .filter(|p| self.root.join(p).is_file()),
            );
            out.extend(
                self.untracked
                    .iter()
                    .filter(|p| p.starts_with(prefix))
                    .cloned(),
            );
        } else {
            walk_dir(&self.root, &self.root.join(prefix), &mut out)?;
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// The repository path a link at `path` with `target` points to; `None` for
/// an absolute target or one that climbs out of the repository.
fn resolve_link(path: &str, target: &str) -> Option<String> {
    if target.starts_with('/') || target.starts_with('\\') {
        return None;
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// The working-tree copy of an index entry when git's own stat data
/// proves it has the staged content: reading a file is much cheaper than
/// inflating a blob.
#[cfg(unix)]
fn read_if_clean(
    root: &Path,
    index_mtime: Option<(i64, i64)>,
    path: &str,
    entry: &super::index::Entry,
) -> Option<Vec<u8>> {
    let index_mtime = index_mtime?;
    // One open, one fstat and one read.
    let mut file = fs::File::open(root.join(path)).ok()?;
    let meta = file.metadata().ok()?;
    if !stat_clean(&meta, index_mtime, entry) {
        return None;
    }
    let mut bytes = vec![0u8; meta.len() as usize];
    std::io::Read::read_exact(&mut file, &mut bytes).ok()?;
    Some(bytes)
}

#[cfg(not(unix))]
fn read_if_clean(
    _root: &Path,
    _index_mtime: Option<(i64, i64)>,
    _path: &str,
    _entry: &super::index::Entry,
) -> Option<Vec<u8>> {
    None
}

/// Whether a working-tree file has its index entry's content, decided the
/// way git decides it: same size, mtime and inode, and not "racily clean"
/// (modified in the same instant the index was written).
#[cfg(unix)]
fn stat_clean(meta: &fs::Metadata, index_mtime: (i64, i64), entry: &super::index::Entry) -> bool {
    use std::os::unix::fs::MetadataExt;
    let same = meta.is_file()
        && meta.size() as u32 == entry.size
        && meta.mtime() as u32 == entry.mtime.0
        && meta.mtime_nsec() as u32 == entry.mtime.1
        && meta.ino() as u32 == entry.ino;
    let entry_time = (i64::from(entry.mtime.0), i64::from(entry.mtime.1));
    same && entry_time < index_mtime
}

#[cfg(not(unix))]
fn stat_clean(
    _meta: &fs::Metadata,
    _index_mtime: (i64, i64),
    _entry: &super::index::Entry,
) -> bool {
    false
}

/// Index entries (not submodules) whose path starts with `prefix`.
fn index_paths_under(index: &IndexFile, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = index
        .under(prefix)
        .filter(|(_, e)| e.mode != GITLINK)
        .map(|(p, _)| p.to_string())
        .collect();
    out.dedup();
    out
}

/// The repository's index, read directly when the format allows and by
/// libgit2 otherwise. A repository with nothing staged has no index file.
fn load_index(repo: &Repository) -> Result<IndexFile, ChangeError> {
    let path = repo.path().join("index");
    match super::mapped::Mapped::open(&path) {
        Ok(data) => {
            if let Some(index) = super::index::parse(&data) {
                return Ok(index);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(ChangeError::Io { path, source }),
    }
    let index = git("reading the index", repo.index())?;
    Ok(IndexFile::from_git2(&index))
}

fn index_mtime(repo: &Repository) -> Option<(i64, i64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(repo.path().join("index")).ok()?;
        Some((meta.mtime(), meta.mtime_nsec()))
    }
    #[cfg(not(unix))]
    {
        let _ = repo;
        None
    }
}

/// Directories a plain walk never enters: caches, virtual environments,
/// dependency folders and version-control metadata.
fn skip_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "__pycache__" | "node_modules" | "venv" | "env" | "site-packages" | "target"
        )
}

fn walk_dir(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), ChangeError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ChangeError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !skip_dir(&name) && !path.join("pyvenv.cfg").exists() {
                walk_dir(root, &path, out)?;
            }
        } else if kind.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(path_string(rel));
        }
    }
    Ok(())
}

fn path_string(p: &Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn head_tree(repo: &Repository) -> Result<Option<(Oid, Oid)>, ChangeError> {
    match repo.head() {
        Ok(head) => {
            let commit = git("reading HEAD", head.peel_to_commit())?;
            Ok(Some((commit.id(), commit.tree_id())))
        }
        // A repository with no commit yet: everything staged is new.
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            Ok(None)
        }
        Err(source) => Err(ChangeError::Git {
            context: "reading HEAD".into(),
            source,
        }),
    }
}

fn resolve(repo: &Repository, rev: &str) -> Result<Oid, ChangeError> {
    let object = repo
        .revparse_single(rev)
        .map_err(|e| revision_error(repo, rev, &e))?;
    let commit = object
        .peel_to_commit()
        .map_err(|e| ChangeError::UnknownRevision {
            rev: rev.to_string(),
            message: e.message().to_string(),
        })?;
    Ok(commit.id())
}

/// Why `rev` does not resolve, with the fix for that cause: a syntax error
/// is not fixed by fetching, nor is a repository with no commit yet.
fn revision_error(repo: &Repository, rev: &str, e: &git2::Error) -> ChangeError {
    // A range (`main..HEAD`) is a syntax error for one revision too.
    if e.code() == git2::ErrorCode::InvalidSpec || rev.contains("..") {
        return ChangeError::BadRevision {
            rev: rev.to_string(),
            message: e.message().to_string(),
        };
    }
    let names_head = rev.starts_with("HEAD") || rev.starts_with('@');
    let unborn = matches!(repo.head(), Err(h) if h.code() == git2::ErrorCode::UnbornBranch)
        || repo.is_empty().unwrap_or(false);
    if names_head && unborn {
        return ChangeError::UnbornHead {
            rev: rev.to_string(),
        };
    }
    ChangeError::UnknownRevision {
        rev: rev.to_string(),
        message: e.message().to_string(),
    }
}

#[cfg(test)]
mod link_tests {
    use super::resolve_link;

    #[test]
    fn links_resolve_inside_the_repository_only() {
        assert_eq!(
            resolve_link("app/alias/models.py", "../models.py").as_deref(),
            Some("app/models.py")
        );
        assert_eq!(
            resolve_link("app/m.py", "./real/m.py").as_deref(),
            Some("app/real/m.py")
        );
        assert_eq!(resolve_link("app/m.py", "/etc/passwd"), None);
        assert_eq!(resolve_link("app/m.py", "../../outside.py"), None);
        assert_eq!(resolve_link("m.py", ".."), None);
    }
}

#[cfg(test)]
mod fetch_hint_tests {
    #[test]
    fn the_fetch_hint_names_the_remote_and_the_branch() {
        assert_eq!(super::fetch_hint("origin/main"), "git fetch origin main");
        assert_eq!(
            super::fetch_hint("upstream/release/2.x"),
            "git fetch upstream release/2.x"
        );
        assert_eq!(super::fetch_hint("main"), "git fetch origin main");
        assert_eq!(
            super::fetch_hint("refs/heads/main"),
            "git fetch origin refs/heads/main"
        );
        let e = super::ChangeError::UnknownRevision {
            rev: "origin/main".into(),
            message: "not found".into(),
        };
        assert!(e.to_string().contains("`git fetch origin main`"), "{e}");
    }
}
