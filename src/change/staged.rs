//! The staged change (index against HEAD), computed the way git does it:
//! directories whose cache-tree id equals HEAD's tree are skipped whole, so
//! a commit touching two directories reads two trees, not the repository.

use std::collections::{BTreeMap, BTreeSet};

use git2::{ObjectType, Oid, Repository};

use super::git::ChangeError;
use super::index::{CacheTree, GITLINK, IndexFile};
use super::{ChangedFile, FileStatus};

struct HeadEntry {
    oid: Oid,
    mode: u32,
    is_tree: bool,
}

pub fn staged_changes(
    repo: &Repository,
    head_tree: Option<Oid>,
    index: &IndexFile,
) -> Result<Vec<ChangedFile>, ChangeError> {
    let mut raw: Vec<Raw> = Vec::new();
    walk(
        repo,
        "",
        head_tree,
        index.cache_tree.as_ref(),
        index,
        &mut raw,
    )?;
    Ok(detect_renames(repo, raw))
}

/// A change before rename detection.
struct Raw {
    path: String,
    status: FileStatus,
    old_oid: Option<Oid>,
    new_oid: Option<Oid>,
    submodule: bool,
}

fn git_err(context: &str, source: git2::Error) -> ChangeError {
    ChangeError::Git {
        context: context.to_string(),
        source,
    }
}

fn read_tree(repo: &Repository, oid: Oid) -> Result<BTreeMap<String, HeadEntry>, ChangeError> {
    let tree = repo
        .find_tree(oid)
        .map_err(|e| git_err("reading a HEAD tree", e))?;
    let mut out = BTreeMap::new();
    for entry in tree.iter() {
        let Some(name) = entry.name() else { continue };
        out.insert(
            name.to_string(),
            HeadEntry {
                oid: entry.id(),
                mode: entry.filemode() as u32,
                is_tree: entry.kind() == Some(ObjectType::Tree),
            },
        );
    }
    Ok(out)
}

fn walk(
    repo: &Repository,
    prefix: &str,
    head: Option<Oid>,
    cache: Option<&CacheTree>,
    index: &IndexFile,
    out: &mut Vec<Raw>,
) -> Result<(), ChangeError> {
    if let (Some(h), Some(c)) = (head, cache.and_then(|c| c.oid))
        && h == c
    {
        return Ok(());
    }
    let head_entries = match head {
        Some(h) => read_tree(repo, h)?,
        None => BTreeMap::new(),
    };
    let (files, dirs) = index.children(prefix);
    let names: BTreeSet<&str> = head_entries
        .keys()
        .map(String::as_str)
        .chain(files.keys().copied())
        .chain(dirs.iter().copied())
        .collect();
    for name in names {
        let head_entry = head_entries.get(name);
        let file = files.get(name).copied();
        let is_dir = dirs.contains(&name);
        // Most entries are unchanged files: skip them before building paths.
        if let (Some(h), Some((oid, mode, stage)), false) = (head_entry, file, is_dir)
            && !h.is_tree
            && h.oid == oid
            && h.mode == mode
            && stage == 0
        {
            continue;
        }
        let path = format!("{prefix}{name}");
        let child_cache = cache.and_then(|c| c.children.get(name));
        match head_entry {
            Some(h) if h.is_tree => {
                if is_dir {
                    walk(
                        repo,
                        &format!("{path}/"),
                        Some(h.oid),
                        child_cache,
                        index,
                        out,
                    )?;
                } else {
                    deleted_tree(repo, &path, h.oid, out)?;
                }
            }
            Some(h) => match file {
                Some((oid, mode, stage)) => {
                    if oid != h.oid || mode != h.mode || stage > 0 {
                        out.push(Raw {
                            path: path.clone(),
                            status: FileStatus::Modified,
                            old_oid: Some(h.oid),
                            new_oid: Some(oid),
                            submodule: mode == GITLINK || h.mode == GITLINK,
                        });
                    }
                }
                None => out.push(Raw {
                    path: path.clone(),
                    status: FileStatus::Deleted,
                    old_oid: Some(h.oid),
                    new_oid: None,
                    submodule: h.mode == GITLINK,
                }),
            },
            None => {
                if let Some((oid, mode, _)) = file {
                    out.push(Raw {
                        path: path.clone(),
                        status: FileStatus::Added,
                        old_oid: None,
                        new_oid: Some(oid),
                        submodule: mode == GITLINK,
                    });
                }
            }
        }
        // A file replaced by a directory or the reverse: both sides show.
        if head_entry.is_some_and(|h| !h.is_tree) && is_dir {
            walk(repo, &format!("{path}/"), None, child_cache, index, out)?;
        }
        if head_entry.is_none() && is_dir {
            walk(repo, &format!("{path}/"), None, child_cache, index, out)?;
        }
        if head_entry.is_some_and(|h| h.is_tree)
            && let Some((oid, mode, _)) = file
        {
            out.push(Raw {
                path,
                status: FileStatus::Added,
                old_oid: None,
                new_oid: Some(oid),
                submodule: mode == GITLINK,
            });
        }
    }
    Ok(())
}

