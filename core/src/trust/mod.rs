//! What a verifier trusts: the trust store (issuer-bound keys, JWKS) and signed trust
//! bundles that carry one under a pinned root key.

pub(crate) mod bundle;
pub(crate) mod store;
