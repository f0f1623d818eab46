//! External Ed25519 vectors: Wycheproof, ed25519-speccheck ("Taming the many EdDSAs") and
//! C2SP/CCTV. Each gives the verdict kycvs's policy names (`docs/SPEC.md`, signature
//! semantics), and single and batch verification agree on every one of them across many
//! random batch compositions.

mod backend_support;

use kycvs_core::PublicKey;
use kycvs_core::signature::{verify_signature, verify_signatures};
use serde_json::Value;
use std::path::PathBuf;

/// One external case: key, message, signature bytes, and the expected verdict.
#[derive(Clone, Debug)]
struct Case {
    id: String,
    key: Vec<u8>,
    msg: Vec<u8>,
    sig: Vec<u8>,
    accept: bool,
}

/// The kycvs verdict: the key must load as a trusted key, the signature be 64 bytes and
/// verify.
fn single(case: &Case) -> bool {
    let Some((key, sig)) = parsed(case) else {
        return false;
    };
    verify_signature(&key, &case.msg, &sig).is_ok()
}

fn parsed(case: &Case) -> Option<(PublicKey, [u8; 64])> {
    let key = PublicKey::from_bytes(&case.key.clone().try_into().ok()?).ok()?;
    Some((key, case.sig.clone().try_into().ok()?))
}

fn external(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testvectors/external")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("vector file")).expect("json")
}

fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

fn wycheproof_cases() -> Vec<Case> {
    use wycheproof::TestResult;
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).expect("wycheproof ed25519");
    let mut cases = Vec::new();
    for group in set.test_groups {
        for test in group.tests {
            cases.push(Case {
                id: format!("wycheproof #{} ({})", test.tc_id, test.comment),
                key: group.key.pk.to_vec(),
                msg: test.msg.to_vec(),
                sig: test.sig.to_vec(),
                accept: match test.result {
                    TestResult::Valid => true,
                    TestResult::Invalid => false,
                    TestResult::Acceptable => panic!("no acceptable Ed25519 case expected"),
                },
            });
        }
    }
    cases
}

fn speccheck_cases() -> Vec<Case> {
    let expected = external("speccheck-expected.json");
    let cases = external("speccheck-cases.json");
    cases
        .as_array()
        .expect("cases")
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let e = &expected["cases"][i];
            assert_eq!(
                e["case"].as_u64(),
                Some(i as u64),
                "expectations in case order"
            );
            Case {
                id: format!("speccheck case {i}"),
                key: hex(&c["pub_key"]),
                msg: hex(&c["message"]),
                sig: hex(&c["signature"]),
                accept: e["expected"] == "accept",
            }
        })
        .collect()
}

fn cctv_cases() -> Vec<Case> {
    let expected = external("cctv-expected.json");
    assert_eq!(expected["default"], "reject");
    external("cctv-ed25519vectors.json")
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            id: format!("cctv #{} {}", c["number"], c["flags"]),
            key: hex(&c["key"]),
            msg: c["msg"].as_str().expect("msg").as_bytes().to_vec(),
            sig: hex(&c["sig"]),
            accept: expected["accept"].get(c["number"].to_string()).is_some(),
        })
        .collect()
}

fn check_single(cases: &[Case]) {
    let wrong: Vec<_> = cases
        .iter()
        .filter(|c| single(c) != c.accept)
        .map(|c| {
            format!(
                "{} expected {}",
                c.id,
                if c.accept { "accept" } else { "reject" }
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// A small deterministic generator, so that a failing composition can be replayed.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A batch length for composition `round`: 1 to 24, except every 32nd composition (two of
/// the 64 that run natively), 64 to 95: long enough for the batch equation to decode and
/// sum its `R`s with kycvs-ifma on a CPU with AVX-512 IFMA.
fn batch_size(rng: &mut XorShift, round: usize) -> usize {
    if round % 32 == 31 {
        64 + rng.below(32)
    } else {
        1 + rng.below(24)
    }
}

/// Each case is batched with random others (valid ones from Wycheproof among them) in at
/// least 64 compositions (`backend_support::batch_rounds`); every batch verdict must equal
/// the single verdict.
/// Returns how many of `cases` were batched.
fn check_batches(cases: &[Case], fillers: &[Case], seed: u64) -> usize {
    let mut rng = XorShift(seed);
    let parsed_cases: Vec<_> = cases
        .iter()
        .filter_map(|c| parsed(c).map(|p| (c, p)))
        .collect();
    let parsed_fillers: Vec<_> = fillers
        .iter()
        .filter_map(|c| parsed(c).map(|p| (c, p)))
        .collect();
    let pool: Vec<_> = parsed_cases.iter().chain(&parsed_fillers).collect();
    let rounds = backend_support::batch_rounds();
    for (index, target) in parsed_cases.iter().enumerate() {
        for round in 0..rounds {
            let size = batch_size(&mut rng, round);
            let mut batch = vec![target];
            for _ in 1..size {
                batch.push(pool[rng.below(pool.len())]);
            }
            let at = rng.below(batch.len());
            batch.swap(0, at);
            let items: Vec<(&PublicKey, &[u8], &[u8; 64])> = batch
                .iter()
                .map(|(c, (k, s))| (k, c.msg.as_slice(), s))
                .collect();
            let verdicts = verify_signatures(&items);
            for ((c, _), v) in batch.iter().zip(&verdicts) {
                assert_eq!(
                    v.is_ok(),
                    single(c),
                    "{} disagrees in batch (case {index}, round {round}, size {size})",
                    c.id
                );
            }
        }
    }
    parsed_cases.len()
}

#[test]
fn wycheproof_verdicts() {
    let cases = wycheproof_cases();
    assert!(cases.len() > 100);
    check_single(&cases);
}

#[test]
fn speccheck_verdicts() {
    check_single(&speccheck_cases());
}

#[test]
fn cctv_verdicts() {
    let cases = cctv_cases();
    assert_eq!(cases.len(), 914);
    check_single(&cases);
}

#[test]
fn single_and_batch_agree_on_wycheproof() {
    let cases = wycheproof_cases();
    let loadable = cases.iter().filter(|c| parsed(c).is_some()).count();
    assert_eq!(check_batches(&cases, &cases, 0x5eed_0001), loadable);
    assert!(loadable > 100);
}

#[test]
fn single_and_batch_agree_on_speccheck() {
    let cases = speccheck_cases();
    assert!(check_batches(&cases, &wycheproof_cases(), 0x5eed_0002) > 0);
}

#[test]
fn single_and_batch_agree_on_cctv() {
    // Every CCTV vector whose key loads (a signature under a key that does not load never
    // reaches a batch) is batched, with valid Wycheproof signatures among the fillers.
    let cctv = cctv_cases();
    let batched = check_batches(&cctv, &wycheproof_cases(), 0x5eed_0003);
    let loadable = cctv.iter().filter(|c| parsed(c).is_some()).count();
    assert_eq!(batched, loadable);
    assert!(batched > 9, "only {batched} CCTV vectors batched");
}
