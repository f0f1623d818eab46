/* The Redis replay store for C verifiers: a `kycvs_replay_check` callback over hiredis that
 * shares one replay memory with Rust's kycvs_redis::RedisReplayStore and Python's
 * kycvs.redis.RedisReplayStore (same keys, same script), so a token accepted by a verifier
 * in any of the three languages is refused as replayed by all the others.
 *
 *     kycvs_redis_replay *store = kycvs_redis_replay_open("/run/redis/redis.sock", 0, NULL, 500);
 *     kycvs_verifier_with_replay_callback(verifier, kycvs_redis_replay_check, store, &guarded);
 *     ...
 *     kycvs_verifier_free(guarded);   // every verifier using the store first
 *     kycvs_redis_replay_close(store);
 *
 * Build with `$(pkg-config --cflags --libs hiredis) -pthread`. The store fails closed: when
 * Redis cannot answer within the timeout, every token of the call is refused with
 * KYCVS_RESULT_REPLAY_STORE_UNAVAILABLE, and the next call opens a new connection, so the
 * verifier recovers by itself once Redis is back. */
#ifndef KYCVS_REDIS_REPLAY_H
#define KYCVS_REDIS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <kycvs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One connection to Redis, its loaded script and a key prefix, shared by every thread
 * (calls take turns on the connection). Opaque; made by kycvs_redis_replay_open. */
typedef struct kycvs_redis_replay kycvs_redis_replay;

/* Makes a store for the Redis at `unix_socket_path_or_host`: a Unix socket path when `port`
 * is 0, a host name or address with TCP `port` (1 to 65535) otherwise. Keys are
 * `{prefix}replay:{hour}`; `prefix` is 1 to 64 printable ASCII characters, NULL meaning
 * "kycvs:" (the default of the Rust and Python stores; all verifiers that must share one
 * memory use the same prefix). `timeout_ms` (1 to 600000) bounds connecting, each write and
 * each read.
 *
 * Does not connect: the first check does, so a verifier may start while Redis is down (its
 * tokens are refused until Redis is back). Returns NULL when an argument is out of range or
 * memory is short. */
kycvs_redis_replay *kycvs_redis_replay_open(const char *unix_socket_path_or_host, int port,
                                            const char *prefix, int timeout_ms);

/* Closes the connection and frees the store. NULL does nothing. No verifier registered with
 * the store may be used any more (free them first). */
void kycvs_redis_replay_close(kycvs_redis_replay *store);

/* The replay check, a `kycvs_replay_check` for kycvs_verifier_with_replay_callback with the
 * store as `user`: one script run (EVALSHA) records all `count` entries and sets `is_new[i]`
 * to 1 (new, now remembered) or 0 (replayed). Returns 0 on success, and -1 without touching
 * `is_new` when Redis cannot be reached, times out, or answers anything but one 0 or 1 per
 * entry (and when the entries' keep-until times span more than 65,535 hours); the connection is then dropped and opened again by the next call (and a kept
 * connection that Redis closed, by a restart, is replaced within the call, which is run once
 * more). A call that timed out may still have recorded its tokens in Redis: they are refused
 * now and, presented again, as replayed; never is a token accepted twice.
 *
 * Thread-safe: calls take turns on the one connection, and a call that waits longer than the
 * timeout for its turn fails too, so while Redis stalls every call ends within about three
 * timeouts. While it waits on Redis it blocks SIGPIPE in the calling thread, so a connection
 * Redis closed does not kill the process. */
int kycvs_redis_replay_check(void *user, const kycvs_replay_entry *entries, size_t count,
                             uint64_t now, uint8_t *is_new);

#ifdef __cplusplus
}
#endif

#endif /* KYCVS_REDIS_REPLAY_H */
