//! C library for kycvs.
