//! `kycvs inspect`: decode a token for a person to read, verifying nothing.

use crate::fail::{CliError, Outcome, print_line, warn};
use kycvs_core::inspect_unverified;
use serde_json::json;

/// The marker that opens every inspection, on stdout and stderr alike.
pub const UNVERIFIED: &str = "UNVERIFIED";

const INSPECT_HELP: &str = "\
Output: pretty JSON {\"verified\": false, \"warning\": \"UNVERIFIED: …\", \"header\": {…},
\"claims\": {…}, \"signature_len\": 64}; the same UNVERIFIED warning is also printed on stderr.
Nothing is checked but the token's size and structure: not the signature, key, issuer,
audience, nonce or times. Use `kycvs verify` to decide anything. Exit 1 when the token cannot
be decoded.";

/// Decode a token's header and claims without verifying them.
#[derive(clap::Args, Debug)]
#[command(after_help = INSPECT_HELP)]
pub struct Args {
    /// The token to decode.
    #[arg(value_name = "TOKEN")]
    token: String,
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let warning = format!(
        "{UNVERIFIED}: decoded only; the signature, key, issuer, audience, nonce and times \
         were NOT checked"
    );
    let inspection = match inspect_unverified(&args.token) {
        Ok(inspection) => inspection,
        Err(e) => {
            warn(&format!("cannot decode token: {e}"));
            return Ok(Outcome::Rejected);
        }
    };
    warn(&warning);
    let shown = json!({
        "verified": false,
        "warning": warning,
        "header": inspection.header,
        "claims": inspection.claims,
        "signature_len": inspection.signature_len,
    });
    let text = serde_json::to_string_pretty(&shown)
        .map_err(|e| CliError::new(format!("cannot format output: {e}")))?;
    print_line(&text)?;
    Ok(Outcome::Success)
}
