//! End-to-end tests: the alembot binary on real git repositories.

mod github;
