//! The revision-graph rules: the problems `alembic/graph.rs` finds in one
//! environment's history, each turned into its finding by its rule file.

use super::{dangling_revision, duplicate_revision, multiple_heads, revision_cycle};
use crate::alembic::graph::{Graph, Problem};
use crate::findings::Finding;

/// `multiple-heads`, `revision-cycle`, `duplicate-revision` and
/// `dangling-revision` findings for one environment's graph.
pub fn graph_findings(graph: &Graph, environment: &str) -> Vec<Finding> {
    graph
        .problems()
        .into_iter()
        .filter_map(|p| match &p {
            Problem::DuplicateRevision(d) => Some(duplicate_revision::finding(d)),
            Problem::Dangling {
                revision,
                missing,
                reference,
            } => dangling_revision::finding(graph, revision, missing, *reference),
            Problem::Cycle { revisions } => revision_cycle::finding(graph, revisions),
            Problem::MultipleHeads { heads } => multiple_heads::finding(graph, heads),
        })
        .map(|f| f.in_env(environment))
        .collect()
}
