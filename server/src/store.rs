//! Where the service keeps pending consents and per-mobile rate counters: the core's
//! [`ConsentStore`] trait, in memory ([`MemoryConsentStore`], lost on restart) or in one
//! SQLite database file ([`SqliteConsentStore`], the default: survives restarts).

use crate::config::StoreConfig;
use crate::session::{MemorySessionStore, Session, SessionStore};
use kycvs_core::{
    ConsentStore, Error, ErrorCode, MemoryConsentStore, PendingConsent, Result, StoreAction,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// The store the service runs on, with what the service needs beyond the core's trait.
#[derive(Clone)]
pub enum Store {
    /// In memory.
    Memory(Arc<MemoryConsentStore>, Arc<MemorySessionStore>),
    /// One SQLite file.
    Sqlite(Arc<SqliteConsentStore>),
    /// Redis, shared by several instances.
    Redis(Arc<kycvs_redis::RedisConsentStore>),
}

impl Store {
    /// Opens the store the configuration names. Error: `consent_store_unavailable`.
    pub fn open(config: &StoreConfig) -> Result<Store> {
        Ok(match config {
            StoreConfig::Memory { capacity } => Store::Memory(
                Arc::new(MemoryConsentStore::with_capacity(
                    *capacity,
                    kycvs_core::DEFAULT_RATE_CAPACITY,
                )),
                Arc::default(),
            ),
            StoreConfig::Sqlite {
                path,
                capacity,
                synchronous_full,
            } => Store::Sqlite(Arc::new(SqliteConsentStore::open(
                path,
                *capacity,
                *synchronous_full,
            )?)),
            StoreConfig::Redis(config) => {
                Store::Redis(Arc::new(kycvs_redis::RedisConsentStore::new(config)?))
            }
        })
    }

    /// The store as the core's trait object.
    pub fn as_consent_store(&self) -> Arc<dyn ConsentStore> {
        match self {
            Store::Memory(store, _) => store.clone(),
            Store::Sqlite(store) => store.clone(),
            Store::Redis(store) => store.clone(),
        }
    }

    /// Where consent sessions are kept (beside the consents).
    pub fn sessions(&self) -> Arc<dyn SessionStore> {
        match self {
            Store::Memory(_, sessions) => sessions.clone(),
            Store::Sqlite(store) => store.clone(),
            Store::Redis(store) => Arc::new(RedisSessions(store.clone())),
        }
    }

    /// Checks that the store answers (for `/readyz`). Error: `consent_store_unavailable`.
    pub fn ping(&self) -> Result<()> {
        match self {
            Store::Memory(..) => Ok(()),
            Store::Sqlite(store) => store.ping(),
            Store::Redis(store) => store.ping(),
        }
    }

    /// The Redis store, when the instances share one (request limits are counted there too).
    pub fn redis(&self) -> Option<Arc<kycvs_redis::RedisConsentStore>> {
        match self {
            Store::Redis(store) => Some(store.clone()),
            _ => None,
        }
    }

    /// The store's kind, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Memory(..) => "memory",
            Store::Sqlite(_) => "sqlite",
            Store::Redis(_) => "redis",
        }
    }
}

/// Expired rows removed per write, so that the tables never need a sweep of their own.
const SWEEP_BATCH: u32 = 16;

/// Pending consents and rate counters in one SQLite database (WAL mode, file mode 0600,
/// `secure_delete` on so that removed consents are overwritten). Every trait call is one
/// `BEGIN IMMEDIATE` transaction on one connection; a consent is stored as
/// [`PendingConsent::to_json`] under its id, a rate counter as one row per counted begin
/// under the MAC of the mobile number. It holds no mobile number, name, OTP or beneficiary
/// id. Any database error is `consent_store_unavailable`, and a failed transaction changes
/// nothing.
///
/// Durable mode (`synchronous = "full"`, the default) is a group commit: SQLite writes each
/// commit to the WAL without waiting for the disk, and a call whose transaction changed
/// anything answers only after an `fsync` of the WAL that began after its commit. Calls
/// committing while one `fsync` runs share the next one, so many concurrent requests cost a
/// few `fsync`s instead of one each, and no answer ever reports a change that a power loss
/// could undo. A failed `fsync` leaves the disk's state unknown: the store then answers
/// `consent_store_unavailable` to every call (and `/readyz` fails) until it is reopened.
pub struct SqliteConsentStore {
    connection: Mutex<Connection>,
    capacity: usize,
    /// `None` with `synchronous = "normal"`.
    wal_sync: Option<WalSync>,
}

