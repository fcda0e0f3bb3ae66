//! alembot keeps SQLAlchemy models, Alembic migrations and real databases in step.

pub mod findings;
pub mod python;
