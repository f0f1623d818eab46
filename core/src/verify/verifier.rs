//! The verifier: a trust store plus a policy, turning untrusted tokens into verified statuses.

use crate::crypto::keys::PublicKey;
use crate::crypto::signature::{
    PreparedSignature, bad_signature, check_encodings, equation_holds, equations_hold, prepare,
    prepare_all,
};
use crate::error::{Error, ErrorCode, Result, err};
use crate::jose::token::{
    Claims, KnownHeaders, MAX_ID_LEN, MAX_TOKEN_LEN, UntrustedToken, is_valid_id,
};
use crate::status::VaccinationStatus;
use crate::trust::store::{TrustStore, TrustedKey};
use crate::verify::replay::{MIN_OVERLAPPED_BATCH, ReplayEntry, ReplayGuard, ReplayStore};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// The default clock-skew allowance, in seconds.
pub const DEFAULT_LEEWAY: u64 = 60;
/// The default maximum token lifetime (`exp - iat`), in seconds.
pub const DEFAULT_MAX_LIFETIME: u64 = 3600;
/// The fewest tokens `verify_batch` hands to one thread: below this the batch
/// equation's saving per token shrinks faster than a second core helps.
const MIN_PARALLEL_CHUNK: usize = 64;
/// The largest leeway a policy may set, in seconds.
pub const MAX_LEEWAY: u64 = 3600;
/// The largest maximum lifetime a policy may set, in seconds (one day).
pub const MAX_MAX_LIFETIME: u64 = 86_400;

/// What a verifier requires of a token beyond its signature.
///
/// Built with [`Policy::new`] and edited in place with the `set_*` methods (or by value with
/// the `with_*` ones); the values are checked when a [`Verifier`] is made from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    audience: String,
    issuers: Option<Vec<String>>,
    leeway: u64,
    max_lifetime: u64,
    check_nonce: bool,
}

impl Policy {
    /// A policy for the verifier `audience` (required: a token's `aud` must equal it).
    /// Accepted issuers default to every issuer in the trust store, leeway to
    /// [`DEFAULT_LEEWAY`] (60 s), maximum lifetime to [`DEFAULT_MAX_LIFETIME`] (3600 s), and
    /// the nonce check to required (every verification names the nonce it expects).
    pub fn new(audience: impl Into<String>) -> Policy {
        Policy {
            audience: audience.into(),
            issuers: None,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            check_nonce: true,
        }
    }