/// The group commit's state: commits made, commits known to be on disk.
struct WalSync {
    wal: PathBuf,
    state: Mutex<SyncState>,
    synced: Condvar,
}

#[derive(Default)]
struct SyncState {
    /// Commits that changed something, numbered in WAL order.
    committed: u64,
    /// Every commit up to this number is on disk.
    durable: u64,
    /// A caller is running the `fsync` now.
    syncing: bool,
    /// `fsync`s run, for [`SqliteConsentStore::durability`].
    syncs: u64,
    /// An `fsync` failed: nothing written since the last good one can be trusted.
    failed: bool,
}

fn failed_sync() -> Error {
    Error::new(
        ErrorCode::ConsentStoreUnavailable,
        "the consent database could not be flushed to disk",
    )
}

impl WalSync {
    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self) -> Result<()> {
        if self.lock().failed {
            return Err(failed_sync());
        }
        Ok(())
    }

    /// Numbers a commit just made (called with the connection held, so in WAL order).
    fn committed(&self) -> u64 {
        let mut state = self.lock();
        state.committed += 1;
        state.committed
    }

    /// Returns once commit `seq` is on disk: the first waiter runs an `fsync` covering every
    /// commit made so far while the others wait for it.
    fn wait_durable(&self, seq: u64) -> Result<()> {
        let mut state = self.lock();
        loop {
            if state.failed {
                return Err(failed_sync());
            }
            if state.durable >= seq {
                return Ok(());
            }
            if state.syncing {
                state = self.synced.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            state.syncing = true;
            let target = state.committed;
            drop(state);
            let flushed = fsync(&self.wal);
            state = self.lock();
            state.syncing = false;
            state.syncs += 1;
            match flushed {
                Ok(()) => state.durable = state.durable.max(target),
                Err(_) => state.failed = true,
            }
            self.synced.notify_all();
        }
    }
}

/// Flushes a file's data to disk (any descriptor of the file will do on Linux and the BSDs).
fn fsync(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_data()
}

fn unavailable(_: rusqlite::Error) -> Error {
    Error::new(
        ErrorCode::ConsentStoreUnavailable,
        "the consent database failed",
    )
}

