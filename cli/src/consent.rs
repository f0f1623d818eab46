//! `kycvs consent begin` / `kycvs consent complete`: the issuer's OTP consent flow, one
//! process per step, with the state kept in a directory between them.
//!
//! The state directory (default `./kycvs-consent-state`, mode 0700) holds, each mode 0600:
//! - `otp-mac.key`: the 32-byte key that MACs OTPs and mobile numbers, as 64 hex digits;
//! - `pseudonym.key`: the 32-byte key of the pairwise subjects, as 64 hex digits;
//! - `consents.json` (and its lock file `consents.json.lock`): the pending consents and rate
//!   counters (`FileConsentStore`): MACs, ids, times, attempts and each consent's decided
//!   status and pairwise subject, never an OTP, a mobile number, a name, a beneficiary id or
//!   a dose record.
//!
//! `begin` (the begin side: registry, pseudonym key, OTP key) creates what is missing;
//! `complete` (the complete side: signing key, OTP key, no registry) needs the OTP key and
//! the consents file.

use crate::fail::{CliError, Outcome, print_line, warn};
use crate::files::{Access, io_error, read_prefix, write_atomic};
use crate::issue::load_key;
use kycvs_core::{
    ConsentCompleter, ConsentConfig, ConsentRequest, ConsentStarter, DEFAULT_TTL, ErrorCode,
    IssuanceService, Issuer, JsonlRegistry, Mobile, OTP_KEY_LEN, PSEUDONYM_KEY_LEN, PseudonymKey,
    VaccinationStatus, unix_now,
};
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The default state directory, relative to the working directory.
const DEFAULT_STATE_DIR: &str = "kycvs-consent-state";
const OTP_KEY_FILE: &str = "otp-mac.key";
const PSEUDONYM_KEY_FILE: &str = "pseudonym.key";
const CONSENTS_FILE: &str = "consents.json";
/// Far above any registry we expect a command line to load; longer files are cut and fail.
const MAX_REGISTRY_FILE_LEN: usize = 256 * 1024 * 1024;
/// A key file is 64 hex digits and a line break; anything much longer is not one.
const MAX_KEY_FILE_LEN: usize = 1024;

/// Run the issuer's OTP consent flow: `begin` sends an OTP, `complete` turns it into a token.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    Begin(BeginArgs),
    Complete(CompleteArgs),
}

