//! kycvs verify and issue, each beside raw ed25519-dalek on the same bytes, in one run.
//! `make bench` turns the results into the ratio table quoted by the README.

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use kycvs_benches::{Fixture, NONCE, NOW, request};
use std::hint::black_box;

fn verify_single(c: &mut Criterion) {
    let fixture = Fixture::new(7);
    let (message, signature) = fixture.signing_input_and_signature();
    let public = fixture.dalek.verifying_key();
    let mut group = c.benchmark_group("verify/single");
    group.bench_function("kycvs", |b| {
        b.iter(|| {
            fixture
                .verifier
                .verify(black_box(&fixture.token), Some(NONCE), NOW)
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
    group.finish();
}

fn issue_single(c: &mut Criterion) {
    let fixture = Fixture::new(7);
    let (message, _) = fixture.signing_input_and_signature();
    let request = request("pseudonym-0001");
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
    group.finish();
}

criterion_group!(benches, verify_single, issue_single);
criterion_main!(benches);
