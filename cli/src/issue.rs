//! `kycvs issue`: sign one status token.

use crate::fail::{CliError, Outcome, print_line};
use crate::files::{io_error, random_hex, read_prefix};
use kycvs_core::{
    Algorithm, DEFAULT_TTL, Issuer, SigningKey, TokenRequest, VaccinationStatus, unix_now,
};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Far above any PEM Ed25519 key; a longer file is cut here and fails to parse.
const MAX_KEY_FILE_LEN: usize = 64 * 1024;

/// Issue one signed status token and print it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The issuer's private key (PKCS#8 PEM, as written by `kycvs keygen`).
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// The issuer id (`iss`); must be the issuer the key is bound to in verifiers' JWKS.
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// The verifier the token is for (`aud`).
    #[arg(long, value_name = "AUD")]
    audience: String,
    /// The verifier's transaction reference (`nonce`).
    #[arg(long, value_name = "N")]
    nonce: String,
    /// The vaccination status: 0 not, 1 partially, 2 fully vaccinated (`vs`).
    #[arg(long, value_name = "0|1|2", value_parser = parse_status)]
    status: VaccinationStatus,
    /// The pseudonymous subject (`sub`); never a name or phone number. Default: a fresh
    /// random pseudonym.
    #[arg(long, value_name = "S")]
    subject: Option<String>,
    /// The token lifetime in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TTL)]
    ttl: u64,
    /// Issue at this time (seconds since the Unix epoch) instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Write `alg` as "EdDSA" (RFC 8037) instead of "Ed25519", for older JOSE libraries.
    #[arg(long)]
    legacy_alg: bool,
}

fn parse_status(value: &str) -> Result<VaccinationStatus, String> {
    let number: u64 = value
        .parse()
        .map_err(|_| format!("{value:?} is not 0, 1 or 2"))?;
    VaccinationStatus::try_from(number).map_err(|e| e.detail().to_owned())
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let key = load_key(&args.key)?;
    let mut issuer =
        Issuer::new(key, args.issuer.as_str()).map_err(|e| CliError::core("--issuer", &e))?;
    if args.legacy_alg {
        issuer = issuer.with_algorithm(Algorithm::EdDSA);
    }
    let subject = match &args.subject {
        Some(s) => s.clone(),
        None => random_pseudonym().map_err(|e| CliError::core("subject", &e))?,
    };
    let request = TokenRequest {
        audience: &args.audience,
        nonce: &args.nonce,
        subject: &subject,
        status: args.status,
        ttl: args.ttl,
    };
    let token = issuer
        .issue(&request, args.now.unwrap_or_else(unix_now))
        .map_err(|e| CliError::core("issue", &e))?;
    print_line(&token)?;
    Ok(Outcome::Success)
}

/// Loads a PKCS#8 PEM signing key; the bytes read are wiped when dropped.
pub fn load_key(path: &Path) -> Result<SigningKey, CliError> {
    let pem =
        Zeroizing::new(read_prefix(path, MAX_KEY_FILE_LEN).map_err(io_error("cannot read", path))?);
    let text = std::str::from_utf8(&pem).map_err(|_| {
        CliError::new(format!(
            "{}: not a PEM text file (a DER key? convert it to PEM)",
            path.display()
        ))
    })?;
    SigningKey::from_pkcs8_pem(text).map_err(|e| CliError::core(path.display(), &e))
}

/// A subject that names no one: 128 random bits, unrelated to any personal data.
pub fn random_pseudonym() -> Result<String, kycvs_core::Error> {
    Ok(format!("psn-{}", random_hex(16)?))
}
