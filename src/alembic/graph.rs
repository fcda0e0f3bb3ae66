//! The revision graph of one Alembic environment: heads, bases, merges,
//! order, and the problems that make `alembic upgrade head` fail or
//! ambiguous.
//!
//! Edges follow Alembic: `down_revision` makes the lineage (heads, bases,
//! merges, branch labels), `depends_on` only orders (a dependency must be
//! applied first, but depending on a revision does not make it "not a
//! head"). A `depends_on` entry may name a revision or a branch label.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use super::revision::RevisionFile;

#[derive(Debug, Clone)]
pub struct Graph {
    /// Unique revisions, in path order; indices below refer to this.
    revisions: Vec<RevisionFile>,
    index: HashMap<String, usize>,
    /// Branch label to the revision that declares it.
    labels: HashMap<String, usize>,
    duplicates: Vec<Duplicate>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
    /// Parents and resolved dependencies: what must be applied first.
    requires: Vec<Vec<usize>>,
    required_by: Vec<Vec<usize>>,
}

/// A second file declaring a revision id that an earlier file (in path
/// order) already declared. The graph keeps the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub revision: String,
    /// Path of the file the graph kept.
    pub kept: String,
    pub duplicate: RevisionFile,
}

/// Which identifier variable holds a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    DownRevision,
    DependsOn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// More than one head, and not every head sits on its own labelled
    /// branch. Heads in path order.
    MultipleHeads {
        heads: Vec<String>,
    },
    /// Revisions whose down_revision / depends_on chain comes back to
    /// itself; each one revises or depends on the next, and the last on
    /// the first.
    Cycle {
        revisions: Vec<String>,
    },
    DuplicateRevision(Duplicate),
    /// A reference to a revision (or, for `depends_on`, branch label) that
    /// no file declares.
    Dangling {
        revision: String,
        missing: String,
        reference: Reference,
    },
}

impl Graph {
    /// Builds the graph. Input order does not matter: files are taken in
    /// path order, so duplicates and findings are reported the same way on
    /// every machine.
    pub fn build(mut revisions: Vec<RevisionFile>) -> Graph {
        revisions.sort_by(|a, b| a.path.cmp(&b.path));
        let mut unique: Vec<RevisionFile> = Vec::with_capacity(revisions.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut duplicates = Vec::new();
        for r in revisions {
            match index.get(&r.revision) {
                Some(&kept) => duplicates.push(Duplicate {
                    revision: r.revision.clone(),
                    kept: unique[kept].path.clone(),
                    duplicate: r,
                }),
                None => {
                    index.insert(r.revision.clone(), unique.len());
                    unique.push(r);
                }
            }
        }
        let mut labels = HashMap::new();
        for (i, r) in unique.iter().enumerate() {
            for label in &r.branch_labels {
                labels.entry(label.clone()).or_insert(i);
            }
        }
        let n = unique.len();
        let mut parents = vec![Vec::new(); n];
        let mut requires = vec![Vec::new(); n];
        for (i, r) in unique.iter().enumerate() {
            for p in r.down_revisions.iter().filter_map(|d| index.get(d)) {
                push_unique(&mut parents[i], *p);
                push_unique(&mut requires[i], *p);
            }
            for d in &r.depends_on {
                if let Some(&d) = index.get(d).or_else(|| labels.get(d)) {
                    push_unique(&mut requires[i], d);
                }
            }
        }
        let mut children = vec![Vec::new(); n];
        let mut required_by = vec![Vec::new(); n];
        for i in 0..n {
            for &p in &parents[i] {
                children[p].push(i);
            }
            for &p in &requires[i] {
                required_by[p].push(i);
            }
        }
        Graph {
            revisions: unique,
            index,
            labels,
            duplicates,
            parents,
            children,
            requires,
            required_by,
        }
    }

    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// Every revision the graph kept (duplicates excluded), in path order.
    pub fn revisions(&self) -> &[RevisionFile] {
        &self.revisions
    }

    pub fn get(&self, revision: &str) -> Option<&RevisionFile> {
        self.index.get(revision).map(|&i| &self.revisions[i])
    }

    /// The revision a revision id or branch label names.
    pub fn resolve(&self, name: &str) -> Option<&RevisionFile> {
        self.index
            .get(name)
            .or_else(|| self.labels.get(name))
            .map(|&i| &self.revisions[i])
    }

    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// Revisions no other revision names as its down_revision.
    pub fn heads(&self) -> Vec<&str> {
        self.ids(self.head_indices())
    }

    /// The heads once the revisions `excluded` are taken out: what the
    /// heads were before a change added them.
    pub fn heads_excluding(&self, excluded: &BTreeSet<&str>) -> Vec<&str> {
        let kept = |i: usize| !excluded.contains(self.revisions[i].revision.as_str());
        self.ids((0..self.len()).filter(|&i| kept(i) && !self.children[i].iter().any(|&c| kept(c))))
    }

    /// Revisions without a down_revision.
    pub fn bases(&self) -> Vec<&str> {
        self.ids((0..self.len()).filter(|&i| self.revisions[i].is_base()))
    }

    /// Revisions with more than one down_revision.
    pub fn merge_points(&self) -> Vec<&str> {
        self.ids((0..self.len()).filter(|&i| self.revisions[i].is_merge()))
    }

    /// Revisions that more than one revision names as down_revision.
    pub fn branch_points(&self) -> Vec<&str> {
        self.ids((0..self.len()).filter(|&i| self.children[i].len() > 1))
    }

    /// Every revision in an order `alembic upgrade` could apply them: each
    /// after its down_revisions and dependencies, ties in path order.
    /// Revisions on a cycle, and everything after one, are left out (see
    /// [`Problem::Cycle`]).
    pub fn topological(&self) -> Vec<&str> {
        let mut waiting: Vec<usize> = self.requires.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..self.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &c in &self.required_by[i] {
                waiting[c] -= 1;
                if waiting[c] == 0 {
                    ready.insert(c);
                }
            }
        }
        self.ids(order)
    }

