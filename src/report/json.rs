//! `--format json`: the report's own serde form, which DESIGN.md makes a
//! public contract. Nothing is added or renamed here, so a saved report
//! reads back into the same [`Report`] (`alembot github publish` relies on it).

use crate::findings::Report;

pub fn render(report: &Report) -> String {
    // Serialising a `Report` cannot fail: every map is keyed by strings and
    // no field has a custom serializer.
    let mut out = serde_json::to_string_pretty(report).expect("a Report always serialises");
    out.push('\n');
    out
}

/// Reads a report written by [`render`] (or by any alembot since version 1
/// of the contract: unknown fields are ignored, missing optional ones default).
pub fn parse(text: &str) -> Result<Report, serde_json::Error> {
    serde_json::from_str(text)
}
