//! `kycvs demo`: the whole flow on built-in sample data, every verdict checked.
//!
//! Every token goes through the real issuer or, for the forgeries, through
//! `hazmat::sign_raw`, and every verdict comes from the real verifier.

use crate::fail::{CliError, Outcome, print_line};
use crate::issue::random_pseudonym;
use kycvs_core::{
    Algorithm, Claims, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, Error, ErrorCode, Issuer,
    MAX_TOKEN_LEN, Policy, SigningKey, TOKEN_TYPE, TokenRequest, TrustStore, VaccinationStatus,
    VerifiedStatus, Verifier, hazmat,
};
use serde_json::json;

/// The demo's clock, pinned so that every run tells the same story.
const NOW: u64 = 1_700_000_000;
/// When the verifier checks the tokens: a few seconds after issue.
const CHECK_AT: u64 = NOW + 5;
const ISSUER: &str = "cowin.example";
const OTHER_ISSUER: &str = "state-registry.example";
const AUDIENCE: &str = "irctc.example";

/// Run the issue/verify flow on built-in sample data and check every verdict.
///
/// Makes issuer keys and a trust store in memory, issues tokens for sample people with each
/// status, verifies them, and shows one rejection for each kind of bad token. Exit 0 only
/// when every verdict is the expected one.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// A sample person: what the issuer's records say, never sent in a token.
struct Person {
    label: &'static str,
    record: &'static str,
    status: VaccinationStatus,
}

const PEOPLE: [Person; 6] = [
    Person {
        label: "traveller A",
        record: "no dose",
        status: VaccinationStatus::NotVaccinated,
    },
    Person {
        label: "traveller B",
        record: "1 of 2 doses",
        status: VaccinationStatus::PartiallyVaccinated,
    },
    Person {
        label: "traveller C",
        record: "2 of 2 doses",
        status: VaccinationStatus::FullyVaccinated,
    },
    Person {
        label: "traveller D",
        record: "1 of 1 dose",
        status: VaccinationStatus::FullyVaccinated,
    },
    Person {
        label: "traveller E",
        record: "2 of 3 doses",
        status: VaccinationStatus::PartiallyVaccinated,
    },
    Person {
        label: "traveller F",
        record: "no record",
        status: VaccinationStatus::NotVaccinated,
    },
];

/// What a case must give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Valid(VaccinationStatus),
    Rejected(ErrorCode),
}

/// One token presented to the verifier.
struct Case {
    name: String,
    token: String,
    nonce: String,
    at: u64,
    expect: Expect,
}

impl Case {
    fn new(name: impl Into<String>, token: String, nonce: &str, expect: Expect) -> Case {
        Case {
            name: name.into(),
            token,
            nonce: nonce.to_owned(),
            at: CHECK_AT,
            expect,
        }
    }

    fn at(mut self, at: u64) -> Case {
        self.at = at;
        self
    }
}

