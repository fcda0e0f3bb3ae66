//! Compares the old and new reading of a model file and says which edits
//! change the schema. Statements are compared as normalised token streams,
//! so rewrapping, quote style and comments never count.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::python::syntax::Norm;
use crate::schema::{ColumnSpec, EditKind, SchemaEdit};

use super::extract::{
    ClassDef, ClassKind, ConstraintKind, Element, ModelFile, NON_DDL_KWARGS, Role, TableName,
    extract,
};

/// The schema edits of one model file, and why any of them is unsure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileEdits {
    pub edits: Vec<SchemaEdit>,
    pub notes: Vec<String>,
}

impl FileEdits {
    pub fn is_relevant(&self) -> bool {
        !self.edits.is_empty()
    }

    /// The first head-side line of a schema-relevant edit.
    pub fn first_line(&self) -> Option<u32> {
        self.edits.iter().map(|e| e.line).filter(|&l| l > 0).min()
    }
}

/// Diffs `old` and `new` (either may be absent: added or deleted file).
pub fn diff_models(path: &str, old: Option<&str>, new: Option<&str>) -> FileEdits {
    let old_file = old.map(extract).unwrap_or_default();
    let new_file = new.map(extract).unwrap_or_default();
    let mut d = Differ {
        path,
        old: &old_file,
        new: &new_file,
        out: FileEdits::default(),
        lookups: Lookups::new(&old_file, &new_file),
        seen_notes: HashSet::new(),
    };
    if new_file.lex_errors > 0 {
        d.out.notes.push(format!(
            "{path} does not tokenize cleanly; its reading may be incomplete"
        ));
    }
    d.classes();
    d.tables();
    d.loose();
    d.enums();
    let mut out = d.out;
    out.edits.sort_by(|a, b| {
        a.line
            .cmp(&b.line)
            .then_with(|| a.target().cmp(&b.target()))
    });
    out.edits.dedup();
    out
}

struct Differ<'f> {
    path: &'f str,
    old: &'f ModelFile,
    new: &'f ModelFile,
    out: FileEdits,
    lookups: Lookups<'f>,
    seen_notes: HashSet<String>,
}

/// What the diff looks up again and again, computed once per file: a
/// model file of many thousands of classes must diff in linear time (a
/// 4 MB file once took 51 s when each lookup scanned every class).
struct Lookups<'f> {
    /// A literal table name → the first old class mapping it whose name
    /// is gone from the new file (a renamed class).
    gone_by_table: HashMap<&'f str, &'f ClassDef>,
    /// (old line, new line) of the classes and tables both sides have,
    /// sorted: where an old line lands in the new file.
    anchors: Vec<(u32, u32)>,
    /// A class name → the mapped classes of the new file deriving from it
    /// (transitively), in file order.
    users: HashMap<&'f str, Vec<Target>>,
}

impl<'f> Lookups<'f> {
    fn new(old: &'f ModelFile, new: &'f ModelFile) -> Self {
        let mut gone_by_table = HashMap::new();
        for c in &old.classes {
            if let TableName::Literal(t) = &c.table
                && new.class(&c.name).is_none()
            {
                gone_by_table.entry(t.as_str()).or_insert(c);
            }
        }
        let mut anchors: Vec<(u32, u32)> = Vec::new();
        for c in &old.classes {
            if let Some(n) = new.class(&c.name) {
                anchors.push((c.line, n.line));
            }
        }
        for t in &old.tables {
            if let Some(n) = new.table(&t.variable) {
                anchors.push((t.line, n.line));
            }
        }
        anchors.sort();
        let mut users: HashMap<&'f str, Vec<Target>> = HashMap::new();
        for class in new.classes.iter().filter(|c| c.kind == ClassKind::Mapped) {
            for ancestor in ancestors(new, class) {
                users
                    .entry(ancestor)
                    .or_default()
                    .push(Differ::target_of(class));
            }
        }
        Lookups {
            gone_by_table,
            anchors,
            users,
        }
    }
}

