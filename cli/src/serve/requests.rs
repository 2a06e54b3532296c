//! What clients ask the service for, and why it refuses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A client's request to run a pipeline.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// A `.dip` file (absolute, or relative to `workdir`) or a built-in's name.
    #[serde(default)]
    pub pipeline: Option<String>,
    /// The pipeline's text, instead of a file.
    #[serde(default)]
    pub pipeline_text: Option<String>,
    /// Where its tools work and its run directory goes (absolute).
    pub workdir: PathBuf,
    /// Values for the pipeline's declared variables.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Answer its gates automatically (otherwise each gate waits for an
    /// answer over the API).
    #[serde(default)]
    pub auto_approve: bool,
    /// Run every agent node on this provider (`stub`: the offline one).
    #[serde(default)]
    pub provider: Option<String>,
    /// Run every agent node with this model.
    #[serde(default)]
    pub model: Option<String>,
}

/// Why a request was refused: the client's mistake (4xx) or the service's.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request names something wrong; the message says what.
    #[error("{0}")]
    Invalid(String),
    /// No run has that id.
    #[error("no run {0:?} in this service")]
    UnknownRun(String),
    /// The request conflicts with the run's state (going already, held by
    /// another process, finished).
    #[error("{0}")]
    Conflict(String),
    /// The service cannot take it now (out of open files); trying again
    /// later may work.
    #[error("{0}")]
    Unavailable(String),
    /// The service could not do it.
    #[error("{0}")]
    Internal(String),
}

/// What a client asks to resume a run with.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    /// Where a run this service does not know was recorded (absolute).
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// Values for its variables (for a run this service drove, added to
    /// those it had).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Answer its gates automatically.
    #[serde(default)]
    pub auto_approve: bool,
    /// Its agents' provider (for a run this service drove, instead of the
    /// one it had).
    #[serde(default)]
    pub provider: Option<String>,
    /// Its agents' model (likewise).
    #[serde(default)]
    pub model: Option<String>,
}
