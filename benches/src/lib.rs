//! Shared fixtures for the kycvs benchmarks (`benches/benches/`): issuer keys, tokens and the
//! equivalent raw Ed25519 and JWT inputs, so that every bench sits beside its baseline on the
//! same bytes; and a redis-server of their own ([`RedisServer`]).

mod redis_server;
pub use redis_server::RedisServer;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kycvs_core::{
    BatchItem, Issuer, Policy, SigningKey, TokenRequest, TrustStore, VaccinationStatus, Verifier,
};

/// The fixed time at which fixtures are issued and verified.
pub const NOW: u64 = 1_800_000_000;
/// The audience of every fixture token.
pub const AUDIENCE: &str = "irctc.example";
/// The issuer id of every fixture token.
pub const ISSUER: &str = "cowin.example";
/// The nonce of every fixture token.
pub const NONCE: &str = "PNR-4711";
/// The batch sizes of `verify/batch/*`.
pub const BATCH_SIZES: [usize; 4] = [16, 64, 256, 1024];
/// How many issuer keys sign the "mixed keys" batches, in turn.
pub const MIXED_KEYS: usize = 16;

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
        raw_parts(&self.token)
    }
}

/// A token's signing input and its signature, decoded.
pub fn raw_parts(token: &str) -> (Vec<u8>, ed25519_dalek::Signature) {
    let dot = token.rfind('.').expect("three segments");
    let signature = URL_SAFE_NO_PAD
        .decode(&token[dot + 1..])
        .expect("base64url");
    let signature: [u8; 64] = signature.try_into().expect("64 bytes");
    (
        token.as_bytes()[..dot].to_vec(),
        ed25519_dalek::Signature::from_bytes(&signature),
    )
}

/// `n` tokens signed in turn by `keys` issuer keys, a verifier trusting them all, and the raw
/// Ed25519 inputs of each token for the baselines.
pub struct Batch {
    /// A verifier trusting every key of the batch.
    pub verifier: Verifier,
    /// The tokens, each with its own subject.
    pub tokens: Vec<String>,
    /// Per token: its signing input.
    pub messages: Vec<Vec<u8>>,
    /// Per token: its signature.
    pub signatures: Vec<ed25519_dalek::Signature>,
    /// Per token: the public key that signed it.
    pub keys: Vec<ed25519_dalek::VerifyingKey>,
}

impl Batch {
    /// Builds `n` tokens from `keys` distinct issuer keys (1 = one issuer).
    pub fn new(n: usize, keys: usize) -> Batch {
        let mut trust = TrustStore::new();
        let issuers: Vec<(Issuer, ed25519_dalek::VerifyingKey)> = (0..keys)
            .map(|i| {
                let seed = [u8::try_from(i + 1).expect("at most 255 keys"); 32];
                let key = SigningKey::from_seed(&seed);
                trust.add(key.public_key().clone(), ISSUER).expect("trust");
                let dalek = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
                (Issuer::new(key, ISSUER).expect("issuer"), dalek)
            })
            .collect();
        let verifier = Verifier::new(trust, Policy::new(AUDIENCE)).expect("verifier");
        let mut batch = Batch {
            verifier,
            tokens: Vec::with_capacity(n),
            messages: Vec::with_capacity(n),
            signatures: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
        };
        for i in 0..n {
            let (issuer, key) = &issuers[i % keys];
            let subject = format!("pseudonym-{i:06}");
            let token = issuer.issue(&request(&subject), NOW).expect("token");
            let (message, signature) = raw_parts(&token);
            batch.tokens.push(token);
            batch.messages.push(message);
            batch.signatures.push(signature);
            batch.keys.push(*key);
        }
        batch
    }

    /// The batch items, each expecting [`NONCE`].
    pub fn items(&self) -> Vec<BatchItem<'_>> {
        self.tokens
            .iter()
            .map(|t| BatchItem::new(t, NONCE))
            .collect()
    }

    /// The signing inputs as slices, as `ed25519_dalek::verify_batch` takes them.
    pub fn message_slices(&self) -> Vec<&[u8]> {
        self.messages.iter().map(Vec::as_slice).collect()
    }
}

/// The claims of a fixture token as an ordinary JWT, for the jsonwebtoken baseline.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct JwtClaims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Issued at.
    pub iat: u64,
    /// Expiry.
    pub exp: u64,
    /// Token id.
    pub jti: String,
    /// Nonce.
    pub nonce: String,
    /// Vaccination status.
    pub vs: u8,
}

/// The jsonwebtoken baseline: an EdDSA JWT with the fixture's claims, header `typ` and `kid`,
/// signed by the fixture's key, and what jsonwebtoken needs to sign and decode it.
pub struct Jwt {
    /// The token.
    pub token: String,
    /// The header it is issued with.
    pub header: jsonwebtoken::Header,
    /// Its claims.
    pub claims: JwtClaims,
    /// The signing key.
    pub encoding: jsonwebtoken::EncodingKey,
    /// The public key.
    pub decoding: jsonwebtoken::DecodingKey,
    /// Audience, issuer, expiry and leeway as kycvs checks them.
    pub validation: jsonwebtoken::Validation,
}

impl Jwt {
    /// The equivalent of `fixture.token` as a jsonwebtoken EdDSA JWT.
    pub fn new(fixture: &Fixture) -> Jwt {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let unverified = kycvs_core::inspect_unverified(&fixture.token).expect("inspect");
        let claims: JwtClaims = serde_json::from_value(unverified.claims).expect("claims");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.typ = Some("kycvs+jwt".into());
        header.kid = unverified.header["kid"].as_str().map(str::to_owned);
        let der = fixture.dalek.to_pkcs8_der().expect("pkcs8");
        let encoding = jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes());
        let x = URL_SAFE_NO_PAD.encode(fixture.dalek.verifying_key().as_bytes());
        let decoding = jsonwebtoken::DecodingKey::from_ed_components(&x).expect("key");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 60;
        // The fixtures are issued at a fixed time; jsonwebtoken reads the system clock, so
        // expiry is not checked here (kycvs checks it: the baseline does slightly less).
        validation.validate_exp = false;
        let token = jsonwebtoken::encode(&header, &claims, &encoding).expect("encode");
        Jwt {
            token,
            header,
            claims,
            encoding,
            decoding,
            validation,
        }
    }

    /// Decodes and validates the token as a jsonwebtoken user would.
    pub fn decode(&self, token: &str) -> JwtClaims {
        jsonwebtoken::decode::<JwtClaims>(token, &self.decoding, &self.validation)
            .expect("valid")
            .claims
    }
}