pub fn run(_args: &Args) -> Result<Outcome, CliError> {
    let fail = |what: &'static str| move |e: Error| CliError::core(format!("demo: {what}"), &e);

    let key = SigningKey::generate().map_err(fail("key generation"))?;
    let other_key = SigningKey::generate().map_err(fail("key generation"))?;
    let stranger_key = SigningKey::generate().map_err(fail("key generation"))?;

    // The verifier's side gets the trust store as a JWKS document, as it would from a file.
    let mut published = TrustStore::new();
    published
        .add(key.public_key().clone(), ISSUER)
        .map_err(fail("trust store"))?;
    published
        .add(other_key.public_key().clone(), OTHER_ISSUER)
        .map_err(fail("trust store"))?;
    let jwks = published.to_jwks();
    let trust = TrustStore::from_jwks(jwks.as_bytes()).map_err(fail("trust store"))?;
    let trusted_keys = trust.len();
    let policy = Policy::new(AUDIENCE).with_issuers([ISSUER]);
    let verifier = Verifier::new(trust, policy).map_err(fail("verifier"))?;

    let issuer = Issuer::new(key.clone(), ISSUER).map_err(fail("issuer"))?;
    let sign = |issuer: &Issuer, req: Request<'_>, at: u64| {
        issuer
            .issue(
                &TokenRequest {
                    audience: req.audience,
                    nonce: req.nonce,
                    subject: req.subject,
                    status: req.status,
                    ttl: req.ttl,
                },
                at,
            )
            .map_err(fail("issue"))
    };

    show_intro(&key, trusted_keys, jwks.len())?;

    let mut cases = Vec::new();
    let mut people = Vec::new();
    for (i, person) in PEOPLE.iter().enumerate() {
        let subject = random_pseudonym().map_err(fail("pseudonym"))?;
        let nonce = format!("PNR-{}", 1001 + i);
        let req = Request::new(&nonce, &subject, person.status);
        let token = sign(&issuer, req, NOW)?;
        people.push(format!(
            "  {:<12} {:<13} sub {}  token of {} bytes",
            person.label,
            person.record,
            subject,
            token.len()
        ));
        cases.push(Case::new(
            format!("{}: {}", person.label, person.status.label()),
            token,
            &nonce,
            Expect::Valid(person.status),
        ));
    }
    print_line(
        "Sample people (names and dose records stay with the issuer; tokens carry a random pseudonym):",
    )?;
    for line in &people {
        print_line(line)?;
    }
    print_line("")?;

    let (consented, consent_held) = crate::consent::demo(&issuer, AUDIENCE, NOW)?;
    for t in consented {
        cases.push(Case::new(
            t.label,
            t.token,
            &t.nonce,
            Expect::Valid(t.status),
        ));
    }

    let subject = random_pseudonym().map_err(fail("pseudonym"))?;
    let full = VaccinationStatus::FullyVaccinated;
    let nonce = "PNR-2001";
    let req = Request::new(nonce, &subject, full);

    let legacy = Issuer::new(key.clone(), ISSUER)
        .map_err(fail("issuer"))?
        .with_algorithm(Algorithm::EdDSA);
    cases.push(Case::new(
        "legacy alg \"EdDSA\" header",
        sign(&legacy, req, NOW)?,
        nonce,
        Expect::Valid(full),
    ));

    let token = sign(&issuer, req, NOW)?;
    cases.push(
        Case::new(
            "checked after exp + leeway",
            token.clone(),
            nonce,
            Expect::Rejected(ErrorCode::Expired),
        )
        .at(NOW + req.ttl + DEFAULT_LEEWAY),
    );
    cases.push(
        Case::new(
            "issued 10 min in the future",
            sign(&issuer, req, NOW + 600)?,
            nonce,
            Expect::Rejected(ErrorCode::NotYetValid),
        )
        .at(NOW),
    );
    cases.push(Case::new(
        "issued for another verifier",
        sign(
            &issuer,
            Request {
                audience: "other-verifier.example",
                ..req
            },
            NOW,
        )?,
        nonce,
        Expect::Rejected(ErrorCode::AudienceMismatch),
    ));
    cases.push(Case::new(
        "replayed for another transaction",
        token.clone(),
        "PNR-2002",
        Expect::Rejected(ErrorCode::NonceMismatch),
    ));
    let not_vaccinated = sign(
        &issuer,
        Request {
            status: VaccinationStatus::NotVaccinated,
            ..req
        },
        NOW,
    )?;
    cases.push(Case::new(
        "tampered: vs 0 changed to vs 2",
        splice_claims(&not_vaccinated, &token),
        nonce,
        Expect::Rejected(ErrorCode::BadSignature),
    ));
    let stranger = Issuer::new(stranger_key, ISSUER).map_err(fail("issuer"))?;
    cases.push(Case::new(
        "signed by an untrusted key",
        sign(&stranger, req, NOW)?,
        nonce,
        Expect::Rejected(ErrorCode::UnknownKey),
    ));
    let impostor = Issuer::new(key.clone(), "impostor.example").map_err(fail("issuer"))?;
    cases.push(Case::new(
        "iss not the key's issuer",
        sign(&impostor, req, NOW)?,
        nonce,
        Expect::Rejected(ErrorCode::IssuerMismatch),
    ));
    let other = Issuer::new(other_key, OTHER_ISSUER).map_err(fail("issuer"))?;
    cases.push(Case::new(
        "trusted issuer not accepted here",
        sign(&other, req, NOW)?,
        nonce,
        Expect::Rejected(ErrorCode::IssuerMismatch),
    ));
    cases.push(Case::new(
        "not a token",
        "this-is-not-a-token".to_owned(),
        nonce,
        Expect::Rejected(ErrorCode::Malformed),
    ));
    cases.push(Case::new(
        format!("{} bytes of junk", MAX_TOKEN_LEN + 1),
        "A".repeat(MAX_TOKEN_LEN + 1),
        nonce,
        Expect::Rejected(ErrorCode::TooLarge),
    ));
    let claims = forged_claims(&subject, nonce).map_err(fail("claims"))?;
    let header = |alg: &str, typ: &str| {
        json!({"alg": alg, "typ": typ, "kid": key.kid()})
            .to_string()
            .into_bytes()
    };
    let alg_none = hazmat::sign_raw(&key, &header("none", TOKEN_TYPE), claims.as_bytes());
    cases.push(Case::new(
        "forged header with alg \"none\"",
        alg_none.clone(),
        nonce,
        Expect::Rejected(ErrorCode::UnsupportedAlgorithm),
    ));
    cases.push(Case::new(
        "alg \"none\", signature dropped",
        strip_signature(&alg_none),
        nonce,
        Expect::Rejected(ErrorCode::Malformed),
    ));
    cases.push(Case::new(
        "signed header with typ \"JWT\"",
        hazmat::sign_raw(&key, &header("Ed25519", "JWT"), claims.as_bytes()),
        nonce,
        Expect::Rejected(ErrorCode::BadHeader),
    ));
    let mut with_name: serde_json::Value =
        serde_json::from_str(&claims).map_err(|e| CliError::new(format!("demo: {e}")))?;
    with_name["name"] = "Sample Person".into();
    cases.push(Case::new(
        "signed, extra claim \"name\"",
        hazmat::sign_raw(
            &key,
            &header("Ed25519", TOKEN_TYPE),
            with_name.to_string().as_bytes(),
        ),
        nonce,
        Expect::Rejected(ErrorCode::BadClaims),
    ));
    cases.push(Case::new(
        format!("lifetime 2 h > {DEFAULT_MAX_LIFETIME} s"),
        sign(&issuer, Request { ttl: 7200, ..req }, NOW)?,
        nonce,
        Expect::Rejected(ErrorCode::LifetimeTooLong),
    ));

    let held = show_table(&verifier, &cases)?;
    Ok(if held == cases.len() && consent_held {
        Outcome::Success
    } else {
        Outcome::Rejected
    })
}

