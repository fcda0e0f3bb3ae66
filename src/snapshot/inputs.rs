//! Collects a base snapshot's key inputs from the change's new side.

use std::collections::{BTreeMap, BTreeSet};

use git2::{ObjectType, Oid};

use crate::change::{ChangeError, Side, Source};
use crate::config::Environment;
use crate::config::paths::is_under;
use crate::job::provider::ProviderSpec;

use super::key::{KeyInputs, imported_top_level, provider_family};
use super::store::FORMAT;

/// The inputs of `env`'s base state on the new side of the change: the
/// revision files it adds (`added_files`) are the change, not the base.
pub fn collect(
    source: &Source,
    env: &Environment,
    added_files: &[String],
    provider: &ProviderSpec,
) -> Result<KeyInputs, ChangeError> {
    let added: BTreeSet<&str> = added_files.iter().map(String::as_str).collect();
    let mut dirs: Vec<&str> = vec![env.script_location.as_str()];
    dirs.extend(env.version_locations.iter().map(String::as_str));
    let mut paths: BTreeSet<String> = BTreeSet::new();
    for dir in dirs {
        for path in source.files_under(Side::New, dir)? {
            // Bytecode is Python's own cache, never an input.
            if path.contains("/__pycache__/") || path.ends_with(".pyc") {
                continue;
            }
            if !added.contains(path.as_str()) {
                paths.insert(path);
            }
        }
    }
    let paths: Vec<String> = paths.into_iter().collect();
    let ids = blob_ids(source, &paths)?;
    let migration_files: BTreeMap<String, String> = paths.iter().cloned().zip(ids).collect();

    let mut config_files = BTreeMap::new();
    for file in env.alembic_ini.iter().chain(&env.pyproject) {
        let id = blob_ids(source, std::slice::from_ref(file))?;
        config_files.insert(file.clone(), id.into_iter().next().unwrap_or_default());
    }

    let imported_modules = imported_modules(source, env, &paths)?;

    let mut settings = BTreeMap::new();
    settings.insert("ini_section".into(), env.ini_section.clone());
    settings.insert("script_location".into(), env.script_location.clone());
    settings.insert("version_table".into(), env.version_table.clone());
    settings.insert(
        "version_table_schema".into(),
        env.version_table_schema.clone().unwrap_or_default(),
    );
    settings.insert("setup_sql".into(), env.setup_sql.join("\n;\n"));
    settings.insert("project_root".into(), env.project_root.clone());
    Ok(KeyInputs {
        alembot: format!("{}/{FORMAT}", env!("CARGO_PKG_VERSION")),
        provider: provider_family(provider),
        settings,
        migration_files,
        config_files,
        imported_modules,
    })
}

/// Git blob ids of the files' contents on the new side: from the index or
/// tree when known, else hashed from the bytes (the same id git gives).
fn blob_ids(source: &Source, paths: &[String]) -> Result<Vec<String>, ChangeError> {
    let known = source.content_ids(Side::New, paths)?;
    let missing: Vec<String> = paths
        .iter()
        .zip(&known)
        .filter(|(_, id)| id.is_none())
        .map(|(p, _)| p.clone())
        .collect();
    let mut read = source.read_many(Side::New, &missing)?.into_iter();
    Ok(known
        .into_iter()
        .map(|id| match id {
            Some(id) => id.to_string(),
            None => match read.next().flatten() {
                Some(bytes) => Oid::hash_object(ObjectType::Blob, &bytes)
                    .map(|o| o.to_string())
                    .unwrap_or_default(),
                None => "absent".into(),
            },
        })
        .collect())
}

/// The project's own modules the migration files import (`from app.enums
/// import Status` in a revision makes `app/` part of the base state), with
/// their content ids. Modules that are not in the project (alembic,
/// sqlalchemy, the standard library) are not inputs: their versions are.
fn imported_modules(
    source: &Source,
    env: &Environment,
    migration_paths: &[String],
) -> Result<BTreeMap<String, String>, ChangeError> {
    let py: Vec<String> = migration_paths
        .iter()
        .filter(|p| p.ends_with(".py"))
        .cloned()
        .collect();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for bytes in source.read_many(Side::New, &py)?.into_iter().flatten() {
        names.extend(imported_top_level(&String::from_utf8_lossy(&bytes)));
    }
    let mut roots = vec![env.project_root.clone()];
    if !env.project_root.is_empty() {
        roots.push(String::new());
    }
    let mut files: BTreeSet<String> = BTreeSet::new();
    for name in &names {
        for root in &roots {
            let join = |tail: &str| {
                if root.is_empty() {
                    tail.to_string()
                } else {
                    format!("{}/{tail}", root.trim_end_matches('/'))
                }
            };
            let package = join(name);
            // The migrations directory is already an input whole.
            if env.owns_migration_path(&package) {
                continue;
            }
            for path in source.files_under(Side::New, &package)? {
                if path.ends_with(".py") && !path.contains("/__pycache__/") {
                    files.insert(path);
                }
            }
            let module = join(&format!("{name}.py"));
            if source.read(Side::New, &module)?.is_some() {
                files.insert(module);
            }
        }
    }
    let files: Vec<String> = files
        .into_iter()
        .filter(|p| !migration_paths.contains(p) && !is_under(p, &env.script_location))
        .collect();
    let ids = blob_ids(source, &files)?;
    Ok(files.into_iter().zip(ids).collect())
}