/// Where the issuer is and what it signs with, shared by both steps.
#[derive(clap::Args, Debug)]
struct IssuerArgs {
    /// The state directory kept between `begin` and `complete` (keys and pending consents).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
    state: PathBuf,
    /// The issuer's private key (PKCS#8 PEM, as written by `kycvs keygen`).
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// The issuer id (`iss`).
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// Act at this time (seconds since the Unix epoch) instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

/// Start a consent: look the person up, print the consent id on stdout and the SMS (with the
/// OTP) on stderr. The answer is the same whether or not the person is registered.
#[derive(clap::Args, Debug)]
struct BeginArgs {
    #[command(flatten)]
    issuer: IssuerArgs,
    /// The beneficiary registry (JSON Lines). Default: the built-in sample registry.
    #[arg(long, value_name = "FILE")]
    registry: Option<PathBuf>,
    /// The person's mobile number (10 digits, optionally after +91 or 0).
    #[arg(long, value_name = "M")]
    mobile: String,
    /// The person's name as registered (any script; case and spacing are ignored).
    #[arg(long, value_name = "N")]
    name: String,
    /// The verifier the token will be for (`aud`).
    #[arg(long, value_name = "AUD")]
    audience: String,
    /// The verifier's transaction reference (`nonce`).
    #[arg(long, value_name = "NONCE")]
    nonce: String,
}

/// Complete a consent with the OTP the person typed and print the signed token.
#[derive(clap::Args, Debug)]
struct CompleteArgs {
    #[command(flatten)]
    issuer: IssuerArgs,
    /// The consent id printed by `kycvs consent begin` (base64url: it may begin with `-`).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    consent_id: String,
    /// The OTP the person received by SMS.
    #[arg(long, value_name = "OTP")]
    otp: String,
    /// The token lifetime in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TTL)]
    ttl: u64,
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    match &args.command {
        Command::Begin(args) => begin(args),
        Command::Complete(args) => complete(args),
    }
}

fn begin(args: &BeginArgs) -> Result<Outcome, CliError> {
    let registry = match &args.registry {
        None => JsonlRegistry::sample(),
        Some(path) => {
            let bytes =
                read_prefix(path, MAX_REGISTRY_FILE_LEN).map_err(io_error("cannot read", path))?;
            JsonlRegistry::from_jsonl_bytes(&bytes)
                .map_err(|e| CliError::core(path.display(), &e))?
        }
    };
    // The number as the operator's SMS gateway needs it; a bad one is a usage error below.
    let mobile = Mobile::parse(&args.mobile).map_err(|e| CliError::core("--mobile", &e))?;
    let state = &args.issuer.state;
    create_state_dir(state)?;
    // The begin side signs nothing, but the key and issuer id are checked here too, so that
    // a typo shows before an OTP is sent.
    issuer(&args.issuer)?;
    let otp_key = state_key(&state.join(OTP_KEY_FILE), OTP_KEY_LEN, true)?;
    let pseudonym_key = state_key(&state.join(PSEUDONYM_KEY_FILE), PSEUDONYM_KEY_LEN, true)?;
    let pseudonym_key = PseudonymKey::from_bytes(&pseudonym_key)
        .map_err(|e| CliError::core("consent state", &e))?;
    let starter = ConsentStarter::builder(Arc::new(registry))
        .pseudonym_key(pseudonym_key)
        .otp_key(&otp_key)
        .consent_file(state.join(CONSENTS_FILE))
        .build_starter()
        .map_err(|e| CliError::core("consent state", &e))?;
    let now = args.issuer.now.unwrap_or_else(unix_now);
    let request = ConsentRequest {
        mobile: &args.mobile,
        name: &args.name,
        audience: &args.audience,
        nonce: &args.nonce,
    };
    match starter.begin(&request, now) {
        Ok(challenge) => {
            print_line(&challenge.consent_id)?;
            warn(&format!(
                "SMS to +91{}: Your KYC-VS consent code is {}. It shares your vaccination \
                 status with {}. Valid for {} s. Do not share it.",
                mobile.as_str(),
                challenge.otp.expose(),
                args.audience,
                challenge.expires_at.saturating_sub(now)
            ));
            Ok(Outcome::Success)
        }
        Err(e) => refused_or_error("begin", &e),
    }
}

fn complete(args: &CompleteArgs) -> Result<Outcome, CliError> {
    let state = &args.issuer.state;
    if !state.join(CONSENTS_FILE).is_file() {
        return Err(CliError::new(format!(
            "{}: no pending consents here; run `kycvs consent begin --state {}` first",
            state.display(),
            state.display()
        )));
    }
    let otp_key = state_key(&state.join(OTP_KEY_FILE), OTP_KEY_LEN, false)?;
    let config = ConsentConfig {
        token_ttl: args.ttl,
        ..ConsentConfig::default()
    };
    let completer = ConsentCompleter::builder(issuer(&args.issuer)?)
        .otp_key(&otp_key)
        .consent_file(state.join(CONSENTS_FILE))
        .config(config)
        .build_completer()
        .map_err(|e| match e.code() {
            ErrorCode::InvalidArgument => CliError::core("--ttl", &e),
            _ => CliError::core("consent state", &e),
        })?;
    let now = args.issuer.now.unwrap_or_else(unix_now);
    match completer.complete(&args.consent_id, &args.otp, now) {
        Ok(token) => {
            print_line(&token)?;
            Ok(Outcome::Success)
        }
        Err(e) => refused_or_error("complete", &e),
    }
}

/// A refusal of the flow itself (as the core classifies it) exits 1 with its code; anything
/// else is a usage or configuration error (exit 2).
fn refused_or_error(step: &str, e: &kycvs_core::Error) -> Result<Outcome, CliError> {
    if e.code().is_consent_refusal() {
        warn(&format!("consent {step} refused: {e}"));
        Ok(Outcome::Rejected)
    } else {
        Err(CliError::core(format!("consent {step}"), e))
    }
}

/// The issuer from `--key` and `--issuer`.
fn issuer(args: &IssuerArgs) -> Result<Issuer, CliError> {
    let key = load_key(&args.key)?;
    Issuer::new(key, args.issuer.as_str()).map_err(|e| CliError::core("--issuer", &e))
}

fn create_state_dir(dir: &Path) -> Result<(), CliError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(io_error("cannot create state directory", dir))
}

