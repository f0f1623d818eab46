//! Batch verification gives each token exactly the verdict it gets alone, whatever else is in
//! the batch: up to 16 tokens mixing arbitrary bytes, vector tokens (valid and not) and
//! mutations of them (flipped bytes, spliced segments, swapped signatures).

#![no_main]

use arbitrary::Arbitrary;
use kycvs_core::{BatchItem, Error, VerifiedStatus};
use kycvs_fuzz::{
    NONCE, NOW, assert_consistent, batch_item, vector_tokens, verifier, verify_bytes,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Mutation {
    None,
    Flip {
        at: u16,
        xor: u8,
    },
    Truncate(u16),
    Append(Vec<u8>),
    /// Takes segment `segment` of another vector token.
    Splice {
        segment: u8,
        from: u16,
    },
}

#[derive(Arbitrary, Debug)]
enum Source {
    Raw(Vec<u8>),
    Vector {
        index: u16,
        mutations: Vec<Mutation>,
    },
}

#[derive(Arbitrary, Debug)]
struct Item {
    source: Source,
    expect_nonce: bool,
}

fn pick(index: u16) -> &'static str {
    let tokens = vector_tokens();
    &tokens[usize::from(index) % tokens.len()]
}

fn build(source: Source) -> Vec<u8> {
    match source {
        Source::Raw(bytes) => bytes,
        Source::Vector { index, mutations } => {
            let mut token = pick(index).as_bytes().to_vec();
            for m in mutations {
                match m {
                    Mutation::None => {}
                    Mutation::Flip { at, xor } if !token.is_empty() => {
                        let i = usize::from(at) % token.len();
                        token[i] ^= xor;
                    }
                    Mutation::Flip { .. } => {}
                    Mutation::Truncate(len) => token.truncate(usize::from(len)),
                    Mutation::Append(bytes) => token.extend(bytes),
                    Mutation::Splice { segment, from } => {
                        let donor: Vec<&[u8]> =
                            pick(from).as_bytes().split(|b| *b == b'.').collect();
                        let mut parts: Vec<Vec<u8>> =
                            token.split(|b| *b == b'.').map(<[u8]>::to_vec).collect();
                        let s = usize::from(segment) % 3;
                        if let (Some(part), Some(new)) = (parts.get_mut(s), donor.get(s)) {
                            *part = new.to_vec();
                        }
                        token = parts.join(&b'.');
                    }
                }
            }
            token
        }
    }
}

fn same(a: &Result<VerifiedStatus, Error>, b: &Result<VerifiedStatus, Error>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.code() == b.code() && a.detail() == b.detail(),
        _ => false,
    }
}

fuzz_target!(|items: Vec<Item>| {
    let items: Vec<(Vec<u8>, bool)> = items
        .into_iter()
        .take(16)
        .map(|i| (build(i.source), i.expect_nonce))
        .collect();
    let nonce = |expect: bool| expect.then_some(NONCE);
    let batch_items: Vec<BatchItem<'_>> = items
        .iter()
        .map(|(t, expect)| batch_item(t.as_slice(), nonce(*expect)))
        .collect();
    let verifier = verifier();
    let batch = verifier.verify_batch(&batch_items, NOW);
    assert_eq!(batch.len(), items.len());
    for ((token, expect), verdict) in items.iter().zip(&batch) {
        let single = verify_bytes(token, nonce(*expect), NOW);
        assert!(
            same(verdict, &single),
            "batch {verdict:?} != single {single:?} for {:?}",
            String::from_utf8_lossy(token)
        );
        if let Ok(v) = verdict {
            assert_consistent(v, nonce(*expect), NOW);
        }
    }
});