/// Every base name `class` reaches through the file's own classes, up to
/// 16 levels deep (a cycle of bases ends there).
fn ancestors<'f>(file: &'f ModelFile, class: &'f ClassDef) -> Vec<&'f str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    let mut level: Vec<&ClassDef> = vec![class];
    for _depth in 0..=16 {
        let mut next = Vec::new();
        for c in level {
            for b in &c.bases {
                if seen.insert(b.as_str()) {
                    out.push(b.as_str());
                    if let Some(parent) = file.class(b) {
                        next.push(parent);
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    out
}

/// Where an owner's edits land: its table and its name for messages.
#[derive(Clone)]
struct Target {
    table: Option<String>,
    owner: String,
}

impl<'f> Differ<'f> {
    fn push(
        &mut self,
        target: &Target,
        line: u32,
        column: Option<String>,
        kind: EditKind,
        spec: Option<ColumnSpec>,
    ) {
        self.out.edits.push(SchemaEdit {
            file: self.path.to_string(),
            line,
            table: target.table.clone(),
            column,
            kind,
            owner: Some(target.owner.clone()),
            spec,
        });
    }

    fn note_unsure(&mut self, class: &ClassDef) {
        for reason in &class.unsure {
            let note = format!("{}: class {}: {reason}", self.path, class.name);
            if self.seen_notes.insert(note.clone()) {
                self.out.notes.push(note);
            }
        }
    }

    /// The tables whose columns a mixin's edits reach: every mapped class
    /// in the new file deriving from it (transitively).
    fn users_of(&self, mixin: &str) -> Vec<Target> {
        self.lookups.users.get(mixin).cloned().unwrap_or_default()
    }

    fn target_of(class: &ClassDef) -> Target {
        Target {
            table: class.table.resolved().map(str::to_string),
            owner: class.name.clone(),
        }
    }

    fn classes(&mut self) {
        let mut matched_old: BTreeSet<&str> = BTreeSet::new();
        for new in &self.new.classes {
            if new.ignored {
                if let Some(old) = self.old.class(&new.name) {
                    matched_old.insert(&old.name);
                }
                continue;
            }
            let old = self
                .old
                .class(&new.name)
                .or_else(|| self.old_class_with_table(new));
            if let Some(o) = old {
                matched_old.insert(&o.name);
            }
            match new.kind {
                ClassKind::Mapped => {
                    self.note_unsure(new);
                    let target = Self::target_of(new);
                    match old.filter(|o| o.kind == ClassKind::Mapped) {
                        None => self.class_added(new, &target),
                        Some(old) => {
                            if old.table.resolved() != new.table.resolved() {
                                self.table_identity_changed(old, new, &target);
                            }
                            self.elements(&old.elements, &new.elements, &target, new.line, &[]);
                        }
                    }
                }
                ClassKind::Mixin => {
                    let before = old
                        .filter(|o| o.kind == ClassKind::Mixin)
                        .map(|o| o.elements.as_slice())
                        .unwrap_or(&[]);
                    let users = self.users_of(&new.name);
                    if users.is_empty() {
                        // Used from another file (or not at all): relevant,
                        // but which tables it reaches is unknown here.
                        let n = self.out.edits.len();
                        let target = Target {
                            table: None,
                            owner: new.name.clone(),
                        };
                        self.elements(before, &new.elements, &target, new.line, &[]);
                        if self.out.edits.len() > n {
                            self.out.notes.push(format!(
                                "{}: mixin {} changed, but no mapped class in this file uses it; the tables it reaches are not known statically",
                                self.path, new.name
                            ));
                        }
                    } else {
                        for user in users {
                            self.elements(before, &new.elements, &user, new.line, &[]);
                        }
                    }
                }
                _ => {
                    // A class that used to be mapped and no longer is.
                    if let Some(old) = old.filter(|o| o.kind == ClassKind::Mapped) {
                        let target = Self::target_of(old);
                        self.push(&target, new.line, None, EditKind::TableDropped, None);
                    }
                }
            }
        }
        for old in &self.old.classes {
            if matched_old.contains(old.name.as_str()) || old.ignored {
                continue;
            }
            match old.kind {
                ClassKind::Mapped => {
                    let target = Self::target_of(old);
                    let line = self.nearest_new_line(old.line);
                    if matches!(old.table, TableName::Inherited(_)) {
                        for e in old.elements.iter().filter(|e| !e.ignored) {
                            if let Role::Column(spec) = &e.role {
                                self.push(
                                    &target,
                                    line,
                                    Some(spec.name.clone()),
                                    EditKind::ColumnDropped,
                                    Some(spec.clone()),
                                );
                            }
                        }
                    } else {
                        self.push(&target, line, None, EditKind::TableDropped, None);
                    }
                }
                ClassKind::Mixin => {
                    // A deleted mixin takes its columns from its users; the
                    // users' base lists changed too, which shows there.
                }
                _ => {}
            }
        }
    }

    fn old_class_with_table(&self, new: &ClassDef) -> Option<&'f ClassDef> {
        let table = match &new.table {
            TableName::Literal(t) => t,
            _ => return None,
        };
        self.lookups.gone_by_table.get(table.as_str()).copied()
    }

    fn table_identity_changed(&mut self, old: &ClassDef, new: &ClassDef, target: &Target) {
        let line = new
            .elements
            .iter()
            .find(|e| e.key == "tablename")
            .map_or(new.line, |e| e.line);
        match (old.table.resolved(), new.table.resolved()) {
            (Some(from), Some(_)) => {
                let kind = if matches!(old.table, TableName::Inherited(_)) {
                    // Leaving single-table inheritance: a new table.
                    EditKind::TableAdded
                } else {
                    EditKind::TableRenamed {
                        from: from.to_string(),
                    }
                };
                self.push(target, line, None, kind, None);
            }
            _ => self.push(target, line, None, EditKind::Unresolved, None),
        }
    }

    fn class_added(&mut self, class: &ClassDef, target: &Target) {
        let inherited_table = matches!(class.table, TableName::Inherited(_));
        if !inherited_table {
            self.push(target, class.line, None, EditKind::TableAdded, None);
        }
        // Columns from same-file mixins land in the new table too.
        let mut elements: Vec<&Element> = Vec::new();
        for base in &class.bases {
            if let Some(mixin) = self.new.class(base).filter(|c| c.kind == ClassKind::Mixin) {
                elements.extend(mixin.elements.iter());
            }
        }
        elements.extend(class.elements.iter());
        for e in elements.into_iter().filter(|e| !e.ignored) {
            let line = if e.line >= class.line && e.line <= class.end_line {
                e.line
            } else {
                class.line
            };
            match &e.role {
                Role::Column(spec) => {
                    self.push(
                        target,
                        line,
                        Some(spec.name.clone()),
                        EditKind::ColumnAdded,
                        Some(spec.clone()),
                    );
                    if spec.index {
                        self.push(
                            target,
                            line,
                            Some(spec.name.clone()),
                            EditKind::IndexAdded,
                            Some(spec.clone()),
                        );
                    }
                }
                Role::Constraint(c)
                    if matches!(c.kind, ConstraintKind::Index | ConstraintKind::UniqueIndex) =>
                {
                    self.push(
                        target,
                        line,
                        c.columns.first().cloned(),
                        EditKind::IndexAdded,
                        None,
                    );
                }
                Role::Opaque => self.push(target, line, None, EditKind::Unresolved, None),
                _ => {}
            }
        }
    }

    /// Compares two element lists of one owner.
    fn elements(
        &mut self,
        old: &[Element],
        new: &[Element],
        target: &Target,
        owner_line: u32,
        _skip: &[&str],
    ) {
        let old_by_key: BTreeMap<&str, &Element> =
            old.iter().map(|e| (e.key.as_str(), e)).collect();
        let new_keys: BTreeSet<&str> = new.iter().map(|e| e.key.as_str()).collect();
        // An attribute renamed while its column keeps its name (`tiers` ->
        // `_tiers = mapped_column("tiers", ...)`) is the same column: pair
        // the unmatched elements by database column name.
        let column_name = |e: &Element| match &e.role {
            Role::Column(spec) => Some(spec.name.clone()),
            _ => None,
        };
        let mut renamed: BTreeMap<&str, &Element> = BTreeMap::new();
        for e in new
            .iter()
            .filter(|e| !old_by_key.contains_key(e.key.as_str()))
        {
            let Some(name) = column_name(e) else { continue };
            if let Some(b) = old.iter().find(|b| {
                !new_keys.contains(b.key.as_str())
                    && column_name(b).as_deref() == Some(name.as_str())
                    && !renamed.values().any(|r| std::ptr::eq(*r, *b))
            }) {
                renamed.insert(e.key.as_str(), b);
            }
        }
        let nearest = NearestLines::new(old, new, owner_line);
        let mut constraint_edits = 0usize;
        let mut table_args_changed: Option<u32> = None;
        for e in new {
            let before = old_by_key
                .get(e.key.as_str())
                .or_else(|| renamed.get(e.key.as_str()))
                .copied();
            if e.ignored || before.is_some_and(|b| b.ignored) {
                continue;
            }
            match before {
                None => {
                    constraint_edits += self.element_added(e, target);
                }
                Some(b) if b.norm != e.norm => {
                    let line = first_changed_line(&b.norm, e);
                    match (&b.role, &e.role) {
                        (Role::Column(was), Role::Column(now)) => {
                            self.column_changed(was, now, e, b, line, target);
                        }
                        (Role::TableArgs, Role::TableArgs) => table_args_changed = Some(line),
                        (Role::TableName, Role::TableName) => {}
                        (Role::Constraint(_), Role::Constraint(c)) => {
                            constraint_edits += 1;
                            let kind = constraint_edit(c.kind, true);
                            self.push(target, line, c.columns.first().cloned(), kind, None);
                        }
                        _ => self.push(target, line, None, EditKind::Unresolved, None),
                    }
                }
                Some(_) => {}
            }
        }
        for b in old {
            if new_keys.contains(b.key.as_str())
                || b.ignored
                || renamed.values().any(|r| std::ptr::eq(*r, b))
            {
                continue;
            }
            let line = nearest.of(b);
            match &b.role {
                Role::Column(spec) => {
                    self.push(
                        target,
                        line,
                        Some(spec.name.clone()),
                        EditKind::ColumnDropped,
                        Some(spec.clone()),
                    );
                }
                Role::Constraint(c) => {
                    constraint_edits += 1;
                    let kind = constraint_edit(c.kind, false);
                    self.push(target, line, c.columns.first().cloned(), kind, None);
                }
                Role::TableArgs => {
                    if constraint_edits == 0 {
                        table_args_changed = Some(line);
                    }
                }
                Role::TableName => self.push(target, line, None, EditKind::Unresolved, None),
                Role::Opaque => self.push(target, line, None, EditKind::Unresolved, None),
            }
        }
        if let Some(line) = table_args_changed
            && constraint_edits == 0
        {
            self.push(target, line, None, EditKind::TableArgsChanged, None);
        }
    }

    /// Returns 1 when a constraint was recorded.
    fn element_added(&mut self, e: &Element, target: &Target) -> usize {
        match &e.role {
            Role::Column(spec) => {
                self.push(
                    target,
                    e.line,
                    Some(spec.name.clone()),
                    EditKind::ColumnAdded,
                    Some(spec.clone()),
                );
                if spec.index {
                    self.push(
                        target,
                        e.line,
                        Some(spec.name.clone()),
                        EditKind::IndexAdded,
                        Some(spec.clone()),
                    );
                }
                0
            }
            Role::Constraint(c) => {
                let kind = constraint_edit(c.kind, true);
                self.push(target, e.line, c.columns.first().cloned(), kind, None);
                1
            }
            Role::TableArgs => 0,
            Role::TableName => {
                self.push(target, e.line, None, EditKind::TableAdded, None);
                0
            }
            Role::Opaque => {
                self.push(target, e.line, None, EditKind::Unresolved, None);
                0
            }
        }
    }

    fn column_changed(
        &mut self,
        was: &ColumnSpec,
        now: &ColumnSpec,
        e: &Element,
        _b: &Element,
        line: u32,
        target: &Target,
    ) {
        let col = Some(now.name.clone());
        let spec = Some(now.clone());
        let before = self.out.edits.len();
        if was.name != now.name {
            // A new database name for the same attribute: the column is
            // renamed (the migration should use alter_column(new_column_name=)).
            self.push(
                target,
                line,
                Some(was.name.clone()),
                EditKind::ColumnDropped,
                Some(was.clone()),
            );
            self.push(target, line, col, EditKind::ColumnAdded, spec);
            return;
        }
        if was.type_ != now.type_ {
            self.push(
                target,
                line,
                col.clone(),
                EditKind::TypeChanged {
                    from: was.type_.clone(),
                    to: now.type_.clone(),
                },
                spec.clone(),
            );
        }
        if effective_nullable(was) != effective_nullable(now) {
            self.push(
                target,
                line,
                col.clone(),
                EditKind::NullableChanged {
                    to: effective_nullable(now),
                },
                spec.clone(),
            );
        }
        // `default=` / `onupdate=` are Python-side: no DDL, no migration
        // (only `server_default` and `server_onupdate` reach the database).
        if was.server_default != now.server_default {
            self.push(
                target,
                line,
                col.clone(),
                EditKind::ServerDefaultChanged,
                spec.clone(),
            );
        }
        if was.primary_key != now.primary_key {
            self.push(
                target,
                line,
                col.clone(),
                EditKind::PrimaryKeyChanged,
                spec.clone(),
            );
        }
        if was.unique != now.unique {
            let kind = if now.unique {
                EditKind::UniqueAdded
            } else {
                EditKind::UniqueRemoved
            };
            self.push(target, line, col.clone(), kind, spec.clone());
        }
        if was.index != now.index {
            let kind = if now.index {
                EditKind::IndexAdded
            } else {
                EditKind::IndexRemoved
            };
            self.push(target, line, col.clone(), kind, spec.clone());
        }
        if was.foreign_key != now.foreign_key {
            if was.foreign_key.is_some() {
                self.push(
                    target,
                    line,
                    col.clone(),
                    EditKind::ForeignKeyRemoved,
                    spec.clone(),
                );
            }
            if now.foreign_key.is_some() {
                self.push(
                    target,
                    line,
                    col.clone(),
                    EditKind::ForeignKeyAdded,
                    spec.clone(),
                );
            }
        }
        if self.out.edits.len() == before {
            // Same parsed spec, different tokens: either a non-DDL keyword
            // (doc=, info=) or a DDL option the spec does not model.
            let old_ddl = strip_non_ddl(&without_explicit_name(assigned_value(&_b.norm)));
            let new_ddl = strip_non_ddl(&without_explicit_name(assigned_value(&e.norm)));
            if old_ddl != new_ddl {
                self.push(target, line, col, EditKind::OptionChanged, spec);
            }
        }
    }

    fn tables(&mut self) {
        let old_by: BTreeMap<&str, _> = self
            .old
            .tables
            .iter()
            .map(|t| (t.variable.as_str(), t))
            .collect();
        let new_vars: BTreeSet<&str> = self
            .new
            .tables
            .iter()
            .map(|t| t.variable.as_str())
            .collect();
        for t in &self.new.tables {
            if t.ignored {
                continue;
            }
            let target = Target {
                table: t.table.clone(),
                owner: t.variable.clone(),
            };
            if t.table.is_none() {
                self.out.notes.push(format!(
                    "{}: Table assigned to `{}` has no literal name",
                    self.path, t.variable
                ));
            }
            match old_by.get(t.variable.as_str()) {
                None => {
                    self.push(&target, t.line, None, EditKind::TableAdded, None);
                    for e in t.elements.iter().filter(|e| !e.ignored) {
                        if let Role::Column(spec) = &e.role {
                            self.push(
                                &target,
                                e.line,
                                Some(spec.name.clone()),
                                EditKind::ColumnAdded,
                                Some(spec.clone()),
                            );
                        }
                        if let Role::Constraint(c) = &e.role
                            && matches!(c.kind, ConstraintKind::Index | ConstraintKind::UniqueIndex)
                        {
                            self.push(
                                &target,
                                e.line,
                                c.columns.first().cloned(),
                                EditKind::IndexAdded,
                                None,
                            );
                        }
                    }
                }
                Some(old) => {
                    if old.table != t.table {
                        let kind = match &old.table {
                            Some(from) => EditKind::TableRenamed { from: from.clone() },
                            None => EditKind::Unresolved,
                        };
                        self.push(&target, t.line, None, kind, None);
                    }
                    self.elements(&old.elements, &t.elements, &target, t.line, &[]);
                }
            }
        }
        for t in &self.old.tables {
            if !new_vars.contains(t.variable.as_str()) && !t.ignored {
                let target = Target {
                    table: t.table.clone(),
                    owner: t.variable.clone(),
                };
                let line = self.nearest_new_line(t.line);
                self.push(&target, line, None, EditKind::TableDropped, None);
            }
        }
    }

    fn loose(&mut self) {
        let old_keys: BTreeMap<&str, &Element> =
            self.old.loose.iter().map(|e| (e.key.as_str(), e)).collect();
        let new_keys: BTreeSet<&str> = self.new.loose.iter().map(|e| e.key.as_str()).collect();
        let unknown = Target {
            table: None,
            owner: "module".into(),
        };
        for e in &self.new.loose {
            if e.ignored {
                continue;
            }
            match old_keys.get(e.key.as_str()) {
                Some(b) if b.norm == e.norm => {}
                _ => {
                    let line = old_keys
                        .get(e.key.as_str())
                        .map_or(e.line, |b| first_changed_line(&b.norm, e));
                    let (target, kind, column) = match &e.role {
                        Role::Constraint(c) => {
                            let table = self.table_for_index(e);
                            (
                                Target {
                                    table,
                                    owner: "module".into(),
                                },
                                EditKind::IndexAdded,
                                c.columns.first().cloned(),
                            )
                        }
                        _ => (unknown.clone(), EditKind::Unresolved, None),
                    };
                    self.push(&target, line, column, kind, None);
                }
            }
        }
        for b in &self.old.loose {
            if !new_keys.contains(b.key.as_str()) && !b.ignored {
                let line = self.nearest_new_line(b.line);
                let (target, kind) = match &b.role {
                    Role::Constraint(_) => (
                        Target {
                            table: None,
                            owner: "module".into(),
                        },
                        EditKind::IndexRemoved,
                    ),
                    _ => (unknown.clone(), EditKind::Unresolved),
                };
                self.push(&target, line, None, kind, None);
            }
        }
    }

    /// `Index("ix", Post.title)` at module level: the table of `Post`.
    fn table_for_index(&self, e: &Element) -> Option<String> {
        e.norm.iter().find_map(|n| match n {
            Norm::Tok(name) => self
                .new
                .table_of(name)
                .or_else(|| self.new.table(name).and_then(|t| t.table.clone())),
            Norm::Str(_) => None,
        })
    }

    fn enums(&mut self) {
        for new in self
            .new
            .classes
            .iter()
            .filter(|c| c.kind == ClassKind::Enum && !c.ignored)
        {
            let old_members: BTreeSet<&str> = self
                .old
                .class(&new.name)
                .filter(|c| c.kind == ClassKind::Enum)
                .map(|c| c.members.iter().map(|(m, _)| m.as_str()).collect())
                .unwrap_or_default();
            let Some(old_class) = self.old.class(&new.name) else {
                continue;
            };
            let new_members: BTreeSet<&str> = new.members.iter().map(|(m, _)| m.as_str()).collect();
            let added: Vec<(&str, u32)> = new
                .members
                .iter()
                .filter(|(m, _)| !old_members.contains(m.as_str()))
                .map(|(m, l)| (m.as_str(), *l))
                .collect();
            let removed: Vec<&str> = old_class
                .members
                .iter()
                .filter(|(m, _)| !new_members.contains(m.as_str()))
                .map(|(m, _)| m.as_str())
                .collect();
            if added.is_empty() && removed.is_empty() {
                continue;
            }
            let users = self.enum_users(&new.name);
            for (target, column) in &users {
                for (member, line) in &added {
                    self.push(
                        target,
                        *line,
                        Some(column.clone()),
                        EditKind::EnumMemberAdded {
                            enum_name: new.name.clone(),
                            member: member.to_string(),
                        },
                        None,
                    );
                }
                for member in &removed {
                    self.push(
                        target,
                        new.line,
                        Some(column.clone()),
                        EditKind::EnumMemberRemoved {
                            enum_name: new.name.clone(),
                            member: member.to_string(),
                        },
                        None,
                    );
                }
            }
        }
    }

    /// Mapped columns (in this file) whose type is the enum.
    fn enum_users(&self, enum_name: &str) -> Vec<(Target, String)> {
        let mut out = Vec::new();
        let mentions = |spec: &ColumnSpec| {
            spec.type_.as_deref().is_some_and(|t| {
                t.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == enum_name)
            })
        };
        for class in &self.new.classes {
            let targets: Vec<Target> = match class.kind {
                ClassKind::Mapped => vec![Self::target_of(class)],
                ClassKind::Mixin => self.users_of(&class.name),
                _ => continue,
            };
            for e in &class.elements {
                if let Role::Column(spec) = &e.role
                    && mentions(spec)
                {
                    for t in &targets {
                        out.push((t.clone(), spec.name.clone()));
                    }
                }
            }
        }
        for t in &self.new.tables {
            for e in &t.elements {
                if let Role::Column(spec) = &e.role
                    && mentions(spec)
                {
                    out.push((
                        Target {
                            table: t.table.clone(),
                            owner: t.variable.clone(),
                        },
                        spec.name.clone(),
                    ));
                }
            }
        }
        out
    }

    /// Maps a line of the old file to the nearest line of the new one, by
    /// the position of the next class or table that survives.
    fn nearest_new_line(&self, old_line: u32) -> u32 {
        let anchors = &self.lookups.anchors;
        let after = anchors.partition_point(|(o, _)| *o <= old_line);
        if let Some((_, n)) = anchors.get(after) {
            return *n;
        }
        match anchors.last() {
            Some((o, n)) => n + (old_line - o),
            None => old_line.max(1),
        }
    }
}

/// The edit a constraint or index makes when it appears (`added`) or goes.
fn constraint_edit(kind: ConstraintKind, added: bool) -> EditKind {
    match (kind, added) {
        (ConstraintKind::Index | ConstraintKind::UniqueIndex, true) => EditKind::IndexAdded,
        (ConstraintKind::Index | ConstraintKind::UniqueIndex, false) => EditKind::IndexRemoved,
        (ConstraintKind::Unique, true) => EditKind::UniqueAdded,
        (ConstraintKind::Unique, false) => EditKind::UniqueRemoved,
        (ConstraintKind::ForeignKey, true) => EditKind::ForeignKeyAdded,
        (ConstraintKind::ForeignKey, false) => EditKind::ForeignKeyRemoved,
        _ => EditKind::TableArgsChanged,
    }
}

/// SQLAlchemy's defaults: primary keys are NOT NULL, other columns nullable.
fn effective_nullable(spec: &ColumnSpec) -> bool {
    spec.nullable.unwrap_or(!spec.primary_key)
}

/// The head-side line of the first token where two versions of an element
/// differ.
fn first_changed_line(old: &[Norm], new: &Element) -> u32 {
    let idx = old
        .iter()
        .zip(new.norm.iter())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| old.len().min(new.norm.len()));
    new.norm_lines
        .get(idx)
        .or(new.norm_lines.last())
        .copied()
        .unwrap_or(new.line)
}

/// For a removed element, the new line of the first old element after it
/// that survives, else of the last one before it, else the owner's line.
/// Computed for every position in one pass each way, so an owner with
/// thousands of removed elements costs linear time.
struct NearestLines<'e> {
    position: HashMap<&'e str, usize>,
    /// `after[i]`: the first surviving line among `old[i..]`.
    after: Vec<Option<u32>>,
    /// `before[i]`: the last surviving line among `old[..i]`.
    before: Vec<Option<u32>>,
    owner_line: u32,
}

