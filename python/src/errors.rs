//! The one place where a kycvs error becomes a Python exception.
//!
//! The exception classes are plain Python (`kycvs/exceptions.py`); this module looks the class
//! up by the core's stable code name and raises it with `.code`, `.number` and the detail as
//! message. Core calls run inside [`guard`], so a Rust panic surfaces as `kycvs.InternalError`
//! (code `panic`) rather than pyo3's `PanicException`.

use kycvs_core::ErrorCode;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// An error on its way to Python: either a core error, mapped by its code, or an exception
/// that Python itself raised while converting arguments.
pub(crate) enum Error {
    Core(kycvs_core::Error),
    Py(PyErr),
}

/// Shorthand for results of binding functions.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<kycvs_core::Error> for Error {
    fn from(e: kycvs_core::Error) -> Self {
        Error::Core(e)
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error::Py(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Py(e) => e,
            Error::Core(e) => Python::attach(|py| raise(py, &e).unwrap_or_else(|failed| failed)),
        }
    }
}

/// `kycvs.exceptions.EXCEPTIONS_BY_CODE`, imported on first use.
static EXCEPTIONS_BY_CODE: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

/// Builds the exception for `e`; `Err` only if the exceptions module itself is broken.
fn raise(py: Python<'_>, e: &kycvs_core::Error) -> PyResult<PyErr> {
    let classes = EXCEPTIONS_BY_CODE.import(py, "kycvs.exceptions", "EXCEPTIONS_BY_CODE")?;
    let code = e.code();
    let class = match classes.get_item(code.as_str())? {
        Some(class) => class,
        // A code newer than the Python layer still raises a kycvs error, with its own code.
        None => classes
            .get_item(ErrorCode::Panic.as_str())?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(ErrorCode::Panic.as_str()))?,
    };
    let exc = class.call1((e.detail(),))?;
    exc.setattr("code", code.as_str())?;
    exc.setattr("number", code.number())?;
    Ok(PyErr::from_value(exc))
}

/// Runs a core call, turning a panic into the `panic` error code.
pub(crate) fn guard<T>(f: impl FnOnce() -> kycvs_core::Result<T>) -> kycvs_core::Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(kycvs_core::Error::new(
            ErrorCode::Panic,
            "a panic was caught inside kycvs; this is a bug, please report it",
        ))
    })
}

/// A conversion failure of a Python argument that is a value error, not a type error.
pub(crate) fn invalid_argument(detail: String) -> Error {
    Error::Core(kycvs_core::Error::new(ErrorCode::InvalidArgument, detail))
}