/// Reads the key in `path` (hex), or, when `create` and there is none, makes a random one
/// and writes it (0600; if another process wrote one first, that one is used).
fn state_key(path: &Path, len: usize, create: bool) -> Result<Zeroizing<Vec<u8>>, CliError> {
    match read_key_file(path, len) {
        Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
            let mut key = Zeroizing::new(vec![0u8; len]);
            getrandom::fill(&mut key)
                .map_err(|e| CliError::new(format!("OS random source failed: {e}")))?;
            let mut text = Zeroizing::new(String::with_capacity(2 * len + 1));
            for b in key.iter() {
                // Writing into a String cannot fail.
                let _ = write!(text, "{b:02x}");
            }
            text.push('\n');
            match write_atomic(path, text.as_bytes(), Access::Private, false) {
                Ok(()) => Ok(key),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    read_key_file(path, len).map_err(|e| CliError::io("cannot read", path, &e))
                }
                Err(e) => Err(CliError::io("cannot write", path, &e)),
            }
        }
        Err(e) => Err(CliError::io("cannot read", path, &e)),
        Ok(key) => Ok(key),
    }
}

fn read_key_file(path: &Path, len: usize) -> io::Result<Zeroizing<Vec<u8>>> {
    let bytes = Zeroizing::new(read_prefix(path, MAX_KEY_FILE_LEN)?);
    let text = std::str::from_utf8(&bytes).unwrap_or("").trim_end();
    let invalid = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a key file ({} hex digits)", 2 * len),
        )
    };
    if text.len() != 2 * len || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let mut key = Zeroizing::new(vec![0u8; len]);
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
    }
    Ok(key)
}

/// The demo's consent request (the core takes the four texts as one named struct).
fn request<'a>(
    mobile: &'a str,
    name: &'a str,
    audience: &'a str,
    nonce: &'a str,
) -> ConsentRequest<'a> {
    ConsentRequest {
        mobile,
        name,
        audience,
        nonce,
    }
}

/// A token the demo's consent flow issued, for the demo's verdict table.
pub struct DemoToken {
    /// The table's case name.
    pub label: String,
    pub token: String,
    pub nonce: String,
    /// What the person's dose records give.
    pub status: VaccinationStatus,
}

/// Sample registry people of each status: (id, mobile as a person might type it, name,
/// script, records, status).
const DEMO_PEOPLE: [(&str, &str, &str, &str, &str, VaccinationStatus); 6] = [
    (
        "B000009",
        "8439734719",
        "সুমিতা ঘোষ",
        "Bengali",
        "no dose",
        VaccinationStatus::NotVaccinated,
    ),
    (
        "B000024",
        "+91 99177 30852",
        "Rahul Menon",
        "Latin",
        "no dose",
        VaccinationStatus::NotVaccinated,
    ),
    (
        "B000001",
        "089062-19727",
        "ସୁଭାଷ ମହାନ୍ତି",
        "Odia",
        "1 of 2 doses",
        VaccinationStatus::PartiallyVaccinated,
    ),
    (
        "B000025",
        "9917730852",
        "arjun  MENON",
        "Latin",
        "1 of 2 doses",
        VaccinationStatus::PartiallyVaccinated,
    ),
    (
        "B000002",
        "+91 95567-19886",
        "సాయి దేవి",
        "Telugu",
        "2 of 2 doses",
        VaccinationStatus::FullyVaccinated,
    ),
    (
        "B000003",
        "9698904733",
        "వెంకట రావు",
        "Telugu",
        "1 of 1 dose",
        VaccinationStatus::FullyVaccinated,
    ),
];