impl<'e> NearestLines<'e> {
    fn new(old: &'e [Element], new: &[Element], owner_line: u32) -> Self {
        let mut new_line: HashMap<&str, u32> = HashMap::new();
        for n in new {
            new_line.entry(n.key.as_str()).or_insert(n.line);
        }
        let mut position = HashMap::new();
        for (i, e) in old.iter().enumerate() {
            position.entry(e.key.as_str()).or_insert(i);
        }
        let survives = |i: usize| new_line.get(old[i].key.as_str()).copied();
        let mut after = vec![None; old.len() + 1];
        for i in (0..old.len()).rev() {
            after[i] = survives(i).or(after[i + 1]);
        }
        let mut before = vec![None; old.len() + 1];
        for i in 0..old.len() {
            before[i + 1] = survives(i).or(before[i]);
        }
        NearestLines {
            position,
            after,
            before,
            owner_line,
        }
    }

    fn of(&self, removed: &Element) -> u32 {
        let pos = self
            .position
            .get(removed.key.as_str())
            .copied()
            .unwrap_or(0);
        self.after[pos + 1]
            .or(self.before[pos])
            .unwrap_or(self.owner_line)
    }
}

/// Drops `kw=value` pairs of non-DDL keywords from a normalised stream.
/// The value of an attribute assignment (`name[: annotation] = value`):
/// the attribute's name and a plain annotation are not DDL (a `Mapped[]`
/// annotation's type and nullability are already in the parsed spec).
/// Unchanged when there is no top-level `=` (a `Column` inside `Table()`).
fn assigned_value(norm: &[Norm]) -> &[Norm] {
    let mut depth = 0i32;
    for (i, n) in norm.iter().enumerate() {
        if let Norm::Tok(t) = n {
            match t.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                "=" if depth == 0 => return &norm[i + 1..],
                _ => {}
            }
        }
    }
    norm
}

