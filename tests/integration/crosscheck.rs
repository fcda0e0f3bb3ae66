//! The static cross-check, end to end: each case edits the committed blog
//! project's models, adds a revision with the given upgrade(), and runs
//! `alembot check --format json` on the real repository.

use crate::support::*;

struct Case {
    name: &'static str,
    /// Rewrites app/models.py.
    models: fn(&str) -> String,
    /// Body of the new revision's upgrade(); `None` adds no revision.
    upgrade: Option<&'static str>,
    downgrade: &'static str,
    /// `code table.column` of each finding, sorted.
    expect: &'static [&'static str],
}

fn add_to_post(models: &str, line: &str) -> String {
    format!("{models}{line}\n")
}

fn add_to_user(models: &str, line: &str) -> String {
    models.replacen(
        "    posts: Mapped[list[\"Post\"]]",
        &format!("{line}\n    posts: Mapped[list[\"Post\"]]"),
        1,
    )
}

const TAG: &str = "\n\nclass Tag(Base):\n    __tablename__ = \"tag\"\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str] = mapped_column(String(50), index=True)\n    slug: Mapped[str] = mapped_column(String(50), unique=True)\n";

const STAMPED: &str = "\n\nclass Stamped:\n    created: Mapped[Optional[int]] = mapped_column()\n";

const STATUS_ENUM: &str = "import enum\nfrom sqlalchemy import Enum\n\n\nclass Status(enum.Enum):\n    draft = \"draft\"\n    live = \"live\"\n";

