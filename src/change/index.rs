//! A reader for git's index file (`.git/index`, versions 2 to 4) and its
//! cache-tree extension, for the pre-commit path.
//!
//! libgit2 loads an index by hashing the whole file with a collision-
//! detecting SHA-1 and validating and hashing every path: on a 5,000-file
//! repository that was most of a pre-commit run. Git itself skips the
//! checksum on read and uses the cache tree to skip unchanged directories
//! when diffing against HEAD; this module does the same. Anything it does
//! not understand (split or sparse indexes, SHA-256 repositories) makes it
//! return `None` so the caller falls back to libgit2.

use std::collections::BTreeMap;

use git2::Oid;

/// One stage-0 (or conflicted) index entry.
#[derive(Debug, Clone)]
pub struct Entry {
    path: (u32, u32),
    pub oid: Oid,
    pub mode: u32,
    pub size: u32,
    pub mtime: (u32, u32),
    pub ino: u32,
    pub stage: u8,
}

/// A node of the cache tree: the tree object id of an index directory,
/// when git still knows it (it is invalidated by `git add`).
#[derive(Debug, Clone, Default)]
pub struct CacheTree {
    pub oid: Option<Oid>,
    pub children: BTreeMap<String, CacheTree>,
}

#[derive(Debug, Clone)]
pub struct IndexFile {
    paths: String,
    entries: Vec<Entry>,
    pub cache_tree: Option<CacheTree>,
}

pub const GITLINK: u32 = 0o160000;

