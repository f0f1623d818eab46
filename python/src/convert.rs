//! Copying Python arguments into Rust values, and core values back into Python objects.

use crate::errors::{Error, Result, invalid_argument};
use kycvs_core::ErrorCode;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PyString};
use zeroize::Zeroizing;

/// Copies a `str` or `bytes` argument as UTF-8 text. Bytes that are not UTF-8, and strings with
/// lone surrogates, fail with `bad_text`: the input is as unreadable as a malformed token or key.
/// The copy is zeroized on drop because it may be a private key.
pub(crate) fn text(
    obj: &Bound<'_, PyAny>,
    name: &str,
    bad_text: ErrorCode,
) -> Result<Zeroizing<String>> {
    let bad = || not_utf8(name, bad_text);
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.to_cow() {
            Ok(cow) => Ok(Zeroizing::new(cow.into_owned())),
            Err(_) => Err(bad()),
        };
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return match std::str::from_utf8(b.as_bytes()) {
            Ok(s) => Ok(Zeroizing::new(s.to_owned())),
            Err(_) => Err(bad()),
        };
    }
    Err(type_error(obj, name, "str or bytes"))
}

/// Copies a `str` or `bytes` argument as raw bytes (a `str` as its UTF-8 encoding).
pub(crate) fn bytes(obj: &Bound<'_, PyAny>, name: &str, bad_text: ErrorCode) -> Result<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        // One copy at most (`verify_batch` converts every token through here).
        return match s.to_cow() {
            Ok(cow) => Ok(cow.into_owned().into_bytes()),
            Err(_) => Err(not_utf8(name, bad_text)),
        };
    }
    Err(type_error(obj, name, "str or bytes"))
}

/// The error for a text argument that is not UTF-8: the core's `code`.
fn not_utf8(name: &str, code: ErrorCode) -> Error {
    Error::Core(kycvs_core::Error::new(
        code,
        format!("{name} is not valid UTF-8 text"),
    ))
}

/// Reads an `int` argument (not `bool`) as a `u64`. A negative or too large value is a
/// value error (`InvalidArgumentError`); the core then checks the documented range.
pub(crate) fn u64_arg(obj: &Bound<'_, PyAny>, name: &str) -> Result<u64> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(type_error(obj, name, "int"));
    }
    obj.extract::<u64>()
        .map_err(|_| invalid_argument(format!("{name} must be an integer from 0 to 2**64 - 1")))
}

/// Reads an optional `int` argument, `None` meaning `default`.
pub(crate) fn u64_or(obj: Option<&Bound<'_, PyAny>>, name: &str, default: u64) -> Result<u64> {
    Ok(opt_u64(obj, name)?.unwrap_or(default))
}

/// Reads an optional `int` argument, keeping `None` as `None`.
pub(crate) fn opt_u64(obj: Option<&Bound<'_, PyAny>>, name: &str) -> Result<Option<u64>> {
    match obj {
        Some(obj) if !obj.is_none() => u64_arg(obj, name).map(Some),
        _ => Ok(None),
    }
}

fn type_error(obj: &Bound<'_, PyAny>, name: &str, expected: &str) -> Error {
    let got = obj
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    Error::Py(PyTypeError::new_err(format!(
        "{name} must be {expected}, not {got}"
    )))
}

/// Converts a JSON value to the Python object `json.loads` would give.
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    value: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(members) => {
            let dict = PyDict::new(py);
            for (k, v) in members {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A string as Python's `repr` writes it (for `__repr__` output).
pub(crate) fn repr_str(py: Python<'_>, s: &str) -> String {
    PyString::new(py, s)
        .repr()
        .map_or_else(|_| format!("{s:?}"), |r| r.to_string())
}
