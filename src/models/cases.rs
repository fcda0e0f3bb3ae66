//! The model-edit classification table: each case is an old and a new
//! version of a model file and the schema edits alembot must see (none for
//! the irrelevant kinds). Names say what each covers.

use super::diff_models;

struct Case {
    name: &'static str,
    old: &'static str,
    new: &'static str,
    /// `target phrase` of each expected edit, in line order.
    edits: &'static [&'static str],
    /// The first relevant head-side line, when there are edits.
    first_line: Option<u32>,
}

const HEAD: &str = "from typing import Optional, List\nimport enum\nfrom sqlalchemy import Column, Integer, String, ForeignKey, Index, Table, UniqueConstraint, CheckConstraint, Enum, Text, BigInteger, func\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, deferred\n\n\nclass Base(DeclarativeBase):\n    pass\n";

macro_rules! src {
    ($body:expr) => {
        concat!(
            "from typing import Optional, List\nimport enum\nfrom sqlalchemy import Column, Integer, String, ForeignKey, Index, Table, UniqueConstraint, CheckConstraint, Enum, Text, BigInteger, func\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, deferred\n\n\nclass Base(DeclarativeBase):\n    pass\n",
            $body
        )
    };
}

// Line numbers below count HEAD's 8 lines: the first body line is line 9.
const CASES: &[Case] = &[
    // ---- schema-relevant kinds --------------------------------------------------------
    Case {
        name: "column added with mapped_column (2.0 style)",
        old: src!(
            "\n\nclass Post(Base):\n    __tablename__ = \"post\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        ),
        new: src!(
            "\n\nclass Post(Base):\n    __tablename__ = \"post\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n    subtitle: Mapped[Optional[str]] = mapped_column(String(200))\n"
        ),
        edits: &["post.subtitle added"],
        first_line: Some(14),
    },
    Case {
        name: "column added with Column (1.4 style)",
        old: src!(
            "\n\nclass Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\n\nclass Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n    body = Column(Text)\n"
        ),
        edits: &["post.body added"],
        first_line: Some(14),
    },
    Case {
        name: "column removed",
        old: src!(
            "\n\nclass Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n    body = Column(Text)\n    title = Column(String(10))\n"
        ),
        new: src!(
            "\n\nclass Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n    title = Column(String(10))\n"
        ),
        edits: &["post.body removed"],
        first_line: Some(14),
    },
    Case {
        name: "string length widened",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n    name = Column(String(30))\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n    name = Column(String(100))\n"
        ),
        edits: &["user.name type changed from String(30) to String(100)"],
        first_line: Some(13),
    },
    Case {
        name: "type changed integer to biginteger",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)\n"
        ),
        edits: &["user.id type changed from Integer to BigInteger"],
        first_line: Some(12),
    },
    Case {
        name: "nullable flipped with nullable=",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name = Column(String(30), nullable=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name = Column(String(30), nullable=False)\n"
        ),
        edits: &["user.name made NOT NULL"],
        first_line: Some(12),
    },
    Case {
        name: "nullable changed through Optional annotation",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name: Mapped[str] = mapped_column(String(30))\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name: Mapped[Optional[str]] = mapped_column(String(30))\n"
        ),
        edits: &["user.name made nullable"],
        first_line: Some(12),
    },
    Case {
        name: "nullable changed through X | None annotation",
        old: src!("\nclass User(Base):\n    __tablename__ = 'user'\n    bio: Mapped[str | None]\n"),
        new: src!("\nclass User(Base):\n    __tablename__ = 'user'\n    bio: Mapped[str]\n"),
        edits: &["user.bio made NOT NULL"],
        first_line: Some(12),
    },
    Case {
        name: "python default changed",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    active = Column(Integer, default=1)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    active = Column(Integer, default=0)\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "server default added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    created = Column(Integer)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    created = Column(Integer, server_default=func.now())\n"
        ),
        edits: &["user.created server default changed"],
        first_line: Some(12),
    },
    Case {
        name: "unique added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email: Mapped[str] = mapped_column(String(255))\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email: Mapped[str] = mapped_column(String(255), unique=True)\n"
        ),
        edits: &["user.email unique constraint added"],
        first_line: Some(12),
    },
    Case {
        name: "index added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email: Mapped[str] = mapped_column(String(255))\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email: Mapped[str] = mapped_column(String(255), index=True)\n"
        ),
        edits: &["user.email index added"],
        first_line: Some(12),
    },
    Case {
        name: "primary key changed",
        old: src!("\nclass Tag(Base):\n    __tablename__ = 'tag'\n    name = Column(String(20))\n"),
        new: src!(
            "\nclass Tag(Base):\n    __tablename__ = 'tag'\n    name = Column(String(20), primary_key=True)\n"
        ),
        edits: &["tag.name made NOT NULL", "tag.name primary key changed"],
        first_line: Some(12),
    },
    Case {
        name: "foreign key added to existing column",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    author_id: Mapped[int] = mapped_column()\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    author_id: Mapped[int] = mapped_column(ForeignKey('user.id'))\n"
        ),
        edits: &["post.author_id foreign key added"],
        first_line: Some(12),
    },
    Case {
        name: "foreign key target changed",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    author_id = Column(ForeignKey('user.id'))\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    author_id = Column(ForeignKey('account.id'))\n"
        ),
        edits: &[
            "post.author_id foreign key added",
            "post.author_id foreign key removed",
        ],
        first_line: Some(12),
    },
    Case {
        name: "annotation-only Mapped column added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    age: Mapped[int]\n"
        ),
        edits: &["user.age added"],
        first_line: Some(13),
    },
    Case {
        name: "tablename changed",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'users'\n    id = Column(Integer, primary_key=True)\n"
        ),
        edits: &["users renamed from user"],
        first_line: Some(11),
    },
    Case {
        name: "index added in __table_args__",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    __table_args__ = (UniqueConstraint('slug', name='uq_post_slug'),)\n    slug = Column(String(50))\n    title = Column(String(50))\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    __table_args__ = (\n        UniqueConstraint('slug', name='uq_post_slug'),\n        Index('ix_post_title', 'title'),\n    )\n    slug = Column(String(50))\n    title = Column(String(50))\n"
        ),
        edits: &["post.title index added"],
        first_line: Some(14),
    },
    Case {
        name: "unique constraint removed from __table_args__",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    __table_args__ = (UniqueConstraint('slug', name='uq_post_slug'), Index('ix_t', 'title'))\n    slug = Column(String(50))\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    __table_args__ = (Index('ix_t', 'title'),)\n    slug = Column(String(50))\n"
        ),
        edits: &["post.slug unique constraint removed"],
        first_line: Some(12),
    },
    Case {
        name: "check constraint added in __table_args__",
        old: src!("\nclass Item(Base):\n    __tablename__ = 'item'\n    qty = Column(Integer)\n"),
        new: src!(
            "\nclass Item(Base):\n    __tablename__ = 'item'\n    __table_args__ = (CheckConstraint('qty >= 0', name='ck_qty'),)\n    qty = Column(Integer)\n"
        ),
        edits: &["item table arguments changed"],
        first_line: Some(12),
    },
    Case {
        // Two check constraints named positionally (`CheckConstraint(text,
        // name)`) once shared one key, so any edit of the class reported
        // its table arguments as changed.
        name: "unrelated column added beside positionally named checks",
        old: src!(
            "\nclass Item(Base):\n    __tablename__ = 'item'\n    __table_args__ = (CheckConstraint('qty >= 0',\n                                      'ck_qty'),\n                      CheckConstraint('id != parent_id', 'ck_parent'),\n    )\n    qty = Column(Integer)\n"
        ),
        new: src!(
            "\nclass Item(Base):\n    __tablename__ = 'item'\n    __table_args__ = (CheckConstraint('qty >= 0',\n                                      'ck_qty'),\n                      CheckConstraint('id != parent_id', 'ck_parent'),\n    )\n    qty = Column(Integer)\n    note = Column(Text)\n"
        ),
        edits: &["item.note added"],
        first_line: Some(17),
    },
    Case {
        name: "positionally named check renamed",
        old: src!(
            "\nclass Item(Base):\n    __tablename__ = 'item'\n    __table_args__ = (CheckConstraint('qty >= 0', 'ck_qty'), CheckConstraint('a > 0', 'ck_a'))\n"
        ),
        new: src!(
            "\nclass Item(Base):\n    __tablename__ = 'item'\n    __table_args__ = (CheckConstraint('qty >= 0', 'ck_qty_positive'), CheckConstraint('a > 0', 'ck_a'))\n"
        ),
        edits: &["item table arguments changed"],
        first_line: Some(12),
    },
    Case {
        name: "attribute renamed, column name kept",
        old: src!(
            "\nclass Form(Base):\n    __tablename__ = 'form'\n    manager_notifications = Column(Boolean, nullable=False)\n"
        ),
        new: src!(
            "\nclass Form(Base):\n    __tablename__ = 'form'\n    organizer_notifications = Column(\n        'manager_notifications', Boolean, nullable=False\n    )\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "annotation added to a Column attribute",
        old: src!(
            "\nclass Event(Base):\n    __tablename__ = 'event'\n    is_deleted = Column(Boolean, nullable=False, default=False)\n"
        ),
        new: src!(
            "\nclass Event(Base):\n    __tablename__ = 'event'\n    is_deleted: t.Any = Column(Boolean, nullable=False, default=False)\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "imperative Table added",
        old: src!("\n"),
        new: src!(
            "\npost_tags = Table(\n    'post_tags',\n    Base.metadata,\n    Column('post_id', ForeignKey('post.id'), primary_key=True),\n    Column('tag_id', ForeignKey('tag.id'), primary_key=True),\n)\n"
        ),
        edits: &[
            "post_tags table added",
            "post_tags.post_id added",
            "post_tags.tag_id added",
        ],
        first_line: Some(10),
    },
    Case {
        name: "imperative Table column added",
        old: src!(
            "\nlinks = Table('links', Base.metadata, Column('id', Integer, primary_key=True))\n"
        ),
        new: src!(
            "\nlinks = Table('links', Base.metadata, Column('id', Integer, primary_key=True), Column('url', String(200)))\n"
        ),
        edits: &["links.url added"],
        first_line: Some(10),
    },
    Case {
        name: "module-level Index added",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    title = Column(String(50))\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    title = Column(String(50))\n\n\nIndex('ix_post_title_lower', func.lower(Post.title))\n"
        ),
        edits: &["post.title index added"],
        first_line: Some(15),
    },
    Case {
        name: "enum member added to an enum a column uses",
        old: src!(
            "\nclass Status(enum.Enum):\n    draft = 'draft'\n    published = 'published'\n\n\nclass Post(Base):\n    __tablename__ = 'post'\n    status: Mapped[Status] = mapped_column(Enum(Status))\n"
        ),
        new: src!(
            "\nclass Status(enum.Enum):\n    draft = 'draft'\n    published = 'published'\n    archived = 'archived'\n\n\nclass Post(Base):\n    __tablename__ = 'post'\n    status: Mapped[Status] = mapped_column(Enum(Status))\n"
        ),
        edits: &["post.status enum Status gained member archived"],
        first_line: Some(13),
    },
    Case {
        name: "new mapped class",
        old: src!(""),
        new: src!(
            "\n\nclass Tag(Base):\n    __tablename__ = 'tag'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str] = mapped_column(String(30), index=True)\n"
        ),
        edits: &[
            "tag table added",
            "tag.id added",
            "tag.name added",
            "tag.name index added",
        ],
        first_line: Some(11),
    },
    Case {
        name: "mapped class deleted",
        old: src!(
            "\nclass Tag(Base):\n    __tablename__ = 'tag'\n    id = Column(Integer, primary_key=True)\n\n\nclass Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n"
        ),
        edits: &["tag table removed"],
        first_line: Some(10),
    },
    Case {
        name: "flask-sqlalchemy column added",
        old: "from app import db\n\n\nclass UserProfile(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n",
        new: "from app import db\n\n\nclass UserProfile(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    bio = db.Column(db.Text, nullable=False)\n",
        edits: &["user_profile.bio added"],
        first_line: Some(6),
    },
    Case {
        name: "flask-sqlalchemy new model derives its table name",
        old: "from app import db\n",
        new: "from app import db\n\n\nclass APIKey(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n",
        edits: &["api_key table added", "api_key.id added"],
        first_line: Some(4),
    },
    Case {
        name: "mixin column added reaches every mapped user",
        old: src!(
            "\nclass Stamped:\n    created: Mapped[int] = mapped_column()\n\n\nclass A(Stamped, Base):\n    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n\n\nclass B(Stamped, Base):\n    __tablename__ = 'b'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass Stamped:\n    created: Mapped[int] = mapped_column()\n    updated: Mapped[Optional[int]] = mapped_column()\n\n\nclass A(Stamped, Base):\n    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n\n\nclass B(Stamped, Base):\n    __tablename__ = 'b'\n    id = Column(Integer, primary_key=True)\n"
        ),
        edits: &["a.updated added", "b.updated added"],
        first_line: Some(12),
    },
    Case {
        name: "single-table inheritance subclass column lands on parent table",
        old: src!(
            "\nclass Employee(Base):\n    __tablename__ = 'employee'\n    id = Column(Integer, primary_key=True)\n\n\nclass Manager(Employee):\n    pass\n"
        ),
        new: src!(
            "\nclass Employee(Base):\n    __tablename__ = 'employee'\n    id = Column(Integer, primary_key=True)\n\n\nclass Manager(Employee):\n    reports: Mapped[Optional[int]] = mapped_column()\n"
        ),
        edits: &["employee.reports added"],
        first_line: Some(16),
    },
    Case {
        name: "explicit column name changed is a rename",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email: Mapped[str] = mapped_column('mail', String(200))\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email: Mapped[str] = mapped_column('email_address', String(200))\n"
        ),
        edits: &["user.email_address added", "user.mail removed"],
        first_line: Some(12),
    },
    Case {
        name: "column comment changed",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name = Column(String(30), comment='a')\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name = Column(String(30), comment='the name')\n"
        ),
        edits: &["user.name column options changed"],
        first_line: Some(12),
    },
    Case {
        name: "deferred column added",
        old: src!(
            "\nclass Doc(Base):\n    __tablename__ = 'doc'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass Doc(Base):\n    __tablename__ = 'doc'\n    id = Column(Integer, primary_key=True)\n    body = deferred(Column(Text))\n"
        ),
        edits: &["doc.body added"],
        first_line: Some(13),
    },
    Case {
        name: "change inside a multi-line call points at its line",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name: Mapped[str] = mapped_column(\n        String(30),\n        unique=True,\n        nullable=True,\n    )\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name: Mapped[str] = mapped_column(\n        String(30),\n        unique=True,\n        nullable=False,\n    )\n"
        ),
        edits: &["user.name made NOT NULL"],
        first_line: Some(15),
    },
    Case {
        name: "mapped model next to a pydantic schema: only the model counts",
        old: src!(
            "\nclass UserIn(BaseModel):\n    name: str\n\n\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass UserIn(BaseModel):\n    name: str\n    email: str\n\n\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n    email = Column(String(200))\n"
        ),
        edits: &["user.email added"],
        first_line: Some(18),
    },
    // ---- edits that do not touch the schema ------------------------------------------
    Case {
        name: "method added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n\n    def display(self):\n        return f'User {self.id}'\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "property body changed",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n\n    @property\n    def label(self):\n        return 'a'\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n\n    @property\n    def label(self):\n        return 'b' + Column.__name__\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "docstring changed",
        old: src!(
            "\nclass User(Base):\n    \"\"\"A user.\"\"\"\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    \"\"\"A person who can log in.\n\n    Multi-line now.\n    \"\"\"\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "comments changed",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)  # pk\n"
        ),
        new: src!(
            "\nclass User(Base):\n    # The users table.\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)  # the primary key\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "import added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: concat!(
            "import datetime\n",
            src!(
                "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
            )
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "relationship added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n    posts: Mapped[List['Post']] = relationship(back_populates='author')\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "relationship options changed",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    author: Mapped['User'] = relationship(back_populates='posts')\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    author: Mapped['User'] = relationship(back_populates='posts', lazy='selectin')\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "black-style rewrap of the same call",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = \"user\"\n    name: Mapped[str] = mapped_column(\n        String(30),\n        unique=True,\n        nullable=False,\n    )\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "one-argument call exploded with a magic trailing comma",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    title: Mapped[str] = mapped_column(String(200))\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    title: Mapped[str] = mapped_column(\n        String(200),\n    )\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "quote style changed",
        old: src!(
            "\nclass Post(Base):\n    __tablename__ = 'post'\n    author_id = Column(ForeignKey('user.id'))\n"
        ),
        new: src!(
            "\nclass Post(Base):\n    __tablename__ = \"post\"\n    author_id = Column(ForeignKey(\"user.id\"))\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "doc= and info= keyword changes",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name = Column(String(30), doc='Name')\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    name = Column(String(30), doc='Full name', info={'pii': True})\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "pydantic schema field added",
        old: src!("\nclass UserOut(BaseModel):\n    id: int\n"),
        new: src!("\nclass UserOut(BaseModel):\n    id: int\n    email: Optional[str] = None\n"),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "dataclass field added",
        old: "from dataclasses import dataclass\n\n\n@dataclass\nclass Point:\n    x: int\n",
        new: "from dataclasses import dataclass\n\n\n@dataclass\nclass Point:\n    x: int\n    y: int = 0\n",
        edits: &[],
        first_line: None,
    },
    Case {
        name: "TypedDict describing JSON content changed",
        old: src!("\nclass Prefs(TypedDict):\n    theme: str\n"),
        new: src!("\nclass Prefs(TypedDict):\n    theme: str\n    font: str\n"),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "enum member added to an enum no column uses",
        old: src!("\nclass Color(enum.Enum):\n    red = 1\n"),
        new: src!("\nclass Color(enum.Enum):\n    red = 1\n    blue = 2\n"),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "column marked alembot: ignore",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n    legacy = Column(Text)  # alembot: ignore\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "class marked alembot: ignore",
        old: src!(""),
        new: src!(
            "\nclass Scratch(Base):  # alembot: ignore\n    __tablename__ = 'scratch'\n    id = Column(Integer, primary_key=True)\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "class renamed, same table",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass Account(Base):\n    __tablename__ = 'user'\n    id = Column(Integer, primary_key=True)\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "columns reordered",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    a = Column(Integer)\n    b = Column(Integer)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    b = Column(Integer)\n    a = Column(Integer)\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "module-level helper function changed",
        old: src!("\ndef slugify(s):\n    return s.lower()\n"),
        new: src!("\ndef slugify(s):\n    return s.lower().replace(' ', '-')\n"),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "validator method added",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email = Column(String(200))\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    email = Column(String(200))\n\n    @validates('email')\n    def check_email(self, key, value):\n        assert '@' in value\n        return value\n"
        ),
        edits: &[],
        first_line: None,
    },
    Case {
        name: "mapper args changed",
        old: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    __mapper_args__ = {'eager_defaults': False}\n    id = Column(Integer, primary_key=True)\n"
        ),
        new: src!(
            "\nclass User(Base):\n    __tablename__ = 'user'\n    __mapper_args__ = {'eager_defaults': True}\n    id = Column(Integer, primary_key=True)\n"
        ),
        edits: &[],
        first_line: None,
    },
];

#[test]
fn model_edit_classification_table() {
    let _ = HEAD;
    let mut failures = Vec::new();
    for case in CASES {
        let edits = diff_models("models.py", Some(case.old), Some(case.new));
        let mut got: Vec<String> = edits.edits.iter().map(|e| e.to_string()).collect();
        got.sort();
        let mut want: Vec<String> = case.edits.iter().map(|s| s.to_string()).collect();
        want.sort();
        if got != want {
            failures.push(format!("{}:\n  want {want:?}\n  got  {got:?}", case.name));
            continue;
        }
        if edits.first_line() != case.first_line {
            failures.push(format!(
                "{}: first line want {:?} got {:?}",
                case.name,
                case.first_line,
                edits.first_line()
            ));
        }
    }
    assert!(CASES.len() >= 40, "the table must keep at least 40 cases");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn added_file_counts_as_new_tables() {
    let edits = diff_models(
        "m.py",
        None,
        Some(src!(
            "\nclass A(Base):\n    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n"
        )),
    );
    assert_eq!(edits.edits[0].to_string(), "a table added");
}

#[test]
fn deleted_file_drops_its_tables() {
    let edits = diff_models(
        "m.py",
        Some(src!(
            "\nclass A(Base):\n    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n"
        )),
        None,
    );
    let got: Vec<String> = edits.edits.iter().map(|e| e.to_string()).collect();
    assert_eq!(got, ["a table removed"]);
}

#[test]
fn dynamic_tablename_is_unsure() {
    let edits = diff_models(
        "m.py",
        Some(src!(
            "\nclass A(Base):\n    @declared_attr.directive\n    def __tablename__(cls):\n        return cls.__name__.lower()\n    id = Column(Integer, primary_key=True)\n"
        )),
        Some(src!(
            "\nclass A(Base):\n    @declared_attr.directive\n    def __tablename__(cls):\n        return cls.__name__.lower()\n    id = Column(Integer, primary_key=True)\n    b = Column(Integer)\n"
        )),
    );
    assert_eq!(edits.edits.len(), 1);
    assert!(!edits.edits[0].is_resolved());
}
