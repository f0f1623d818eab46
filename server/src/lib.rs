//! kycvs-server: the KYC-VS issuer's HTTP service.
//!
//! A verifier client (a booking system) starts a consent with the person's mobile number,
//! name and its transaction nonce; the person receives an OTP by SMS; the client completes
//! the consent with the OTP and receives a signed vaccination-status token for its own
//! audience. All of the logic is in `kycvs-core`; this crate translates HTTP to the core's
//! calls and back, keeps consents in SQLite (or memory), delivers OTPs, and publishes the
//! issuer's JWKS. See README "Run the service" and docs/openapi.yaml.

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod page;
pub mod session;
pub mod sms;
pub mod store;