impl SqliteConsentStore {
    /// Opens (creating when missing) the database at `path` for at most `capacity` pending
    /// consents; `synchronous_full` makes every answered change durable across a power loss
    /// (the group commit above; without it a change survives a crash of the process, not of
    /// the machine). Error: `consent_store_unavailable`.
    pub fn open(
        path: &Path,
        capacity: usize,
        synchronous_full: bool,
    ) -> Result<SqliteConsentStore> {
        #[cfg(unix)]
        if !path.exists() {
            // Created here, 0600, before SQLite opens it.
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(path).map_err(|e| {
                Error::new(
                    ErrorCode::ConsentStoreUnavailable,
                    format!("the consent database cannot be created: {}", e.kind()),
                )
            })?;
        }
        let connection = Connection::open(path).map_err(unavailable)?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(unavailable)?;
        // NORMAL in both modes: SQLite then syncs only around checkpoints, and the group
        // commit (durable mode) syncs the WAL itself, once for many commits.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA secure_delete = ON;
                 PRAGMA foreign_keys = OFF;
                 CREATE TABLE IF NOT EXISTS consents (
                     id TEXT PRIMARY KEY NOT NULL,
                     expires_at INTEGER NOT NULL,
                     body BLOB NOT NULL
                 ) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS consents_by_expiry ON consents (expires_at);
                 CREATE TABLE IF NOT EXISTS begins (
                     key BLOB NOT NULL,
                     at INTEGER NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS begins_by_key ON begins (key, at);
                 CREATE INDEX IF NOT EXISTS begins_by_time ON begins (at);
                 CREATE TABLE IF NOT EXISTS sessions (
                     id TEXT PRIMARY KEY NOT NULL,
                     expires_at INTEGER NOT NULL,
                     body BLOB NOT NULL
                 ) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);",
            )
            .map_err(unavailable)?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .map_err(unavailable)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::new(
                ErrorCode::ConsentStoreUnavailable,
                "the consent database cannot use WAL mode",
            ));
        }
        let wal_sync = if synchronous_full {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            let wal = PathBuf::from(wal);
            // The schema and the WAL file itself reach the disk before the first answer.
            let directory = path.parent().filter(|p| !p.as_os_str().is_empty());
            fsync(&wal)
                .and_then(|()| fsync(directory.unwrap_or(Path::new("."))))
                .map_err(|_| failed_sync())?;
            Some(WalSync {
                wal,
                state: Mutex::default(),
                synced: Condvar::new(),
            })
        } else {
            None
        };
        Ok(SqliteConsentStore {
            connection: Mutex::new(connection),
            capacity: capacity.max(1),
            wal_sync,
        })
    }

    /// Commits that changed the database and `fsync`s run for them since the store was opened
    /// (durable mode; `(0, 0)` otherwise): concurrent callers share `fsync`s.
    pub fn durability(&self) -> (u64, u64) {
        self.wal_sync.as_ref().map_or((0, 0), |sync| {
            let state = sync.lock();
            (state.committed, state.syncs)
        })
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction: an `Err` rolls it back, an `Ok` is
    /// committed and, in durable mode, answered once the commit is on disk (when it changed
    /// anything). The value inside `Ok` is the call's answer, refusals included.
    fn write<T>(&self, work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        if let Some(sync) = &self.wal_sync {
            sync.check()?;
        }
        let mut connection = self.lock();
        let before = connection.total_changes();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let answer = work(&tx)?;
        tx.commit().map_err(unavailable)?;
        let changed = connection.total_changes() != before;
        let pending = (self.wal_sync.as_ref())
            .filter(|_| changed)
            .map(|sync| (sync, sync.committed()));
        drop(connection);
        if let Some((sync, seq)) = pending {
            sync.wait_durable(seq)?;
        }
        Ok(answer)
    }

    /// The pending consents held now (live or not yet swept).
    pub fn len(&self) -> Result<usize> {
        let connection = self.lock();
        let n: i64 = connection
            .query_row("SELECT count(*) FROM consents", [], |row| row.get(0))
            .map_err(unavailable)?;
        Ok(n as usize)
    }

    /// True when no consent is held.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Checks that the database answers. Error: `consent_store_unavailable`.
    pub fn ping(&self) -> Result<()> {
        if let Some(sync) = &self.wal_sync {
            sync.check()?;
        }
        self.lock()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(unavailable)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic inside a transaction drops it uncommitted: the connection stays usable.
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A time as SQLite's integer (the core bounds times to 2^53 - 1, far below i64::MAX).
fn as_sql_time(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

impl ConsentStore for SqliteConsentStore {
    fn insert(&self, id: &str, consent: PendingConsent, now: u64) -> Result<()> {
        self.insert_row(
            Table::Consents,
            id,
            consent.expires_at(),
            consent.to_json().as_bytes(),
            now,
        )
    }

    fn update(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction,
    ) -> Result<bool> {
        self.update_row(Table::Consents, id, &mut |body| {
            let mut consent = PendingConsent::from_json(body)?;
            Ok(match f(&mut consent) {
                StoreAction::Keep => Some((
                    consent.expires_at(),
                    Zeroizing::new(consent.to_json().as_bytes().to_vec()),
                )),
                StoreAction::Remove => None,
            })
        })
    }

    fn count_begin(&self, key: &[u8; 32], now: u64, window: u64, limit: u32) -> Result<()> {
        // The window is (now - window, now]: a begin at or before now - window has left it.
        let left_at = as_sql_time(now) - as_sql_time(window);
        self.write(|tx| {
            run(
                tx,
                "DELETE FROM begins WHERE rowid IN
                     (SELECT rowid FROM begins WHERE at <= ?1 ORDER BY at LIMIT ?2)",
                params![left_at, SWEEP_BATCH],
            )?;
            let counted: i64 = tx
                .prepare_cached("SELECT count(*) FROM begins WHERE key = ?1 AND at > ?2")
                .and_then(|mut s| s.query_row(params![&key[..], left_at], |row| row.get(0)))
                .map_err(unavailable)?;
            if counted >= i64::from(limit) {
                return Ok(Err(Error::new(
                    ErrorCode::RateLimited,
                    "too many consents begun for this mobile number; try again later",
                )));
            }
            run(
                tx,
                "INSERT INTO begins (key, at) VALUES (?1, ?2)",
                params![&key[..], as_sql_time(now)],
            )?;
            Ok(Ok(()))
        })?
    }
}

/// Runs one statement through the connection's statement cache.
fn run(tx: &rusqlite::Transaction<'_>, sql: &str, params: impl rusqlite::Params) -> Result<()> {
    tx.prepare_cached(sql)
        .and_then(|mut statement| statement.execute(params))
        .map(drop)
        .map_err(unavailable)
}

impl SessionStore for SqliteConsentStore {
    fn insert_session(&self, id: &str, session: &Session, now: u64) -> Result<()> {
        self.insert_row(
            Table::Sessions,
            id,
            session.expires_at,
            session.to_json().as_bytes(),
            now,
        )
    }

    fn update_session(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut Session) -> StoreAction,
    ) -> Result<bool> {
        self.update_row(Table::Sessions, id, &mut |body| {
            let mut session = Session::from_json(body)?;
            Ok(match f(&mut session) {
                StoreAction::Keep => Some((
                    session.expires_at,
                    Zeroizing::new(session.to_json().into_bytes()),
                )),
                StoreAction::Remove => None,
            })
        })
    }
}

/// The two tables of `(id, expires_at, body)` rows.
#[derive(Clone, Copy)]
enum Table {
    Consents,
    Sessions,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Consents => "consents",
            Table::Sessions => "sessions",
        }
    }

    fn full(self) -> &'static str {
        match self {
            Table::Consents => "the consent store is full of live consents",
            Table::Sessions => "the session store is full of live sessions",
        }
    }
}

