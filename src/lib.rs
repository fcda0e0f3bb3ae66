//! alembot keeps SQLAlchemy models, Alembic migrations and real databases in step.

pub mod change;
pub mod config;
pub mod findings;
pub mod models;
pub mod python;
pub mod schema;
