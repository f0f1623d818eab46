//! The cost of replay protection on a batch: `verify_batch` of 1,024 same-key tokens on one
//! thread, unguarded, with the in-memory `ReplayGuard`, and with `kycvs_redis::RedisReplayStore`
//! on a real `redis-server` (started here on a Unix socket in a temporary directory, AOF on
//! with `appendfsync everysec`). Every iteration verifies 1,024 tokens never seen before (a
//! guarded verifier refuses a token twice), signed outside the timed part.
//!
//! Ids: `verify/replay/1024/{unguarded,memory_guard,redis_guard}`; the target is a
//! Redis-guarded batch at ≥ 0.8 × the unguarded one's speed (`make bench` reports it).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kycvs_benches::{Batch, NOW, RedisServer};
use kycvs_core::{ReplayGuard, ReplayStore, Verifier};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const N: usize = 1024;

/// Fresh tokens and a verifier guarded by `store` (none: unguarded).
fn fresh(store: Option<&Arc<dyn ReplayStore>>) -> (Verifier, Vec<String>) {
    let batch = Batch::new(N, 1);
    let verifier = match store {
        Some(store) => batch.verifier.with_replay_store(store.clone()),
        None => batch.verifier,
    };
    (verifier, batch.tokens)
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
    let memory: Arc<dyn ReplayStore> =
        Arc::new(ReplayGuard::new(1 << 22).expect("an in-memory guard"));
    let in_redis: Arc<dyn ReplayStore> = Arc::new(
        kycvs_redis::RedisReplayStore::new(&kycvs_redis::RedisConfig::new(redis.url()))
            .expect("a Redis replay store"),
    );
    let mut group = c.benchmark_group(format!("verify/replay/{N}"));
    group.throughput(Throughput::Elements(N as u64));
    for (label, store) in [
        ("unguarded", None),
        ("memory_guard", Some(&memory)),
        ("redis_guard", Some(&in_redis)),
    ] {
        group.bench_function(label, |b| {
            b.iter_batched(
                || fresh(store),
                |(verifier, tokens)| {
                    let items: Vec<_> = tokens
                        .iter()
                        .map(|t| kycvs_core::BatchItem::new(t, kycvs_benches::NONCE))
                        .collect();
                    let verdicts = pool.install(|| verifier.verify_batch(&items, NOW));
                    assert!(verdicts.iter().all(Result::is_ok), "{label}: all accepted");
                },
                BatchSize::PerIteration,
            )
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