    /// Accepts only tokens whose `iss` is one of `issuers` (and is bound to the signing key).
    /// Defaults to every issuer bound to a key of the trust store.
    pub fn set_issuers<I, S>(&mut self, issuers: I) -> &mut Policy
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.issuers = Some(issuers.into_iter().map(Into::into).collect());
        self
    }

    /// Adds one accepted issuer (see [`Policy::set_issuers`]): once one is added, only the
    /// added issuers are accepted.
    pub fn add_issuer(&mut self, issuer: impl Into<String>) -> &mut Policy {
        self.issuers
            .get_or_insert_with(Vec::new)
            .push(issuer.into());
        self
    }

    /// Sets the clock-skew allowance in seconds (at most [`MAX_LEEWAY`]). Defaults to
    /// [`DEFAULT_LEEWAY`] (60 s).
    pub fn set_leeway(&mut self, seconds: u64) -> &mut Policy {
        self.leeway = seconds;
        self
    }

    /// Sets the maximum `exp - iat` in seconds (1 to [`MAX_MAX_LIFETIME`]). Defaults to
    /// [`DEFAULT_MAX_LIFETIME`] (3600 s).
    pub fn set_max_lifetime(&mut self, seconds: u64) -> &mut Policy {
        self.max_lifetime = seconds;
        self
    }

    /// Turns the nonce check off, for a verifier with no transaction to bind a token to:
    /// [`Verifier::verify_without_nonce`] and [`BatchItem::without_nonce`] are then allowed
    /// (without this they fail with `invalid_argument`). A nonce that is given is still
    /// checked. Defaults to the check being required.
    pub fn disable_nonce_check(&mut self) -> &mut Policy {
        self.check_nonce = false;
        self
    }

    /// [`Policy::set_issuers`], by value.
    pub fn with_issuers<I, S>(mut self, issuers: I) -> Policy
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set_issuers(issuers);
        self
    }

    /// [`Policy::set_leeway`], by value.
    pub fn with_leeway(mut self, seconds: u64) -> Policy {
        self.set_leeway(seconds);
        self
    }

    /// [`Policy::set_max_lifetime`], by value.
    pub fn with_max_lifetime(mut self, seconds: u64) -> Policy {
        self.set_max_lifetime(seconds);
        self
    }

    /// [`Policy::disable_nonce_check`], by value.
    pub fn without_nonce_check(mut self) -> Policy {
        self.disable_nonce_check();
        self
    }

    /// Whether every verification must name the nonce it expects (the default).
    pub fn nonce_check_required(&self) -> bool {
        self.check_nonce
    }

    /// The expected audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The accepted issuers, if restricted.
    pub fn issuers(&self) -> Option<&[String]> {
        self.issuers.as_deref()
    }

    /// The leeway in seconds.
    pub fn leeway(&self) -> u64 {
        self.leeway
    }

    /// The maximum lifetime in seconds.
    pub fn max_lifetime(&self) -> u64 {
        self.max_lifetime
    }

    fn validate(&self) -> Result<()> {
        let bad = |detail: String| Err(Error::new(ErrorCode::InvalidArgument, detail));
        if !is_valid_id(&self.audience) {
            return bad(format!(
                "audience must be 1 to {MAX_ID_LEN} visible ASCII characters"
            ));
        }
        if let Some(issuers) = &self.issuers {
            if issuers.is_empty() {
                return bad("the accepted issuer list is empty: no token could pass".into());
            }
            if !issuers.iter().all(|i| is_valid_id(i)) {
                return bad(format!(
                    "each accepted issuer must be 1 to {MAX_ID_LEN} visible ASCII characters"
                ));
            }
        }
        if self.leeway > MAX_LEEWAY {
            return bad(format!("leeway must be at most {MAX_LEEWAY} s"));
        }
        if self.max_lifetime == 0 || self.max_lifetime > MAX_MAX_LIFETIME {
            return bad(format!("max lifetime must be 1 to {MAX_MAX_LIFETIME} s"));
        }
        Ok(())
    }
}

/// A token that passed every check: its status and the claims that were verified.
///
/// Only a [`Verifier`] makes one; read it through its accessors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedStatus {
    status: VaccinationStatus,
    iss: String,
    sub: String,
    aud: String,
    jti: String,
    nonce: String,
    iat: u64,
    exp: u64,
    kid: String,
}

impl VerifiedStatus {
    /// The vaccination status (`vs`).
    pub fn status(&self) -> VaccinationStatus {
        self.status
    }

    /// The issuer (`iss`), bound to the signing key.
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The pseudonymous subject (`sub`).
    pub fn sub(&self) -> &str {
        &self.sub
    }

    /// The audience (`aud`), equal to the policy's.
    pub fn aud(&self) -> &str {
        &self.aud
    }

    /// The token id (`jti`).
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The token's nonce (`nonce`): the expected one, unless the nonce check was disabled.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// Issued at (`iat`), seconds since the epoch.
    pub fn iat(&self) -> u64 {
        self.iat
    }

    /// Expiry (`exp`), seconds since the epoch.
    pub fn exp(&self) -> u64 {
        self.exp
    }

    /// The id of the key that signed it.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

fn store_unavailable() -> Error {
    Error::new(
        ErrorCode::ReplayStoreUnavailable,
        "the replay store gave no answer for this token",
    )
}

/// Verifies tokens against a trust store and a policy. Immutable, `Send + Sync`: share one
/// across threads.
#[derive(Clone, Debug)]
pub struct Verifier {
    trust: TrustStore,
    /// The header segments of the trusted keys, parsed once.
    known_headers: KnownHeaders,
    policy: Policy,
    replay: Option<Arc<dyn ReplayStore>>,
}

impl Verifier {
    /// Makes a verifier. Error: `invalid_argument` when the policy is out of range.
    pub fn new(trust: TrustStore, policy: Policy) -> Result<Verifier> {
        policy.validate()?;
        let known_headers = KnownHeaders::new(trust.iter().map(|trusted| trusted.key().kid()));
        Ok(Verifier {
            trust,
            known_headers,
            policy,
            replay: None,
        })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The trust store.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust
    }

