//! Redis-backed stores for kycvs, for deployments of more than one process:
//!
//! - [`RedisReplayStore`]: the verifiers of many booking servers share one memory of accepted
//!   token ids (`kycvs_core::ReplayStore`), one round trip per `verify` or `verify_batch`.
//! - [`RedisConsentStore`]: many `kycvs-server` instances share pending consents and the
//!   per-mobile rate counters (`kycvs_core::ConsentStore`).
//!
//! Every operation is atomic in Redis (a Lua script, or `WATCH`/`MULTI`/`EXEC`), entries
//! expire by TTL instead of being swept, and keys hold only random ids, MACs and token ids —
//! nothing personal. Any Redis failure (unreachable, slow beyond the timeout, restarted) is
//! an error with the store's own code (`replay_store_unavailable`,
//! `consent_store_unavailable`): nothing is accepted or issued unchecked. Connections are
//! re-opened on the next call after a failure, so the stores recover by themselves when
//! Redis is back.

use kycvs_core::{
    ConsentStore, Error, ErrorCode, PendingConsent, ReplayEntry, ReplayStore, Result, StoreAction,
};
use std::fmt;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How to reach Redis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://host:port/db` or `unix:///path/to/socket`.
    pub url: String,
    /// Prefix of every key (several deployments can share one Redis).
    pub prefix: String,
    /// Connect, read and write timeout of every call.
    pub timeout: Duration,
    /// Connections kept open.
    pub pool_size: usize,
}

impl RedisConfig {
    /// A configuration for `url` with the prefix `kycvs:`, a 500 ms timeout and 8
    /// connections.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            prefix: "kycvs:".into(),
            timeout: Duration::from_millis(500),
            pool_size: 8,
        }
    }
}

/// At most `pool_size` connections to one Redis, opened lazily, lent to one caller at a
/// time and dropped after any error. A caller waits for a free connection at most one
/// timeout, so when Redis stalls (paused, overloaded) every call ends within about three
/// timeouts — waiting, connecting, the command — instead of queueing behind the stalled ones.
struct Pool {
    client: redis::Client,
    size: usize,
    timeout: Duration,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<redis::Connection>,
    /// Connections lent out or being opened, plus the idle ones.
    open: usize,
}

impl Pool {
    fn new(config: &RedisConfig) -> std::result::Result<Pool, String> {
        if config.timeout.is_zero() || config.pool_size == 0 || config.pool_size > 1024 {
            return Err("timeout must be positive and pool_size 1 to 1024".into());
        }
        let client = redis::Client::open(config.url.as_str()).map_err(|e| e.to_string())?;
        Ok(Pool {
            client,
            size: config.pool_size,
            timeout: config.timeout,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        })
    }

    /// Runs `f` on a connection; a failed call drops its connection so that the next one
    /// reconnects. A connection that was opened before and fails with an I/O error other
    /// than a timeout (Redis restarted meanwhile) is replaced and `f` runs once more on the
    /// new one: every caller's operation is safe to repeat (a repeated replay record can
    /// only refuse, a repeated transaction re-reads). A timeout is never repeated.
    fn with<T>(
        &self,
        mut f: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        let (mut connection, reused) = match self.lease(Instant::now() + self.timeout)? {
            Some(connection) => (connection, true),
            None => (self.connect()?, false),
        };
        let mut result = f(&mut connection);
        if let Err(e) = &result
            && reused
            && e.is_io_error()
            && !e.is_timeout()
        {
            connection = self.connect()?;
            result = f(&mut connection);
        }
        self.give_back(result.is_ok().then_some(connection));
        result
    }

    /// An idle connection, or `None` when the caller may open a new one (counted as open
    /// already); waits until `deadline` for one to come back when all are lent out.
    fn lease(&self, deadline: Instant) -> redis::RedisResult<Option<redis::Connection>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(connection) = state.idle.pop() {
                return Ok(Some(connection));
            }
            if state.open < self.size {
                state.open += 1;
                return Ok(None);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "every Redis connection is busy",
                )
                .into());
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Opens a connection for a leased place, giving the place back when that fails.
    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let opened = self
            .client
            .get_connection_with_timeout(self.timeout)
            .and_then(|connection| {
                connection.set_read_timeout(Some(self.timeout))?;
                connection.set_write_timeout(Some(self.timeout))?;
                Ok(connection)
            });
        if opened.is_err() {
            self.give_back(None);
        }
        opened
    }

    /// Returns a leased place: its connection back to the idle ones, or `None` to close it.
    fn give_back(&self, connection: Option<redis::Connection>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match connection {
            Some(connection) => state.idle.push(connection),
            None => state.open -= 1,
        }
        drop(state);
        self.returned.notify_one();
    }
}

