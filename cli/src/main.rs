//! The `kycvs` command: generate issuer keys, issue, verify and inspect KYC-VS status tokens,
//! and run the whole flow on sample data.
//!
//! The command only converts between files, arguments and the core's types; every rule about
//! tokens, keys and trust stores is `kycvs-core`'s.

mod assets;
mod consent;
mod demo;
mod fail;
mod files;
mod inspect;
mod issue;
mod keygen;
mod trust;
mod verify;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;
use std::sync::LazyLock;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a token was rejected (verify, inspect), a consent was refused (consent: wrong or
     expired OTP, rate limited, ...) or a demo expectation failed
  2  usage or configuration error (bad argument, unreadable or invalid key, JWKS file or
     trust bundle: invalid, stale or rolled back)";

/// What `kycvs --version` (and `-V`) prints after the name: the version, then the curve
/// arithmetic chosen for this CPU at start-up and every one compiled in, e.g.
/// `0.1.0` / `curve25519 backend: avx2 (compiled in: avx512ifma avx2 serial)`.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let compiled: Vec<&str> = kycvs_core::Backend::compiled()
        .iter()
        .map(|b| b.as_str())
        .collect();
    format!(
        "{}\ncurve25519 backend: {} (compiled in: {})",
        kycvs_core::VERSION,
        kycvs_core::backend(),
        compiled.join(" ")
    )
});

/// Issue and verify signed vaccination-status (KYC-VS) tokens.
#[derive(Parser, Debug)]
#[command(name = "kycvs", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Keygen(keygen::Args),
    Issue(issue::Args),
    Verify(verify::Args),
    Inspect(inspect::Args),
    Trust(trust::Args),
    Consent(consent::Args),
    Demo(demo::Args),
    #[command(hide = true)]
    GenerateAssets(assets::Args),
}

fn main() -> ExitCode {
    let matches = Cli::command().version(VERSION.as_str()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Issue(args) => issue::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Trust(args) => trust::run(&args),
        Command::Consent(args) => consent::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::GenerateAssets(args) => assets::run(&args),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            fail::warn(&error.to_string());
            fail::config_error()
        }
    }
}