fn deleted_tree(
    repo: &Repository,
    path: &str,
    oid: Oid,
    out: &mut Vec<Raw>,
) -> Result<(), ChangeError> {
    for (name, entry) in read_tree(repo, oid)? {
        let child = format!("{path}/{name}");
        if entry.is_tree {
            deleted_tree(repo, &child, entry.oid, out)?;
        } else {
            out.push(Raw {
                path: child,
                status: FileStatus::Deleted,
                old_oid: Some(entry.oid),
                new_oid: None,
                submodule: entry.mode == GITLINK,
            });
        }
    }
    Ok(())
}

/// Pairs deleted and added files into renames: identical content first,
/// then (for a handful of files) similar content, as `git diff -M` does
/// with its default 50% threshold.
fn detect_renames(repo: &Repository, raw: Vec<Raw>) -> Vec<ChangedFile> {
    const MAX_SIMILARITY_PAIRS: usize = 32 * 32;
    let mut deleted: Vec<usize> = Vec::new();
    let mut added: Vec<usize> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match r.status {
            FileStatus::Deleted if !r.submodule => deleted.push(i),
            FileStatus::Added if !r.submodule => added.push(i),
            _ => {}
        }
    }
    let mut renamed_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    for &a in &added {
        if let Some(&d) = deleted
            .iter()
            .find(|&&d| !used.contains(&d) && raw[d].old_oid == raw[a].new_oid)
        {
            renamed_from.insert(a, d);
            used.insert(d);
        }
    }
    let open_added: Vec<usize> = added
        .iter()
        .copied()
        .filter(|a| !renamed_from.contains_key(a))
        .collect();
    let open_deleted: Vec<usize> = deleted
        .iter()
        .copied()
        .filter(|d| !used.contains(d))
        .collect();
    if !open_added.is_empty() && open_added.len() * open_deleted.len() <= MAX_SIMILARITY_PAIRS {
        let lines = |oid: Option<Oid>| -> Option<Vec<u64>> {
            let blob = repo.find_blob(oid?).ok()?;
            Some(line_hashes(blob.content()))
        };
        let deleted_lines: Vec<(usize, Vec<u64>)> = open_deleted
            .iter()
            .filter_map(|&d| lines(raw[d].old_oid).map(|l| (d, l)))
            .collect();
        for &a in &open_added {
            let Some(new_lines) = lines(raw[a].new_oid) else {
                continue;
            };
            let best = deleted_lines
                .iter()
                .filter(|(d, _)| !used.contains(d))
                .map(|(d, old)| (*d, similarity(old, &new_lines)))
                .filter(|(_, s)| *s >= 0.5)
                .max_by(|x, y| x.1.total_cmp(&y.1));
            if let Some((d, _)) = best {
                renamed_from.insert(a, d);
                used.insert(d);
            }
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        if used.contains(&i) {
            continue;
        }
        match renamed_from.get(&i) {
            Some(&d) => out.push(ChangedFile {
                path: r.path.clone(),
                old_path: Some(raw[d].path.clone()),
                status: FileStatus::Renamed,
                submodule: false,
            }),
            None => out.push(ChangedFile {
                path: r.path.clone(),
                old_path: None,
                status: r.status,
                submodule: r.submodule,
            }),
        }
    }
    out
}

fn line_hashes(content: &[u8]) -> Vec<u64> {
    let mut v: Vec<u64> = content
        .split(|&b| b == b'\n')
        .map(|line| {
            // FNV-1a: stable and fast; collisions only blur a heuristic.
            line.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        })
        .collect();
    v.sort_unstable();
    v
}

/// Dice coefficient of two sorted line-hash multisets.
fn similarity(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_of_line_sets() {
        let a = line_hashes(b"a\nb\nc\nd\n");
        let b = line_hashes(b"a\nb\nc\nx\n");
        let s = similarity(&a, &b);
        assert!(s > 0.7 && s < 0.9, "{s}");
        assert_eq!(similarity(&a, &a), 1.0);
        assert!(similarity(&a, &line_hashes(b"q\nr\n")) < 0.5);
    }
}
