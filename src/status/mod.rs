//! `alembot status`: where live databases stand against the migration
//! files and the models. Plain data and its renderings; the command runs
//! the helper.

use serde::Serialize;

use crate::findings::Finding;
use crate::job::protocol::Status;

/// One environment checked against one database.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub environment: String,
    /// Redacted.
    pub database: String,
    #[serde(flatten)]
    pub status: Option<Status>,
    pub findings: Vec<Finding>,
    /// Why the database could not be checked (unreachable, misconfigured).
    pub error: Option<String>,
}

impl Row {
    /// Up to date and matching the models.
    pub fn healthy(&self) -> bool {
        self.error.is_none()
            && self.status.as_ref().is_some_and(|s| {
                s.state == "up-to-date" && s.drift.as_ref().is_none_or(|d| d.clean != Some(false))
            })
            && self.findings.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub version: u32,
    pub databases: Vec<Row>,
    pub summary: FleetSummary,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FleetSummary {
    pub healthy: usize,
    pub unhealthy: usize,
    pub unreachable: usize,
}

impl Fleet {
    pub fn new(databases: Vec<Row>) -> Fleet {
        let unreachable = databases.iter().filter(|r| r.error.is_some()).count();
        let healthy = databases.iter().filter(|r| r.healthy()).count();
        Fleet {
            version: 1,
            summary: FleetSummary {
                healthy,
                unhealthy: databases.len() - healthy - unreachable,
                unreachable,
            },
            databases,
        }
    }
}

fn short(revs: &[String]) -> String {
    if revs.is_empty() {
        "-".into()
    } else {
        revs.iter()
            .map(|r| r.chars().take(12).collect::<String>())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn state(row: &Row) -> String {
    match (&row.error, &row.status) {
        (Some(_), _) => "unreachable".into(),
        (None, Some(s)) if s.state == "behind" => format!("behind ({} to apply)", s.pending.len()),
        (None, Some(s)) => s.state.clone(),
        (None, None) => "?".into(),
    }
}

fn schema(row: &Row) -> String {
    let Some(status) = &row.status else {
        return "-".into();
    };
    match &status.drift {
        Some(d) if d.checked && d.clean == Some(true) => "matches the models".into(),
        Some(d) if d.checked => format!(
            "{} difference{}",
            d.differences,
            if d.differences == 1 { "" } else { "s" }
        ),
        Some(d) => d
            .reason
            .clone()
            .map_or("not compared".into(), |r| format!("not compared: {r}")),
        None => "-".into(),
    }
}

/// The table and, below it, what each unhealthy row needs.
pub fn render_human(fleet: &Fleet) -> String {
    let headers = [
        "ENVIRONMENT",
        "DATABASE",
        "DATABASE AT",
        "FILES AT",
        "STATE",
        "SCHEMA",
    ];
    let rows: Vec<[String; 6]> = fleet
        .databases
        .iter()
        .map(|r| {
            let s = r.status.as_ref();
            [
                r.environment.clone(),
                r.database.clone(),
                s.map_or("-".into(), |s| short(&s.current)),
                s.map_or("-".into(), |s| short(&s.heads)),
                state(r),
                schema(r),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&headers.map(String::from)) + "\n";
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    for r in &fleet.databases {
        if r.healthy() {
            continue;
        }
        out.push_str(&format!("\n{} @ {}:\n", r.environment, r.database));
        if let Some(e) = &r.error {
            out.push_str(&format!("  {}\n", e.replace('\n', "\n  ")));
        }
        if let Some(s) = &r.status {
            if let Some(summary) = &s.summary {
                out.push_str(&format!("  {summary}\n"));
            }
            if !s.pending.is_empty() {
                out.push_str(&format!(
                    "  to apply, in order: {}\n",
                    s.pending.join(" → ")
                ));
            }
            // The helper's summary already names unknown revisions and why.
        }
        for f in &r.findings {
            out.push_str(&format!("  {}[{}]: {}\n", f.severity, f.code, f.message));
        }
    }
    let s = &fleet.summary;
    out.push_str(&format!(
        "\n{} healthy, {} need attention, {} unreachable\n",
        s.healthy, s.unhealthy, s.unreachable
    ));
    out
}

pub fn render_markdown(fleet: &Fleet) -> String {
    let esc = |t: &str| t.replace('|', "\\|");
    let mut out = String::from(
        "| Environment | Database | Database at | Files at | State | Schema |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in &fleet.databases {
        let s = r.status.as_ref();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} |\n",
            esc(&r.environment),
            esc(&r.database),
            s.map_or("-".into(), |s| short(&s.current)),
            s.map_or("-".into(), |s| short(&s.heads)),
            esc(&state(r)),
            esc(&schema(r))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::protocol::StatusDrift;

    fn row(state: &str, pending: &[&str], clean: bool) -> Row {
        Row {
            environment: "main".into(),
            database: "postgresql://app:***@db/prod".into(),
            status: Some(Status {
                state: state.into(),
                current: vec!["1e212bc13912".into()],
                heads: vec!["3b06dd20bf9d".into()],
                pending: pending.iter().map(|s| s.to_string()).collect(),
                drift: Some(StatusDrift {
                    checked: true,
                    clean: Some(clean),
                    differences: u32::from(!clean),
                    ..StatusDrift::default()
                }),
                ..Status::default()
            }),
            findings: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn fleet_counts_and_health() {
        let fleet = Fleet::new(vec![
            row("up-to-date", &[], true),
            row("behind", &["3b06dd20bf9d"], true),
            row("up-to-date", &[], false),
            Row {
                error: Some("cannot connect".into()),
                status: None,
                ..row("", &[], true)
            },
        ]);
        assert_eq!(
            fleet.summary,
            FleetSummary {
                healthy: 1,
                unhealthy: 2,
                unreachable: 1
            }
        );
        let text = render_human(&fleet);
        assert!(text.contains("behind (1 to apply)"), "{text}");
        assert!(text.contains("1 difference"), "{text}");
        assert!(text.contains("unreachable"), "{text}");
        assert!(text.contains("to apply, in order: 3b06dd20bf9d"), "{text}");
        // One `database` key per row: the status the helper returned has
        // its own, which must not be flattened in beside it.
        let mut with_helper_url = row("up-to-date", &[], true);
        if let Some(s) = with_helper_url.status.as_mut() {
            s.database = "postgresql+psycopg2://app:***@db/prod".into();
        }
        let text = serde_json::to_string(&with_helper_url).unwrap();
        assert_eq!(text.matches("\"database\"").count(), 1, "{text}");
        assert!(
            text.contains("\"database\":\"postgresql://app:***@db/prod\""),
            "{text}"
        );
        let json = serde_json::to_value(&fleet).unwrap();
        assert_eq!(json["databases"][1]["state"], "behind");
        assert_eq!(json["summary"]["unreachable"], 1);
    }
}