/// Records token ids in Redis; the one source of the Python and C copies (`make codegen`).
const REPLAY_SCRIPT: &str = include_str!("replay.lua");

/// Seconds of keep-until time whose token ids share one set: an hour, the largest leeway
/// (`kycvs_core::MAX_LEEWAY`), so that the keep-until times two verifiers compute for one
/// token lie in the same or neighbouring hours, all of which the script looks in.
pub const REPLAY_BUCKET_SECONDS: u64 = 3600;

/// A [`ReplayStore`] in Redis, shared by every verifier that uses the same Redis and
/// prefix. Token ids are members of one set per hour of keep-until time,
/// `{prefix}replay:{keep_until / 3600}`, kept until the end of that hour by the verifier's
/// clock; a token id counts as seen when it is in its own hour's set or in the hour before
/// or after. All of one call is one script run (`redis/src/replay.lua`, one round trip, a
/// few set commands per hour instead of one key per token; Redis ≥ 6.2 for `SMISMEMBER`).
/// Python's `kycvs.redis` and the C reference callback (`examples/redis/`) use the same keys
/// and script, so verifiers in every language share one memory.
pub struct RedisReplayStore {
    pool: Pool,
    prefix: String,
    script: redis::Script,
}

impl RedisReplayStore {
    /// A store over `config`; connects on first use. Error: `invalid_argument` for a bad URL
    /// or limits.
    pub fn new(config: &RedisConfig) -> Result<RedisReplayStore> {
        Ok(RedisReplayStore {
            pool: Pool::new(config).map_err(|e| Error::new(ErrorCode::InvalidArgument, e))?,
            prefix: config.prefix.clone(),
            script: redis::Script::new(REPLAY_SCRIPT),
        })
    }

    /// The script's keys and arguments for `entries` at `now`: three keys per hour (the one
    /// before, the hour itself, the one after); the hour count, each hour's remaining
    /// seconds, each entry's hour number as two big-endian bytes, then every jti, all in
    /// input order. `None` when the entries span more hours than two bytes can number.
    fn invocation(
        &self,
        entries: &[ReplayEntry<'_>],
        now: u64,
    ) -> Option<redis::ScriptInvocation<'_>> {
        let mut hours: Vec<u64> = entries
            .iter()
            .map(|e| e.keep_until / REPLAY_BUCKET_SECONDS)
            .collect();
        hours.sort_unstable();
        hours.dedup();
        if hours.len() > usize::from(u16::MAX) {
            return None;
        }
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(hours.len());
        for &hour in &hours {
            for key in [hour.saturating_sub(1), hour, hour.saturating_add(1)] {
                invocation.key(format!("{}replay:{key}", self.prefix));
            }
            let end = hour.saturating_add(1).saturating_mul(REPLAY_BUCKET_SECONDS);
            invocation.arg(end.saturating_sub(now).max(1));
        }
        let mut index = Vec::with_capacity(2 * entries.len());
        for entry in entries {
            let hour = entry.keep_until / REPLAY_BUCKET_SECONDS;
            // Found (`hours` holds every entry's hour), and at most u16::MAX (checked above).
            let number = hours.binary_search(&hour).unwrap_or_default() + 1;
            index.extend_from_slice(&u16::try_from(number).unwrap_or(u16::MAX).to_be_bytes());
        }
        invocation.arg(index);
        for entry in entries {
            invocation.arg(entry.jti);
        }
        Some(invocation)
    }
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ReplayStore for RedisReplayStore {
    fn check_and_record_all(&self, entries: &[ReplayEntry<'_>], now: u64) -> Vec<Result<()>> {
        if entries.is_empty() {
            return Vec::new();
        }
        let answer: redis::RedisResult<Vec<u8>> = match self.invocation(entries, now) {
            Some(invocation) => self.pool.with(|con| invocation.invoke(con)),
            None => Err(redis::RedisError::from((
                redis::ErrorKind::ClientError,
                "more hours of keep-until time than one call can number",
            ))),
        };
        match answer {
            Ok(answers) if answers.len() == entries.len() => answers
                .into_iter()
                .map(|new| match new {
                    1 => Ok(()),
                    _ => Err(Error::new(
                        ErrorCode::Replayed,
                        "this jti was already presented",
                    )),
                })
                .collect(),
            _ => entries
                .iter()
                .map(|_| {
                    Err(Error::new(
                        ErrorCode::ReplayStoreUnavailable,
                        "the Redis replay store did not answer",
                    ))
                })
                .collect(),
        }
    }

    /// Redis answers over a socket: a long batch's check overlaps its verification.
    fn is_remote(&self) -> bool {
        true
    }
}

/// Counts one begin in a sorted set of begin times, in the window `(now - window, now]`,
/// unless `limit` are already counted; answers 1 (counted) or 0 (refused).
const RATE_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], window)
return 1
";