    /// Attaches a replay guard: a token that passes every other check is then accepted only
    /// the first time its `jti` is presented (`replayed` after that). The verifier keeps each
    /// `jti` in the guard until `exp` + this policy's leeway — the moment the token stops
    /// verifying — and not longer. Share one guard (and its `Arc`) among the verifiers of one
    /// service, across threads.
    pub fn with_replay_guard(self, guard: Arc<ReplayGuard>) -> Verifier {
        self.with_replay_store(guard)
    }

    /// Attaches any [`ReplayStore`] — one shared by the verifiers of many processes — with
    /// the same rules as [`Verifier::with_replay_guard`]. A store failure refuses the token
    /// (`replay_store_unavailable`); it is never accepted unchecked.
    pub fn with_replay_store(mut self, store: Arc<dyn ReplayStore>) -> Verifier {
        self.replay = Some(store);
        self
    }

    /// The attached replay store, if any.
    pub fn replay_store(&self) -> Option<&Arc<dyn ReplayStore>> {
        self.replay.as_ref()
    }

    /// Verifies `token` at the current system time. See [`Verifier::verify`].
    pub fn verify_now(&self, token: &str, expected_nonce: &str) -> Result<VerifiedStatus> {
        self.verify(token, expected_nonce, unix_now())
    }

    /// Verifies `token` at time `now` (seconds since the epoch); the token's `nonce` must
    /// equal `expected_nonce`, the verifier's transaction (there is no default: a verifier
    /// with no transaction to bind uses [`Verifier::verify_without_nonce`]).
    ///
    /// Checks, in order, each with its error code: size (`too_large`); three strict base64url
    /// segments and a JSON-object header without duplicate members (`malformed`); `alg`
    /// (`unsupported_algorithm`); exactly `alg`, `typ`, `kid` (`bad_header`); a 64-byte
    /// signature (`malformed`); `kid` trusted (`unknown_key`); Ed25519 signature over the
    /// received bytes (`bad_signature`); then, and only then, the claims: structure
    /// (`malformed`, `bad_claims`), `iss` bound to the key (`issuer_mismatch`), `iat` inside
    /// the key's validity window if it has one (`key_not_valid`), `iss` accepted
    /// (`issuer_mismatch`), `aud` (`audience_mismatch`), `nonce` (`nonce_mismatch`),
    /// `iat <= now + leeway` (`not_yet_valid`), `now < exp + leeway` (`expired`),
    /// `exp - iat <= max_lifetime` (`lifetime_too_long`); last, with a replay guard, the
    /// `jti` (`replayed`).
    ///
    /// The nonce cannot be left out:
    ///
    /// ```compile_fail
    /// # use kycvs_core::*;
    /// let verifier = Verifier::new(TrustStore::new(), Policy::new("irctc.example"))?;
    /// verifier.verify("a.b.c", 1_700_000_000)?;
    /// # Ok::<(), kycvs_core::Error>(())
    /// ```
    pub fn verify(&self, token: &str, expected_nonce: &str, now: u64) -> Result<VerifiedStatus> {
        self.verify_item(token.as_bytes(), Some(expected_nonce), now)
    }

    /// Verifies `token` (text or bytes) at time `now` **without checking its nonce**, for a
    /// verifier with no transaction to bind a token to. Allowed only when the policy turned
    /// the check off ([`Policy::disable_nonce_check`]); otherwise `invalid_argument`, before
    /// any other check. Every other check is that of [`Verifier::verify_bytes`].
    ///
    /// ```
    /// # use kycvs_core::*;
    /// let strict = Verifier::new(TrustStore::new(), Policy::new("irctc.example"))?;
    /// let err = strict.verify_without_nonce("a.b.c", 1_700_000_000).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidArgument);
    ///
    /// let mut policy = Policy::new("irctc.example");
    /// policy.disable_nonce_check();
    /// let lenient = Verifier::new(TrustStore::new(), policy)?;
    /// let err = lenient.verify_without_nonce("a.b.c", 1_700_000_000).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::Malformed);
    /// # Ok::<(), kycvs_core::Error>(())
    /// ```
    pub fn verify_without_nonce(
        &self,
        token: &(impl AsRef<[u8]> + ?Sized),
        now: u64,
    ) -> Result<VerifiedStatus> {
        self.verify_item(token.as_ref(), None, now)
    }

