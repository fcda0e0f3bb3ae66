//! The static stage: from a change and the settings to findings, in
//! milliseconds, with no Python and no database. It reads only the files
//! the change touches plus the revision files of touched environments.

use std::collections::{BTreeMap, BTreeSet};

use crate::change::{ChangeError, ChangeSet, ChangedFile, FileStatus, Side, Source, Text};
use crate::config::paths::file_name;
use crate::config::{Environment, Settings};
use crate::detect::missing_migration::{EnvHelp, ModelChange, missing_migrations};
use crate::findings::{Finding, code};
use crate::models::diff_models;

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Change(#[from] ChangeError),
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
        if let Some(mc) = model_change(source, settings, file)? {
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
    for state in &envs {
        for path in &state.edited_files {
            findings.push(
                Finding::warning(
                    code::EDITED_MIGRATION,
                    format!("`{path}` is an existing migration and this change edits it"),
                )
                .at(path.clone(), None)
                .in_env(state.name.clone())
                .with_help("databases that already ran this revision will not run it again: put the change in a new revision (`alembic revision -m \"...\"`) unless this revision was never deployed"),
            );
        }
    }
    Ok(StaticResult {
        findings,
        notes,
        envs,
    })
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

fn model_change(
    source: &Source,
    settings: &Settings,
    file: &ChangedFile,
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
    if new.as_ref().is_some_and(|t| t.binary) || old.as_ref().is_some_and(|t| t.binary) {
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