/// What a row update answers: the row's new expiry and body, or `None` to delete it.
type NewRow = Option<(u64, Zeroizing<Vec<u8>>)>;

impl SqliteConsentStore {
    /// Inserts (or replaces) a row in one transaction, after sweeping a few expired rows;
    /// `consent_store_full` when the table is full of live rows.
    fn insert_row(
        &self,
        table: Table,
        id: &str,
        expires_at: u64,
        body: &[u8],
        now: u64,
    ) -> Result<()> {
        let name = table.name();
        let now_sql = as_sql_time(now);
        self.write(|tx| {
            run(
                tx,
                &format!(
                    "DELETE FROM {name} WHERE id IN
                     (SELECT id FROM {name} WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)"
                ),
                params![now_sql, SWEEP_BATCH],
            )?;
            let count = || -> Result<usize> {
                tx.prepare_cached(&format!("SELECT count(*) FROM {name}"))
                    .and_then(|mut s| s.query_row([], |row| row.get::<_, i64>(0)))
                    .map(|n| n as usize)
                    .map_err(unavailable)
            };
            if count()? >= self.capacity {
                run(
                    tx,
                    &format!("DELETE FROM {name} WHERE expires_at <= ?1"),
                    params![now_sql],
                )?;
                if count()? >= self.capacity {
                    return Ok(Err(Error::new(ErrorCode::ConsentStoreFull, table.full())));
                }
            }
            run(
                tx,
                &format!(
                    "INSERT OR REPLACE INTO {name} (id, expires_at, body) VALUES (?1, ?2, ?3)"
                ),
                params![id, as_sql_time(expires_at), body],
            )?;
            Ok(Ok(()))
        })?
    }

    /// Runs `f` on a row's body and keeps or deletes the row as it answers, in one
    /// transaction; `Ok(false)` (without calling `f`) when there is no such row. The answer
    /// is `Ok(true)` only once the change is committed (and durable, in durable mode).
    fn update_row(
        &self,
        table: Table,
        id: &str,
        f: &mut dyn FnMut(&[u8]) -> Result<NewRow>,
    ) -> Result<bool> {
        let name = table.name();
        self.write(|tx| {
            let body: Option<Vec<u8>> = tx
                .prepare_cached(&format!("SELECT body FROM {name} WHERE id = ?1"))
                .and_then(|mut s| s.query_row(params![id], |row| row.get(0)).optional())
                .map_err(unavailable)?;
            let Some(body) = body.map(Zeroizing::new) else {
                return Ok(false);
            };
            match f(&body)? {
                None => run(
                    tx,
                    &format!("DELETE FROM {name} WHERE id = ?1"),
                    params![id],
                )?,
                Some((expires_at, new)) => run(
                    tx,
                    &format!("UPDATE {name} SET expires_at = ?2, body = ?3 WHERE id = ?1"),
                    params![id, as_sql_time(expires_at), new.as_slice()],
                )?,
            }
            Ok(true)
        })
    }
}

/// Sessions beside the consents in Redis: `{prefix}session:{id}`, with a TTL to the
/// session's end, changed by the same optimistic transactions.
struct RedisSessions(Arc<kycvs_redis::RedisConsentStore>);

impl SessionStore for RedisSessions {
    fn insert_session(&self, id: &str, session: &Session, now: u64) -> Result<()> {
        self.0.insert_value(
            &format!("session:{id}"),
            session.to_json().as_bytes(),
            session.expires_at.saturating_sub(now),
        )
    }

