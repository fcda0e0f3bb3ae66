//! Repository-relative path arithmetic (always `/`-separated, never
//! touching the filesystem) and the rules for code that is not the
//! project's own.

/// The directory part of a relative path (`""` for a top-level file).
pub fn parent_dir(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The last component of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() || dir == "." {
        rel.to_string()
    } else if rel.is_empty() || rel == "." {
        dir.to_string()
    } else {
        format!("{}/{}", dir.trim_end_matches('/'), rel)
    }
}

/// Resolves `.` and `..` components; `None` if the path climbs above the root.
pub fn normalize_rel(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Whether `path` is `dir` itself or lies under it.
pub fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

/// Directory names whose contents are not the project's own models:
/// virtual environments, installed and vendored packages, tests.
const EXCLUDED_DIRS: &[&str] = &[
    ".venv",
    "venv",
    "virtualenv",
    ".virtualenv",
    ".tox",
    ".nox",
    "site-packages",
    "dist-packages",
    "node_modules",
    "vendor",
    "vendored",
    "_vendor",
    "third_party",
    "thirdparty",
    "external",
    "tests",
    "test",
    "testing",
    "__pycache__",
    ".git",
    "build",
    "dist",
];

pub fn is_excluded_dir_path(dir: &str) -> bool {
    dir.split('/')
        .any(|c| EXCLUDED_DIRS.contains(&c) || (c.starts_with('.') && c.len() > 1))
}

/// Test modules by pytest's naming conventions.
pub fn is_test_file(path: &str) -> bool {
    let name = file_name(path);
    name == "conftest.py" || name.starts_with("test_") || name.ends_with("_test.py")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        assert_eq!(parent_dir("a/b/c.py"), "a/b");
        assert_eq!(parent_dir("c.py"), "");
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("a/", "x"), "a/x");
        assert_eq!(normalize_rel("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize_rel("../x"), None);
        assert!(is_under("a/b/c", "a/b"));
        assert!(!is_under("a/bc", "a/b"));
        assert!(is_under("anything", ""));
    }

    #[test]
    fn exclusions() {
        assert!(is_excluded_dir_path("app/.venv/lib"));
        assert!(is_excluded_dir_path("src/vendor/x"));
        assert!(is_excluded_dir_path("tests/unit"));
        assert!(!is_excluded_dir_path("app/models"));
        assert!(!is_excluded_dir_path(""));
        assert!(is_test_file("app/test_models.py"));
        assert!(is_test_file("conftest.py"));
        assert!(!is_test_file("app/models.py"));
    }
}
