/* The Redis replay store for C verifiers: a kycvs_replay_check callback over hiredis that
 * shares one replay memory with Rust's kycvs_redis::RedisReplayStore and Python's
 * kycvs.redis.RedisReplayStore (same keys, same script). */

/* The one source of the script is redis/src/replay.lua; `make codegen` writes this copy and
 * `make test` fails when it is stale. */
/* BEGIN GENERATED (replay script) by kycvs-codegen; do not edit, run `make codegen` */
static const char KYCVS_REDIS_REPLAY_SCRIPT[] =
    "-- kycvs replay store: remembers token ids (jti) in one set per hour of keep-until time.\n"
    "-- KEYS: three per hour of the call, in order: the hour before, the hour, the hour after.\n"
    "-- ARGV[1]: n, the number of hours; ARGV[1 + h]: seconds from now to the end of hour h;\n"
    "-- ARGV[2 + n]: each token's hour number h (1 to n) as two bytes, big-endian, in input\n"
    "-- order; then one jti per token, in input order. Answers, per token, 1 (new, remembered\n"
    "-- now) or 0 (remembered already in any of its three hours, or earlier in this call).\n"
    "local n = tonumber(ARGV[1])\n"
    "local first = n + 3\n"
    "-- Per hour: a list of jtis and the range of it that belongs to the hour.\n"
    "local groups = {}\n"
    "if n == 1 then\n"
    "  groups[1] = {ARGV, first, #ARGV}\n"
    "else\n"
    "  local index = ARGV[n + 2]\n"
    "  local lists = {}\n"
    "  for h = 1, n do lists[h] = {} end\n"
    "  for i = first, #ARGV do\n"
    "    local p = 2 * (i - first) + 1\n"
    "    local hi, lo = string.byte(index, p, p + 1)\n"
    "    local list = lists[hi * 256 + lo]\n"
    "    list[#list + 1] = ARGV[i]\n"
    "  end\n"
    "  for h = 1, n do groups[h] = {lists[h], 1, #lists[h]} end\n"
    "end\n"
    "-- Every read before any write, a thousand members a command.\n"
    "local known = {}\n"
    "for h = 1, n do\n"
    "  local list, from, to = groups[h][1], groups[h][2], groups[h][3]\n"
    "  for k = 3 * h - 2, 3 * h do\n"
    "    if redis.call('EXISTS', KEYS[k]) == 1 then\n"
    "      for i = from, to, 1000 do\n"
    "        local found = redis.call('SMISMEMBER', KEYS[k], unpack(list, i, math.min(i + 999, to)))\n"
    "        for m = 1, #found do\n"
    "          if found[m] == 1 then known[list[i + m - 1]] = true end\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for h = 1, n do\n"
    "  local list, from, to = groups[h][1], groups[h][2], groups[h][3]\n"
    "  for i = from, to, 1000 do\n"
    "    redis.call('SADD', KEYS[3 * h - 1], unpack(list, i, math.min(i + 999, to)))\n"
    "  end\n"
    "  redis.call('EXPIRE', KEYS[3 * h - 1], tonumber(ARGV[1 + h]))\n"
    "end\n"
    "local out = {}\n"
    "for i = first, #ARGV do\n"
    "  local jti = ARGV[i]\n"
    "  if known[jti] then\n"
    "    out[i - first + 1] = 0\n"
    "  else\n"
    "    known[jti] = true\n"
    "    out[i - first + 1] = 1\n"
    "  end\n"
    "end\n"
    "return out\n"
    ;
/* END GENERATED (replay script) */

/* POSIX.1-2008: pthread_mutex_timedlock, sigtimedwait and the XSI strerror_r. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "kycvs_redis_replay.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

/* Seconds of keep-until time whose token ids share one set: an hour, the largest leeway. */
#define BUCKET_SECONDS 3600u
#define DEFAULT_PREFIX "kycvs:"
#define MAX_PREFIX_LEN 64u
/* The decimal digits of a uint64_t and a NUL. */
#define NUMBER_LEN 21u
/* A SHA-1 in hex, as SCRIPT LOAD answers it. */
#define SHA_LEN 40u

struct kycvs_redis_replay {
    /* Held for the whole of a check: hiredis contexts are not thread-safe, and holding it
     * across the round trip keeps one reply from being read by another thread's call. */
    pthread_mutex_t lock;
    char *target;
    int port;
    char *prefix;
    size_t prefix_len;
    struct timeval timeout;
    /* NULL while disconnected; the next check connects. */
    redisContext *redis;
    /* Valid while `redis` is not NULL: the script was loaded over this connection. */
    char sha[SHA_LEN + 1];
};

