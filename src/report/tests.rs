//! Snapshots of every format, and the properties each must keep: JSON round
//! trips, no escape bytes where colour is off or in Markdown, SARIF's
//! required fields, the comment size budget and the workflow-command escapes.

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use crate::findings::{Finding, LineRange, PullRequestRef, Report, Severity};
use crate::rules::Code;

fn opts() -> RenderOptions {
    let mut opts = RenderOptions::new("1.2.3");
    opts.environment_files = BTreeMap::from([
        ("main".to_string(), "alembic.ini".to_string()),
        ("analytics".to_string(), "analytics/alembic.ini".to_string()),
    ]);
    opts.fallback_file = Some(".alembot.yml".to_string());
    opts
}

fn empty() -> Report {
    Report::new(vec![], &["static"], vec![])
}

/// Several findings of every severity, with and without each optional part.
fn realistic() -> Report {
    Report::new(
        vec![
            Finding::error(
                Code::MissingMigration,
                "`User.email` was added to the model, but no migration in this change adds it",
            )
            .at("app/models.py", Some(12))
            .in_env("main")
            .with_table("user")
            .with_column("email")
            .with_help("Generate one with `alembic revision --autogenerate -m \"add user email\"` and review it.")
            .with_details("op.add_column('user', sa.Column('email', sa.String(length=255), nullable=True))"),
            Finding::error(
                Code::MultipleHeads,
                "The migration history has 2 heads: 3f2a9c1d0b7e, 8c1e5d2a4f60",
            )
            .in_env("main")
            .with_help("Merge them with `alembic merge heads -m \"merge\"`."),
            Finding::error(Code::UpgradeFailed, "`alembic upgrade head` failed at revision 3f2a9c1d0b7e")
                .at("migrations/versions/3f2a9c1d0b7e_add_email.py", Some(21))
                .in_env("main")
                .with_revision("3f2a9c1d0b7e")
                .with_details(
                    "Traceback (most recent call last):\n  File \"migrations/versions/3f2a9c1d0b7e_add_email.py\", line 21, in upgrade\n    op.add_column(\"user\", sa.Column(\"email\", sa.String(), nullable=False))\nsqlalchemy.exc.IntegrityError: NOT NULL constraint failed: user.email\n",
                ),
            Finding::warning(Code::DestructiveOperation, "`op.drop_column('user', 'nickname')` deletes the column and its data")
                .at("migrations/versions/3f2a9c1d0b7e_add_email.py", Some(14))
                .in_env("main")
                .with_help("Keep the column for a release, or copy the data first."),
            Finding::warning(Code::EditedMigration, "A migration that is already on the base branch was edited")
                .at("migrations/versions/0001_initial.py", None)
                .in_env("main"),
            Finding::warning(Code::Drift, "The upgraded schema differs from the models")
                .in_env("analytics")
                .with_details("op.create_index('ix_event_at', 'event', ['at'])\nop.drop_table('legacy_event')"),
            Finding::new(
                Code::NotNullWithoutDefault,
                Severity::Notice,
                "`order.status` becomes NOT NULL without a default (waived by the `alembot:allow` label)",
            )
            .at("migrations/versions/9a8b7c6d5e4f_order_status.py", Some(9)),
        ],
        &["static", "upgrade", "drift"],
        vec![
            "The data upgrade was skipped: the base branch has no migrations yet.".to_string(),
            "Environment `analytics` was checked against SQLite;\nset `database:` to check it against PostgreSQL.".to_string(),
        ],
    )
}

/// Text that means something to Markdown, HTML, GitHub or a terminal.
fn special() -> Report {
    Report::new(
        vec![
            Finding::error(
                Code::Drift,
                "Column `a|b` on users | orders: <script>alert(1)</script> & **not bold** _x_ [link](http://x) ~~no~~\nsecond line, `code\nacross lines`, a stray ` backtick, @octocat, \\ backslash",
            )
            .at("app/odd | name.py", Some(3))
            .with_help("Run ```` ``` ```` then `a``b`; see <https://example.com>\n- not a list\n# not a heading")
            .with_details("```python\nop.execute(\"\"\"SELECT '`'\"\"\")\n```\n</details>\n<!-- alembot -->\n\x1b[31mred\x1b[0m"),
            Finding::with_code_str("future-code", Severity::Warning, "- starts like a list item | with a pipe\r\nand a CRLF")
                .at("100% ,:done.py", Some(1))
                .with_help("50% of lines, contain: commas"),
        ],
        &["static"],
        vec!["# not a heading".to_string(), "1. not a list".to_string()],
    )
}

