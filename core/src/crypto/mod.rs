//! Keys and signatures: Ed25519 keys with validated encodings, the one signature semantics
//! (single and batch) every token and bundle is checked with, and keyed MACs.

pub(crate) mod backend;
pub(crate) mod keys;
pub(crate) mod mac;
pub mod signature;