static char *copy_string(const char *s) {
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len + 1);
    }
    return copy;
}

static int prefix_ok(const char *prefix) {
    size_t len = strlen(prefix);
    if (len == 0 || len > MAX_PREFIX_LEN) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (prefix[i] < 0x20 || prefix[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

kycvs_redis_replay *kycvs_redis_replay_open(const char *unix_socket_path_or_host, int port,
                                            const char *prefix, int timeout_ms) {
    if (unix_socket_path_or_host == NULL || unix_socket_path_or_host[0] == '\0' || port < 0 ||
        port > 65535 || timeout_ms < 1 || timeout_ms > 600000) {
        return NULL;
    }
    if (prefix == NULL) {
        prefix = DEFAULT_PREFIX;
    }
    if (!prefix_ok(prefix)) {
        return NULL;
    }
    kycvs_redis_replay *store = calloc(1, sizeof *store);
    if (store == NULL) {
        return NULL;
    }
    store->target = copy_string(unix_socket_path_or_host);
    store->prefix = copy_string(prefix);
    if (store->target == NULL || store->prefix == NULL ||
        pthread_mutex_init(&store->lock, NULL) != 0) {
        free(store->target);
        free(store->prefix);
        free(store);
        return NULL;
    }
    store->port = port;
    store->prefix_len = strlen(prefix);
    store->timeout.tv_sec = timeout_ms / 1000;
    store->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    return store;
}

void kycvs_redis_replay_close(kycvs_redis_replay *store) {
    if (store == NULL) {
        return;
    }
    if (store->redis != NULL) {
        redisFree(store->redis);
    }
    pthread_mutex_destroy(&store->lock);
    free(store->target);
    free(store->prefix);
    free(store);
}

/* A write to a connection Redis has closed raises SIGPIPE, whose default action ends the
 * process; a verifier must instead see the error and refuse the call. The signal is blocked
 * in this thread during the I/O and a SIGPIPE raised meanwhile is taken off the thread
 * before the mask is restored, leaving the process-wide disposition to the application. */
typedef struct {
    sigset_t old_mask;
    int was_pending;
} pipe_guard;

static void sigpipe_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGPIPE);
}

static void pipe_guard_enter(pipe_guard *guard) {
    sigset_t only_pipe, pending;
    sigpipe_set(&only_pipe);
    guard->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &only_pipe, &guard->old_mask);
}

static void pipe_guard_leave(const pipe_guard *guard) {
    sigset_t only_pipe, pending;
    sigpipe_set(&only_pipe);
    if (!guard->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&only_pipe, NULL, &zero) == -1 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &guard->old_mask, NULL);
}

/* Forgets the connection, so that no reply still on its way can be taken for the answer to
 * a later call. */
static void disconnect_locked(kycvs_redis_replay *store) {
    if (store->redis != NULL) {
        redisFree(store->redis);
        store->redis = NULL;
    }
}

/* Loads the script over the current connection (again after NOSCRIPT: Redis restarted or
 * its scripts were flushed). Returns 0 with `sha` set, or -1 and disconnected. */
static int load_script_locked(kycvs_redis_replay *store) {
    const char *argv[] = {"SCRIPT", "LOAD", KYCVS_REDIS_REPLAY_SCRIPT};
    const size_t argvlen[] = {6, 4, sizeof KYCVS_REDIS_REPLAY_SCRIPT - 1};
    redisReply *reply = redisCommandArgv(store->redis, 3, argv, argvlen);
    int ok = reply != NULL && reply->type == REDIS_REPLY_STRING && reply->len == SHA_LEN;
    if (ok) {
        memcpy(store->sha, reply->str, SHA_LEN);
        store->sha[SHA_LEN] = '\0';
    }
    if (reply != NULL) {
        freeReplyObject(reply);
    }
    if (!ok) {
        disconnect_locked(store);
        return -1;
    }
    return 0;
}

static int connect_locked(kycvs_redis_replay *store) {
    if (store->redis != NULL) {
        return 0;
    }
    redisContext *redis = store->port == 0
                              ? redisConnectUnixWithTimeout(store->target, store->timeout)
                              : redisConnectWithTimeout(store->target, store->port, store->timeout);
    if (redis == NULL) {
        return -1;
    }
    if (redis->err != 0 || redisSetTimeout(redis, store->timeout) != REDIS_OK) {
        redisFree(redis);
        return -1;
    }
    store->redis = redis;
    return load_script_locked(store);
}

