//! `alembot status`: live databases against the migration files and the
//! models, read-only, one table for the whole fleet.

use std::io::Write;

use crate::change::Range;
use crate::cli::StatusArgs;
use crate::config::{Environment, Overrides, Settings};
use crate::error::Error;
use crate::findings::Report;
use crate::job::helper::HelperError;
use crate::job::provider::redact_url;
use crate::job::{StatusCall, run_status};
use crate::report::{Format, render};
use crate::status::{Fleet, Row, render_human, render_markdown};

use super::{Exit, Globals, open, render_options, use_color};
use crate::pipeline::plan::{convert, env_request, helper_tree, python_for};

pub fn run(globals: &Globals, args: &StatusArgs) -> Result<Exit, Error> {
    let overrides = Overrides {
        environments: args.environments.clone(),
        python: args.python.clone(),
        timeout: args.timeout,
        ..Overrides::default()
    };
    // No change is involved: the project as it is on disk, git or not.
    let (source, change, settings) = open(globals, &Range::All, overrides)?;
    let mut calls = Vec::new();
    let mut shown = Vec::new();
    for spec in &args.databases {
        let (pinned, url) = split_pin(spec, &settings);
        let envs: Vec<&Environment> = match pinned {
            Some(name) => settings.environment(name).into_iter().collect(),
            None => settings.environments.iter().collect(),
        };
        for env in envs {
            // The project as the interpreter sees it (a container's workdir).
            let seen = helper_tree(&settings, env, &change.root)?;
            let mut request = env_request(&source, &settings, env, &seen, "status")?;
            request.database_url = Some(url.to_string());
            calls.push(StatusCall {
                environment: env.name.clone(),
                python: python_for(&settings, env),
                request,
            });
            crate::redact::register_url(url);
            shown.push((env.name.clone(), redact_url(url), seen));
        }
    }
    let results = run_status(calls, settings.jobs, settings.timeout)?;
    let mut rows = Vec::new();
    for ((environment, database, seen), result) in shown.into_iter().zip(results) {
        let row = match result {
            Ok(r) => Row {
                findings: r
                    .findings
                    .iter()
                    .map(|f| convert(f, &environment, &seen))
                    .collect(),
                // As the user wrote it (redacted), the same for every row
                // whether or not it could be reached.
                database,
                status: Some(r.status),
                environment,
                error: None,
            },
            Err(e @ (HelperError::Connection { .. } | HelperError::Request { .. })) => Row {
                environment,
                database,
                status: None,
                findings: Vec::new(),
                error: Some(e.to_string()),
            },
            // A missing Alembic or an unusable interpreter: nothing can be
            // checked anywhere.
            Err(e) => return Err(Error::Job(e.into())),
        };
        rows.push(row);
    }
    let fleet = Fleet::new(rows);
    let text = crate::redact::redact_string(match args.output.format {
        Format::Human => render_human(&fleet),
        Format::Json => serde_json::to_string_pretty(&fleet)
            .map(|s| s + "\n")
            .unwrap_or_default(),
        Format::Markdown => render_markdown(&fleet),
        other => {
            let findings = fleet
                .databases
                .iter()
                .flat_map(|r| r.findings.clone())
                .collect();
            let report = Report::new(findings, &["status"], Vec::new());
            render(
                &report,
                other,
                &render_options(&settings, use_color(globals.color, false)),
            )
        }
    });
    match &args.output.output {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Output {
            path: path.display().to_string(),
            source,
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(if fleet.summary.unreachable > 0 {
        Exit::Incomplete
    } else if fleet.summary.unhealthy > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// `main=postgresql://...` pins a database to an environment; a URL's own
/// `=` (in its query) does not.
fn split_pin<'a>(spec: &'a str, settings: &Settings) -> (Option<&'a str>, &'a str) {
    if let Some((name, url)) = spec.split_once('=')
        && !name.contains(':')
        && !name.contains('/')
        && settings.environment(name).is_some()
    {
        return (Some(name), url);
    }
    (None, spec)
}
