//! Shared fixtures for the kycvs benchmarks (`benches/benches/`): one issuer key, a token and
//! the equivalent raw Ed25519 inputs, so that every bench sits beside its baseline on the
//! same bytes.

use kycvs_core::{
    Issuer, Policy, SigningKey, TokenRequest, TrustStore, VaccinationStatus, Verifier,
};

/// The fixed time at which fixtures are issued and verified.
pub const NOW: u64 = 1_800_000_000;
/// The audience of every fixture token.
pub const AUDIENCE: &str = "irctc.example";
/// The issuer id of every fixture token.
pub const ISSUER: &str = "cowin.example";
/// The nonce of every fixture token.
pub const NONCE: &str = "PNR-4711";

/// An issuer, a verifier that trusts it, and one of its tokens.
pub struct Fixture {
    /// The issuer (deterministic key from `seed`).
    pub issuer: Issuer,
    /// The raw signing key of the issuer, for the baseline.
    pub dalek: ed25519_dalek::SigningKey,
    /// A verifier trusting the issuer's key for [`AUDIENCE`].
    pub verifier: Verifier,
    /// A token issued at [`NOW`].
    pub token: String,
}

/// The request every fixture token is issued for.
pub fn request(subject: &str) -> TokenRequest<'_> {
    TokenRequest {
        audience: AUDIENCE,
        nonce: NONCE,
        subject,
        status: VaccinationStatus::FullyVaccinated,
        ttl: 300,
    }
}

impl Fixture {
    /// Builds the fixture from a 32-byte seed.
    pub fn new(seed: u8) -> Fixture {
        let seed = [seed; 32];
        let key = SigningKey::from_seed(&seed);
        let mut trust = TrustStore::new();
        trust.add(key.public_key().clone(), ISSUER).expect("trust");
        let issuer = Issuer::new(key, ISSUER).expect("issuer");
        let verifier = Verifier::new(trust, Policy::new(AUDIENCE)).expect("verifier");
        let token = issuer
            .issue(&request("pseudonym-0001"), NOW)
            .expect("token");
        Fixture {
            issuer,
            dalek: ed25519_dalek::SigningKey::from_bytes(&seed),
            verifier,
            token,
        }
    }

    /// The token's signing input (`header.claims`) and its 64-byte signature, decoded.
    pub fn signing_input_and_signature(&self) -> (Vec<u8>, ed25519_dalek::Signature) {
        use base64::Engine as _;
        let dot = self.token.rfind('.').expect("three segments");
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.token[dot + 1..])
            .expect("base64url");
        let signature: [u8; 64] = signature.try_into().expect("64 bytes");
        (
            self.token.as_bytes()[..dot].to_vec(),
            ed25519_dalek::Signature::from_bytes(&signature),
        )
    }
}
