//! `kycvs trust`: sign trust bundles with a root key, and write the root's public JWK.

use crate::fail::{CliError, Outcome, print_line};
use crate::files::{Access, io_error, read_prefix, write_atomic};
use crate::issue::load_key;
use kycvs_core::{BundleTerms, KeyWindow, MAX_JWKS_LEN, TrustBundle, TrustStore, unix_now};
use std::path::{Path, PathBuf};

const TRUST_HELP: &str = "\
A trust bundle is a signed JWS (typ kycvs-trust+jwt) of the trusted keys, each bound to its
issuer and to a validity window (nbf, exp: a token's iat must satisfy nbf <= iat < exp),
with a sequence number and an expiry. Verifiers pin the root's public JWK (`trust root`) and
load bundles with `kycvs verify --bundle FILE --root ROOT.json`.";

/// Sign trust bundles and export the root key that verifiers pin.
#[derive(clap::Args, Debug)]
#[command(after_help = TRUST_HELP)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    Sign(SignArgs),
    Root(RootArgs),
}

/// Sign the keys of a JWKS as a trust bundle; print it (or write it with --out).
///
/// Each key keeps the window its JWK carries (`nbf`, `exp`); a key without one gets
/// --nbf/--exp, which are then required.
#[derive(clap::Args, Debug)]
pub struct SignArgs {
    /// The root signing key (PKCS#8 PEM), e.g. from `kycvs keygen`.
    #[arg(long, value_name = "ROOT.pem")]
    root_key: PathBuf,
    /// The keys to vouch for: a JWKS whose keys each name their issuer (`iss`).
    #[arg(long, value_name = "KEYS.json")]
    jwks: PathBuf,
    /// The bundle's sequence number (1 to 2^53 - 1); raise it with every new bundle.
    #[arg(long, value_name = "N")]
    sequence: u64,
    /// When the bundle expires (seconds since the Unix epoch); verifiers refuse it from then.
    #[arg(long, value_name = "UNIX")]
    expires: u64,
    /// The start of the window of keys that carry none (seconds since the Unix epoch).
    #[arg(long, value_name = "UNIX", requires = "exp")]
    nbf: Option<u64>,
    /// The end (exclusive) of the window of keys that carry none.
    #[arg(long, value_name = "UNIX", requires = "nbf")]
    exp: Option<u64>,
    /// The bundle's issue time instead of now (seconds since the Unix epoch).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Write the bundle to this file (atomically) instead of stdout.
    #[arg(long, value_name = "BUNDLE.jws")]
    out: Option<PathBuf>,
}

/// Print the root key's public JWK, which verifiers pin (or write it with --out).
#[derive(clap::Args, Debug)]
pub struct RootArgs {
    /// The root signing key (PKCS#8 PEM).
    #[arg(long, value_name = "ROOT.pem")]
    root_key: PathBuf,
    /// Write the JWK to this file (atomically) instead of stdout.
    #[arg(long, value_name = "ROOT.json")]
    out: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    match &args.command {
        Command::Sign(args) => sign(args),
        Command::Root(args) => root(args),
    }
}

fn sign(args: &SignArgs) -> Result<Outcome, CliError> {
    let root = load_key(&args.root_key)?;
    let jwks = read_prefix(&args.jwks, MAX_JWKS_LEN + 1)
        .map_err(|e| CliError::io("cannot read", &args.jwks, &e))?;
    let given =
        TrustStore::from_jwks(&jwks).map_err(|e| CliError::core(args.jwks.display(), &e))?;
    let default_key_window = KeyWindow::from_bounds(args.nbf, args.exp)
        .map_err(|e| CliError::core("--nbf/--exp", &e))?;
    let terms = BundleTerms {
        sequence: args.sequence,
        issued_at: args.now.unwrap_or_else(unix_now),
        expires_at: args.expires,
        default_key_window,
    };
    let bundle = TrustBundle::new(&given, &terms)
        .and_then(|b| b.sign(&root))
        .map_err(|e| CliError::core("bundle (--sequence, --expires, --nbf/--exp)", &e))?;
    emit(args.out.as_deref(), &bundle)
}

fn root(args: &RootArgs) -> Result<Outcome, CliError> {
    let root = load_key(&args.root_key)?;
    emit(
        args.out.as_deref(),
        &TrustBundle::root_jwk(root.public_key()),
    )
}

/// Prints `text`, or writes it with a final newline to `out`.
fn emit(out: Option<&Path>, text: &str) -> Result<Outcome, CliError> {
    match out {
        None => print_line(text)?,
        Some(path) => write_atomic(path, format!("{text}\n").as_bytes(), Access::Default, true)
            .map_err(io_error("cannot write", path))?,
    }
    Ok(Outcome::Success)
}