const CASES: &[Case] = &[
    Case {
        name: "full coverage of an added column",
        models: |m| {
            add_to_post(
                m,
                "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))",
            )
        },
        upgrade: Some(
            "    op.add_column('post', sa.Column('subtitle', sa.String(length=200), nullable=True))",
        ),
        downgrade: "    op.drop_column('post', 'subtitle')",
        expect: &[],
    },
    Case {
        name: "one of three added columns has no migration",
        models: |m| {
            add_to_post(
                m,
                "    a: Mapped[Optional[int]] = mapped_column()\n    b: Mapped[Optional[int]] = mapped_column()\n    c: Mapped[Optional[int]] = mapped_column()",
            )
        },
        upgrade: Some(
            "    op.add_column('post', sa.Column('a', sa.Integer(), nullable=True))\n    op.add_column('post', sa.Column('b', sa.Integer(), nullable=True))",
        ),
        downgrade: "    op.drop_column('post', 'b')\n    op.drop_column('post', 'a')",
        expect: &["missing-migration post.c"],
    },
    Case {
        name: "type widened in the model but not migrated",
        models: |m| {
            m.replacen(
                "title: Mapped[str] = mapped_column(String(200))",
                "title: Mapped[str] = mapped_column(String(300))",
                1,
            )
        },
        upgrade: Some(
            "    op.create_index(op.f('ix_post_author_id'), 'post', ['author_id'], unique=False)",
        ),
        downgrade: "    op.drop_index(op.f('ix_post_author_id'), table_name='post')",
        expect: &["missing-migration post.title", "unmatched-operation post"],
    },
    Case {
        name: "type widened and migrated with alter_column",
        models: |m| {
            m.replacen(
                "title: Mapped[str] = mapped_column(String(200))",
                "title: Mapped[str] = mapped_column(String(300))",
                1,
            )
        },
        upgrade: Some(
            "    op.alter_column('post', 'title',\n               existing_type=sa.VARCHAR(length=200),\n               type_=sa.String(length=300),\n               existing_nullable=False)",
        ),
        downgrade: "    op.alter_column('post', 'title', type_=sa.VARCHAR(length=200))",
        expect: &[],
    },
    Case {
        name: "nullable changed with no alter_column",
        models: |m| m.replacen("title: Mapped[str]", "title: Mapped[Optional[str]]", 1),
        upgrade: Some("    op.add_column('user', sa.Column('x', sa.Integer(), nullable=True))"),
        downgrade: "    op.drop_column('user', 'x')",
        expect: &["missing-migration post.title", "unmatched-operation user"],
    },
    Case {
        name: "nullable changed and migrated",
        models: |m| m.replacen("title: Mapped[str]", "title: Mapped[Optional[str]]", 1),
        upgrade: Some(
            "    op.alter_column('post', 'title', existing_type=sa.VARCHAR(length=200), nullable=True)",
        ),
        downgrade: "    op.alter_column('post', 'title', existing_type=sa.VARCHAR(length=200), nullable=False)",
        expect: &[],
    },
    Case {
        name: "new table fully migrated",
        models: |m| format!("{m}{TAG}"),
        upgrade: Some(
            "    op.create_table('tag',\n    sa.Column('id', sa.Integer(), nullable=False),\n    sa.Column('name', sa.String(length=50), nullable=False),\n    sa.Column('slug', sa.String(length=50), nullable=False),\n    sa.PrimaryKeyConstraint('id'),\n    sa.UniqueConstraint('slug')\n    )\n    op.create_index(op.f('ix_tag_name'), 'tag', ['name'], unique=False)",
        ),
        downgrade: "    op.drop_index(op.f('ix_tag_name'), table_name='tag')\n    op.drop_table('tag')",
        expect: &[],
    },
    Case {
        name: "new table missing one index",
        models: |m| format!("{m}{TAG}"),
        upgrade: Some(
            "    op.create_table('tag',\n    sa.Column('id', sa.Integer(), nullable=False),\n    sa.Column('name', sa.String(length=50), nullable=False),\n    sa.Column('slug', sa.String(length=50), nullable=False),\n    sa.PrimaryKeyConstraint('id'),\n    sa.UniqueConstraint('slug')\n    )",
        ),
        downgrade: "    op.drop_table('tag')",
        expect: &["missing-migration tag.name"],
    },
    Case {
        name: "new table missing one column",
        models: |m| format!("{m}{TAG}"),
        upgrade: Some(
            "    op.create_table('tag',\n    sa.Column('id', sa.Integer(), nullable=False),\n    sa.Column('name', sa.String(length=50), nullable=False),\n    sa.PrimaryKeyConstraint('id')\n    )\n    op.create_index(op.f('ix_tag_name'), 'tag', ['name'], unique=False)",
        ),
        downgrade: "    op.drop_index(op.f('ix_tag_name'), table_name='tag')\n    op.drop_table('tag')",
        expect: &["missing-migration tag.slug"],
    },
    Case {
        name: "rename done with alter_column(new_column_name=)",
        models: |m| {
            m.replacen(
                "title: Mapped[str] = mapped_column(String(200))",
                "headline: Mapped[str] = mapped_column(String(200))",
                1,
            )
        },
        upgrade: Some("    op.alter_column('post', 'title', new_column_name='headline')"),
        downgrade: "    op.alter_column('post', 'headline', new_column_name='title')",
        expect: &[],
    },
    Case {
        name: "rename of the explicit column name only",
        models: |m| {
            m.replacen(
                "title: Mapped[str] = mapped_column(String(200))",
                "title: Mapped[str] = mapped_column(\"headline\", String(200))",
                1,
            )
        },
        upgrade: Some("    op.alter_column('post', 'title', new_column_name='headline')"),
        downgrade: "    op.alter_column('post', 'headline', new_column_name='title')",
        expect: &[],
    },
    Case {
        name: "batch operations cover an added column",
        models: |m| {
            add_to_post(
                m,
                "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))",
            )
        },
        upgrade: Some(
            "    with op.batch_alter_table('post', schema=None) as batch_op:\n        batch_op.add_column(sa.Column('subtitle', sa.String(length=200), nullable=True))",
        ),
        downgrade: "    with op.batch_alter_table('post', schema=None) as batch_op:\n        batch_op.drop_column('subtitle')",
        expect: &[],
    },
    Case {
        name: "batch alter_column covers a type change",
        models: |m| {
            m.replacen(
                "String(200))\n    author_id",
                "String(250))\n    author_id",
                1,
            )
        },
        upgrade: Some(
            "    with op.batch_alter_table('post') as batch_op:\n        batch_op.alter_column('title', existing_type=sa.VARCHAR(length=200), type_=sa.String(length=250))",
        ),
        downgrade: "    with op.batch_alter_table('post') as batch_op:\n        batch_op.alter_column('title', type_=sa.VARCHAR(length=200))",
        expect: &[],
    },
    Case {
        name: "batch block on another table does not cover",
        models: |m| {
            add_to_post(
                m,
                "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))",
            )
        },
        upgrade: Some(
            "    with op.batch_alter_table('user') as batch_op:\n        batch_op.add_column(sa.Column('subtitle', sa.String(length=200), nullable=True))",
        ),
        downgrade: "    with op.batch_alter_table('user') as batch_op:\n        batch_op.drop_column('subtitle')",
        expect: &[
            "missing-migration post.subtitle",
            "unmatched-operation user",
        ],
    },
    Case {
        name: "explicit column name differing from the attribute, migrated by column name",
        models: |m| {
            add_to_post(
                m,
                "    subtitle: Mapped[Optional[str]] = mapped_column(\"sub_title\", String(50))",
            )
        },
        upgrade: Some(
            "    op.add_column('post', sa.Column('sub_title', sa.String(length=50), nullable=True))",
        ),
        downgrade: "    op.drop_column('post', 'sub_title')",
        expect: &[],
    },
    Case {
        name: "explicit column name differing from the attribute, migrated by attribute name",
        models: |m| {
            add_to_post(
                m,
                "    subtitle: Mapped[Optional[str]] = mapped_column(\"sub_title\", String(50))",
            )
        },
        upgrade: Some(
            "    op.add_column('post', sa.Column('subtitle', sa.String(length=50), nullable=True))",
        ),
        downgrade: "    op.drop_column('post', 'subtitle')",
        expect: &[
            "missing-migration post.sub_title",
            "unmatched-operation post",
        ],
    },
    Case {
        name: "mixin column shared by two models, both migrated",
        models: |m| {
            format!("{m}{STAMPED}")
                .replacen("class User(Base):", "class User(Stamped, Base):", 1)
                .replacen("class Post(Base):", "class Post(Stamped, Base):", 1)
                .replacen(
                    "\n\nclass Stamped:\n    created: Mapped[Optional[int]] = mapped_column()\n",
                    "",
                    1,
                )
                .replacen(
                    "class Base(DeclarativeBase):\n    pass\n",
                    &format!("class Base(DeclarativeBase):\n    pass\n{STAMPED}"),
                    1,
                )
        },
        upgrade: Some(
            "    op.add_column('user', sa.Column('created', sa.Integer(), nullable=True))\n    op.add_column('post', sa.Column('created', sa.Integer(), nullable=True))",
        ),
        downgrade: "    op.drop_column('post', 'created')\n    op.drop_column('user', 'created')",
        expect: &[],
    },
    Case {
        name: "mixin column shared by two models, one migrated",
        models: |m| {
            m.replacen("class User(Base):", "class User(Stamped, Base):", 1)
                .replacen("class Post(Base):", "class Post(Stamped, Base):", 1)
                .replacen(
                    "class Base(DeclarativeBase):\n    pass\n",
                    &format!("class Base(DeclarativeBase):\n    pass\n{STAMPED}"),
                    1,
                )
        },
        upgrade: Some(
            "    op.add_column('post', sa.Column('created', sa.Integer(), nullable=True))",
        ),
        downgrade: "    op.drop_column('post', 'created')",
        expect: &["missing-migration user.created"],
    },
    Case {
        name: "a pydantic class in the models module is not a schema edit",
        models: |m| {
            format!(
                "{m}\n\nclass PostOut(BaseModel):\n    id: int\n    title: str\n    subtitle: Optional[str] = None\n"
            )
        },
        upgrade: None,
        downgrade: "",
        expect: &[],
    },
    Case {
        name: "pydantic edit beside a migrated model edit",
        models: |m| {
            format!(
                "{}\n\nclass PostOut(BaseModel):\n    id: int\n    extra: str\n",
                add_to_post(
                    m,
                    "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))"
                )
            )
        },
        upgrade: Some(
            "    op.add_column('post', sa.Column('subtitle', sa.String(length=200), nullable=True))",
        ),
        downgrade: "    op.drop_column('post', 'subtitle')",
        expect: &[],
    },
    Case {
        name: "raw SQL migration naming the table covers it",
        models: |m| {
            add_to_post(
                m,
                "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))",
            )
        },
        upgrade: Some("    op.execute(\"ALTER TABLE post ADD COLUMN subtitle VARCHAR(200)\")"),
        downgrade: "    op.execute(\"ALTER TABLE post DROP COLUMN subtitle\")",
        expect: &[],
    },
    Case {
        name: "raw SQL on another table does not cover",
        models: |m| {
            add_to_post(
                m,
                "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))",
            )
        },
        upgrade: Some(
            "    op.execute(sa.text('ALTER TABLE \"user\" ADD COLUMN subtitle VARCHAR(200)'))",
        ),
        downgrade: "    op.execute(sa.text('ALTER TABLE \"user\" DROP COLUMN subtitle'))",
        expect: &[
            "missing-migration post.subtitle",
            "unmatched-operation user",
        ],
    },
    Case {
        name: "data-only migration has nothing to match",
        models: |m| m.to_string(),
        upgrade: Some("    op.execute(\"UPDATE post SET title = upper(title)\")"),
        downgrade: "    op.execute(\"UPDATE post SET title = lower(title)\")",
        expect: &[],
    },
    Case {
        name: "unique added with create_unique_constraint",
        models: |m| {
            m.replacen(
                "String(200))\n    author_id",
                "String(200), unique=True)\n    author_id",
                1,
            )
        },
        upgrade: Some("    op.create_unique_constraint(None, 'post', ['title'])"),
        downgrade: "    op.drop_constraint(None, 'post', type_='unique')",
        expect: &["unique-on-existing-table post.title"],
    },
    Case {
        name: "unique added with no operation",
        models: |m| {
            m.replacen(
                "String(200))\n    author_id",
                "String(200), unique=True)\n    author_id",
                1,
            )
        },
        upgrade: Some("    op.add_column('user', sa.Column('y', sa.Integer(), nullable=True))"),
        downgrade: "    op.drop_column('user', 'y')",
        expect: &["missing-migration post.title", "unmatched-operation user"],
    },
    Case {
        name: "foreign key added with create_foreign_key",
        models: |m| {
            add_to_user(
                m,
                "    best_post_id: Mapped[Optional[int]] = mapped_column(ForeignKey(\"post.id\"))",
            )
        },
        upgrade: Some(
            "    op.add_column('user', sa.Column('best_post_id', sa.Integer(), nullable=True))\n    op.create_foreign_key(None, 'user', 'post', ['best_post_id'], ['id'])",
        ),
        downgrade: "    op.drop_constraint(None, 'user', type_='foreignkey')\n    op.drop_column('user', 'best_post_id')",
        expect: &[],
    },
    Case {
        name: "table dropped with drop_table",
        models: |m| {
            let start = m.find("\n\nclass Post(Base):").unwrap_or(m.len());
            m[..start].replace(
                "    posts: Mapped[list[\"Post\"]] = relationship(back_populates=\"author\")\n",
                "",
            ) + "\n"
        },
        upgrade: Some("    op.drop_table('post')"),
        downgrade: "    op.create_table('post', sa.Column('id', sa.Integer(), nullable=False))",
        expect: &["destructive-operation post"],
    },
    Case {
        name: "table dropped in the model but not in the migration",
        models: |m| {
            let start = m.find("\n\nclass Post(Base):").unwrap_or(m.len());
            m[..start].replace(
                "    posts: Mapped[list[\"Post\"]] = relationship(back_populates=\"author\")\n",
                "",
            ) + "\n"
        },
        upgrade: Some("    op.add_column('user', sa.Column('z', sa.Integer(), nullable=True))"),
        downgrade: "    op.drop_column('user', 'z')",
        expect: &["missing-migration post", "unmatched-operation user"],
    },
    Case {
        name: "server default added and migrated",
        models: |m| {
            m.replacen(
                "String(200))\n    author_id",
                "String(200), server_default=\"untitled\")\n    author_id",
                1,
            )
        },
        upgrade: Some(
            "    op.alter_column('post', 'title', existing_type=sa.VARCHAR(length=200), server_default='untitled')",
        ),
        downgrade: "    op.alter_column('post', 'title', existing_type=sa.VARCHAR(length=200), server_default=None)",
        expect: &[],
    },
    Case {
        name: "operation with no model change at all",
        models: |m| m.to_string(),
        upgrade: Some("    op.create_index('ix_post_title', 'post', ['title'])"),
        downgrade: "    op.drop_index('ix_post_title', table_name='post')",
        expect: &["unmatched-operation post"],
    },
    Case {
        name: "table renamed with rename_table",
        models: |m| m.replacen("__tablename__ = \"post\"", "__tablename__ = \"article\"", 1),
        upgrade: Some("    op.rename_table('post', 'article')"),
        downgrade: "    op.rename_table('article', 'post')",
        expect: &[],
    },
    Case {
        name: "dynamic table name falls back to the file-level verdict",
        models: |m| {
            format!(
                "{m}\n\nclass Audit(Base):\n    @declared_attr.directive\n    def __tablename__(cls):\n        return cls.__name__.lower()\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
            )
        },
        upgrade: Some(
            "    op.create_table('audit', sa.Column('id', sa.Integer(), nullable=False), sa.PrimaryKeyConstraint('id'))",
        ),
        downgrade: "    op.drop_table('audit')",
        expect: &[],
    },
    Case {
        name: "not-null column added without a server default",
        models: |m| add_to_post(m, "    views: Mapped[int] = mapped_column()"),
        upgrade: Some(
            "    op.add_column('post', sa.Column('views', sa.Integer(), nullable=False))",
        ),
        downgrade: "    op.drop_column('post', 'views')",
        expect: &["not-null-without-default post.views"],
    },
];

