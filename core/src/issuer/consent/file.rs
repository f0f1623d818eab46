//! A [`ConsentStore`] kept in one JSON file, for an issuer whose `begin` and `complete` run in
//! different processes (the `kycvs consent` commands).

use crate::crypto::keys::os_random;
use crate::error::{Error, ErrorCode, Result};
use crate::expiry::drain_expired;
use crate::issuer::consent::{
    ConsentStore, DEFAULT_CONSENT_CAPACITY, DEFAULT_RATE_CAPACITY, PendingConsent, RateEntry,
    StoreAction, StoreState, StoredConsent,
};
use crate::jose::token::{decode_segment, encode_segment};
use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// The largest consent store file read, in bytes.
pub const MAX_CONSENT_FILE_LEN: usize = 64 * 1024 * 1024;

/// The version number written in (and required of) a consent store file. Version 1 held
/// beneficiary ids and dose records and is refused.
const FILE_VERSION: u32 = 2;

/// A [`ConsentStore`] in one JSON file (mode 0600), shared by every process that opens the
/// same path.
///
/// Each call takes an exclusive operating-system advisory lock (`flock` on Unix, `LockFileEx`
/// on Windows) on the sidecar file `<path>.lock`, which is created once (mode 0600) and never
/// deleted; it reads the file, applies the same rules as [`crate::MemoryConsentStore`], and
/// writes the result to a temporary file in the same directory that is synced and then
/// renamed over the file, so a reader never sees it half-written. A call waits for the lock
/// as long as another holds it: there is no timeout and no stale-lock breaking, so a slow
/// holder never loses its lock and no clock is involved. A process that dies holding the lock
/// releases it (the operating system closes its files). Expired consents and idle rate
/// counters are dropped on every `insert` and `count_begin`.
///
/// The file holds each consent id with what a [`PendingConsent`] holds (the OTP's MAC, the
/// expiry, attempts left, the audience, the nonce, and the outcome: a status and pairwise
/// subject, an error code, or nobody) and the rate counters (keyed by a MAC of the mobile
/// number): no OTP, mobile number, name, beneficiary id or dose record.
///
/// Failures: a file that cannot be locked, read or written, or is not a consent store file
/// of this version (the earlier version included), is `consent_store_unavailable`, from
/// every call (`complete` then issues nothing).
pub struct FileConsentStore {
    path: PathBuf,
    lock_path: PathBuf,
    consent_capacity: usize,
    rate_capacity: usize,
    local: Mutex<()>,
}

impl FileConsentStore {
    /// A store in the file `path` (created on the first write; its directory must exist),
    /// holding at most [`DEFAULT_CONSENT_CAPACITY`] consents and [`DEFAULT_RATE_CAPACITY`]
    /// rate counters. An existing file is read once now (waiting for the lock as long as
    /// another process holds it). Error: `consent_store_unavailable` when it cannot be
    /// locked or read or is not a consent store file.
    pub fn open(path: impl Into<PathBuf>) -> Result<FileConsentStore> {
        let path = path.into();
        let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
        lock_name.push(".lock");
        let store = FileConsentStore {
            lock_path: path.with_file_name(lock_name),
            path,
            consent_capacity: DEFAULT_CONSENT_CAPACITY,
            rate_capacity: DEFAULT_RATE_CAPACITY,
            local: Mutex::new(()),
        };
        store.transact(|_| ((), false))?;
        Ok(store)
    }

    /// Holds at most `consents` pending consents and `mobiles` rate counters (each at least 1).
    pub fn with_capacity(mut self, consents: usize, mobiles: usize) -> FileConsentStore {
        self.consent_capacity = consents.max(1);
        self.rate_capacity = mobiles.max(1);
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The consents in the file now (live or not yet dropped). Error: as for `open`.
    pub fn len(&self) -> Result<usize> {
        self.transact(|state| (state.consents.len(), false))
    }

    /// True when the file holds no consent. Error: as for `open`.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Under the lock: loads the state, runs `f`, and writes the state back when `f` says it
    /// changed it.
    fn transact<T>(&self, f: impl FnOnce(&mut StoreState) -> (T, bool)) -> Result<T> {
        let _local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let _lock = FileLock::acquire(&self.lock_path).map_err(|e| self.io_error("lock", &e))?;
        let mut state = self.load()?;
        let (value, changed) = f(&mut state);
        if changed {
            let text = Zeroizing::new(encode_state(&state));
            write_atomic(&self.path, text.as_bytes()).map_err(|e| self.io_error("write", &e))?;
        }
        Ok(value)
    }

    fn load(&self) -> Result<StoreState> {
        let bytes = match File::open(&self.path) {
            Ok(file) => {
                let mut bytes = Zeroizing::new(Vec::new());
                file.take(MAX_CONSENT_FILE_LEN as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| self.io_error("read", &e))?;
                bytes
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(StoreState::default()),
            Err(e) => return Err(self.io_error("read", &e)),
        };
        if bytes.len() > MAX_CONSENT_FILE_LEN {
            return Err(self.invalid(&format!("longer than {MAX_CONSENT_FILE_LEN} bytes")));
        }
        decode_state(&bytes).map_err(|what| self.invalid(&what))
    }

    fn io_error(&self, action: &str, e: &io::Error) -> Error {
        Error::new(
            ErrorCode::ConsentStoreUnavailable,
            format!(
                "consent store {}: cannot {action}: {e}",
                self.path.display()
            ),
        )
    }

    fn invalid(&self, what: &str) -> Error {
        Error::new(
            ErrorCode::ConsentStoreUnavailable,
            format!("consent store {}: {what}", self.path.display()),
        )
    }
}

impl fmt::Debug for FileConsentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileConsentStore")
            .field("path", &self.path)
            .field("consent_capacity", &self.consent_capacity)
            .field("rate_capacity", &self.rate_capacity)
            .finish()
    }
}

