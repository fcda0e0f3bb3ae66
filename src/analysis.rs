//! The static stage: from a change and the settings to findings, in
//! milliseconds, with no Python and no database. It reads only the files
//! the change touches plus the revision files of touched environments.

pub mod cache;

use std::collections::{BTreeMap, BTreeSet};

use crate::alembic::graph::Graph;
use crate::alembic::operations::read_operations;
use crate::alembic::revision::{
    RevisionError, RevisionFile, is_revision_file, parse_revision, parse_revision_header,
};
use crate::change::{ChangeError, ChangeSet, ChangedFile, FileStatus, Range, Side, Source, Text};
use crate::config::paths::file_name;
use crate::config::{Environment, Settings};
use crate::findings::Finding;
use crate::models::diff_models;
use crate::rules::crosscheck::{AddedRevision, crosscheck};
use crate::rules::edited_migration::edited_migration_findings;
use crate::rules::graph::graph_findings;
use crate::rules::migration_lint::lint_migration;
use crate::rules::missing_migration::{EnvHelp, ModelChange, missing_migrations};
use crate::rules::stale_parent::stale_parent_findings;

use cache::RevisionCache;

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// A revision file Alembic could not load either: the history cannot
    /// be judged until it is fixed.
    #[error("{0}\n  help: {hint}", hint = .0.hint())]
    Revision(#[from] RevisionError),
}

/// What the static stage learnt about one environment; the dynamic job
/// starts from this.
#[derive(Debug, Clone, Default)]
pub struct EnvState {
    pub name: String,
    pub models_touched: bool,
    /// Revision files, env.py, templates or the Alembic config changed.
    pub migrations_touched: bool,
    /// Revision files the change adds (new-side paths).
    pub added_files: Vec<String>,
    /// Pre-existing revision files the change edits, renames or deletes.
    pub edited_files: Vec<String>,
    pub model_files: Vec<String>,
    /// The revision graph on the new side (read only for touched
    /// environments).
    pub graph: Option<Graph>,
    /// Revision ids the change adds, base to head.
    pub added_revisions: Vec<String>,
    /// The heads before the change: where the data upgrade starts.
    pub base_heads: Vec<String>,
}

impl EnvState {
    pub fn touched(&self) -> bool {
        self.models_touched || self.migrations_touched
    }
}

#[derive(Debug, Clone, Default)]
pub struct StaticResult {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    pub envs: Vec<EnvState>,
}

impl StaticResult {
    pub fn touches_anything(&self) -> bool {
        self.envs.iter().any(EnvState::touched)
    }
}

pub fn read_text(source: &Source, side: Side, path: &str) -> Result<Option<Text>, ChangeError> {
    Ok(source.read(side, path)?.map(|b| Text::from_bytes(path, b)))
}

pub fn analyse(
    source: &Source,
    change: &ChangeSet,
    settings: &Settings,
) -> Result<StaticResult, AnalysisError> {
    let mut cache = match source.cache_dir() {
        Some(dir) if settings.revision_cache => RevisionCache::open(dir),
        _ => RevisionCache::off(),
    };
    let result = analyse_with(source, change, settings, &mut cache)?;
    if let Err(e) = cache.save() {
        tracing::debug!("could not save the revision cache: {e}");
    }
    Ok(result)
}

