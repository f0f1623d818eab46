//! How a command ends: its outcome, or a configuration error reported on one line.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// The exit code of a usage or configuration error; clap uses 2 for usage errors too.
pub fn config_error() -> ExitCode {
    ExitCode::from(2)
}

/// What a command that ran to the end found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything succeeded: exit 0.
    Success,
    /// At least one token was rejected, or a demo expectation failed: exit 1.
    Rejected,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Rejected => ExitCode::FAILURE,
        }
    }
}

/// A usage or configuration error: the command could not do its work at all (exit 2).
///
/// The message is always one line and never holds key material.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    /// An error with a message of our own.
    pub fn new(message: impl Into<String>) -> CliError {
        CliError(one_line(message.into()))
    }

    /// An error the core reported about something named `what` (a file, an argument).
    pub fn core(what: impl fmt::Display, error: &kycvs_core::Error) -> CliError {
        CliError::new(format!("{what}: {error}"))
    }

    /// An I/O error on `path` while doing `action` ("cannot read", "cannot write").
    pub fn io(action: &str, path: &Path, error: &std::io::Error) -> CliError {
        CliError::new(format!("{action} {}: {error}", path.display()))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// A path or a detail may hold a line break; stderr must still get one line per error.
fn one_line(message: String) -> String {
    if message.chars().any(char::is_control) {
        message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    } else {
        message
    }
}

/// Prints one line on stdout. Unlike `println!`, a closed pipe is an error, not a panic.
pub fn print_line(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::new(format!("cannot write output: {e}")))
}

/// Prints `kycvs: <message>` on stderr as one line; there is nowhere to report a failure.
pub fn warn(message: &str) {
    let _ = writeln!(io::stderr(), "kycvs: {}", one_line(message.to_owned()));
}