/// A column call without its leading name argument (`Column("tiers",
/// ...)`): the name is compared through the parsed spec already.
fn without_explicit_name(norm: &[Norm]) -> Vec<Norm> {
    let open = norm
        .iter()
        .position(|n| matches!(n, Norm::Tok(t) if t == "("));
    match open {
        Some(i) if matches!(norm.get(i + 1), Some(Norm::Str(_))) => {
            let skip = if matches!(norm.get(i + 2), Some(Norm::Tok(t)) if t == ",") {
                2
            } else {
                1
            };
            norm[..=i]
                .iter()
                .chain(&norm[i + 1 + skip..])
                .cloned()
                .collect()
        }
        _ => norm.to_vec(),
    }
}

fn strip_non_ddl(norm: &[Norm]) -> Vec<Norm> {
    let mut out = Vec::with_capacity(norm.len());
    let mut i = 0;
    while i < norm.len() {
        let is_kw = matches!(&norm[i], Norm::Tok(t) if NON_DDL_KWARGS.contains(&t.as_str()))
            && matches!(norm.get(i + 1), Some(Norm::Tok(eq)) if eq == "=")
            && i > 0
            && matches!(&norm[i - 1], Norm::Tok(p) if p == "(" || p == ",");
        if is_kw {
            let mut depth = 0i32;
            let mut j = i + 2;
            while j < norm.len() {
                if let Norm::Tok(t) = &norm[j] {
                    match t.as_str() {
                        "(" | "[" | "{" => depth += 1,
                        ")" | "]" | "}" if depth == 0 => break,
                        ")" | "]" | "}" => depth -= 1,
                        "," if depth == 0 => {
                            j += 1;
                            break;
                        }
                        _ => {}
                    }
                }
                j += 1;
            }
            // Drop the comma we may have left dangling before a closer.
            if matches!(out.last(), Some(Norm::Tok(c)) if c == ",")
                && matches!(norm.get(j), Some(Norm::Tok(c)) if c == ")")
            {
                out.pop();
            }
            i = j;
            continue;
        }
        out.push(norm[i].clone());
        i += 1;
    }
    out
}
