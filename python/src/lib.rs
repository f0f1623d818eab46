//! Python bindings for kycvs: the native module `kycvs._kycvs`.
//!
//! This crate only converts: Python arguments are copied into Rust values, the core does the
//! work (with the GIL released for signing and verification), and core errors become the
//! exceptions of `kycvs/exceptions.py` in one place, `errors.rs`.

mod bundle;
mod consent;
mod convert;
mod errors;
mod issue;
mod keys;
mod replay;
mod verify;

use kycvs_core::ErrorCode;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Panics inside the panic guard, so that tests can check a panic becomes
/// `kycvs.InternalError` and never `PanicException`.
#[pyfunction]
fn _test_panic() -> errors::Result<()> {
    errors::guard(|| -> kycvs_core::Result<()> { panic!("deliberate panic for the test suite") })?;
    Ok(())
}

/// The curve arithmetic this process verifies and signs with, chosen once by CPUID:
/// `"avx512ifma"`, `"avx2"` or `"serial"`. It changes only the speed, never a verdict.
#[pyfunction]
fn backend() -> &'static str {
    kycvs_core::backend().as_str()
}

#[pymodule]
fn _kycvs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let codes = PyDict::new(py);
    for code in ErrorCode::ALL {
        codes.set_item(code.as_str(), code.number())?;
    }
    m.add("ERROR_CODES", codes)?;
    m.add_class::<keys::SigningKey>()?;
    m.add_class::<keys::TrustStore>()?;
    m.add_class::<bundle::TrustBundle>()?;
    m.add_class::<issue::Issuer>()?;
    m.add_class::<verify::Verifier>()?;
    m.add_class::<verify::VerifiedStatus>()?;
    m.add_class::<consent::Registry>()?;
    m.add_class::<consent::VaccineSchedule>()?;
    m.add_class::<consent::IssuanceService>()?;
    m.add_class::<consent::ConsentStarter>()?;
    m.add_class::<consent::ConsentCompleter>()?;
    m.add_class::<consent::ConsentChallenge>()?;
    m.add_class::<consent::ReplayGuard>()?;
    m.add_function(wrap_pyfunction!(verify::inspect_unverified, m)?)?;
    m.add_function(wrap_pyfunction!(backend, m)?)?;
    m.add_function(wrap_pyfunction!(_test_panic, m)?)?;
    Ok(())
}
