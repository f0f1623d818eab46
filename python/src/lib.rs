//! Python bindings for kycvs.