/// The demo's consent section: the full flow (begin, OTP by "SMS", complete) for sample people
/// of each status over the built-in registry, then a wrong OTP, an unknown mobile number and a
/// wrong name (answered alike), and a used consent. Prints what happens; returns the issued
/// tokens (for the verdict table) and whether every refusal was the expected one.
pub fn demo(issuer: &Issuer, audience: &str, now: u64) -> Result<(Vec<DemoToken>, bool), CliError> {
    let fail = |what: &'static str| {
        move |e: kycvs_core::Error| CliError::core(format!("demo: {what}"), &e)
    };
    let service = IssuanceService::builder(issuer.clone(), Arc::new(JsonlRegistry::sample()))
        .build()
        .map_err(fail("issuance service"))?;
    print_line(&format!(
        "OTP consent over the built-in sample registry ({} people), for verifier {audience}:",
        JsonlRegistry::sample().len()
    ))?;
    print_line(
        "  begin(mobile, name) -> SMS with a 6-digit OTP -> complete(consent id, OTP) -> token",
    )?;
    let mut tokens = Vec::new();
    for (i, (id, mobile, name, script, records, status)) in DEMO_PEOPLE.iter().enumerate() {
        let nonce = format!("PNR-{}", 3001 + i);
        let c = service
            .begin(&request(mobile, name, audience, &nonce), now)
            .map_err(fail("consent begin"))?;
        let token = service
            .complete(&c.consent_id, c.otp.expose(), now + 1)
            .map_err(fail("consent complete"))?;
        print_line(&format!(
            "  {id}  {records:<13} consent {}  OTP ******  token of {} bytes  {name} ({script})",
            c.consent_id,
            token.len()
        ))?;
        tokens.push(DemoToken {
            label: format!("consent {id} ({script})"),
            token,
            nonce,
            status: *status,
        });
    }

    let (id, mobile, name, ..) = DEMO_PEOPLE[4];
    let mut held = true;
    let mut check = |what: &str, got: Result<String, kycvs_core::Error>, want: ErrorCode| {
        let ok = matches!(&got, Err(e) if e.code() == want);
        held &= ok;
        let got = match &got {
            Ok(_) => "a token".to_owned(),
            Err(e) => e.code().as_str().to_owned(),
        };
        print_line(&format!(
            "  {what:<47} expected {:<18} got {got:<18} {}",
            want.as_str(),
            if ok { "PASS" } else { "FAIL" }
        ))
    };
    let c = service
        .begin(&request(mobile, name, audience, "PNR-3101"), now)
        .map_err(fail("consent begin"))?;
    let wrong = format!(
        "{:06}",
        (c.otp.expose().parse::<u32>().unwrap_or(0) + 1) % 1_000_000
    );
    check(
        &format!("{id}: wrong OTP"),
        service.complete(&c.consent_id, &wrong, now + 1),
        ErrorCode::OtpMismatch,
    )?;
    let used = service.complete(&c.consent_id, c.otp.expose(), now + 2);
    check(
        &format!("{id}: right OTP, then the same consent again"),
        used.and_then(|_| service.complete(&c.consent_id, c.otp.expose(), now + 3)),
        ErrorCode::ConsentNotFound,
    )?;
    // Nobody registered: the same answer from begin (an id and an OTP that the host sends),
    // and from complete the same refusal as a wrong OTP.
    for (what, mobile, name) in [
        ("unknown mobile number, its own OTP", "9000000001", name),
        (
            "known mobile number, wrong name, its own OTP",
            mobile,
            "Sai Devi",
        ),
    ] {
        let c = service
            .begin(&request(mobile, name, audience, "PNR-3102"), now)
            .map_err(fail("consent begin"))?;
        check(
            what,
            service.complete(&c.consent_id, c.otp.expose(), now + 1),
            ErrorCode::OtpMismatch,
        )?;
    }
    let c = service
        .begin(&request(mobile, name, audience, "PNR-3103"), now)
        .map_err(fail("consent begin"))?;
    check(
        &format!("{id}: right OTP after it expired"),
        service.complete(&c.consent_id, c.otp.expose(), c.expires_at),
        ErrorCode::ConsentExpired,
    )?;
    // That was the 4th consent for this number in the hour; the 5th is allowed, the 6th not.
    service
        .begin(&request(mobile, name, audience, "PNR-3104"), now + 1)
        .map_err(fail("consent begin"))?;
    check(
        &format!("{id}: a 6th consent within the hour"),
        service
            .begin(&request(mobile, name, audience, "PNR-3105"), now + 2)
            .map(|c| c.consent_id),
        ErrorCode::RateLimited,
    )?;
    print_line("")?;
    Ok((tokens, held))
}