fn describe(f: &serde_json::Value) -> String {
    let mut s = f["code"].as_str().unwrap_or("?").to_string();
    match (
        f.get("table").and_then(|t| t.as_str()),
        f.get("column").and_then(|c| c.as_str()),
    ) {
        (Some(t), Some(c)) => s.push_str(&format!(" {t}.{c}")),
        (Some(t), None) => s.push_str(&format!(" {t}")),
        _ => {}
    }
    s
}

#[test]
fn cross_check_case_table() {
    assert!(CASES.len() >= 30, "the table keeps at least 30 cases");
    let mut failures = Vec::new();
    for case in CASES {
        let repo = blog_repo();
        let models = repo.read("app/models.py");
        repo.write("app/models.py", &(case.models)(&models));
        if let Some(up) = case.upgrade {
            repo.write(
                "migrations/versions/b2_change.py",
                &revision("b2", Some("a1"), up, case.downgrade),
            );
        }
        let run = repo.alembot(&["check", "--format", "json"]);
        if run.code == 2 {
            failures.push(format!("{}: exit 2: {}", case.name, run.stderr));
            continue;
        }
        let mut got: Vec<String> = run.json()["findings"]
            .as_array()
            .map(|a| a.iter().map(describe).collect())
            .unwrap_or_default();
        got.sort();
        let mut want: Vec<String> = case.expect.iter().map(|s| s.to_string()).collect();
        want.sort();
        let errors_expected = want
            .iter()
            .any(|w| w.starts_with("missing-migration") || w.starts_with("not-null"));
        if got != want {
            failures.push(format!(
                "{}:\n    want {want:?}\n    got  {got:?}\n    {}",
                case.name,
                run.stdout.replace('\n', "\n    ")
            ));
        } else if (run.code == 1) != errors_expected {
            failures.push(format!("{}: exit code {}", case.name, run.code));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn cross_check_message_and_help_name_the_operation() {
    let repo = blog_repo();
    let models = repo.read("app/models.py");
    repo.write(
        "app/models.py",
        &add_to_post(&models, "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))\n    other: Mapped[Optional[int]] = mapped_column()"),
    );
    repo.write(
        "migrations/versions/b2_change.py",
        &revision(
            "b2",
            Some("a1"),
            "    op.add_column('post', sa.Column('other', sa.Integer(), nullable=True))",
            "    op.drop_column('post', 'other')",
        ),
    );
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(1);
    let f = &run.json()["findings"][0];
    assert_eq!(f["line"], 26);
    assert_eq!(
        f["message"],
        "`post.subtitle` added in the model; no migration in this change adds it"
    );
    let help = f["help"].as_str().unwrap();
    assert!(
        help.contains(
            "op.add_column('post', sa.Column('subtitle', sa.String(200), nullable=True))"
        ),
        "{help}"
    );
}

#[test]
fn merge_revision_in_the_change() {
    let repo = blog_repo();
    let models = repo.read("app/models.py");
    repo.write(
        "app/models.py",
        &add_to_post(&models, "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))\n    views: Mapped[Optional[int]] = mapped_column()"),
    );
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    repo.write(
        "migrations/versions/c3_views.py",
        &revision(
            "c3",
            Some("a1"),
            "    op.add_column('post', sa.Column('views', sa.Integer(), nullable=True))",
            "    op.drop_column('post', 'views')",
        ),
    );
    // Two heads until the merge revision arrives.
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(1);
    assert!(
        run.findings()
            .iter()
            .any(|f| f.starts_with("multiple-heads")),
        "{:?}",
        run.findings()
    );
    let merge = revision("m4", None, "    pass", "    pass").replace(
        "down_revision: Union[str, Sequence[str], None] = None",
        "down_revision: Union[str, Sequence[str], None] = ('b2', 'c3')",
    );
    repo.write("migrations/versions/m4_merge.py", &merge);
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(0);
    assert_eq!(run.findings(), Vec::<String>::new());
}

/// A committed enum used by two tables gains a member: each using column
/// needs its migration (ALTER TYPE on PostgreSQL covers both).
#[test]
fn enum_shared_by_two_models() {
    let repo = blog_repo();
    let models = repo.read("app/models.py");
    let with_enum = format!("{STATUS_ENUM}{models}")
        .replacen(
            "    email: Mapped[str]",
            "    status: Mapped[Status] = mapped_column(Enum(Status))\n    email: Mapped[str]",
            1,
        )
        .replacen(
            "    title: Mapped[str]",
            "    status: Mapped[Status] = mapped_column(Enum(Status))\n    title: Mapped[str]",
            1,
        );
    repo.write("app/models.py", &with_enum);
    repo.write(
        "migrations/versions/b2_status.py",
        &revision(
            "b2",
            Some("a1"),
            "    op.add_column('user', sa.Column('status', sa.Enum('draft', 'live', name='status'), nullable=False))\n    op.add_column('post', sa.Column('status', sa.Enum('draft', 'live', name='status'), nullable=False))",
            "    op.drop_column('post', 'status')\n    op.drop_column('user', 'status')",
        ),
    );
    repo.commit_all("status");
    repo.write(
        "app/models.py",
        &with_enum.replacen(
            "    live = \"live\"\n",
            "    live = \"live\"\n    archived = \"archived\"\n",
            1,
        ),
    );
    // No revision: the file-level verdict.
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(1);
    assert_eq!(run.findings(), ["missing-migration@app/models.py:8"]);
    // A revision that alters one of the two columns.
    repo.write(
        "migrations/versions/c3_archived.py",
        &revision(
            "c3",
            Some("b2"),
            "    op.alter_column('post', 'status', type_=sa.Enum('draft', 'live', 'archived', name='status'))",
            "    op.alter_column('post', 'status', type_=sa.Enum('draft', 'live', name='status'))",
        ),
    );
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(1);
    let got: Vec<String> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(describe)
        .collect();
    assert_eq!(
        got,
        ["missing-migration user.status", "enum-change post.status"]
    );
    // ALTER TYPE covers every column of the type.
    repo.write(
        "migrations/versions/c3_archived.py",
        &revision(
            "c3",
            Some("b2"),
            "    op.execute(\"ALTER TYPE status ADD VALUE 'archived'\")",
            "    pass",
        ),
    );
    let run = repo.alembot(&["check", "--format", "json"]);
    let got: Vec<String> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(describe)
        .collect();
    assert!(
        !got.iter().any(|g| g.starts_with("missing-migration")),
        "{got:?}"
    );
}
