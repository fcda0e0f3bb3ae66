//! Just enough of Python's `configparser` to read `alembic.ini`: sections,
//! `key = value` / `key: value`, indented continuation lines, comments, and
//! `%(name)s` interpolation (Alembic passes `here`).

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    /// Section name → key (lower-cased, as configparser does) → raw value.
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
    /// The 1-based line of each `[section]` header.
    pub section_lines: BTreeMap<String, u32>,
}

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (idx, raw) in text.lines().enumerate() {
            let line_no = idx as u32 + 1;
            let trimmed = raw.trim();
            let indented = raw.starts_with([' ', '\t']);
            if trimmed.is_empty() {
                last_key = None;
                continue;
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if indented && let (Some(sec), Some(key)) = (&section, &last_key) {
                if let Some(value) = ini.sections.get_mut(sec).and_then(|s| s.get_mut(key)) {
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(trimmed);
                }
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                let name = name.trim().to_string();
                ini.sections.entry(name.clone()).or_default();
                ini.section_lines.entry(name.clone()).or_insert(line_no);
                section = Some(name);
                last_key = None;
                continue;
            }
            let Some(sec) = &section else { continue };
            let split = trimmed.find(['=', ':']);
            let (key, value) = match split {
                Some(i) => (trimmed[..i].trim(), trimmed[i + 1..].trim()),
                None => (trimmed, ""),
            };
            let key = key.to_ascii_lowercase();
            ini.sections
                .entry(sec.clone())
                .or_default()
                .insert(key.clone(), value.to_string());
            last_key = Some(key);
        }
        ini
    }

    /// The value of `key` in `section` with `%(name)s` references expanded
    /// from `vars`, the section itself and `[DEFAULT]`.
    pub fn get(&self, section: &str, key: &str, vars: &BTreeMap<String, String>) -> Option<String> {
        let raw = self.raw(section, key)?;
        Some(self.interpolate(section, raw, vars, 0))
    }

    fn raw(&self, section: &str, key: &str) -> Option<&str> {
        let key = key.to_ascii_lowercase();
        self.sections
            .get(section)
            .and_then(|s| s.get(&key))
            .or_else(|| self.sections.get("DEFAULT").and_then(|s| s.get(&key)))
            .map(String::as_str)
    }

    fn interpolate(
        &self,
        section: &str,
        value: &str,
        vars: &BTreeMap<String, String>,
        depth: u32,
    ) -> String {
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                out.push('%');
                rest = tail;
                continue;
            }
            let reference = after
                .strip_prefix('(')
                .and_then(|a| a.find(")s").map(|end| (&a[..end], &a[end + 2..])));
            match reference {
                Some((name, tail)) => {
                    let name_lc = name.to_ascii_lowercase();
                    let replacement = vars.get(name).cloned().or_else(|| {
                        (depth < 10)
                            .then(|| self.raw(section, &name_lc))
                            .flatten()
                            .map(|v| self.interpolate(section, v, vars, depth + 1))
                    });
                    match replacement {
                        Some(r) => out.push_str(&r),
                        None => {
                            out.push_str("%(");
                            out.push_str(name);
                            out.push_str(")s");
                        }
                    }
                    rest = tail;
                }
                None => {
                    out.push('%');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here(dir: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("here".to_string(), dir.to_string())])
    }

    #[test]
    fn reads_alembic_ini_with_here_interpolation() {
        let ini = Ini::parse(
            "# A generic, single database configuration.\n\n[alembic]\n# path to migration scripts\nscript_location = %(here)s/migrations\nprepend_sys_path = .\nsqlalchemy.url = driver://user:pass@localhost/dbname\n\n[loggers]\nkeys = root\n",
        );
        assert_eq!(
            ini.get("alembic", "script_location", &here("/repo"))
                .as_deref(),
            Some("/repo/migrations")
        );
        assert_eq!(ini.section_lines.get("alembic"), Some(&3));
        assert_eq!(
            ini.get("loggers", "keys", &here("")).as_deref(),
            Some("root")
        );
    }

    #[test]
    fn continuation_lines_join_with_newlines() {
        let ini = Ini::parse("[alembic]\nversion_locations =\n    a/versions\n    b/versions\n");
        assert_eq!(
            ini.get("alembic", "version_locations", &here(""))
                .as_deref(),
            Some("a/versions\nb/versions")
        );
    }

    #[test]
    fn colon_separator_default_section_and_escaped_percent() {
        let ini = Ini::parse(
            "[DEFAULT]\nbase: app\n[alembic]\nscript_location: %(base)s/db\nx = 100%%\n",
        );
        assert_eq!(
            ini.get("alembic", "script_location", &here("")).as_deref(),
            Some("app/db")
        );
        assert_eq!(ini.get("alembic", "x", &here("")).as_deref(), Some("100%"));
    }

    #[test]
    fn unknown_reference_is_left_alone() {
        let ini = Ini::parse("[alembic]\nscript_location = %(nope)s/m\n");
        assert_eq!(
            ini.get("alembic", "script_location", &here("")).as_deref(),
            Some("%(nope)s/m")
        );
    }
}
