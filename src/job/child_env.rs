//! The environment the helper (and so the project's env.py, models and
//! migrations) runs with: built from an allow-list, never inherited whole.
//!
//! A pull request's code runs in the helper. The runner's environment holds
//! a write token (`GITHUB_TOKEN`), the webhook secret, the files that set
//! step outputs and later steps' environment (`GITHUB_OUTPUT`, `GITHUB_ENV`,
//! `GITHUB_STEP_SUMMARY`) and the runtime's own tokens (`ACTIONS_*`); none
//! of them may reach it. What Python needs to start and find its packages
//! passes (the search path, home, locale, virtual environments), and so do
//! the variables a project names itself in `.alembot.yml` (`pass_env:`),
//! except the secrets above, which no configuration can let through.

use std::ffi::OsString;

/// Passed when set.
const NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TMPDIR",
    "TMP",
    "TEMP",
    "TZ",
    "LANG",
    "LANGUAGE",
    "TERM",
    "NO_COLOR",
    // Shared libraries of a Python built elsewhere (pyenv, conda, CI images).
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    // Virtual environments and Python managers.
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "UV_PROJECT_ENVIRONMENT",
    // TLS trust for database drivers.
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    // Windows needs these to start any process.
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
];

/// Passed when set: every variable starting with one of these.
const PREFIXES: &[&str] = &["LC_", "PYTHON"];

/// Never passed, whatever the configuration says.
const SECRET_NAMES: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "ALEMBOT_GITHUB_TOKEN",
    "ALEMBOT_WEBHOOK_SECRET",
    "GITHUB_OUTPUT",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_STATE",
];
const SECRET_PREFIXES: &[&str] = &["ACTIONS_"];

/// Whether `name` is one the helper may never see.
pub fn is_secret(name: &str) -> bool {
    SECRET_NAMES.contains(&name) || SECRET_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether `name` passes, given the project's own `pass_env` entries (exact
/// names, or a prefix ending in `*`).
pub fn passes(name: &str, project: &[String]) -> bool {
    if is_secret(name) {
        return false;
    }
    NAMES.contains(&name)
        || PREFIXES.iter().any(|p| name.starts_with(p))
        || project.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => p == name,
        })
}

/// The helper's environment out of `vars` (the process's own, usually).
pub fn build(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    project: &[String],
) -> Vec<(OsString, OsString)> {
    vars.into_iter()
        .filter(|(k, _)| k.to_str().is_some_and(|k| passes(k, project)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(vars: &[(&str, &str)], project: &[&str]) -> Vec<String> {
        let project: Vec<String> = project.iter().map(|s| s.to_string()).collect();
        build(
            vars.iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
            &project,
        )
        .into_iter()
        .map(|(k, _)| k.into_string().unwrap())
        .collect()
    }

    #[test]
    fn secrets_never_pass_even_when_named() {
        let vars = [
            ("PATH", "/usr/bin"),
            ("GITHUB_TOKEN", "ghs_x"),
            ("ALEMBOT_WEBHOOK_SECRET", "s"),
            ("GITHUB_OUTPUT", "/tmp/o"),
            ("GITHUB_ENV", "/tmp/e"),
            ("GITHUB_STEP_SUMMARY", "/tmp/s"),
            ("ACTIONS_RUNTIME_TOKEN", "t"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
            ("AWS_SECRET_ACCESS_KEY", "k"),
            ("APP_SETTINGS", "prod"),
            ("APP_MODE", "ci"),
            ("LC_ALL", "C.UTF-8"),
            ("PYTHONPATH", "src"),
            ("VIRTUAL_ENV", "/venv"),
        ];
        let got = names(&vars, &["GITHUB_TOKEN", "ACTIONS_*", "APP_*"]);
        assert_eq!(
            got,
            [
                "PATH",
                "APP_SETTINGS",
                "APP_MODE",
                "LC_ALL",
                "PYTHONPATH",
                "VIRTUAL_ENV"
            ]
        );
    }
}