    /// Everything `alembic upgrade <revision>` applies before `revision`:
    /// its down_revisions and dependencies, transitively.
    pub fn ancestors(&self, revision: &str) -> BTreeSet<&str> {
        self.walk(revision, &self.requires)
    }

    /// Everything that needs `revision` applied first.
    pub fn descendants(&self, revision: &str) -> BTreeSet<&str> {
        self.walk(revision, &self.required_by)
    }

    /// Everything wrong with the graph, in a stable order: duplicates,
    /// dangling references, cycles, then multiple heads.
    ///
    /// Multiple heads are not a problem when each head lies on its own
    /// labelled branch: Alembic's multi-base pattern (`alembic revision
    /// --head=base --branch-label=...`) keeps independent lineages that are
    /// upgraded with `alembic upgrade heads` or `<label>@head`. A head
    /// qualifies when its lineage (itself and its down_revision ancestors)
    /// carries a branch label that no other head's lineage carries.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = self
            .duplicates
            .iter()
            .cloned()
            .map(Problem::DuplicateRevision)
            .collect();
        for r in &self.revisions {
            for missing in r.down_revisions.iter().filter(|d| self.get(d).is_none()) {
                out.push(Problem::Dangling {
                    revision: r.revision.clone(),
                    missing: missing.clone(),
                    reference: Reference::DownRevision,
                });
            }
            for missing in r.depends_on.iter().filter(|d| self.resolve(d).is_none()) {
                out.push(Problem::Dangling {
                    revision: r.revision.clone(),
                    missing: missing.clone(),
                    reference: Reference::DependsOn,
                });
            }
        }
        for cycle in self.cycles() {
            out.push(Problem::Cycle {
                revisions: self.ids(cycle).into_iter().map(str::to_string).collect(),
            });
        }
        let heads = self.head_indices();
        if heads.len() > 1 && !self.heads_on_own_labelled_branches(&heads) {
            out.push(Problem::MultipleHeads {
                heads: self.ids(heads).into_iter().map(str::to_string).collect(),
            });
        }
        out
    }

    fn ids(&self, indices: impl IntoIterator<Item = usize>) -> Vec<&str> {
        indices
            .into_iter()
            .map(|i| self.revisions[i].revision.as_str())
            .collect()
    }

    fn head_indices(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.children[i].is_empty())
            .collect()
    }

    fn walk(&self, revision: &str, edges: &[Vec<usize>]) -> BTreeSet<&str> {
        let Some(&start) = self.index.get(revision) else {
            return BTreeSet::new();
        };
        reach(start, edges)
            .into_iter()
            .filter(|&i| i != start)
            .map(|i| self.revisions[i].revision.as_str())
            .collect()
    }

    fn heads_on_own_labelled_branches(&self, heads: &[usize]) -> bool {
        let lineage_labels: Vec<HashSet<&str>> = heads
            .iter()
            .map(|&h| {
                reach(h, &self.parents)
                    .into_iter()
                    .flat_map(|i| self.revisions[i].branch_labels.iter().map(String::as_str))
                    .collect()
            })
            .collect();
        lineage_labels.iter().enumerate().all(|(k, mine)| {
            mine.iter().any(|label| {
                lineage_labels
                    .iter()
                    .enumerate()
                    .all(|(j, other)| j == k || !other.contains(label))
            })
        })
    }

    /// One cycle per back edge of a depth-first walk along "must be applied
    /// first" edges, each rotated to start at its first revision in path
    /// order. Iterative, because a long linear history would overflow the
    /// stack of a recursive walk.
    fn cycles(&self) -> Vec<Vec<usize>> {
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; self.len()];
        let mut seen: HashSet<Vec<usize>> = HashSet::new();
        let mut cycles = Vec::new();
        for start in 0..self.len() {
            if state[start] != NEW {
                continue;
            }
            state[start] = ON_PATH;
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            while let Some(top) = path.last_mut() {
                let (node, next) = (top.0, top.1);
                let Some(&to) = self.requires[node].get(next) else {
                    state[node] = DONE;
                    path.pop();
                    continue;
                };
                top.1 += 1;
                match state[to] {
                    NEW => {
                        state[to] = ON_PATH;
                        path.push((to, 0));
                    }
                    ON_PATH => {
                        let from = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[from..].iter().map(|&(n, _)| n).collect();
                        let min_at = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
                        cycle.rotate_left(min_at);
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if seen.insert(key) {
                            cycles.push(cycle);
                        }
                    }
                    _ => {}
                }
            }
        }
        cycles.sort();
        cycles
    }
}

