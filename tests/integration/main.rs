//! End-to-end tests: the alembot binary on real git repositories (and, for
//! the dynamic job, real Python, Alembic and databases).

mod bad_input;
mod cache;
mod check;
mod cleanup;
mod crosscheck;
mod discovery;
mod dynamic;
mod github;
mod hardening;
mod hook;
mod lexer_field;
mod snapshot;
mod status;
mod support;
mod verify;
