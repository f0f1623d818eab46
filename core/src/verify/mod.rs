//! Verification: the verifier and its policy (single and batch, same verdicts) and the
//! replay guard.

pub(crate) mod replay;
pub(crate) mod verifier;