impl IndexFile {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn path(&self, entry: &Entry) -> &str {
        &self.paths[entry.path.0 as usize..entry.path.1 as usize]
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|e| (self.path(e), e))
    }

    /// The stage-0 entry (or the first conflict stage) at `path`.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        let i = self.entries.partition_point(|e| self.path(e) < path);
        self.entries.get(i).filter(|e| self.path(e) == path)
    }

    /// Entries whose path starts with `prefix`, in index order.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a Entry)> + 'a {
        let start = self.entries.partition_point(|e| self.path(e) < prefix);
        self.entries[start..]
            .iter()
            .map(|e| (self.path(e), e))
            .take_while(move |(p, _)| p.starts_with(prefix))
    }

    /// The files directly in directory `prefix` (name → oid, mode, highest
    /// stage) and the names of its subdirectories. Jumps over each
    /// subdirectory's entries instead of visiting them.
    #[allow(clippy::type_complexity)]
    pub fn children<'a>(
        &'a self,
        prefix: &'a str,
    ) -> (BTreeMap<&'a str, (Oid, u32, u8)>, Vec<&'a str>) {
        let mut files: BTreeMap<&str, (Oid, u32, u8)> = BTreeMap::new();
        let mut dirs: Vec<&str> = Vec::new();
        let mut i = self.entries.partition_point(|e| self.path(e) < prefix);
        while let Some(entry) = self.entries.get(i) {
            let path = self.path(entry);
            if !path.starts_with(prefix) {
                break;
            }
            let rest = &path[prefix.len()..];
            match rest.find('/') {
                Some(slash) => {
                    dirs.push(&rest[..slash]);
                    // Everything under `prefix/dir/` sorts together.
                    let dir_prefix = &path[..prefix.len() + slash + 1];
                    i +=
                        self.entries[i..].partition_point(|e| self.path(e).starts_with(dir_prefix));
                }
                None => {
                    // Conflicted paths have several stages; any of them
                    // marks the path as changed.
                    let slot = files
                        .entry(rest)
                        .or_insert((entry.oid, entry.mode, entry.stage));
                    slot.2 = slot.2.max(entry.stage);
                    i += 1;
                }
            }
        }
        (files, dirs)
    }

    /// Builds the same structure from libgit2's index, for indexes the
    /// reader declined.
    pub fn from_git2(index: &git2::Index) -> IndexFile {
        let mut paths = String::new();
        let mut entries = Vec::with_capacity(index.len());
        for e in index.iter() {
            let Ok(p) = std::str::from_utf8(&e.path) else {
                continue;
            };
            let start = paths.len() as u32;
            paths.push_str(p);
            entries.push(Entry {
                path: (start, paths.len() as u32),
                oid: e.id,
                mode: e.mode,
                size: e.file_size,
                mtime: (e.mtime.seconds() as u32, e.mtime.nanoseconds()),
                ino: e.ino,
                stage: ((e.flags >> 12) & 0x3) as u8,
            });
        }
        IndexFile {
            paths,
            entries,
            cache_tree: None,
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let slice = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Git's offset varint (index v4 path compression).
    fn varint(&mut self) -> Option<usize> {
        let mut byte = *self.take(1)?.first()?;
        let mut value = usize::from(byte & 0x7f);
        while byte & 0x80 != 0 {
            byte = *self.take(1)?.first()?;
            value = value.checked_add(1)?.checked_shl(7)? | usize::from(byte & 0x7f);
        }
        Some(value)
    }
}

const OID_LEN: usize = 20;

/// Parses an index file. `None` for anything this reader does not handle.
pub fn parse(data: &[u8]) -> Option<IndexFile> {
    let mut r = Reader { data, pos: 0 };
    if r.take(4)? != b"DIRC" {
        return None;
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = r.u32()? as usize;
    // The trailing checksum is not part of the content.
    let content_end = data.len().checked_sub(OID_LEN)?;
    // Paths are validated as UTF-8 once, at the end: per path it was a
    // tenth of a pre-commit run.
    let mut paths: Vec<u8> = Vec::with_capacity(count * 32);
    let mut entries = Vec::with_capacity(count);
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = r.pos;
        let _ctime = (r.u32()?, r.u32()?);
        let mtime = (r.u32()?, r.u32()?);
        let _dev = r.u32()?;
        let ino = r.u32()?;
        let mode = r.u32()?;
        let _uid = r.u32()?;
        let _gid = r.u32()?;
        let size = r.u32()?;
        let oid = Oid::from_bytes(r.take(OID_LEN)?).ok()?;
        let flags = r.u16()?;
        let extended = flags & 0x4000 != 0;
        if extended {
            if version < 3 {
                return None;
            }
            let extra = r.u16()?;
            // skip-worktree entries belong to sparse checkouts; those
            // indexes are read by libgit2 instead.
            if extra & 0x4000 != 0 {
                return None;
            }
        }
        let stage = ((flags >> 12) & 0x3) as u8;
        let name_len = usize::from(flags & 0x0fff);
        let path: std::borrow::Cow<'_, [u8]> = if version == 4 {
            let strip = r.varint()?;
            let keep = previous.len().checked_sub(strip)?;
            let rest_start = r.pos;
            let nul = data[rest_start..content_end].iter().position(|&b| b == 0)?;
            let mut p = previous[..keep].to_vec();
            p.extend_from_slice(&data[rest_start..rest_start + nul]);
            r.pos = rest_start + nul + 1;
            std::borrow::Cow::Owned(p)
        } else {
            let p = if name_len < 0x0fff {
                r.take(name_len)?
            } else {
                let nul = data[r.pos..content_end].iter().position(|&b| b == 0)?;
                r.take(nul)?
            };
            // 1 to 8 NULs pad the entry to a multiple of 8 bytes.
            let len = r.pos - start;
            let padded = (len + 8) & !7;
            r.take(padded - len)?;
            std::borrow::Cow::Borrowed(p)
        };
        if mode & 0o170000 == 0o040000 {
            // A sparse-index directory entry.
            return None;
        }
        let begin = paths.len() as u32;
        paths.extend_from_slice(&path);
        entries.push(Entry {
            path: (begin, paths.len() as u32),
            oid,
            mode,
            size,
            mtime,
            ino,
            stage,
        });
        if version == 4 {
            previous = path.into_owned();
        }
    }
    let mut cache_tree = None;
    while r.pos + 8 <= content_end {
        let sig = r.take(4)?;
        let len = r.u32()? as usize;
        let body = r.take(len)?;
        match sig {
            b"TREE" => cache_tree = parse_cache_tree(body),
            // Split index: entries live in another file.
            b"link" => return None,
            b"sdir" => return None,
            // Optional extensions (names starting with A-Z) can be ignored;
            // required ones cannot.
            s if s[0].is_ascii_uppercase() => {}
            _ => return None,
        }
    }
    // The concatenation is valid UTF-8 with every path starting on a
    // character boundary (not a continuation byte) exactly when every path
    // is valid UTF-8 on its own.
    if entries.iter().any(|e| {
        paths
            .get(e.path.0 as usize)
            .is_some_and(|b| b & 0xC0 == 0x80)
    }) {
        return None;
    }
    let paths = String::from_utf8(paths).ok()?;
    Some(IndexFile {
        paths,
        entries,
        cache_tree,
    })
}

fn parse_cache_tree(body: &[u8]) -> Option<CacheTree> {
    let mut pos = 0;
    let (_, node) = cache_node(body, &mut pos)?;
    Some(node)
}