/// Counts one request in each fixed-window counter in turn, up to the first one beyond its
/// limit; answers that counter's number (from 1), or 0 when every one is within its limit.
const LIMIT_SCRIPT: &str = r"
for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i - 1]))
  end
  if n > tonumber(ARGV[2 * i]) then
    return i
  end
end
return 0
";

/// One request counter of [`RedisConsentStore::count_requests`].
#[derive(Clone, Copy, Debug)]
pub struct RequestCounter {
    /// What the key names, e.g. `"ip"` or `"client"`.
    pub scope: &'static str,
    /// A MAC of the address or client id (never the value itself).
    pub key: [u8; 32],
    /// The window, in seconds.
    pub window: u64,
    /// The most requests a window allows.
    pub limit: u32,
}

/// What an [`RedisConsentStore::update_value`] callback answers: the new value, or `None` to
/// delete the key.
pub type NewValue = Option<Vec<u8>>;

/// How many times an optimistic transaction is tried before the store gives up.
const MAX_TRIES: usize = 16;

/// A [`ConsentStore`] in Redis, shared by every `kycvs-server` instance that uses the same
/// Redis and prefix. Keys: `{prefix}consent:{consent id}` (the consent's stored form, with a
/// TTL to its expiry) and `{prefix}rate:{hex MAC of the mobile number}` (a sorted set of
/// begin times with a TTL of one window). `update` is a `WATCH`/`MULTI`/`EXEC` transaction,
/// retried when another instance changed the consent meanwhile, so of several concurrent
/// completes exactly one sees the consent. Every failure is `consent_store_unavailable`;
/// Redis' own memory limit (`maxmemory` with `noeviction`) bounds it.
pub struct RedisConsentStore {
    pool: Pool,
    prefix: String,
    rate: redis::Script,
    limit: redis::Script,
}

fn unavailable(_: redis::RedisError) -> Error {
    Error::new(
        ErrorCode::ConsentStoreUnavailable,
        "the Redis consent store did not answer",
    )
}

impl RedisConsentStore {
    /// A store over `config`; connects on first use. Error: `invalid_argument` for a bad URL
    /// or limits.
    pub fn new(config: &RedisConfig) -> Result<RedisConsentStore> {
        Ok(RedisConsentStore {
            pool: Pool::new(config).map_err(|e| Error::new(ErrorCode::InvalidArgument, e))?,
            prefix: config.prefix.clone(),
            rate: redis::Script::new(RATE_SCRIPT),
            limit: redis::Script::new(LIMIT_SCRIPT),
        })
    }

    /// Counts one request against each of `counters` in turn, in one round trip, and stops
    /// at the first that is beyond its limit: `Ok(Some(i))` for `counters[i]`, `Ok(None)`
    /// when every one is within. Each counter is the fixed window of `window` seconds that
    /// holds `now` for `key` (a MAC naming a client or an address, see
    /// `kycvs_core::ConsentStarter::limit_key`) under `scope`:
    /// `{prefix}limit:{scope}:{hex key}:{now / window}`, kept until the window ends. Error:
    /// `consent_store_unavailable` (the request is refused, never let through uncounted).
    pub fn count_requests(&self, counters: &[RequestCounter], now: u64) -> Result<Option<usize>> {
        if counters.is_empty() {
            return Ok(None);
        }
        let mut invocation = self.limit.prepare_invoke();
        for counter in counters {
            let window = counter.window.max(1);
            let slot = now / window;
            invocation
                .key(format!(
                    "{}limit:{}:{}:{slot}",
                    self.prefix,
                    counter.scope,
                    hex::encode(counter.key)
                ))
                .arg((slot + 1).saturating_mul(window).saturating_sub(now).max(1))
                .arg(counter.limit);
        }
        let refused: usize = self
            .pool
            .with(|con| invocation.invoke(con))
            .map_err(unavailable)?;
        Ok(refused.checked_sub(1).filter(|&i| i < counters.len()))
    }