/// The issue parameters a case varies.
#[derive(Clone, Copy)]
struct Request<'a> {
    audience: &'a str,
    nonce: &'a str,
    subject: &'a str,
    status: VaccinationStatus,
    ttl: u64,
}

impl<'a> Request<'a> {
    fn new(nonce: &'a str, subject: &'a str, status: VaccinationStatus) -> Request<'a> {
        Request {
            audience: AUDIENCE,
            nonce,
            subject,
            status,
            ttl: 300,
        }
    }
}

fn show_intro(key: &SigningKey, trusted_keys: usize, jwks_len: usize) -> Result<(), CliError> {
    print_line("kycvs demo: issuing and verifying KYC-VS tokens on built-in sample data")?;
    print_line(&format!("  clock       pinned at {NOW} (Unix time)"))?;
    print_line(&format!("  issuer      {ISSUER}, key id {}", key.kid()))?;
    print_line(&format!(
        "  trust store {trusted_keys} keys ({ISSUER}, {OTHER_ISSUER}), \
         {jwks_len}-byte JWKS loaded by TrustStore::from_jwks"
    ))?;
    print_line(&format!(
        "  verifier    audience {AUDIENCE}, accepts issuer {ISSUER}, leeway {DEFAULT_LEEWAY} s, \
         max lifetime {DEFAULT_MAX_LIFETIME} s"
    ))?;
    print_line("")
}