fn analyse_with(
    source: &Source,
    change: &ChangeSet,
    settings: &Settings,
    cache: &mut RevisionCache,
) -> Result<StaticResult, AnalysisError> {
    let mut envs: Vec<EnvState> = settings
        .environments
        .iter()
        .map(|e| EnvState {
            name: e.name.clone(),
            ..EnvState::default()
        })
        .collect();
    let mut model_changes: Vec<ModelChange> = Vec::new();
    let mut notes = Vec::new();
    if let Some(note) = empty_range_note(change) {
        notes.push(note);
    }
    for file in &change.files {
        if file.submodule
            || settings.is_ignored(&file.path)
            || file
                .old_path
                .as_deref()
                .is_some_and(|p| settings.is_ignored(p))
        {
            continue;
        }
        if classify_migration_file(settings, &mut envs, file) {
            continue;
        }
        if let Some(mc) = model_change(source, settings, file, &mut notes)? {
            for name in &mc.environments {
                if let Some(state) = envs.iter_mut().find(|s| &s.name == name) {
                    state.models_touched = true;
                    state.model_files.push(file.path.clone());
                }
            }
            notes.extend(mc.edits.notes.iter().cloned());
            model_changes.push(mc);
        }
    }
    let mut findings = Vec::new();
    let gained: BTreeSet<String> = envs
        .iter()
        .filter(|e| !e.added_files.is_empty())
        .map(|e| e.name.clone())
        .collect();
    let help: BTreeMap<String, EnvHelp> = settings
        .environments
        .iter()
        .map(|e| (e.name.clone(), env_help(e)))
        .collect();
    findings.extend(missing_migrations(&model_changes, &gained, &help));
    // `verify --all` has no change to look at, but its revision graph is
    // still the whole history's: heads, cycles and dangling parents count.
    let whole_history = change.range == Range::All;
    for (env, state) in settings.environments.iter().zip(envs.iter_mut()) {
        if !state.touched() && !whole_history {
            continue;
        }
        let changed: BTreeSet<&str> = state
            .added_files
            .iter()
            .chain(&state.edited_files)
            .map(String::as_str)
            .collect();
        let graph = Graph::build(read_revisions(source, Side::New, env, &changed, cache)?);
        findings.extend(graph_findings(&graph, &env.name));
        let added: Vec<RevisionFile> = graph
            .revisions()
            .iter()
            .filter(|r| state.added_files.contains(&r.path))
            .cloned()
            .collect();
        if let Range::Commits { .. } = change.range
            && !added.is_empty()
        {
            let base = Graph::build(read_revisions(
                source,
                Side::BaseTip,
                env,
                &BTreeSet::new(),
                cache,
            )?);
            findings.extend(stale_parent_findings(&base, &added, &env.name));
        }
        let added_ids: BTreeSet<&str> = added.iter().map(|r| r.revision.as_str()).collect();
        state.added_revisions = graph
            .topological()
            .into_iter()
            .filter(|r| added_ids.contains(r))
            .map(str::to_string)
            .collect();
        state.base_heads = heads_without(&graph, &added_ids);
        findings.extend(edited_migration_findings(&state.edited_files, &env.name));
        if !added.is_empty() {
            let mut revisions = Vec::with_capacity(added.len());
            for rev in &added {
                let Some(text) = read_text(source, Side::New, &rev.path)? else {
                    continue;
                };
                let ops = read_operations(&text.text);
                findings.extend(lint_migration(rev, &ops, &env.name));
                revisions.push(AddedRevision {
                    path: rev.path.clone(),
                    revision: rev.revision.clone(),
                    ops,
                });
            }
            let edits: Vec<_> = model_changes
                .iter()
                .filter(|mc| mc.environments.contains(&env.name))
                .flat_map(|mc| mc.edits.edits.iter().cloned())
                .collect();
            let generate = help
                .get(&env.name)
                .map(|h| h.generate.clone())
                .unwrap_or_default();
            let checked = crosscheck(&env.name, &edits, &revisions, &generate);
            findings.extend(checked.findings);
            notes.extend(checked.notes);
        }
        state.graph = Some(graph);
    }
    Ok(StaticResult {
        findings,
        notes,
        envs,
    })
}

/// Every revision file of `env` on `side`, parsed. Files in `changed` are
/// read whole (their syntax errors must surface); the others only down to
/// their first function, which is where the identifiers are, and only when
/// the cache does not know their content yet.
fn read_revisions(
    source: &Source,
    side: Side,
    env: &Environment,
    changed: &BTreeSet<&str>,
    cache: &mut RevisionCache,
) -> Result<Vec<RevisionFile>, AnalysisError> {
    let mut paths = Vec::new();
    for location in &env.version_locations {
        for path in source.files_under(side, location)? {
            if env.is_revision_path(&path) && is_revision_file(&path) {
                paths.push(path);
            }
        }
    }
    let ids = if cache.enabled() {
        source.content_ids(side, &paths)?
    } else {
        vec![None; paths.len()]
    };
    let mut parsed: Vec<Option<RevisionFile>> = vec![None; paths.len()];
    let mut missing = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let hit = match ids[i] {
            Some(id) if !changed.contains(path.as_str()) => cache.get(id, path),
            _ => None,
        };
        match hit {
            Some(file) => parsed[i] = Some(file),
            None => missing.push(i),
        }
    }
    let missing_paths: Vec<String> = missing.iter().map(|&i| paths[i].clone()).collect();
    let contents = source.read_many(side, &missing_paths)?;
    let files: Vec<(usize, Vec<u8>)> = missing
        .into_iter()
        .zip(contents)
        .filter_map(|(i, c)| c.map(|c| (i, c)))
        .collect();
    let parse_one = |(i, bytes): &(usize, Vec<u8>)| {
        let path = &paths[*i];
        let text = Text::from_bytes(path.clone(), bytes.clone());
        let file = if changed.contains(path.as_str()) {
            parse_revision(path.clone(), &text.text)
        } else {
            parse_revision_header(path.clone(), &text.text)
        };
        (*i, file)
    };
    // Parsing is independent per file; on a cold cache two threads halve
    // the wall time.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let chunk = files.len().div_ceil(threads).max(64);
    let results: Vec<(usize, Result<RevisionFile, RevisionError>)> = if files.len() <= chunk {
        files.iter().map(parse_one).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(parse_one).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    for (i, result) in results {
        let file = result?;
        if let Some(id) = ids[i]
            && !changed.contains(paths[i].as_str())
        {
            cache.insert(id, &file);
        }
        parsed[i] = Some(file);
    }
    Ok(parsed.into_iter().flatten().collect())
}