    fn update_session(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut Session) -> StoreAction,
    ) -> Result<bool> {
        self.0.update_value(&format!("session:{id}"), &mut |bytes| {
            let mut session = Session::from_json(bytes)?;
            Ok(match f(&mut session) {
                StoreAction::Keep => Some(session.to_json().into_bytes()),
                StoreAction::Remove => None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(expires_at: u64) -> PendingConsent {
        // A well-formed stored consent with nobody behind it.
        let text = format!(
            "{{\"otp_mac\":\"{}\",\"expires_at\":{expires_at},\"attempts_left\":3,\
             \"audience\":\"irctc.example\",\"nonce\":\"PNR-1\",\"outcome\":0,\"value\":0,\
             \"subject\":\"\"}}",
            "A".repeat(43)
        );
        PendingConsent::from_json(text.as_bytes()).unwrap()
    }

    #[test]
    fn consents_persist_update_and_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        {
            let store = SqliteConsentStore::open(&path, 2, true).unwrap();
            store.insert("a", consent(100), 0).unwrap();
            store.insert("b", consent(200), 0).unwrap();
            let err = store.insert("c", consent(300), 50).unwrap_err();
            assert_eq!(err.code(), ErrorCode::ConsentStoreFull);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let store = SqliteConsentStore::open(&path, 2, true).unwrap();
        assert_eq!(store.len().unwrap(), 2);
        let mut seen = 0;
        assert!(
            store
                .update("a", &mut |c| {
                    seen = c.expires_at();
                    StoreAction::Keep
                })
                .unwrap()
        );
        assert_eq!(seen, 100);
        // "a" has expired at 100: it makes room.
        store.insert("c", consent(300), 100).unwrap();
        assert!(!store.update("a", &mut |_| StoreAction::Keep).unwrap());
        assert!(store.update("b", &mut |_| StoreAction::Remove).unwrap());
        assert!(!store.update("b", &mut |_| StoreAction::Remove).unwrap());
        assert_eq!(store.len().unwrap(), 1);
    }

    #[test]
    fn rate_counter_is_a_rolling_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteConsentStore::open(&dir.path().join("c.db"), 10, false).unwrap();
        let k = [9u8; 32];
        for t in [0, 10, 20] {
            store.count_begin(&k, t, 100, 3).unwrap();
        }
        let err = store.count_begin(&k, 99, 100, 3).unwrap_err();
        assert_eq!(err.code(), ErrorCode::RateLimited);
        store.count_begin(&k, 100, 100, 3).unwrap();
        store.count_begin(&[1u8; 32], 100, 100, 3).unwrap();
    }

    #[test]
    fn a_damaged_row_is_unavailable_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let store = SqliteConsentStore::open(&path, 10, true).unwrap();
        store.insert("a", consent(100), 0).unwrap();
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE consents SET body = x'7b7d'", [])
            .unwrap();
        let err = store.update("a", &mut |_| StoreAction::Remove).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable);
    }

    #[test]
    fn concurrent_commits_share_fsyncs_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let store = Arc::new(SqliteConsentStore::open(&path, 10_000, true).unwrap());
        let (threads, each) = (32, 20);
        let barrier = Arc::new(std::sync::Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..each {
                        store
                            .insert(&format!("{t}-{i}"), consent(1_000), 0)
                            .unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let (commits, syncs) = store.durability();
        assert_eq!(commits, (threads * each) as u64);
        assert!(
            syncs >= 1 && syncs < commits,
            "{syncs} fsyncs for {commits} commits"
        );
        drop(store);
        let reopened = SqliteConsentStore::open(&path, 10_000, true).unwrap();
        assert_eq!(reopened.len().unwrap(), threads * each);
        // NORMAL mode has no group commit to count.
        let normal = SqliteConsentStore::open(&dir.path().join("n.db"), 10, false).unwrap();
        normal.insert("a", consent(1_000), 0).unwrap();
        assert_eq!(normal.durability(), (0, 0));
    }

    #[test]
    fn a_failed_fsync_fails_every_later_call_closed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteConsentStore::open(&dir.path().join("c.db"), 10, true).unwrap();
        store.insert("a", consent(1_000), 0).unwrap();
        // The next flush cannot open the file it must sync.
        store.wal_sync.as_mut().unwrap().wal = dir.path().join("gone");
        let err = store.insert("b", consent(1_000), 0).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable);
        assert_eq!(
            store.ping().unwrap_err().code(),
            ErrorCode::ConsentStoreUnavailable
        );
        // Reads and writes alike, until the store is reopened.
        let err = store.update("a", &mut |_| StoreAction::Keep).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable);
        let err = store.count_begin(&[1; 32], 0, 10, 3).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let err = SqliteConsentStore::open(&path, 10, true).err().unwrap();
        assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable);
    }
}
