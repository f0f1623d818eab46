//! The issuer side: signing tokens, the beneficiary registry, pairwise pseudonyms, and the
//! consent flow (begin with the registry, complete with the signer) with its stores.

pub(crate) mod consent;
pub(crate) mod pseudonym;
pub(crate) mod registry;
pub(crate) mod service;
pub(crate) mod signer;
