//! Replay stores written in Python: any object with `check_and_record_all(entries, now)`
//! (the `kycvs.ReplayStore` protocol) serves a verifier as its replay store.

use crate::errors::Result;
use kycvs_core::{Error, ErrorCode, ReplayEntry, ReplayStore};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::fmt;
use std::sync::Arc;

/// A Python object used as the core's [`ReplayStore`]. Called with the GIL held (the
/// verifier releases it while verifying and takes it back for this call).
pub(crate) struct PyReplayStore {
    object: Py<PyAny>,
}

impl PyReplayStore {
    /// Wraps `object`. Error: `TypeError` when it has no callable `check_and_record_all`.
    pub(crate) fn shared(object: &Bound<'_, PyAny>) -> Result<Arc<dyn ReplayStore>> {
        let callable = object
            .getattr("check_and_record_all")
            .map(|m| m.is_callable())
            .unwrap_or(false);
        if !callable {
            return Err(PyTypeError::new_err(
                "replay_guard must be a kycvs.ReplayGuard or have a check_and_record_all(entries, now) method",
            )
            .into());
        }
        Ok(Arc::new(PyReplayStore {
            object: object.clone().unbind(),
        }))
    }
}

impl fmt::Debug for PyReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PyReplayStore")
    }
}

fn unavailable(detail: &'static str) -> Error {
    Error::new(ErrorCode::ReplayStoreUnavailable, detail)
}

impl ReplayStore for PyReplayStore {
    fn check_and_record_all(
        &self,
        entries: &[ReplayEntry<'_>],
        now: u64,
    ) -> Vec<kycvs_core::Result<()>> {
        let answers: Option<Vec<bool>> = Python::attach(|py| {
            let list: Vec<(String, u64)> = entries
                .iter()
                .map(|e| (e.jti.to_owned(), e.keep_until))
                .collect();
            let answer = self
                .object
                .call_method1(py, "check_and_record_all", (list, now))
                .ok()?;
            answer.extract::<Vec<bool>>(py).ok()
        });
        match answers {
            Some(answers) if answers.len() == entries.len() => answers
                .into_iter()
                .map(|new| {
                    if new {
                        Ok(())
                    } else {
                        Err(Error::new(
                            ErrorCode::Replayed,
                            "this jti was already presented",
                        ))
                    }
                })
                .collect(),
            _ => entries
                .iter()
                .map(|_| {
                    Err(unavailable(
                        "the replay store raised or did not answer one bool per token",
                    ))
                })
                .collect(),
        }
    }
}
