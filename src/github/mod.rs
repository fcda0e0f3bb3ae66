//! The pull-request bot: GitHub event payloads, the comment command parser,
//! the REST client (octocrab) with its retry policy, and publishing a report
//! as one sticky review or comment, inline comments, a check run and SARIF.
//!
//! Pure modules (`event`, `command`, `decide`, `body`, `signature`) know
//! nothing of HTTP; `client` and `publish` do the I/O and return plain data. The
//! command that composes them is `commands::github`.

pub mod actions;
pub mod body;
pub mod client;
pub mod command;
pub mod decide;
pub mod event;
pub mod publish;
pub mod retry;
pub mod signature;

pub use client::{Github, GithubError, RepoName};
