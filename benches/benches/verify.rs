//! kycvs verify and issue, each beside its baselines on the same bytes, in one run: raw
//! ed25519-dalek (`verify_strict`, `sign`, `verify_batch`) and the jsonwebtoken crate on the
//! equivalent EdDSA JWT. `make bench` (benches/run.sh) turns the results into the ratio
//! table quoted by the README (benches/RESULTS.md).
//!
//! Ids: `verify/single/*`, `issue/single/*`, `verify/batch/<n>/*` (one thread; same key and
//! [`MIXED_KEYS`] keys in turn), `verify/parallel/<n>/*` (rayon's default pool beside a pool of
//! one thread).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use kycvs_benches::{BATCH_SIZES, Batch, Fixture, Jwt, MIXED_KEYS, NONCE, NOW, request};
use std::hint::black_box;
use std::time::Duration;

/// The size of the `verify/parallel` batch: big enough that every core gets several chunks'
/// worth of work.
const PARALLEL_BATCH: usize = 4096;

fn one_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool")
}

fn verify_single(c: &mut Criterion) {
    // Every figure below, kycvs and raw dalek alike, runs on this curve arithmetic.
    eprintln!("curve25519 backend: {}", kycvs_core::backend());
    let fixture = Fixture::new(7);
    let (message, signature) = fixture.signing_input_and_signature();
    let public = fixture.dalek.verifying_key();
    let jwt = Jwt::new(&fixture);
    let mut group = c.benchmark_group("verify/single");
    group.bench_function("kycvs", |b| {
        b.iter(|| {
            fixture
                .verifier
                .verify(black_box(&fixture.token), NONCE, NOW)
                .expect("valid")
        })
    });
    group.bench_function("dalek_verify_strict", |b| {
        b.iter(|| {
            public
                .verify_strict(black_box(&message), black_box(&signature))
                .expect("valid")
        })
    });
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| jwt.decode(black_box(&jwt.token)))
    });
    group.finish();
}

fn issue_single(c: &mut Criterion) {
    let fixture = Fixture::new(7);
    let (message, _) = fixture.signing_input_and_signature();
    let request = request("pseudonym-0001");
    let jwt = Jwt::new(&fixture);
    let mut group = c.benchmark_group("issue/single");
    group.bench_function("kycvs", |b| {
        b.iter(|| {
            fixture
                .issuer
                .issue(black_box(&request), NOW)
                .expect("issued")
        })
    });
    group.bench_function("dalek_sign", |b| {
        b.iter(|| fixture.dalek.sign(black_box(&message)))
    });
    group.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| {
            jsonwebtoken::encode(
                black_box(&jwt.header),
                black_box(&jwt.claims),
                &jwt.encoding,
            )
            .expect("encoded")
        })
    });
    group.finish();
}

fn verify_batch(c: &mut Criterion) {
    let pool = one_thread();
    for n in BATCH_SIZES {
        let mut group = c.benchmark_group(format!("verify/batch/{n}"));
        group.throughput(Throughput::Elements(n as u64));
        for (label, keys) in [("same_key", 1), ("mixed_keys", MIXED_KEYS)] {
            let batch = Batch::new(n, keys);
            let items = batch.items();
            let messages = batch.message_slices();
            group.bench_function(BenchmarkId::new("kycvs", label), |b| {
                b.iter(|| {
                    pool.install(|| batch.verifier.verify_batch(black_box(&items), NOW))
                        .iter()
                        .all(Result::is_ok)
                })
            });
            group.bench_function(BenchmarkId::new("dalek_verify_batch", label), |b| {
                b.iter(|| {
                    ed25519_dalek::verify_batch(
                        black_box(&messages),
                        black_box(&batch.signatures),
                        black_box(&batch.keys),
                    )
                    .expect("valid")
                })
            });
            if keys == 1 {
                // The per-token baseline: n single strict verifications of the same bytes.
                group.bench_function("dalek_verify_strict_each", |b| {
                    b.iter(|| {
                        for ((m, s), k) in messages.iter().zip(&batch.signatures).zip(&batch.keys) {
                            k.verify_strict(black_box(m), black_box(s)).expect("valid");
                        }
                    })
                });
            }
        }
        group.finish();
    }
}

fn verify_parallel(c: &mut Criterion) {
    let pool = one_thread();
    let batch = Batch::new(PARALLEL_BATCH, 1);
    let items = batch.items();
    let mut group = c.benchmark_group(format!("verify/parallel/{PARALLEL_BATCH}"));
    group.throughput(Throughput::Elements(PARALLEL_BATCH as u64));
    group.bench_function(
        BenchmarkId::new("kycvs", rayon::current_num_threads()),
        |b| b.iter(|| batch.verifier.verify_batch(black_box(&items), NOW)),
    );
    group.bench_function(BenchmarkId::new("kycvs", 1), |b| {
        b.iter(|| pool.install(|| batch.verifier.verify_batch(black_box(&items), NOW)))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = verify_single, issue_single, verify_batch, verify_parallel
}
criterion_main!(benches);