static int is_noscript(const redisReply *reply) {
    return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
           strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

/* Copies the reply's answers to `is_new` only when every one of them is a 0 or a 1 and
 * there is exactly one per entry: anything else is no answer, and no entry is new. */
static int take_answers(const redisReply *reply, size_t count, uint8_t *is_new) {
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != count) {
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const redisReply *answer = reply->element[i];
        if (answer == NULL || answer->type != REDIS_REPLY_INTEGER ||
            (answer->integer != 0 && answer->integer != 1)) {
            return -1;
        }
    }
    for (size_t i = 0; i < count; i++) {
        is_new[i] = (uint8_t)reply->element[i]->integer;
    }
    return 0;
}

/* Whether a failed command found its connection closed by Redis (restarted since the
 * connection was opened): a broken pipe, a reset or an end of file, never a timeout. */
static int connection_lost(const redisContext *redis) {
    if (redis->err == REDIS_ERR_EOF) {
        return 1;
    }
    if (redis->err != REDIS_ERR_IO) {
        return 0;
    }
    /* hiredis keeps only the text of errno (strerror), so the text is compared. */
    char text[128];
    const int lost[] = {EPIPE, ECONNRESET};
    for (size_t i = 0; i < sizeof lost / sizeof lost[0]; i++) {
        if (strerror_r(lost[i], text, sizeof text) == 0 && strcmp(redis->errstr, text) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Runs the script with `argv` (whose argv[1] is set here to the loaded script's SHA). Two
 * failures are worth one more try each: NOSCRIPT (the scripts were flushed: load it again),
 * and a kept connection that Redis closed (it restarted: open a new one), so that the first
 * call after Redis is back is answered. Repeating is safe: a run whose answer was lost has
 * recorded its tokens, and the repeat refuses them as replayed, never accepts one twice. A
 * timeout is never repeated: it would double the wait of every call while Redis stalls. */
static int run_locked(kycvs_redis_replay *store, int argc, const char **argv,
                      const size_t *argvlen, size_t count, uint8_t *is_new) {
    int may_reconnect = store->redis != NULL;
    int may_reload = 1;
    if (connect_locked(store) != 0) {
        return -1;
    }
    for (;;) {
        argv[1] = store->sha;
        redisReply *reply = redisCommandArgv(store->redis, argc, argv, argvlen);
        if (reply == NULL) {
            int retry = may_reconnect && connection_lost(store->redis);
            disconnect_locked(store);
            if (!retry || connect_locked(store) != 0) {
                return -1;
            }
            may_reconnect = 0;
            continue;
        }
        if (may_reload && is_noscript(reply)) {
            freeReplyObject(reply);
            if (load_script_locked(store) != 0) {
                return -1;
            }
            may_reload = 0;
            continue;
        }
        int result = take_answers(reply, count, is_new);
        freeReplyObject(reply);
        if (result != 0) {
            /* An error reply or an unexpected shape: start over on a fresh connection
             * rather than guess what state this one is in. */
            disconnect_locked(store);
        }
        return result;
    }
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Writes `value` in decimal at `*cursor` as one argument and moves the cursor past it. */
static void put_number(char **cursor, uint64_t value, const char **arg, size_t *len) {
    int n = snprintf(*cursor, NUMBER_LEN, "%" PRIu64, value);
    *arg = *cursor;
    *len = (size_t)n;
    *cursor += n;
}

static void put_key(char **cursor, const char *prefix, size_t prefix_len, uint64_t hour,
                    const char **arg, size_t *len) {
    char *start = *cursor;
    memcpy(start, prefix, prefix_len);
    memcpy(start + prefix_len, "replay:", 7);
    int n = snprintf(start + prefix_len + 7, NUMBER_LEN, "%" PRIu64, hour);
    *arg = start;
    *len = prefix_len + 7 + (size_t)n;
    *cursor += *len;
}

int kycvs_redis_replay_check(void *user, const kycvs_replay_entry *entries, size_t count,
                             uint64_t now, uint8_t *is_new) {
    kycvs_redis_replay *store = user;
    if (count == 0) {
        return 0;
    }
    if (store == NULL || entries == NULL || is_new == NULL) {
        return -1;
    }
    /* Below this bound no size computed here can overflow (under 256 bytes per entry);
     * Redis itself refuses far smaller commands. */
    if (count > SIZE_MAX / 1024) {
        return -1;
    }
    /* The same keys and arguments as kycvs_redis::RedisReplayStore::invocation (Rust) and
     * kycvs.redis.script_arguments (Python), for redis/src/replay.lua: the call's distinct
     * hours of keep-until time, ascending; three keys per hour (the hour before, the hour,
     * the hour after); then the hour count, each hour's seconds to its end, each entry's
     * 1-based hour number as two big-endian bytes (one argument for all), every jti. */
    uint64_t *hours = malloc(count * sizeof *hours);
    if (hours == NULL) {
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        hours[i] = entries[i].keep_until / BUCKET_SECONDS;
    }
    qsort(hours, count, sizeof *hours, compare_u64);
    size_t n = 1;
    for (size_t i = 1; i < count; i++) {
        if (hours[i] != hours[n - 1]) {
            hours[n++] = hours[i];
        }
    }
    const size_t argc = 3 + 3 * n + 1 + n + 1 + count;
    /* Two bytes number an hour. */
    if (n > 0xFFFF || argc > INT_MAX) {
        free(hours);
        return -1;
    }
    const size_t key_len = store->prefix_len + 7 + NUMBER_LEN;
    const char **argv = malloc(argc * sizeof *argv);
    size_t *argvlen = malloc(argc * sizeof *argvlen);
    char *text = malloc(3 * n * key_len + (2 + n) * NUMBER_LEN + 2 * count);
    int result = -1;
    if (argv == NULL || argvlen == NULL || text == NULL) {
        goto done;
    }
    char *cursor = text;
    size_t a = 0;
    argv[a] = "EVALSHA";
    argvlen[a++] = 7;
    argv[a] = NULL; /* the script's SHA, set once connected */
    argvlen[a++] = SHA_LEN;
    put_number(&cursor, 3 * (uint64_t)n, &argv[a], &argvlen[a]);
    a++;
    for (size_t h = 0; h < n; h++) {
        /* Saturating, as the Rust store does: hour 0 has no hour before it. */
        const uint64_t around[3] = {hours[h] == 0 ? 0 : hours[h] - 1, hours[h],
                                    hours[h] == UINT64_MAX ? UINT64_MAX : hours[h] + 1};
        for (size_t k = 0; k < 3; k++) {
            put_key(&cursor, store->prefix, store->prefix_len, around[k], &argv[a],
                    &argvlen[a]);
            a++;
        }
    }
    put_number(&cursor, (uint64_t)n, &argv[a], &argvlen[a]);
    a++;
    for (size_t h = 0; h < n; h++) {
        /* The set lives to the end of its hour by this verifier's clock, at least a second
         * (EXPIRE with 0 would delete it at once). */
        const uint64_t end = hours[h] >= UINT64_MAX / BUCKET_SECONDS
                                 ? UINT64_MAX
                                 : (hours[h] + 1) * BUCKET_SECONDS;
        put_number(&cursor, end > now ? end - now : 1, &argv[a], &argvlen[a]);
        a++;
    }
    argv[a] = cursor;
    argvlen[a++] = 2 * count;
    for (size_t i = 0; i < count; i++) {
        const uint64_t hour = entries[i].keep_until / BUCKET_SECONDS;
        const uint64_t *found = bsearch(&hour, hours, n, sizeof *hours, compare_u64);
        if (found == NULL || entries[i].jti == NULL) {
            goto done;
        }
        const size_t number = (size_t)(found - hours) + 1;
        *cursor++ = (char)(unsigned char)(number >> 8);
        *cursor++ = (char)(unsigned char)(number & 0xFF);
    }
    for (size_t i = 0; i < count; i++) {
        argv[a] = entries[i].jti;
        argvlen[a++] = entries[i].jti_len;
    }

    /* While Redis stalls, a queue of callers each waiting out the one before it would
     * answer later and later; so the turn is awaited for one timeout at most, and every
     * call ends within about three (the turn, connecting, the command). */
    struct timespec deadline;
    if (clock_gettime(CLOCK_REALTIME, &deadline) != 0) {
        goto done;
    }
    deadline.tv_sec += store->timeout.tv_sec;
    deadline.tv_nsec += (long)store->timeout.tv_usec * 1000;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(&store->lock, &deadline) != 0) {
        goto done;
    }
    pipe_guard guard;
    pipe_guard_enter(&guard);
    result = run_locked(store, (int)argc, argv, argvlen, count, is_new);
    pipe_guard_leave(&guard);
    pthread_mutex_unlock(&store->lock);

done:
    free(text);
    free(argvlen);
    free(argv);
    free(hours);
    return result;
}