    /// Verifies a token given as raw bytes, as received from a network or a C caller: the
    /// size is checked first (`too_large`), then that the bytes are UTF-8 (`malformed`), then
    /// everything [`Verifier::verify`] checks.
    pub fn verify_bytes(
        &self,
        token: &[u8],
        expected_nonce: &str,
        now: u64,
    ) -> Result<VerifiedStatus> {
        self.verify_item(token, Some(expected_nonce), now)
    }

    /// Verifies one token; `None` for the nonce only where the policy allows it.
    fn verify_item(
        &self,
        token: &[u8],
        expected_nonce: Option<&str>,
        now: u64,
    ) -> Result<VerifiedStatus> {
        self.nonce_allowed(expected_nonce)?;
        let staged = self.stage_bytes(token)?;
        if !equation_holds(staged.trusted.key(), &staged.signature) {
            return Err(bad_signature());
        }
        let verified = self.finish(staged, expected_nonce, now)?;
        self.record(&verified, now)?;
        Ok(verified)
    }

    /// A verification without a nonce is an argument error unless the policy allows it.
    fn nonce_allowed(&self, expected_nonce: Option<&str>) -> Result<()> {
        if expected_nonce.is_none() && self.policy.check_nonce {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "no expected nonce given, and the policy requires the nonce check \
                 (disable_nonce_check turns it off)",
            ));
        }
        Ok(())
    }

    /// Verifies many tokens at time `now`, giving for each exactly the verdict
    /// [`Verifier::verify`] gives it alone (same error code, same result), in input order.
    /// An item made with [`BatchItem::rejected`] gets its own error back, in its place.
    ///
    /// The signatures of all well-formed tokens are checked with one cofactored batch
    /// equation (`crate::crypto::signature`); if it fails, each is re-checked alone, so a bad
    /// token costs the batch at most one single verification per token.
    ///
    /// ```
    /// # use kycvs_core::*;
    /// # let key = SigningKey::generate().unwrap();
    /// # let mut trust = TrustStore::new();
    /// # trust.add(key.public_key().clone(), "cowin.example").unwrap();
    /// # let issuer = Issuer::new(key, "cowin.example").unwrap();
    /// # let request = |nonce| TokenRequest { audience: "irctc.example", nonce, subject: "p-1",
    /// #     status: VaccinationStatus::FullyVaccinated, ttl: 300 };
    /// let verifier = Verifier::new(trust, Policy::new("irctc.example"))?;
    /// let a = issuer.issue(&request("PNR-1"), 1_700_000_000)?;
    /// let b = issuer.issue(&request("PNR-2"), 1_700_000_000)?;
    /// let verdicts = verifier.verify_batch(
    ///     &[
    ///         BatchItem::new(&a, "PNR-1"),
    ///         BatchItem::new(&b, "PNR-1"),
    ///         BatchItem::rejected(Error::new(ErrorCode::InvalidArgument, "nonce is not UTF-8")),
    ///     ],
    ///     1_700_000_010,
    /// );
    /// assert!(verdicts[0].is_ok());
    /// assert_eq!(verdicts[1].as_ref().unwrap_err().code(), ErrorCode::NonceMismatch);
    /// assert_eq!(verdicts[2].as_ref().unwrap_err().code(), ErrorCode::InvalidArgument);
    /// # Ok::<(), kycvs_core::Error>(())
    /// ```
    ///
    /// With the `parallel` feature (on by default) a batch of at least 128 tokens is split
    /// into one chunk per thread of rayon's current pool, each chunk with its own batch
    /// equation; to bound the threads, call it inside `rayon::ThreadPool::install` (or set
    /// `RAYON_NUM_THREADS`). With a [remote](ReplayStore::is_remote) replay store, a batch of
    /// at least [`MIN_OVERLAPPED_BATCH`] tokens also uses one thread of its own for the
    /// replay check of its first three quarters, which waits on the store while the rest is
    /// verified.
    pub fn verify_batch(&self, items: &[BatchItem<'_>], now: u64) -> Vec<Result<VerifiedStatus>> {
        match &self.replay {
            Some(store) if store.is_remote() && items.len() >= MIN_OVERLAPPED_BATCH => {
                self.verify_batch_overlapped(items, now)
            }
            _ => {
                let verdicts = self.verify_batch_unrecorded(items, now);
                self.record_all(verdicts, now)
            }
        }
    }

    /// [`Verifier::verify_batch`] for a remote replay store: the replay check of the first
    /// three quarters runs on a thread of its own while the rest is verified (see
    /// [`ReplayStore::is_remote`]); the rest is checked once that first check has answered.
    fn verify_batch_overlapped(
        &self,
        items: &[BatchItem<'_>],
        now: u64,
    ) -> Vec<Result<VerifiedStatus>> {
        let split = items.len() / 4 * 3;
        let (head, tail) = items.split_at(split);
        let head = Mutex::new(Some(self.verify_batch_unrecorded(head, now)));
        let take = || head.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (recorded, tail) = std::thread::scope(|scope| {
            let checking = std::thread::Builder::new()
                .name("kycvs-replay".into())
                .spawn_scoped(scope, || take().map(|head| self.record_all(head, now)));
            let tail = self.verify_batch_unrecorded(tail, now);
            // Without a thread (the OS refused one) the check runs here, after the rest.
            let recorded = match checking {
                Ok(handle) => handle.join().ok().flatten(),
                Err(_) => take().map(|head| self.record_all(head, now)),
            };
            (recorded, tail)
        });
        let mut verdicts = recorded.unwrap_or_else(|| vec![Err(store_unavailable()); split]);
        verdicts.extend(self.record_all(tail, now));
        verdicts
    }

    /// Every check of a batch but the replay check, in input order.
    fn verify_batch_unrecorded(
        &self,
        items: &[BatchItem<'_>],
        now: u64,
    ) -> Vec<Result<VerifiedStatus>> {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let threads = rayon::current_num_threads();
            if threads > 1 && items.len() >= 2 * MIN_PARALLEL_CHUNK {
                let chunk = items.len().div_ceil(threads).max(MIN_PARALLEL_CHUNK);
                let parts: Vec<Vec<Result<VerifiedStatus>>> = items
                    .par_chunks(chunk)
                    .map(|part| self.verify_batch_serial(part, now))
                    .collect();
                return parts.into_iter().flatten().collect();
            }
        }
        self.verify_batch_serial(items, now)
    }

    /// [`Verifier::verify_batch`] on the calling thread alone.
    fn verify_batch_serial(
        &self,
        items: &[BatchItem<'_>],
        now: u64,
    ) -> Vec<Result<VerifiedStatus>> {
        let staged = self.stage_all(items);
        let candidates: Vec<(&PublicKey, &PreparedSignature)> = staged
            .iter()
            .filter_map(|s| s.as_ref().ok())
            .map(|s| (s.trusted.key(), &s.signature))
            .collect();
        let mut holds = equations_hold(&candidates).into_iter();
        staged
            .into_iter()
            .zip(items)
            .map(|(staged, item)| {
                let staged = staged?;
                if holds.next() != Some(true) {
                    return Err(bad_signature());
                }
                let nonce = match &item.0 {
                    Item::Token { nonce, .. } => *nonce,
                    Item::Rejected(error) => return Err(error.clone()),
                };
                self.finish(staged, nonce, now)
            })
            .collect()
    }

    /// The replay check, last of all: only a token that passed every other check is
    /// recorded, and kept until the token stops verifying (`exp + leeway`, the bound of the
    /// expiry check), computed here and nowhere else.
    fn record(&self, verified: &VerifiedStatus, now: u64) -> Result<()> {
        match self.record_all(vec![Ok(verified.clone())], now).pop() {
            Some(verdict) => verdict.map(|_| ()),
            None => Err(store_unavailable()),
        }
    }

    /// The replay check over a batch's verdicts, in input order (also when the rest ran in
    /// parallel), so that of two presentations of one `jti` the first one wins, as it would
    /// one token at a time; one call to the store for the whole batch.
    fn record_all(
        &self,
        mut verdicts: Vec<Result<VerifiedStatus>>,
        now: u64,
    ) -> Vec<Result<VerifiedStatus>> {
        let Some(store) = &self.replay else {
            return verdicts;
        };
        let accepted: Vec<usize> = (0..verdicts.len())
            .filter(|&i| verdicts[i].is_ok())
            .collect();
        if accepted.is_empty() {
            return verdicts;
        }
        let answers = {
            let entries: Vec<ReplayEntry<'_>> = accepted
                .iter()
                .filter_map(|&i| verdicts[i].as_ref().ok())
                .map(|v| ReplayEntry {
                    jti: &v.jti,
                    keep_until: v.exp.saturating_add(self.policy.leeway),
                })
                .collect();
            store.check_and_record_all(&entries, now)
        };
        if answers.len() != accepted.len() {
            for &i in &accepted {
                verdicts[i] = Err(store_unavailable());
            }
            return verdicts;
        }
        for (&i, answer) in accepted.iter().zip(answers) {
            if let Err(e) = answer {
                verdicts[i] = Err(e);
            }
        }
        verdicts
    }

    /// Everything before the group equation: structure, header, key lookup, signature
    /// encodings and challenge.
    fn stage<'t>(&self, token: &'t str) -> Result<Staged<'t, '_>> {
        let (untrusted, trusted) = self.parse_and_find_key(token)?;
        let signature = prepare(
            trusted.key(),
            untrusted.signing_input(),
            untrusted.signature(),
        )?;
        Ok(Staged {
            untrusted,
            trusted,
            signature,
        })
    }

    fn stage_bytes<'t>(&self, token: &'t [u8]) -> Result<Staged<'t, '_>> {
        self.stage(token_text(token)?)
    }

    /// Structure, header and key lookup.
    fn parse_and_find_key<'t>(&self, token: &'t str) -> Result<(UntrustedToken<'t>, &TrustedKey)> {
        let untrusted = UntrustedToken::parse_with(token, Some(&self.known_headers))?;
        let trusted = self
            .trust
            .get(&untrusted.header().kid)
            .ok_or_else(|| Error::new(ErrorCode::UnknownKey, "no trusted key has this kid"))?;
        Ok((untrusted, trusted))
    }

    /// [`Verifier::stage`] for every item of a batch, the challenges hashed together: the
    /// same verdicts, item by item.
    fn stage_all<'t>(&self, items: &'t [BatchItem<'_>]) -> Vec<Result<Staged<'t, '_>>> {
        let checked: Vec<_> = items
            .iter()
            .map(|item| {
                let token = match &item.0 {
                    Item::Token { token, nonce } => {
                        self.nonce_allowed(*nonce)?;
                        *token
                    }
                    Item::Rejected(error) => return Err(error.clone()),
                };
                let (untrusted, trusted) = self.parse_and_find_key(token_text(token)?)?;
                let encodings = check_encodings(untrusted.signature())?;
                Ok((
                    encodings,
                    trusted.key(),
                    untrusted.signing_input(),
                    (untrusted, trusted),
                ))
            })
            .collect();
        prepare_all(checked)
            .into_iter()
            .map(|staged| {
                staged.map(|(signature, (untrusted, trusted))| Staged {
                    untrusted,
                    trusted,
                    signature,
                })
            })
            .collect()
    }

    /// Everything after the signature: the claims, now that they are authentic.
    fn finish(
        &self,
        staged: Staged<'_, '_>,
        expected_nonce: Option<&str>,
        now: u64,
    ) -> Result<VerifiedStatus> {
        let Staged {
            untrusted, trusted, ..
        } = staged;
        let claims = Claims::from_json(untrusted.payload())?;
        if claims.iss != trusted.issuer() {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                "iss is not the issuer bound to the signing key",
            ));
        }
        trusted.check_issued_at(claims.iat)?;
        if let Some(issuers) = self.policy.issuers()
            && !issuers.contains(&claims.iss)
        {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                "iss is not an accepted issuer",
            ));
        }
        if claims.aud != self.policy.audience {
            return Err(Error::new(
                ErrorCode::AudienceMismatch,
                "aud is not this verifier",
            ));
        }
        if let Some(expected) = expected_nonce
            && !bool::from(claims.nonce.as_bytes().ct_eq(expected.as_bytes()))
        {
            return Err(Error::new(
                ErrorCode::NonceMismatch,
                "nonce is not the expected one",
            ));
        }
        let leeway = self.policy.leeway;
        if claims.iat > now.saturating_add(leeway) {
            return Err(err!(
                NotYetValid,
                "iat is {} s ahead of now, beyond the {leeway} s leeway",
                claims.iat - now
            ));
        }
        if now >= claims.exp.saturating_add(leeway) {
            return Err(err!(
                Expired,
                "expired {} s ago (leeway {leeway} s)",
                now - claims.exp
            ));
        }
        let lifetime = claims.exp - claims.iat;
        if lifetime > self.policy.max_lifetime {
            return Err(err!(
                LifetimeTooLong,
                "lifetime {lifetime} s exceeds {} s",
                self.policy.max_lifetime
            ));
        }
        Ok(VerifiedStatus {
            status: claims.vs,
            iss: claims.iss,
            sub: claims.sub,
            aud: claims.aud,
            jti: claims.jti,
            nonce: claims.nonce,
            iat: claims.iat,
            exp: claims.exp,
            kid: untrusted.header().kid.clone(),
        })
    }
}

