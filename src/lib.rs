//! alembot keeps SQLAlchemy models, Alembic migrations and real databases in step.

pub mod alembic;
pub mod change;
pub mod detect;
pub mod findings;
pub mod python;
pub mod schema;