/// The heads of `graph` once the revisions the change adds are taken out.
fn heads_without(graph: &Graph, added: &BTreeSet<&str>) -> Vec<String> {
    graph
        .heads_excluding(added)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Records a changed revision file or Alembic scaffolding file; returns
/// true when the file belongs to an environment's migrations.
fn classify_migration_file(settings: &Settings, envs: &mut [EnvState], file: &ChangedFile) -> bool {
    let mut claimed = false;
    for (env, state) in settings.environments.iter().zip(envs.iter_mut()) {
        let new_is_rev = file.exists_on_new_side() && env.is_revision_path(&file.path);
        let old_is_rev = file.exists_on_old_side() && env.is_revision_path(file.old_side_path());
        if new_is_rev || old_is_rev {
            claimed = true;
            state.migrations_touched = true;
            match (file.status, old_is_rev) {
                (FileStatus::Added, _) | (FileStatus::Renamed, false) => {
                    state.added_files.push(file.path.clone())
                }
                _ => state.edited_files.push(file.path.clone()),
            }
            continue;
        }
        let scaffolding = env.owns_migration_path(&file.path)
            || env.alembic_ini.as_deref() == Some(file.path.as_str())
            || env.pyproject.as_deref() == Some(file.path.as_str());
        if scaffolding {
            claimed = true;
            state.migrations_touched = true;
        }
    }
    claimed
}

/// A range whose head is already part of its base (`--base feature --head
/// main` after the merge, or the two swapped) has nothing to check: say so
/// rather than pass silently.
fn empty_range_note(change: &ChangeSet) -> Option<String> {
    let Range::Commits { base, head } = &change.range else {
        return None;
    };
    let r = &change.revisions;
    if r.old.is_none() || r.old != r.new {
        return None;
    }
    Some(if r.base_tip == r.new {
        format!(
            "The range is empty: `{base}` and `{head}` are the same commit, so there is nothing to check."
        )
    } else {
        format!(
            "The range is empty: `{head}` is already part of `{base}`, so there is nothing to check. Were --base and --head swapped? --base is the branch the pull request merges into."
        )
    })
}

fn model_change(
    source: &Source,
    settings: &Settings,
    file: &ChangedFile,
    notes: &mut Vec<String>,
) -> Result<Option<ModelChange>, ChangeError> {
    let old_path = file.old_side_path();
    let maybe_new = file.exists_on_new_side() && settings.may_be_model_path(&file.path);
    let maybe_old = file.exists_on_old_side() && settings.may_be_model_path(old_path);
    if !maybe_new && !maybe_old {
        return Ok(None);
    }
    let new = if file.exists_on_new_side() {
        read_text(source, Side::New, &file.path)?
    } else {
        None
    };
    let old = if file.exists_on_old_side() {
        read_text(source, Side::Old, old_path)?
    } else {
        None
    };
    // A model file alembot cannot read as text is skipped, and the report
    // says so: a silent skip would pass a change nobody checked.
    for (side, text, shown) in [("new", &new, file.path.as_str()), ("old", &old, old_path)] {
        if let Some(why) = text.as_ref().and_then(|t| t.unreadable) {
            notes.push(format!(
                "{shown}: not read as a model file: {why} in its {side} version; alembot reads Python source as UTF-8 text (save the file as UTF-8, or exclude it with `ignore:` in .alembot.yml)"
            ));
        }
    }
    if [&new, &old].iter().any(|t| {
        t.as_ref()
            .is_some_and(|t| t.binary || t.unreadable.is_some())
    }) {
        return Ok(None);
    }
    let mut environments: Vec<String> = Vec::new();
    if let Some(t) = &new {
        environments.extend(
            settings
                .model_environments(&file.path, &t.text)
                .into_iter()
                .map(|e| e.name.clone()),
        );
    }
    if let Some(t) = &old {
        for e in settings.model_environments(old_path, &t.text) {
            if !environments.contains(&e.name) {
                environments.push(e.name.clone());
            }
        }
    }
    if environments.is_empty() {
        return Ok(None);
    }
    let edits = diff_models(
        &file.path,
        old.as_ref().map(|t| t.text.as_str()),
        new.as_ref().map(|t| t.text.as_str()),
    );
    Ok(Some(ModelChange {
        path: file.path.clone(),
        edits,
        environments,
    }))
}

/// The command that generates a migration for `env`, as its users run it.
pub fn env_help(env: &Environment) -> EnvHelp {
    let mut cmd = String::new();
    let ini_dir = env
        .alembic_ini
        .as_deref()
        .map(crate::config::paths::parent_dir)
        .unwrap_or("");
    if !ini_dir.is_empty() {
        cmd.push_str(&format!("cd {ini_dir} && "));
    }
    cmd.push_str("alembic");
    if let Some(ini) = &env.alembic_ini
        && file_name(ini) != "alembic.ini"
    {
        cmd.push_str(&format!(" -c {}", file_name(ini)));
    }
    if env.ini_section != "alembic" {
        cmd.push_str(&format!(" -n {}", env.ini_section));
    }
    cmd.push_str(" revision --autogenerate -m \"describe the change\"");
    EnvHelp {
        versions: env.version_locations.first().cloned().unwrap_or_default(),
        generate: cmd,
    }
}
