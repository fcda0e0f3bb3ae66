//! The JSON spoken with the embedded Python helper (see the docstring of
//! `helper.py`, which is the reference): one request on stdin, JSON lines
//! on stdout ending in one `result` or `fatal` event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One request. Database URLs travel only here (stdin), never on a
/// command line where `ps` would show them.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Request {
    pub action: &'static str,
    pub project_root: String,
    pub alembic_ini: Option<String>,
    pub ini_section: String,
    pub script_location: Option<String>,
    pub database_url: Option<String>,
    pub url_env_vars: Vec<String>,
    pub version_table: String,
    pub version_table_schema: Option<String>,
    pub setup_sql: Vec<String>,
    pub model_files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<Checks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The project's own variables the helper's environment may carry
    /// (`pass_env:`); not sent: the process is started with them.
    #[serde(skip)]
    pub pass_env: Vec<String>,
    /// The base snapshot of a verify run (issue 16), when there is one to
    /// use or to make.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotRequest>,
}

/// What the helper does about the base snapshot: restore `restore` (after
/// checking its runtime against its own), or dump the base state to
/// `save_to` when the data upgrade builds it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SnapshotRequest {
    pub key: String,
    pub save_to: String,
    /// The change's revisions and the heads before it.
    pub revisions: Vec<String>,
    pub base_heads: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<SnapshotRestore>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRestore {
    pub path: String,
    pub kind: String,
    pub runtime: serde_json::Map<String, serde_json::Value>,
    pub heads: Vec<String>,
    pub verified: Vec<String>,
    pub findings: Vec<serde_json::Value>,
}

/// What happened to the snapshot.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct SnapshotOutcome {
    #[serde(default)]
    pub used: bool,
    /// Why it was not used, or not saved.
    #[serde(default)]
    pub reason: Option<String>,
    /// A base state dumped to `save_to`, offered for the store.
    #[serde(default)]
    pub saved: Option<SavedSnapshot>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedSnapshot {
    pub kind: String,
    pub runtime: serde_json::Map<String, serde_json::Value>,
    pub heads: Vec<String>,
    pub verified: Vec<String>,
    pub clean: bool,
    #[serde(default)]
    pub findings: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Checks {
    pub upgrade: bool,
    pub drift: bool,
    pub roundtrip: bool,
    /// Revision ids, or `"all"`.
    pub stairway: Option<serde_json::Value>,
    pub data_upgrade: Option<DataUpgrade>,
    pub data_tests: Option<String>,
    pub unregistered: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataUpgrade {
    pub base_heads: Vec<String>,
    pub revisions: Vec<String>,
}

/// One line of the helper's stdout.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    Step {
        step: String,
        #[serde(default)]
        revision: Option<String>,
        #[serde(default)]
        check: Option<String>,
    },
    Note {
        message: String,
    },
    /// The database a verify was to create on a server does not exist (it
    /// was dropped, or never created): there is nothing left to drop.
    Gone {
        database: String,
    },
    Result(serde_json::Map<String, serde_json::Value>),
    Fatal {
        kind: String,
        message: String,
        #[serde(default)]
        help: Option<String>,
    },
}

/// A finding as the helper reports it (paths absolute).
#[derive(Debug, Clone, Deserialize)]
pub struct HelperFinding {
    pub code: String,
    pub severity: String,
    pub message: String,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub table: Option<String>,
    #[serde(default)]
    pub column: Option<String>,
    #[serde(default)]
    pub revision: Option<String>,
    /// Drift only: Alembic's kind of difference.
    #[serde(default)]
    pub operation: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct VerifyResult {
    #[serde(default)]
    pub findings: Vec<HelperFinding>,
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub skipped: BTreeMap<String, String>,
    #[serde(default)]
    pub heads: Vec<String>,
    #[serde(default)]
    pub timings: BTreeMap<String, f64>,
    #[serde(default)]
    pub versions: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub snapshot: Option<SnapshotOutcome>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct CreatedDatabase {
    pub database: String,
    #[serde(default)]
    pub database_url_redacted: Option<String>,
    /// The URL with its password: kept in memory, never printed.
    #[serde(default)]
    pub secret_database_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct ProbeResult {
    #[serde(default)]
    pub versions: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub python: Option<String>,
    #[serde(default)]
    pub drivers: BTreeMap<String, serde_json::Value>,
}

/// The read-only health check of one live database (see `status_action`).
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
pub struct Status {
    /// The URL the helper connected with (redacted, driver resolved). Not
    /// serialized: a status row names its database once, as the user gave it.
    #[serde(default, skip_serializing)]
    pub database: String,
    #[serde(default)]
    pub dialect: Option<String>,
    #[serde(default)]
    pub server_version: Option<String>,
    #[serde(default)]
    pub read_only: Option<String>,
    #[serde(default)]
    pub version_table: Option<String>,
    #[serde(default)]
    pub version_table_exists: Option<bool>,
    #[serde(default)]
    pub current: Vec<String>,
    #[serde(default)]
    pub heads: Vec<String>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub pending: Vec<String>,
    #[serde(default)]
    pub unknown: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub drift: Option<StatusDrift>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
pub struct StatusDrift {
    #[serde(default)]
    pub checked: bool,
    #[serde(default)]
    pub clean: Option<bool>,
    #[serde(default)]
    pub differences: u32,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub upgrade_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct StatusResult {
    #[serde(default)]
    pub status: Status,
    #[serde(default)]
    pub findings: Vec<HelperFinding>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_decode() {
        let step: Event =
            serde_json::from_str(r#"{"event": "step", "step": "upgrade", "revision": "ab"}"#)
                .unwrap();
        assert!(matches!(step, Event::Step { revision: Some(ref r), .. } if r == "ab"));
        let fatal: Event = serde_json::from_str(
            r#"{"event": "fatal", "kind": "environment", "message": "m", "help": "pip install alembic"}"#,
        )
        .unwrap();
        assert!(matches!(fatal, Event::Fatal { ref kind, .. } if kind == "environment"));
        let gone: Event =
            serde_json::from_str(r#"{"event": "gone", "database": "alembot_0123456789ab"}"#)
                .unwrap();
        assert!(matches!(gone, Event::Gone { ref database } if database == "alembot_0123456789ab"));
        let result: Event = serde_json::from_str(r#"{"event": "result", "findings": []}"#).unwrap();
        assert!(matches!(result, Event::Result(_)));
    }

    #[test]
    fn request_has_no_optional_noise() {
        let r = Request {
            action: "probe",
            ..Request::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert!(v.get("checks").is_none());
        assert_eq!(v["action"], "probe");
    }
}
