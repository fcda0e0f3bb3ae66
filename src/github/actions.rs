//! The GitHub Actions runner's files: `GITHUB_OUTPUT` (step outputs) and
//! `GITHUB_STEP_SUMMARY` (the Markdown shown on the run's summary page).
//! Both are appended to, as other steps write them too.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

/// Appends `text` to the step summary file.
pub fn append_summary(path: &Path, text: &str) -> io::Result<()> {
    append(path, text)
}

/// Appends `name=value` outputs. A value with a line break is written in
/// the runner's multi-line form (`name<<DELIMITER`), with a delimiter that
/// cannot occur in it ("Workflow commands for GitHub Actions", "Multiline
/// strings").
pub fn write_outputs(path: &Path, outputs: &[(&str, String)]) -> io::Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        if value.contains('\n') || value.contains('\r') {
            let delimiter = loop {
                let candidate = format!("ghadelimiter_{:016x}", fastrand::u64(..));
                if !value.contains(&candidate) {
                    break candidate;
                }
            };
            text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
        } else {
            text.push_str(&format!("{name}={value}\n"));
        }
    }
    append(path, &text)
}

fn append(path: &Path, text: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_single_and_multi_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, "earlier=1\n").unwrap();
        write_outputs(
            &path,
            &[("verdict", "failed".into()), ("text", "a\nb".into())],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("earlier=1\nverdict=failed\ntext<<ghadelimiter_"),
            "{text}"
        );
        let delimiter = text.lines().nth(2).unwrap().split("<<").nth(1).unwrap();
        assert!(text.ends_with(&format!("a\nb\n{delimiter}\n")));
    }
}