fn cache_node(body: &[u8], pos: &mut usize) -> Option<(String, CacheTree)> {
    let nul = body[*pos..].iter().position(|&b| b == 0)?;
    let name = std::str::from_utf8(&body[*pos..*pos + nul])
        .ok()?
        .to_string();
    *pos += nul + 1;
    let nl = body[*pos..].iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&body[*pos..*pos + nl]).ok()?;
    *pos += nl + 1;
    let (count, subtrees) = header.split_once(' ')?;
    let count: i64 = count.parse().ok()?;
    let subtrees: usize = subtrees.parse().ok()?;
    let oid = if count >= 0 {
        let oid = Oid::from_bytes(body.get(*pos..*pos + OID_LEN)?).ok()?;
        *pos += OID_LEN;
        Some(oid)
    } else {
        None
    };
    let mut node = CacheTree {
        oid,
        children: BTreeMap::new(),
    };
    for _ in 0..subtrees {
        let (child_name, child) = cache_node(body, pos)?;
        node.children.insert(child_name, child);
    }
    Some((name, node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?}");
    }

    fn repo_with_files(version: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        git(p, &["init", "-q"]);
        git(p, &["config", "index.version", version]);
        for (f, t) in [
            ("a.txt", "a"),
            ("dir/b.py", "b"),
            ("dir/sub/c.py", "c"),
            ("dir/sub/d.py", "d"),
            ("z/long_name_to_compress_against_the_previous_one.py", "e"),
        ] {
            let path = p.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        git(p, &["add", "-A"]);
        git(
            p,
            &[
                "-c",
                "user.name=n",
                "-c",
                "user.email=e@x",
                "commit",
                "-q",
                "-m",
                "x",
            ],
        );
        dir
    }

    fn compare_with_libgit2(version: &str) {
        let dir = repo_with_files(version);
        let data = std::fs::read(dir.path().join(".git/index")).unwrap();
        let ours = parse(&data).expect("parsed");
        let repo = git2::Repository::open(dir.path()).unwrap();
        let theirs = repo.index().unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (i, (path, entry)) in ours.entries().enumerate() {
            let t = theirs.get(i).unwrap();
            assert_eq!(path.as_bytes(), &t.path[..]);
            assert_eq!(entry.oid, t.id);
            assert_eq!(entry.mode, t.mode);
            assert_eq!(entry.size, t.file_size);
        }
        // After a commit the cache tree matches HEAD's tree.
        let head_tree = repo.head().unwrap().peel_to_tree().unwrap().id();
        let cache = ours.cache_tree.as_ref().expect("cache tree");
        assert_eq!(cache.oid, Some(head_tree));
        let sub = &cache.children["dir"].children["sub"];
        let expected = repo
            .head()
            .unwrap()
            .peel_to_tree()
            .unwrap()
            .get_path(std::path::Path::new("dir/sub"))
            .unwrap()
            .id();
        assert_eq!(sub.oid, Some(expected));
    }

    #[test]
    fn reads_index_v2_like_libgit2() {
        compare_with_libgit2("2");
    }

    #[test]
    fn reads_index_v4_path_compression_like_libgit2() {
        compare_with_libgit2("4");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_are_declined_even_when_their_bytes_join_into_utf8() {
        use std::os::unix::ffi::OsStrExt;
        // "a\xe2\x82" then "\xac" sort next to each other; together their
        // bytes spell "a€", yet neither path is UTF-8 on its own.
        for names in [
            &[&b"a\xe2\x82"[..], &b"\xac"[..]][..],
            &[&b"ok\xff.py"[..]][..],
        ] {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path();
            git(p, &["init", "-q"]);
            for name in names {
                std::fs::write(p.join(std::ffi::OsStr::from_bytes(name)), "x").unwrap();
            }
            git(p, &["add", "-A"]);
            let data = std::fs::read(p.join(".git/index")).unwrap();
            assert!(parse(&data).is_none(), "{names:?}");
        }
    }

    #[test]
    fn lookups_by_path_and_prefix() {
        let dir = repo_with_files("2");
        let data = std::fs::read(dir.path().join(".git/index")).unwrap();
        let idx = parse(&data).unwrap();
        assert!(idx.get("dir/b.py").is_some());
        assert!(idx.get("dir/b").is_none());
        let under: Vec<_> = idx.under("dir/sub/").map(|(p, _)| p).collect();
        assert_eq!(under, ["dir/sub/c.py", "dir/sub/d.py"]);
    }

    #[test]
    fn garbage_is_declined_not_misread() {
        assert!(parse(b"").is_none());
        assert!(parse(b"DIRC\0\0\0\x09\0\0\0\0").is_none());
        let dir = repo_with_files("2");
        let mut data = std::fs::read(dir.path().join(".git/index")).unwrap();
        data.truncate(40);
        assert!(parse(&data).is_none());
    }
}
