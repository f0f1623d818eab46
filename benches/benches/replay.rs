//! The cost of replay protection on a batch: `verify_batch` of 1,024 same-key tokens on one
//! thread, unguarded, with the in-memory `ReplayGuard`, and with `kycvs_redis::RedisReplayStore`
//! on a real `redis-server` (started here on a Unix socket in a temporary directory, AOF on
//! with `appendfsync everysec`).
//!
//! A guarded verifier refuses a token twice, so every timed call needs tokens its guard has
//! not seen. The tokens are signed once, before any timing: [`POOL`] batches, taken in turn;
//! each pass over the pool starts a new memory (a new `ReplayGuard`, or a new key prefix in the
//! same Redis), outside the timed part. Only `verify_batch` is timed, for all three alike.
//!
//! Ids: `verify/replay/1024/{unguarded,memory_guard,redis_guard}`; the target is a
//! Redis-guarded batch at ≥ 0.8 × the unguarded one's speed (`make bench` reports it).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kycvs_benches::{Batch, NONCE, NOW, RedisServer};
use kycvs_core::{BatchItem, ReplayGuard, ReplayStore, Verifier};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const N: usize = 1024;
/// Batches signed before timing, verified in turn.
const POOL: usize = 48;

/// Where a pass over the pool remembers its tokens.
#[derive(Clone, Copy)]
enum Guard {
    None,
    Memory,
    Redis,
}

fn verify_replay(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let dir = std::env::temp_dir().join(format!("kycvs-bench-redis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let redis =
        RedisServer::start(Path::new("redis-server"), &dir, "everysec").expect("redis-server");
    let batches: Vec<Batch> = (0..POOL).map(|_| Batch::new(N, 1)).collect();
    let items: Vec<Vec<BatchItem<'_>>> = batches
        .iter()
        .map(|b| b.tokens.iter().map(|t| BatchItem::new(t, NONCE)).collect())
        .collect();
    let mut passes = 0u64;
    // The verifiers of one pass, each with the pass's new memory.
    let mut fresh = |guard: Guard| -> Vec<Verifier> {
        passes += 1;
        let store: Option<Arc<dyn ReplayStore>> = match guard {
            Guard::None => None,
            Guard::Memory => Some(Arc::new(
                ReplayGuard::new(POOL * N).expect("an in-memory guard"),
            )),
            Guard::Redis => {
                let mut config = kycvs_redis::RedisConfig::new(redis.url());
                config.prefix = format!("bench{passes}:");
                Some(Arc::new(
                    kycvs_redis::RedisReplayStore::new(&config).expect("a Redis replay store"),
                ))
            }
        };
        batches
            .iter()
            .map(|b| match &store {
                Some(store) => b.verifier.clone().with_replay_store(store.clone()),
                None => b.verifier.clone(),
            })
            .collect()
    };
    let mut group = c.benchmark_group(format!("verify/replay/{N}"));
    group.throughput(Throughput::Elements(N as u64));
    for (label, guard) in [
        ("unguarded", Guard::None),
        ("memory_guard", Guard::Memory),
        ("redis_guard", Guard::Redis),
    ] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut verifiers = Vec::new();
                let mut timed = Duration::ZERO;
                for i in 0..iters as usize {
                    if i % POOL == 0 {
                        verifiers = fresh(guard);
                    }
                    let (verifier, items) = (&verifiers[i % POOL], &items[i % POOL]);
                    let started = Instant::now();
                    let verdicts = pool.install(|| verifier.verify_batch(items, NOW));
                    timed += started.elapsed();
                    assert!(verdicts.iter().all(Result::is_ok), "{label}: all accepted");
                }
                timed
            })
        });
    }
    group.finish();
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    targets = verify_replay
}
criterion_main!(benches);
