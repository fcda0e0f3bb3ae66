//! The errors that end a run with exit code 2: usage, configuration or
//! environment problems. Findings are not errors; they are the report.

use crate::analysis::AnalysisError;
use crate::change::ChangeError;
use crate::config::ConfigError;
use crate::github::GithubError;
use crate::github::event::EventError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error("{path}: cannot write the report: {source}")]
    Output {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Hook(#[from] crate::hook::HookError),
    #[error(transparent)]
    Job(#[from] crate::job::JobError),
    #[error(transparent)]
    Provider(#[from] crate::job::provider::ProviderError),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// 2 for usage, configuration and environment errors; 130 / 143 when
    /// a signal stopped the job.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Job(e) => e.exit_code(),
            _ => 2,
        }
    }
}