fn reports() -> [(&'static str, Report); 3] {
    [
        ("empty", empty()),
        ("realistic", realistic()),
        ("special", special()),
    ]
}

// --- snapshots -------------------------------------------------------------

#[test]
fn snapshots_of_every_format() {
    for (name, report) in reports() {
        for format in Format::ALL {
            let text = render(&report, format, &opts());
            insta::assert_snapshot!(format!("{format}_{name}"), text);
        }
    }
}

#[test]
fn human_in_colour() {
    let text = render(&realistic(), Format::Human, &opts().with_color(true));
    assert!(text.contains('\x1b'));
    // Escape bytes made visible so the snapshot can be read and reviewed.
    insta::assert_snapshot!("human_realistic_colour", text.replace('\x1b', "␛"));
}

#[test]
fn no_escape_bytes_without_colour_nor_in_markdown() {
    for (name, report) in reports() {
        // `special` carries an escape sequence in its details, as a
        // captured coloured traceback would.
        for color in [false, true] {
            let markdown = render(&report, Format::Markdown, &opts().with_color(color));
            assert!(!markdown.contains('\x1b'), "markdown {name}");
        }
        let human = render(&report, Format::Human, &opts());
        assert!(!human.contains('\x1b'), "human {name}");
    }
    let coloured = render(&special(), Format::Human, &opts().with_color(true));
    assert!(
        !coloured.contains("\x1b[31mred"),
        "finding text must not colour the terminal"
    );
}

#[test]
fn summary_lines() {
    assert_eq!(
        summary_line(&empty()),
        "No problems found (checks: static)."
    );
    assert_eq!(
        summary_line(&Report::new(vec![], &[], vec![])),
        "No problems found."
    );
    assert_eq!(
        summary_line(&realistic()),
        "3 errors, 3 warnings, 1 notice (checks: static, upgrade, drift)"
    );
    let one = Report::new(
        vec![Finding::warning(Code::Drift, "d")],
        &["static", "drift"],
        vec![],
    );
    assert_eq!(summary_line(&one), "1 warning (checks: static, drift)");
}

// --- format selection ------------------------------------------------------

#[test]
fn formats_parse_by_name_and_explain_mistakes() {
    for format in Format::ALL {
        assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        assert_eq!(
            <Format as clap::ValueEnum>::from_str(format.as_str(), false),
            Ok(format)
        );
    }
    assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
    let err = "xml".parse::<Format>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown format `xml`; expected one of: human, json, markdown, sarif, github"
    );
}

// --- JSON ------------------------------------------------------------------

#[test]
fn json_round_trips() {
    let mut with_pr = realistic();
    with_pr.pull_request = Some(PullRequestRef {
        repository: "acme/shop".to_string(),
        number: 42,
        head_sha: "0123456789abcdef0123456789abcdef01234567".to_string(),
        head_ref: Some("feature/email".to_string()),
        base_sha: None,
        diff_lines: BTreeMap::from([(
            "app/models.py".to_string(),
            vec![LineRange { start: 10, end: 14 }],
        )]),
        command_comment: Some(7),
        environment_files: BTreeMap::from([("main".to_string(), "alembic.ini".to_string())]),
        fallback_file: None,
    });
    for report in [empty(), realistic(), special(), with_pr] {
        let text = render(&report, Format::Json, &opts());
        assert!(text.ends_with("}\n"));
        assert_eq!(json::parse(&text).unwrap(), report);
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), report);
    }
}

#[test]
fn json_keeps_the_contract_shape() {
    let value: Value = serde_json::from_str(&render(&realistic(), Format::Json, &opts())).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(value["summary"]["errors"], 3);
    assert_eq!(value["summary"]["warnings"], 3);
    assert_eq!(value["summary"]["checks"][1], "upgrade");
    let first = &value["findings"][0];
    assert_eq!(first["code"], "missing-migration");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["line"], 12);
    // Location-less findings keep their keys, as null.
    let heads = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "multiple-heads")
        .unwrap();
    assert!(heads["file"].is_null() && heads.get("file").is_some());
}

// --- SARIF -----------------------------------------------------------------

fn sarif_value(report: &Report, opts: &RenderOptions) -> Value {
    serde_json::from_str(&render(report, Format::Sarif, opts)).unwrap()
}

