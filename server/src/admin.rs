//! Administration: `kycvs-server init` (keys and a starting configuration) and
//! `kycvs-server client add` (register a verifier client and print its secret once).

use crate::auth::new_secret;
use crate::config::{Config, check_origin};
use kycvs_core::{PseudonymKey, SigningKey};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// An administration failure, in words for the operator.
#[derive(Debug)]
pub struct AdminError(pub String);

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

fn io(path: &Path, e: std::io::Error) -> AdminError {
    AdminError(format!("{}: {e}", path.display()))
}

/// Writes a new file with mode 0600 (never replacing one), synced to disk.
fn write_new_secret_file(path: &Path, contents: &[u8]) -> Result<(), AdminError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| io(path, e))?;
    file.write_all(contents).map_err(|e| io(path, e))?;
    file.sync_all().map_err(|e| io(path, e))
}

/// Replaces `path` with `contents` atomically (a temporary file in the same directory,
/// synced, then renamed), keeping mode 0600.
fn replace_file(path: &Path, contents: &[u8]) -> Result<(), AdminError> {
    let tmp = path.with_extension("toml.tmp");
    let _ = std::fs::remove_file(&tmp);
    write_new_secret_file(&tmp, contents)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// What `init` made.
#[derive(Debug)]
pub struct Initialised {
    /// The configuration file.
    pub config: PathBuf,
}

/// Creates `dir` with `keys/` (a signing key, an OTP key and a pseudonym key, each 0600),
/// `state/`, and `kycvs-server.toml` listening on `listen` with a SQLite store and the `log`
/// SMS sender writing to `state/sms.log`, and no clients. Refuses to overwrite anything.
pub fn init(dir: &Path, issuer_id: &str, listen: &str) -> Result<Initialised, AdminError> {
    let config_path = dir.join("kycvs-server.toml");
    if config_path.exists() {
        return Err(AdminError(format!(
            "{} exists; init never overwrites a configuration",
            config_path.display()
        )));
    }
    let keys = dir.join("keys");
    let state = dir.join("state");
    for d in [dir, &keys, &state] {
        std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            if d != dir {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| io(d, e))?;
            }
        }
    }
    let core = |e: kycvs_core::Error| AdminError(e.to_string());
    let signing = SigningKey::generate().map_err(core)?;
    let pem = signing.to_pkcs8_pem().map_err(core)?;
    write_new_secret_file(&keys.join("issuer.pem"), pem.as_bytes())?;
    let mut otp = Zeroizing::new([0u8; 32]);
    getrandom::fill(otp.as_mut()).map_err(|e| AdminError(format!("random source: {e}")))?;
    let otp_hex = Zeroizing::new(format!("{}\n", hex::encode(otp.as_ref())));
    write_new_secret_file(&keys.join("otp-mac.key"), otp_hex.as_bytes())?;
    let pseudonym = PseudonymKey::generate().map_err(core)?;
    let pseudonym_hex = Zeroizing::new(format!("{}\n", hex::encode(pseudonym.to_bytes().as_ref())));
    write_new_secret_file(&keys.join("pseudonym.key"), pseudonym_hex.as_bytes())?;
    let text = format!(
        "# kycvs-server configuration (see README \"Run the service\").\n\
         [server]\n\
         listen = \"{listen}\"\n\n\
         [issuer]\n\
         id = \"{issuer_id}\"\n\
         signing_key = \"keys/issuer.pem\"\n\
         otp_key = \"keys/otp-mac.key\"\n\
         pseudonym_key = \"keys/pseudonym.key\"\n\
         registry = \"sample\"\n\n\
         [store]\n\
         kind = \"sqlite\"\n\
         path = \"state/consents.db\"\n\n\
         [sms]\n\
         # Development only: each SMS (number and OTP) is appended to this file.\n\
         sender = \"log\"\n\
         path = \"state/sms.log\"\n"
    );
    // The configuration must load before it is written (a bad id or address is refused).
    Config::parse(&text, &config_path, dir).map_err(|e| AdminError(e.to_string()))?;
    write_new_secret_file(&config_path, text.as_bytes())?;
    Ok(Initialised {
        config: config_path,
    })
}

/// Registers a client in the configuration file at `config_path` (kept with its comments)
/// and returns its new secret, which is stored only as its SHA-256.
pub fn add_client(
    config_path: &Path,
    id: &str,
    name: &str,
    origins: &[String],
) -> Result<Zeroizing<String>, AdminError> {
    for origin in origins {
        check_origin(origin).map_err(|m| AdminError(format!("--origin {origin}: {m}")))?;
    }
    let text = std::fs::read_to_string(config_path).map_err(|e| io(config_path, e))?;
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| AdminError(format!("{}: {e}", config_path.display())))?;
    let (secret, hash) = new_secret().map_err(|e| AdminError(format!("random source: {e}")))?;
    let mut table = toml_edit::Table::new();
    table["id"] = toml_edit::value(id);
    table["name"] = toml_edit::value(name);
    let mut list = toml_edit::Array::new();
    for origin in origins {
        list.push(origin.as_str());
    }
    table["origins"] = toml_edit::value(list);
    table["secret_sha256"] = toml_edit::value(hash);
    let clients = document
        .entry("clients")
        .or_insert(toml_edit::Item::ArrayOfTables(
            toml_edit::ArrayOfTables::new(),
        ));
    let Some(array) = clients.as_array_of_tables_mut() else {
        return Err(AdminError(
            "clients is not an array of tables ([[clients]])".into(),
        ));
    };
    array.push(table);
    let updated = document.to_string();
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Config::parse(&updated, config_path, base).map_err(|e| AdminError(e.to_string()))?;
    replace_file(config_path, updated.as_bytes())?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_add_clients_gives_a_config_that_loads() {
        let dir = tempfile::tempdir().unwrap();
        let made = init(dir.path(), "cowin.example", "127.0.0.1:0").unwrap();
        let secret = add_client(
            &made.config,
            "irctc.example",
            "IRCTC",
            &["http://127.0.0.1:8000".into()],
        )
        .unwrap();
        let config = Config::load(&made.config).unwrap();
        assert_eq!(config.clients.len(), 1);
        let text = std::fs::read_to_string(&made.config).unwrap();
        assert!(
            !text.contains(secret.as_str()),
            "the secret itself is never stored"
        );
        assert!(text.contains("Development only"), "comments are kept");
        // A second client with the same id is refused and the file is unchanged.
        let err = add_client(&made.config, "irctc.example", "Again", &[]).unwrap_err();
        assert!(err.0.contains("clients[1].id"), "{err}");
        assert_eq!(std::fs::read_to_string(&made.config).unwrap(), text);
        assert!(init(dir.path(), "cowin.example", "127.0.0.1:0").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for f in [
                "keys/issuer.pem",
                "keys/otp-mac.key",
                "keys/pseudonym.key",
                "kycvs-server.toml",
            ] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
    }
}