fn push_unique(v: &mut Vec<usize>, x: usize) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// `start` and everything reachable from it along `edges`.
fn reach(start: usize, edges: &[Vec<usize>]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        for &j in &edges[i] {
            if seen.insert(j) {
                queue.push_back(j);
            }
        }
    }
    seen
}

/// A revision the change adds that, merged into the base branch as it is
/// now, leaves an extra head because the base branch moved on since the
/// change was written (someone else's migration landed first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleParent<'a> {
    pub revision: &'a RevisionFile,
    /// The base-branch heads it should have followed.
    pub base_heads: Vec<String>,
    /// The heads after merging.
    pub merged_heads: Vec<String>,
}

/// The revisions in `added` that are stale against `base`, the graph at the
/// tip of the base branch. None when the base side has no revisions, or
/// when the change's own revisions merge back into the base branch's heads
/// (a merge revision in the change).
pub fn stale_parents<'a>(base: &Graph, added: &'a [RevisionFile]) -> Vec<StaleParent<'a>> {
    if base.is_empty() {
        return Vec::new();
    }
    let mut new: Vec<&RevisionFile> = added
        .iter()
        .filter(|r| base.get(&r.revision).is_none())
        .collect();
    new.sort_by(|a, b| a.path.cmp(&b.path));
    new.dedup_by(|a, b| a.revision == b.revision);
    let new_ids: HashSet<&str> = new.iter().map(|r| r.revision.as_str()).collect();
    let merged = Graph::build(
        base.revisions()
            .iter()
            .chain(new.iter().copied())
            .cloned()
            .collect(),
    );
    let base_heads = base.head_indices();

    let mut out = Vec::new();
    for r in new {
        // The base-branch heads this revision should have followed.
        let targets: BTreeSet<usize> = if r.down_revisions.is_empty() {
            // A new labelled base is Alembic's multi-base pattern, not a
            // stale parent.
            if !r.branch_labels.is_empty() {
                continue;
            }
            base_heads.iter().copied().collect()
        } else {
            r.down_revisions
                .iter()
                .filter(|p| !new_ids.contains(p.as_str()))
                .filter_map(|p| base.index.get(p))
                .filter(|&&p| !base.children[p].is_empty())
                .flat_map(|&p| reach(p, &base.children))
                .filter(|i| base_heads.contains(i))
                .collect()
        };
        if targets.is_empty() {
            continue;
        }
        let target_ids: Vec<&str> = base.ids(targets.iter().copied());
        let Some(&me) = merged.index.get(&r.revision) else {
            continue;
        };
        let merged_heads = merged.head_indices();
        let left_apart = reach(me, &merged.children)
            .into_iter()
            .filter(|h| merged_heads.contains(h))
            .any(|h| {
                let lineage = reach(h, &merged.parents);
                !target_ids
                    .iter()
                    .filter_map(|t| merged.index.get(*t))
                    .any(|t| lineage.contains(t))
            });
        if !left_apart {
            continue;
        }
        out.push(StaleParent {
            revision: r,
            base_heads: target_ids.iter().map(|s| s.to_string()).collect(),
            merged_heads: merged.heads().iter().map(|s| s.to_string()).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{depending, labelled, rev};

    fn graph(revs: Vec<RevisionFile>) -> Graph {
        Graph::build(revs)
    }

    #[test]
    fn linear_history_has_one_head_and_base() {
        // Input order is irrelevant.
        let g = graph(vec![rev("c", &["b"]), rev("a", &[]), rev("b", &["a"])]);
        assert_eq!(g.heads(), ["c"]);
        assert_eq!(g.bases(), ["a"]);
        assert_eq!(g.topological(), ["a", "b", "c"]);
        assert_eq!(g.ancestors("c"), BTreeSet::from(["a", "b"]));
        assert_eq!(g.descendants("a"), BTreeSet::from(["b", "c"]));
        assert!(g.ancestors("nope").is_empty());
        assert!(g.problems().is_empty());
    }

    #[test]
    fn heads_excluding_are_the_heads_of_the_graph_without_those_revisions() {
        let history = vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["a"]),
            rev("m", &["b", "c"]),
            rev("n", &["m"]),
            rev("x", &["c"]),
            rev("b", &["x"]),
        ];
        let full = graph(history.clone());
        for excluded in [
            vec![],
            vec!["n"],
            vec!["m", "n"],
            vec!["x"],
            vec!["b"],
            vec!["m"],
            vec!["a", "b", "c", "m", "n", "x"],
        ] {
            let excluded: BTreeSet<&str> = excluded.into_iter().collect();
            let rest: Vec<RevisionFile> = full
                .revisions()
                .iter()
                .filter(|r| !excluded.contains(r.revision.as_str()))
                .cloned()
                .collect();
            assert_eq!(
                full.heads_excluding(&excluded),
                graph(rest).heads(),
                "{excluded:?}"
            );
        }
        assert_eq!(full.heads_excluding(&BTreeSet::from(["n"])), ["m", "x"]);
    }

    #[test]
    fn branch_and_merge_points() {
        let g = graph(vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["a"]),
            rev("m", &["b", "c"]),
        ]);
        assert_eq!(g.heads(), ["m"]);
        assert_eq!(g.merge_points(), ["m"]);
        assert_eq!(g.branch_points(), ["a"]);
        assert_eq!(g.topological(), ["a", "b", "c", "m"]);
        assert_eq!(g.ancestors("m"), BTreeSet::from(["a", "b", "c"]));
        assert!(g.problems().is_empty());
    }

    #[test]
    fn topological_order_applies_dependencies_first() {
        // Path order would be a, b, z; b depends on z's branch label.
        let g = graph(vec![
            rev("a", &[]),
            depending("b", &["a"], &["shared"]),
            labelled("z", &[], &["shared"]),
        ]);
        assert_eq!(g.topological(), ["a", "z", "b"]);
        assert_eq!(g.ancestors("b"), BTreeSet::from(["a", "z"]));
        assert_eq!(g.resolve("shared").map(|r| r.revision.as_str()), Some("z"));
        // Depending on a head does not stop it being a head.
        assert_eq!(g.heads(), ["b", "z"]);
        let without = graph(vec![
            rev("a", &[]),
            rev("b", &["a"]),
            labelled("z", &[], &["shared"]),
        ]);
        assert_eq!(without.topological(), ["a", "b", "z"]);
    }

    #[test]
    fn multiple_heads_unless_each_is_on_its_own_labelled_branch() {
        // (case, revisions, flagged)
        let cases: Vec<(&str, Vec<RevisionFile>, bool)> = vec![
            ("single head", vec![rev("a", &[]), rev("b", &["a"])], false),
            (
                "two unlabelled heads",
                vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])],
                true,
            ),
            (
                "multi-base with labels on the bases",
                vec![
                    labelled("a", &[], &["default"]),
                    rev("b", &["a"]),
                    labelled("n", &[], &["networking"]),
                    rev("o", &["n"]),
                ],
                false,
            ),
            (
                "labelled feature branch off an unlabelled main line",
                vec![
                    rev("a", &[]),
                    rev("b", &["a"]),
                    labelled("f", &["a"], &["feature"]),
                ],
                true,
            ),
            (
                "two heads under the same label",
                vec![
                    labelled("a", &[], &["core"]),
                    rev("b", &["a"]),
                    rev("c", &["a"]),
                    labelled("n", &[], &["networking"]),
                ],
                true,
            ),
            (
                "labelled branches off a shared labelled root",
                vec![
                    labelled("a", &[], &["core"]),
                    labelled("b", &["a"], &["billing"]),
                    labelled("c", &["a"], &["search"]),
                ],
                false,
            ),
        ];
        for (case, revs, flagged) in cases {
            let g = graph(revs);
            let found = g
                .problems()
                .iter()
                .any(|p| matches!(p, Problem::MultipleHeads { .. }));
            assert_eq!(found, flagged, "{case}");
        }
    }

    #[test]
    fn duplicate_revision_ids_keep_the_first_file_in_path_order() {
        let mut dup = rev("a", &[]);
        dup.path = "migrations/versions/zz_copy.py".into();
        let g = graph(vec![dup, rev("a", &[]), rev("b", &["a"])]);
        assert_eq!(g.len(), 2);
        assert_eq!(
            g.get("a").map(|r| r.path.as_str()),
            Some("migrations/versions/a.py")
        );
        assert_eq!(g.duplicates().len(), 1);
        assert_eq!(
            g.duplicates()[0].duplicate.path,
            "migrations/versions/zz_copy.py"
        );
    }

    #[test]
    fn cycles_are_found_and_left_out_of_the_order() {
        // (case, revisions, cycles, topological order)
        type Case = (
            &'static str,
            Vec<RevisionFile>,
            Vec<Vec<&'static str>>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "two revisions revise each other",
                vec![rev("a", &[]), rev("b", &["c"]), rev("c", &["b"])],
                vec![vec!["b", "c"]],
                vec!["a"],
            ),
            (
                "a revision revises itself",
                vec![rev("a", &[]), rev("b", &["b"])],
                vec![vec!["b"]],
                vec!["a"],
            ),
            (
                "three-revision cycle with a tail after it",
                vec![
                    rev("a", &[]),
                    rev("b", &["d"]),
                    rev("c", &["b"]),
                    rev("d", &["c"]),
                    rev("e", &["d"]),
                ],
                vec![vec!["b", "d", "c"]],
                vec!["a"],
            ),
            (
                "cycle through depends_on",
                vec![
                    rev("a", &[]),
                    depending("b", &["a"], &["c"]),
                    rev("c", &["b"]),
                ],
                vec![vec!["b", "c"]],
                vec!["a"],
            ),
            (
                "no cycle",
                vec![rev("a", &[]), rev("b", &["a"])],
                vec![],
                vec!["a", "b"],
            ),
        ];
        for (case, revs, cycles, order) in cases {
            let g = graph(revs);
            let found: Vec<Vec<String>> = g
                .problems()
                .into_iter()
                .filter_map(|p| match p {
                    Problem::Cycle { revisions } => Some(revisions),
                    _ => None,
                })
                .collect();
            assert_eq!(found, cycles, "{case}");
            assert_eq!(g.topological(), order, "{case}");
        }
    }

    #[test]
    fn long_linear_history_does_not_overflow() {
        let n = 20_000;
        let ids: Vec<String> = (0..n).map(|i| format!("r{i:05}")).collect();
        let revs = (0..n)
            .map(|i| {
                if i == 0 {
                    rev(&ids[0], &[])
                } else {
                    rev(&ids[i], &[ids[i - 1].as_str()])
                }
            })
            .collect();
        let g = graph(revs);
        assert!(g.problems().is_empty());
        assert_eq!(g.topological().len(), n);
        assert_eq!(g.heads(), [ids[n - 1].as_str()]);
    }
}