    /// Checks that Redis answers. Error: `consent_store_unavailable`.
    pub fn ping(&self) -> Result<()> {
        self.pool
            .with(|con| redis::cmd("PING").query::<String>(con))
            .map(|_| ())
            .map_err(unavailable)
    }

    /// Stores `value` under `{prefix}{name}` for `ttl` seconds (at least 1). Error:
    /// `consent_store_unavailable`.
    pub fn insert_value(&self, name: &str, value: &[u8], ttl: u64) -> Result<()> {
        let key = format!("{}{name}", self.prefix);
        self.pool
            .with(|con| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(value)
                    .arg("EX")
                    .arg(ttl.max(1))
                    .query::<()>(con)
            })
            .map_err(unavailable)
    }

    /// Runs `f` on the value under `{prefix}{name}` atomically: `f` answers the new value
    /// (kept with its TTL) or `None` to delete it; retried from a fresh read when another
    /// client changed the key meanwhile. `Ok(false)` (without calling `f`) when there is no
    /// such key. Error: `consent_store_unavailable`, also after too many conflicts.
    pub fn update_value(
        &self,
        name: &str,
        f: &mut dyn FnMut(&[u8]) -> Result<NewValue>,
    ) -> Result<bool> {
        let key = format!("{}{name}", self.prefix);
        for _ in 0..MAX_TRIES {
            let step: std::result::Result<Option<bool>, Error> = self
                .pool
                .with(|con| {
                    redis::cmd("WATCH").arg(&key).query::<()>(con)?;
                    let value: Option<Vec<u8>> = redis::cmd("GET").arg(&key).query(con)?;
                    let Some(value) = value.map(Zeroizing::new) else {
                        redis::cmd("UNWATCH").query::<()>(con)?;
                        return Ok(Ok(Some(false)));
                    };
                    let new = match f(&value) {
                        Ok(new) => new,
                        Err(e) => {
                            redis::cmd("UNWATCH").query::<()>(con)?;
                            return Ok(Err(e));
                        }
                    };
                    let mut pipe = redis::pipe();
                    pipe.atomic();
                    match &new {
                        Some(bytes) => pipe
                            .cmd("SET")
                            .arg(&key)
                            .arg(bytes.as_slice())
                            .arg("KEEPTTL")
                            .ignore(),
                        None => pipe.cmd("DEL").arg(&key).ignore(),
                    };
                    // EXEC answers nil when the watched key changed: try again.
                    let done: Option<()> = pipe.query(con)?;
                    Ok(Ok(done.map(|()| true)))
                })
                .map_err(unavailable)?;
            match step? {
                Some(found) => return Ok(found),
                None => continue,
            }
        }
        Err(Error::new(
            ErrorCode::ConsentStoreUnavailable,
            "the consent changed under every try; giving up",
        ))
    }
}

impl fmt::Debug for RedisConsentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConsentStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ConsentStore for RedisConsentStore {
    fn insert(&self, id: &str, consent: PendingConsent, now: u64) -> Result<()> {
        let ttl = consent.expires_at().saturating_sub(now);
        self.insert_value(&format!("consent:{id}"), consent.to_json().as_bytes(), ttl)
    }

    fn update(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction,
    ) -> Result<bool> {
        self.update_value(&format!("consent:{id}"), &mut |bytes| {
            let mut consent = PendingConsent::from_json(bytes)?;
            Ok(match f(&mut consent) {
                StoreAction::Keep => Some(consent.to_json().as_bytes().to_vec()),
                StoreAction::Remove => None,
            })
        })
    }

    fn count_begin(&self, key: &[u8; 32], now: u64, window: u64, limit: u32) -> Result<()> {
        let mut member = [0u8; 12];
        getrandom::fill(&mut member)
            .map_err(|_| Error::new(ErrorCode::RandomSource, "the OS random source failed"))?;
        let counted: i64 = self
            .pool
            .with(|con| {
                self.rate
                    .key(format!("{}rate:{}", self.prefix, hex::encode(key)))
                    .arg(now)
                    .arg(window)
                    .arg(limit)
                    .arg(format!("{now}:{}", hex::encode(member)))
                    .invoke(con)
            })
            .map_err(unavailable)?;
        if counted == 1 {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::RateLimited,
                "too many consents begun for this mobile number; try again later",
            ))
        }
    }
}