/// One item of a batch: a token and the nonce its verifier expects, or a verdict the caller
/// already reached (a binding that could not read the item), returned in its place.
#[derive(Clone, Debug)]
pub struct BatchItem<'a>(Item<'a>);

#[derive(Clone, Debug)]
enum Item<'a> {
    Token {
        token: &'a [u8],
        nonce: Option<&'a str>,
    },
    Rejected(Error),
}

impl<'a> BatchItem<'a> {
    /// A token (string or bytes, as received: checked for size, then UTF-8) whose `nonce`
    /// must equal `nonce`.
    pub fn new(token: &'a (impl AsRef<[u8]> + ?Sized), nonce: &'a str) -> Self {
        BatchItem(Item::Token {
            token: token.as_ref(),
            nonce: Some(nonce),
        })
    }

    /// A token whose nonce is not checked: its verdict is `invalid_argument` unless the
    /// policy turned the check off, as for [`Verifier::verify_without_nonce`].
    pub fn without_nonce(token: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        BatchItem(Item::Token {
            token: token.as_ref(),
            nonce: None,
        })
    }

    /// An item already judged: [`Verifier::verify_batch`] returns `error` as its verdict, in
    /// its place, without looking further (for example a token the caller could not read).
    pub fn rejected(error: Error) -> Self {
        BatchItem(Item::Rejected(error))
    }
}