impl ConsentStore for FileConsentStore {
    fn insert(&self, id: &str, consent: PendingConsent, now: u64) -> Result<()> {
        self.transact(|state| {
            state.purge(now);
            (state.insert(id, consent, now, self.consent_capacity), true)
        })?
    }

    fn update(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction,
    ) -> Result<bool> {
        self.transact(|state| {
            let found = state.update(id, f);
            (found, found)
        })
    }

    fn count_begin(&self, key: &[u8; 32], now: u64, window: u64, limit: u32) -> Result<()> {
        self.transact(|state| {
            state.purge(now);
            (
                state.count_begin(key, now, window, limit, self.rate_capacity),
                true,
            )
        })?
    }
}

impl StoreState {
    /// Drops every consent expired at `now` and every rate counter idle for a whole window.
    fn purge(&mut self, now: u64) {
        let (consents, rates) = (&mut self.consents, &mut self.rates);
        drain_expired(&mut self.consent_order, now, |id| {
            consents.remove(&id);
        });
        drain_expired(&mut self.rate_order, now, |key| {
            rates.remove(&key);
        });
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileState {
    version: u32,
    consents: Vec<FileConsent>,
    rates: Vec<FileRate>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConsent {
    id: String,
    consent: StoredConsent,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRate {
    key: String,
    times: Vec<u64>,
    keep_until: u64,
}

fn encode_state(state: &StoreState) -> String {
    // Oldest first, so that the file reads in a stable order.
    let consents = state
        .consent_order
        .iter()
        .filter_map(|(_, id)| {
            let c = state.consents.get(id)?;
            Some(FileConsent {
                id: id.clone(),
                consent: c.to_stored(),
            })
        })
        .collect();
    let rates = state
        .rate_order
        .iter()
        .filter_map(|(_, key)| {
            let r = state.rates.get(key)?;
            Some(FileRate {
                key: encode_segment(key),
                times: r.times.iter().copied().collect(),
                keep_until: r.keep_until,
            })
        })
        .collect();
    let file = FileState {
        version: FILE_VERSION,
        consents,
        rates,
    };
    let mut text = serde_json::to_string(&file).expect("plain structs serialize");
    text.push('\n');
    text
}

fn decode_state(bytes: &[u8]) -> std::result::Result<StoreState, String> {
    let file: FileState =
        serde_json::from_slice(bytes).map_err(|_| "not a consent store file".to_owned())?;
    if file.version != FILE_VERSION {
        return Err(format!("version {} is not {FILE_VERSION}", file.version));
    }
    let mac = |text: &str, what: &str| -> std::result::Result<[u8; 32], String> {
        decode_segment(text, what)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| format!("{what} is not 32 bytes of base64url"))
    };
    let mut state = StoreState::default();
    for c in file.consents {
        let consent = PendingConsent::from_stored(c.consent)?;
        if state.consents.contains_key(&c.id) {
            return Err("a consent id is listed twice".into());
        }
        state
            .consent_order
            .insert((consent.expires_at, c.id.clone()));
        state.consents.insert(c.id, consent);
    }
    for r in file.rates {
        let key = mac(&r.key, "rate key")?;
        if state.rates.contains_key(&key) {
            return Err("a rate key is listed twice".into());
        }
        state.rate_order.insert((r.keep_until, key));
        state.rates.insert(
            key,
            RateEntry {
                times: VecDeque::from(r.times),
                keep_until: r.keep_until,
            },
        );
    }
    Ok(state)
}

/// An exclusive lock across processes: an OS advisory lock on a sidecar file that is never
/// deleted (so no two processes can ever lock two different files of that name). Released
/// when the file is closed: on drop, or by the OS when the process dies.
struct FileLock(File);

impl FileLock {
    fn acquire(path: &Path) -> io::Result<FileLock> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        file.lock()?;
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first says so explicitly.
        let _ = self.0.unlock();
    }
}

/// Options for a new file that only its owner may read or write (0600 on Unix).
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Writes `contents` to a fresh 0600 temporary file beside `path`, syncs it, and renames it
/// over `path`.
fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut suffix = [0u8; 8];
    os_random(&mut suffix).map_err(|e| io::Error::other(e.detail().to_owned()))?;
    let temp = dir.join(format!(".{name}.{}.tmp", encode_segment(&suffix)));
    let result = (|| {
        let mut file = private_options().open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    } else if let Ok(d) = File::open(dir) {
        // Makes the rename durable; a failure here loses nothing already written.
        let _ = d.sync_all();
    }
    result
}
