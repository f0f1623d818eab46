//! `kycvs keygen`: a new issuer key, and its public half added to a trust store.

use crate::fail::{CliError, Outcome, print_line};
use crate::files::{Access, io_error, read_prefix, write_atomic};
use kycvs_core::{MAX_JWKS_LEN, SigningKey, TrustStore};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Generate an Ed25519 issuer key and trust it in a JWKS file.
///
/// Writes the private key as PKCS#8 PEM (mode 0600) and adds the public key, bound to the
/// issuer, to the JWKS file, creating it if missing. Both files are replaced atomically.
/// Prints the new key id (kid).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The issuer id the key signs for (the tokens' `iss`); the JWKS binds the key to it.
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "KEY.pem")]
    key_out: PathBuf,
    /// The JWKS trust store to add the public key to (created if missing).
    #[arg(long, value_name = "TRUST.json")]
    jwks_out: PathBuf,
    /// Replace an existing key file (its old key is lost).
    #[arg(long)]
    force: bool,
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    if !args.force && args.key_out.symlink_metadata().is_ok() {
        return Err(refuse(&args.key_out));
    }
    let mut trust = load_or_new(&args.jwks_out)?;
    let key = SigningKey::generate().map_err(|e| CliError::core("key generation", &e))?;
    trust
        .add(key.public_key().clone(), &args.issuer)
        .map_err(|e| CliError::core("--issuer", &e))?;
    let pem = key
        .to_pkcs8_pem()
        .map_err(|e| CliError::core("key encoding", &e))?;
    write_atomic(&args.key_out, pem.as_bytes(), Access::Private, args.force).map_err(|e| {
        if e.kind() == ErrorKind::AlreadyExists {
            refuse(&args.key_out)
        } else {
            CliError::io("cannot write", &args.key_out, &e)
        }
    })?;
    let mut jwks = trust.to_jwks();
    jwks.push('\n');
    write_atomic(&args.jwks_out, jwks.as_bytes(), Access::Default, true)
        .map_err(io_error("cannot write", &args.jwks_out))?;
    print_line(key.kid())?;
    Ok(Outcome::Success)
}

/// The trust store in `path`, re-validated by the core, or an empty one if there is no file.
fn load_or_new(path: &Path) -> Result<TrustStore, CliError> {
    match read_prefix(path, MAX_JWKS_LEN + 1) {
        Ok(bytes) => TrustStore::from_jwks(&bytes).map_err(|e| CliError::core(path.display(), &e)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(TrustStore::new()),
        Err(e) => Err(CliError::io("cannot read", path, &e)),
    }
}

fn refuse(path: &Path) -> CliError {
    CliError::new(format!(
        "{} exists; refusing to overwrite a key (pass --force to replace it)",
        path.display()
    ))
}