/// A token between its structural checks and its group equation.
struct Staged<'t, 'v> {
    untrusted: UntrustedToken<'t>,
    trusted: &'v TrustedKey,
    signature: PreparedSignature,
}

/// Size first, then UTF-8: a too-long token is `too_large` whatever its bytes.
fn token_text(token: &[u8]) -> Result<&str> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(err!(
            TooLarge,
            "token is {} bytes, more than {MAX_TOKEN_LEN}",
            token.len()
        ));
    }
    std::str::from_utf8(token).map_err(|_| Error::new(ErrorCode::Malformed, "token is not UTF-8"))
}

/// Seconds since the Unix epoch by the system clock (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(policy: Policy) -> Result<Verifier> {
        Verifier::new(TrustStore::new(), policy)
    }

    #[test]
    fn policy_defaults_are_strict() {
        let p = Policy::new("v");
        assert_eq!(
            (
                p.leeway(),
                p.max_lifetime(),
                p.issuers(),
                p.nonce_check_required()
            ),
            (60, 3600, None, true)
        );
    }

    #[test]
    fn setters_edit_in_place() {
        let mut p = Policy::new("v");
        p.set_leeway(5)
            .set_max_lifetime(10)
            .add_issuer("a")
            .add_issuer("b")
            .disable_nonce_check();
        assert_eq!(
            p,
            Policy::new("v")
                .with_leeway(5)
                .with_max_lifetime(10)
                .with_issuers(["a", "b"])
                .without_nonce_check()
        );
        assert!(!p.nonce_check_required());
    }

    #[test]
    fn rejects_out_of_range_policies() {
        for p in [
            Policy::new(""),
            Policy::new("v").with_issuers(Vec::<String>::new()),
            Policy::new("v").with_issuers([""]),
            Policy::new("v").with_leeway(MAX_LEEWAY + 1),
            Policy::new("v").with_max_lifetime(0),
            Policy::new("v").with_max_lifetime(MAX_MAX_LIFETIME + 1),
        ] {
            assert_eq!(verifier(p).unwrap_err().code(), ErrorCode::InvalidArgument);
        }
    }

    #[test]
    fn verifier_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Verifier>();
    }
}
