//! Model diffing must stay linear in the size of the file: a 4 MB model
//! file once took 51 s (every lookup scanned every class). Target: a 4 MB
//! file diffed in under 1 s (release build).
//!
//! `cargo bench --bench model_diff` prints the time for 1, 2 and 4 MB and
//! exits 1 when the 4 MB diff misses the target or the time grows much
//! faster than the size.

use std::time::{Duration, Instant};

use alembot::models::diff_models;

const TARGET: Duration = Duration::from_secs(1);

/// A model file of about `bytes`: mapped classes with columns, indexes and
/// an enum, a mixin, module-level tables and indexes. `edited` changes
/// every 7th class (a widened column, a new column), drops every 11th and
/// adds one, so the diff has real work on every path.
fn model_file(bytes: usize, edited: bool) -> String {
    let mut out = String::from(
        "import enum\n\nfrom sqlalchemy import Column, Enum, ForeignKey, Index, Integer, String, Table\n\
         from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\n\
         class Stamped:\n    created = Column(Integer, nullable=False)\n\n\n\
         class Status(enum.Enum):\n    active = \"active\"\n    gone = \"gone\"\n",
    );
    if edited {
        out.push_str("    paused = \"paused\"\n");
    }
    let mut i = 0usize;
    while out.len() < bytes {
        let dropped = edited && i % 11 == 3;
        if !dropped {
            let width = if edited && i % 7 == 0 { 200 } else { 100 };
            out.push_str(&format!(
                "\n\nclass Model{i}(Stamped, Base):\n    __tablename__ = \"model_{i}\"\n    \
                 __table_args__ = (Index(\"ix_model_{i}_name\", \"name\"),)\n\n    \
                 id = Column(Integer, primary_key=True)\n    \
                 name = Column(String({width}), nullable=False)\n    \
                 status = Column(Enum(Status), nullable=True)\n    \
                 parent_id = Column(Integer, ForeignKey(\"model_{}.id\"), index=True)\n    \
                 note = Column(String(500), server_default=\"\")\n",
                i.saturating_sub(1)
            ));
            if edited && i % 7 == 0 {
                out.push_str("    extra = Column(Integer)\n");
            }
            out.push_str(&format!(
                "\n    def __repr__(self):\n        return f\"<Model{i} {{self.id}}>\"\n"
            ));
        }
        if i % 50 == 0 {
            out.push_str(&format!(
                "\n\nlink_{i} = Table(\n    \"link_{i}\",\n    Base.metadata,\n    \
                 Column(\"a\", Integer, ForeignKey(\"model_{i}.id\")),\n)\n\
                 Index(\"ix_link_{i}_a\", link_{i}.c.a)\n"
            ));
        }
        i += 1;
    }
    if edited {
        out.push_str("\n\nclass Added(Base):\n    __tablename__ = \"added\"\n    id = Column(Integer, primary_key=True)\n");
    }
    out
}

fn time_diff(bytes: usize) -> (Duration, usize) {
    let old = model_file(bytes, false);
    let new = model_file(bytes, true);
    let mut best = Duration::MAX;
    let mut edits = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let out = diff_models("app/models.py", Some(&old), Some(&new));
        best = best.min(started.elapsed());
        edits = out.edits.len();
    }
    (best, edits)
}

fn main() {
    let mb = 1 << 20;
    let mut times = Vec::new();
    for size in [mb, 2 * mb, 4 * mb] {
        let (t, edits) = time_diff(size);
        println!(
            "model diff, {} MB: {:.3} s ({edits} schema edits), best of 3",
            size / mb,
            t.as_secs_f64()
        );
        times.push(t);
    }
    let (one, four) = (times[0], times[2]);
    let growth = four.as_secs_f64() / one.as_secs_f64().max(1e-9);
    println!("4 MB / 1 MB time: {growth:.1}x (linear is 4x)");
    let mut failed = false;
    if four > TARGET {
        eprintln!("FAIL: the 4 MB diff took {four:?}, target {TARGET:?}");
        failed = true;
    }
    // Noise on a shared machine makes the ratio wobble; a quadratic diff
    // gives 16x.
    if growth > 8.0 {
        eprintln!("FAIL: the time grows {growth:.1}x for 4x the size: not linear");
        failed = true;
    }
    if failed {
        std::process::exit(1);
    }
}