#[test]
fn sarif_has_every_required_field() {
    for (name, report) in reports() {
        let log = sarif_value(&report, &opts());
        assert_eq!(sarif::validate(&log), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn sarif_validator_catches_what_github_rejects() {
    let mut log = sarif_value(&realistic(), &opts());
    log["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("locations");
    log["runs"][0]["results"][1]["ruleIndex"] = Value::from(5);
    log["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"]["text"] = Value::from("");
    log["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    log["runs"][0]["results"][3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("https://example.com/a.py");
    log["version"] = Value::from("2.0.0");
    let errors = sarif::validate(&log);
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("runs[0].results[0].locations"))
    );
}

#[test]
fn sarif_anchors_file_less_findings() {
    let log = sarif_value(&realistic(), &opts());
    let results = log["runs"][0]["results"].as_array().unwrap();
    let uri = |i: usize| {
        results[i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let line =
        |i: usize| results[i]["locations"][0]["physicalLocation"]["region"]["startLine"].clone();
    // Findings are sorted: errors with files, then errors without, ...
    let by_code = |c: &str| results.iter().position(|r| r["ruleId"] == c).unwrap();
    assert_eq!(uri(by_code("multiple-heads")), "alembic.ini");
    assert_eq!(uri(by_code("drift")), "analytics/alembic.ini");
    assert_eq!(line(by_code("drift")), 1);
    assert_eq!(uri(by_code("missing-migration")), "app/models.py");
    assert_eq!(line(by_code("missing-migration")), 12);
    assert_eq!(line(by_code("edited-migration")), 1);

    // No environment file: the fallback; no fallback either: no location.
    let mut bare = RenderOptions::new("1.2.3");
    bare.fallback_file = Some(".alembot.yml".to_string());
    let log = sarif_value(&realistic(), &bare);
    let heads = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "multiple-heads")
        .unwrap()
        .clone();
    assert_eq!(
        heads["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        ".alembot.yml"
    );
    let log = sarif_value(&realistic(), &RenderOptions::new("1.2.3"));
    let unanchored = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("locations").is_none())
        .count();
    assert_eq!(unanchored, 2);
}

#[test]
fn sarif_rules_and_fingerprints_are_stable() {
    let log = sarif_value(&realistic(), &opts());
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(ids.len(), distinct.len());
    assert_eq!(ids.len(), 7);
    assert_eq!(log["runs"][0]["tool"]["driver"]["semanticVersion"], "1.2.3");

    // The same finding gets the same fingerprint at another line and run.
    let at = |line| {
        let report = Report::new(
            vec![Finding::error(Code::Drift, "same").at("a.py", Some(line))],
            &["drift"],
            vec![],
        );
        sarif_value(&report, &opts())["runs"][0]["results"][0]["partialFingerprints"]
            ["primaryLocationLineHash"]
            .clone()
    };
    assert_eq!(at(3), at(30));

    // Two equal findings in one run stay two alerts.
    let twice = Report::new(
        vec![
            Finding::error(Code::Drift, "same").at("a.py", Some(1)),
            Finding::error(Code::Drift, "same").at("a.py", Some(9)),
        ],
        &["drift"],
        vec![],
    );
    let log = sarif_value(&twice, &opts());
    let prints: Vec<String> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        prints[0].split_once(':').unwrap().0,
        prints[1].split_once(':').unwrap().0
    );
    assert!(prints[0].ends_with(":1") && prints[1].ends_with(":2"));
}

#[test]
fn sarif_declares_the_source_root_when_known() {
    let mut with_root = opts();
    with_root.source_root_uri = Some("file:///home/runner/work/shop/".to_string());
    let log = sarif_value(&realistic(), &with_root);
    assert_eq!(
        log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///home/runner/work/shop/"
    );
    assert!(
        sarif_value(&realistic(), &opts())["runs"][0]
            .get("originalUriBaseIds")
            .is_none()
    );
}

// --- Markdown size budget --------------------------------------------------

fn many(n: usize) -> Report {
    let findings = (0..n)
        .map(|i| {
            let severity = match i % 3 {
                0 => Severity::Error,
                1 => Severity::Warning,
                _ => Severity::Notice,
            };
            let mut f = Finding::new(
                Code::Drift,
                severity,
                format!("Column `t{i}.c` differs | type `VARCHAR(255)` vs `TEXT`\nsecond line"),
            )
            .at(
                format!("app/models/m{i:04}.py"),
                Some(u32::try_from(i).unwrap() + 1),
            )
            .in_env(if i % 2 == 0 { "main" } else { "analytics" });
            if i % 4 != 3 {
                f = f
                    .with_help("Add a migration with `op.alter_column(...)`.")
                    .with_details(format!(
                        "op.alter_column('t{i}', 'c', type_=sa.Text())\n```\nnested fence\n```"
                    ));
            }
            f
        })
        .collect();
    Report::new(
        findings,
        &["static", "drift"],
        vec!["The database checks ran against SQLite.".to_string()],
    )
}

/// Fences and `<details>` blocks open and close in pairs, and no table row is
/// cut: every line that starts with `|` ends with `|`.
fn assert_well_formed(markdown: &str) {
    assert_eq!(
        markdown.matches("<details>").count(),
        markdown.matches("</details>").count(),
        "details balance"
    );
    let mut open_fence: Option<usize> = None;
    for line in markdown.lines() {
        let ticks = line.chars().take_while(|&c| c == '`').count();
        match open_fence {
            None if ticks >= 3 => open_fence = Some(ticks),
            Some(n) if ticks >= n && line.trim_end().chars().all(|c| c == '`') => {
                open_fence = None;
            }
            _ => {}
        }
        if open_fence.is_none() && line.starts_with('|') {
            assert!(line.ends_with('|'), "cut row: {line}");
        }
    }
    assert_eq!(open_fence, None, "unclosed fence");
}

#[test]
fn markdown_within_the_comment_limit_for_3000_findings() {
    let report = many(3000);
    let full = render(&report, Format::Markdown, &opts());
    assert!(full.chars().count() > GITHUB_COMMENT_LIMIT);
    assert_well_formed(&full);

    let (cut, was_cut) = render_markdown_limited(&report, &opts(), GITHUB_COMMENT_LIMIT);
    assert!(was_cut);
    assert!(cut.chars().count() <= GITHUB_COMMENT_LIMIT);
    assert_well_formed(&cut);
    assert!(cut.starts_with("### ❌ alembot: 1000 errors, 1000 warnings, 1000 notices\n"));
    assert!(cut.contains("**Notes**\n\n- The database checks ran against SQLite.\n"));

    // The table is a prefix of the report and the note counts the rest.
    let rows = cut
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #") && !l.starts_with("| --"))
        .count();
    assert!(rows > 100, "only {rows} rows");
    let last_row = cut
        .lines()
        .rfind(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .unwrap();
    assert!(last_row.starts_with(&format!("| {rows} |")));
    // Rows with help or details: three in four, and none of them fit.
    let details_left_out = (0..rows).filter(|i| i % 4 != 3).count();
    let note = format!(
        "**…{} more findings not shown, nor the details of {details_left_out} above; \
         the full report is in the job summary.**\n",
        3000 - rows
    );
    assert!(cut.ends_with(&note), "{}", &cut[cut.len() - 300..]);
    // A table this long leaves no room for details.
    assert!(!cut.contains("<details>"));
}

#[test]
fn markdown_drops_details_before_rows() {
    let report = many(40);
    let full = render(&report, Format::Markdown, &opts());
    let full_len = full.chars().count();
    let budget = full_len * 2 / 3;
    let (cut, was_cut) = render_markdown_limited(&report, &opts(), budget);
    assert!(was_cut);
    assert!(cut.chars().count() <= budget);
    assert_well_formed(&cut);
    // All 40 rows, some details, and a note about the others.
    assert!(cut.contains("\n| 40 | "));
    let shown = cut.matches("<details>").count();
    assert!(shown > 0 && shown < 30, "{shown}");
    assert!(cut.ends_with(&format!(
        "**…the details of {} findings are not shown; the full report is in the job summary.**\n",
        30 - shown
    )));

    let (same, was_cut) = render_markdown_limited(&report, &opts(), full_len);
    assert!(!was_cut);
    assert_eq!(same, full);
}

#[test]
fn markdown_limit_holds_for_every_budget() {
    let report = many(12);
    let full_len = render(&report, Format::Markdown, &opts()).chars().count();
    for budget in (0..full_len + 10).step_by(7) {
        let (text, was_cut) = render_markdown_limited(&report, &opts(), budget);
        assert!(text.chars().count() <= budget, "budget {budget}");
        assert_eq!(was_cut, budget < full_len);
        if budget >= 300 {
            assert_well_formed(&text);
        }
    }
}

// --- GitHub workflow commands ------------------------------------------------

#[test]
fn workflow_command_escapes() {
    let cases = [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b", "a:b", "a%3Ab"),
        ("a,b", "a,b", "a%2Cb"),
        ("%0A", "%250A", "%250A"),
        ("::error::", "::error::", "%3A%3Aerror%3A%3A"),
        ("é ü", "é ü", "é ü"),
    ];
    for (input, data, property) in cases {
        assert_eq!(github::escape_data(input), data, "data {input:?}");
        assert_eq!(
            github::escape_property(input),
            property,
            "property {input:?}"
        );
    }
}

#[test]
fn workflow_commands_per_finding() {
    let f = Finding::error(Code::MissingMigration, "No migration\nfor `email`")
        .at("app/a,b:c.py", Some(12))
        .with_help("Run 100% of it");
    assert_eq!(
        github::command(&f),
        "::error file=app/a%2Cb%3Ac.py,line=12,title=missing-migration::No migration%0Afor `email`%0ARun 100%25 of it"
    );
    let no_file = Finding::warning(Code::MultipleHeads, "two heads").in_env("main");
    assert_eq!(
        github::command(&no_file),
        "::warning title=multiple-heads (main)::two heads"
    );
    let notice = Finding::new(Code::Drift, Severity::Notice, "n").at("x.py", None);
    assert_eq!(
        github::command(&notice),
        "::notice file=x.py,title=drift::n"
    );
}
