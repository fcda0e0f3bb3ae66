//! Base snapshots: the database state a pull request's base history
//! produces, saved once and restored instead of replaying that history
//! (issue 16). A key ([`key`]) hashes what the state is a function of; the
//! store ([`store`]) keeps one file per key in the git directory. The job
//! hands a stored snapshot to the helper, which checks the Python side of
//! the key, restores it and runs only the change's revisions; on a miss
//! the helper saves the base state its data-upgrade check builds anyway.

pub mod inputs;
pub mod key;
pub mod store;

pub use store::{Loaded, Manifest, Miss, Store};

/// One environment's snapshot for a verify run: where to save, under which
/// key, and what the store had.
#[derive(Debug, Clone)]
pub struct SnapshotPlan {
    pub store: Store,
    pub key: String,
    pub found: Result<Loaded, Miss>,
}

impl SnapshotPlan {
    /// Looks `key` up in `store`.
    pub fn lookup(store: Store, key: String) -> Self {
        let found = store.load(&key);
        SnapshotPlan { store, key, found }
    }

    /// The first twelve characters of the key, as reports show it.
    pub fn short_key(&self) -> &str {
        &self.key[..self.key.len().min(12)]
    }
}

use std::path::Path;

use crate::job::protocol::{SnapshotOutcome, SnapshotRequest, SnapshotRestore};

impl SnapshotPlan {
    /// The request's snapshot part. A stored snapshot's payload is written
    /// to `restore_path` (in the run's private directory) for the helper.
    pub fn request(
        &self,
        revisions: &[String],
        base_heads: &[String],
        save_to: &Path,
        restore_path: &Path,
    ) -> SnapshotRequest {
        let restore = match &self.found {
            Ok(loaded) => match std::fs::write(restore_path, &loaded.payload) {
                Ok(()) => Some(SnapshotRestore {
                    path: restore_path.display().to_string(),
                    kind: loaded.manifest.kind.clone(),
                    runtime: loaded.manifest.runtime.clone(),
                    heads: loaded.manifest.heads.clone(),
                    verified: loaded.manifest.verified.clone(),
                    findings: loaded.manifest.findings.clone(),
                }),
                Err(e) => {
                    tracing::debug!("cannot write the snapshot for the helper: {e}");
                    None
                }
            },
            Err(_) => None,
        };
        SnapshotRequest {
            key: self.key.clone(),
            save_to: save_to.display().to_string(),
            revisions: revisions.to_vec(),
            base_heads: base_heads.to_vec(),
            restore,
        }
    }

    /// Stores what a miss dumped, and says in the report's words what the
    /// run did with the snapshot.
    /// `None` when the helper said nothing about it (it made no snapshot).
    pub fn finish(
        &self,
        outcome: Option<&SnapshotOutcome>,
        save_to: &Path,
        now: u64,
    ) -> Option<String> {
        let outcome = outcome?;
        Some(self.finish_with(outcome, save_to, now))
    }

    fn finish_with(&self, outcome: &SnapshotOutcome, save_to: &Path, now: u64) -> String {
        let key = self.short_key();
        if outcome.used
            && let Ok(loaded) = &self.found
        {
            let m = &loaded.manifest;
            return format!(
                "history up to {} restored from a snapshot verified on {} ({}), key {key}; \
                 only the change's revisions ran",
                m.heads
                    .iter()
                    .map(|h| &h[..h.len().min(12)])
                    .collect::<Vec<_>>()
                    .join(", "),
                store::utc_minute(m.created),
                describe_verified(&m.verified),
            );
        }
        let why = match (&self.found, &outcome.reason) {
            (_, Some(reason)) => reason.clone(),
            (Err(miss), None) => miss.to_string(),
            (Ok(_), None) => "the stored snapshot was not used".into(),
        };
        let Some(saved) = &outcome.saved else {
            return format!("the whole history was replayed ({why}), key {key}");
        };
        let payload = match std::fs::read(save_to) {
            Ok(p) => p,
            Err(e) => {
                return format!(
                    "the whole history was replayed ({why}); its snapshot could not be read back: {e}"
                );
            }
        };
        let manifest = Manifest {
            key: self.key.clone(),
            created: now,
            kind: saved.kind.clone(),
            runtime: saved.runtime.clone(),
            heads: saved.heads.clone(),
            verified: saved.verified.clone(),
            clean: saved.clean,
            findings: saved.findings.clone(),
            payload_len: 0,
            payload_sha256: String::new(),
        };
        let stored = self.store.save(manifest, &payload);
        if let Err(e) = self.store.prune() {
            tracing::debug!("cannot prune the snapshot store: {e}");
        }
        match stored {
            Ok(true) => format!(
                "the whole history was replayed ({why}); its base state is saved for the next run, key {key}"
            ),
            Ok(false) => format!("the whole history was replayed ({why}), key {key}"),
            Err(e) => format!(
                "the whole history was replayed ({why}); its snapshot could not be saved in {}: {e}",
                self.store.dir().display()
            ),
        }
    }
}

fn describe_verified(checks: &[String]) -> String {
    let words: Vec<&str> = checks
        .iter()
        .map(|c| match c.as_str() {
            "upgrade" => "upgrade from empty",
            "roundtrip" => "full round trip",
            other => other,
        })
        .collect();
    if words.is_empty() {
        "no checks".into()
    } else {
        words.join(", ")
    }
}

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