/// Verifies every case, prints one row each, and returns how many gave what they should.
fn show_table(verifier: &Verifier, cases: &[Case]) -> Result<usize, CliError> {
    print_line(&format!(
        "{:>2}  {:<34} {:<22} {:<22} {:<4}  detail",
        "#", "case", "expected", "got", ""
    ))?;
    let mut held = 0;
    for (i, case) in cases.iter().enumerate() {
        let verdict = verifier.verify(&case.token, &case.nonce, case.at);
        let ok = matches(case.expect, &verdict);
        held += usize::from(ok);
        let detail = match &verdict {
            Ok(v) => format!("sub {}", v.sub()),
            Err(e) => e.detail().to_owned(),
        };
        print_line(&format!(
            "{:>2}  {:<34} {:<22} {:<22} {:<4}  {detail}",
            i + 1,
            case.name,
            describe_expect(case.expect),
            describe_verdict(&verdict),
            if ok { "PASS" } else { "FAIL" },
        ))?;
    }
    print_line("")?;
    print_line(&format!(
        "{held} of {} verdicts as expected{}",
        cases.len(),
        if held == cases.len() {
            ": every forged, stale or misdirected token was rejected"
        } else {
            "; FAILED"
        }
    ))?;
    Ok(held)
}

fn matches(expect: Expect, verdict: &Result<VerifiedStatus, Error>) -> bool {
    match (expect, verdict) {
        (Expect::Valid(status), Ok(v)) => v.status() == status,
        (Expect::Rejected(code), Err(e)) => e.code() == code,
        _ => false,
    }
}

fn describe_expect(expect: Expect) -> String {
    match expect {
        Expect::Valid(status) => format!("valid, status {}", status.as_u8()),
        Expect::Rejected(code) => code.as_str().to_owned(),
    }
}

fn describe_verdict(verdict: &Result<VerifiedStatus, Error>) -> String {
    match verdict {
        Ok(v) => format!("valid, status {}", v.status().as_u8()),
        Err(e) => e.code().as_str().to_owned(),
    }
}

/// Claims that would pass every claim check, for the forged tokens.
fn forged_claims(subject: &str, nonce: &str) -> Result<String, Error> {
    Claims {
        iss: ISSUER.to_owned(),
        sub: subject.to_owned(),
        aud: AUDIENCE.to_owned(),
        iat: NOW,
        exp: NOW + 300,
        jti: "forged-token-id-0000000".to_owned(),
        nonce: nonce.to_owned(),
        vs: VaccinationStatus::FullyVaccinated,
    }
    .to_json()
}

/// `donor`'s header and signature around `claims_from`'s claims: a tampered token.
fn splice_claims(donor: &str, claims_from: &str) -> String {
    let mut donor_parts = donor.split('.');
    let header = donor_parts.next().unwrap_or_default();
    let signature = donor_parts.nth(1).unwrap_or_default();
    let claims = claims_from.split('.').nth(1).unwrap_or_default();
    format!("{header}.{claims}.{signature}")
}

/// The token with an empty signature segment, as an `alg: none` token is sent.
fn strip_signature(token: &str) -> String {
    match token.rsplit_once('.') {
        Some((signing_input, _)) => format!("{signing_input}."),
        None => token.to_owned(),
    }
}
