//! The replay guard attached to a verifier: single, batch (serial and parallel) and threads.

use kycvs_core::{
    BatchItem, Error, ErrorCode, Issuer, Policy, ReplayEntry, ReplayGuard, ReplayStore, SigningKey,
    TokenRequest, TrustStore, VaccinationStatus, Verifier,
};
use std::sync::Arc;
use std::sync::Mutex;

const NOW: u64 = 1_800_000_000;

fn setup(capacity: usize) -> (Issuer, Verifier) {
    setup_with(capacity, Policy::new("irctc.example"))
}

fn setup_with(capacity: usize, policy: Policy) -> (Issuer, Verifier) {
    let (issuer, verifier, _) = setup_guarded(capacity, policy);
    (issuer, verifier)
}

fn setup_guarded(capacity: usize, policy: Policy) -> (Issuer, Verifier, Arc<ReplayGuard>) {
    let key = SigningKey::from_seed(&[9; 32]);
    let mut trust = TrustStore::new();
    trust
        .add(key.public_key().clone(), "cowin.example")
        .unwrap();
    let issuer = Issuer::new(key, "cowin.example").unwrap();
    let guard = Arc::new(ReplayGuard::new(capacity).unwrap());
    let verifier = Verifier::new(trust, policy)
        .unwrap()
        .with_replay_guard(guard.clone());
    (issuer, verifier, guard)
}

fn token(issuer: &Issuer, nonce: &str) -> String {
    let request = TokenRequest {
        audience: "irctc.example",
        nonce,
        subject: "p-1",
        status: VaccinationStatus::PartiallyVaccinated,
        ttl: 300,
    };
    issuer.issue(&request, NOW).unwrap()
}

#[test]
fn second_presentation_is_replayed_until_it_could_no_longer_verify() {
    let (issuer, verifier) = setup(16);
    let t = token(&issuer, "PNR-1");
    verifier.verify(&t, "PNR-1", NOW).unwrap();
    let err = verifier.verify(&t, "PNR-1", NOW + 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Replayed);
    // Within the policy's 60 s leeway after exp it is still remembered: the verifier hands
    // the guard exp + its leeway.
    let err = verifier.verify(&t, "PNR-1", NOW + 300 + 59).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Replayed);
    // After that the token is simply expired.
    let err = verifier.verify(&t, "PNR-1", NOW + 300 + 60).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Expired);
}

/// One leeway, added once: a jti is kept until exactly exp + the policy's leeway (the first
/// second the token is expired) and not one second longer.
#[test]
fn a_jti_is_kept_exactly_until_exp_plus_the_policy_leeway() {
    for leeway in [0, 10, 60] {
        let mut policy = Policy::new("irctc.example");
        policy.set_leeway(leeway);
        let (issuer, verifier, guard) = setup_guarded(16, policy);
        verifier
            .verify(&token(&issuer, "PNR-1"), "PNR-1", NOW)
            .unwrap();
        let keep_until = NOW + 300 + leeway;
        assert_eq!(guard.purge_expired(keep_until - 1), 0, "leeway {leeway}");
        assert_eq!(guard.len(), 1);
        assert_eq!(guard.purge_expired(keep_until), 1, "leeway {leeway}");
        assert!(guard.is_empty());
    }
}

#[test]
fn a_rejected_token_is_not_recorded() {
    let (issuer, verifier) = setup(16);
    let t = token(&issuer, "PNR-1");
    let err = verifier.verify(&t, "PNR-2", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NonceMismatch);
    verifier.verify(&t, "PNR-1", NOW).unwrap();
}

#[test]
fn in_a_batch_the_first_presentation_wins_also_in_parallel() {
    let (issuer, verifier) = setup(4096);
    let nonces: Vec<String> = (0..300).map(|i| format!("PNR-{i}")).collect();
    let tokens: Vec<String> = nonces.iter().map(|n| token(&issuer, n)).collect();
    // Token 7 again at the end (another chunk when the batch runs in parallel), and token 250
    // twice in a row.
    let mut order: Vec<usize> = (0..300).collect();
    order.push(7);
    order.insert(251, 250);
    let items: Vec<BatchItem<'_>> = order
        .iter()
        .map(|&i| BatchItem::new(tokens[i].as_str(), &nonces[i]))
        .collect();
    let verdicts = verifier.verify_batch(&items, NOW);
    let replayed: Vec<usize> = verdicts
        .iter()
        .enumerate()
        .filter(|(_, v)| matches!(v, Err(e) if e.code() == ErrorCode::Replayed))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(replayed, vec![251, 301]);
    assert_eq!(verdicts.iter().filter(|v| v.is_ok()).count(), 300);
}

#[test]
fn threads_presenting_one_token_get_exactly_one_success() {
    let (issuer, verifier) = setup(16);
    let t = token(&issuer, "PNR-1");
    let verifier = Arc::new(verifier);
    let oks: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let verifier = Arc::clone(&verifier);
                let t = t.clone();
                scope.spawn(move || usize::from(verifier.verify(&t, "PNR-1", NOW).is_ok()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(oks, 1);
}

#[test]
fn a_full_guard_fails_closed() {
    let (issuer, verifier) = setup(2);
    verifier
        .verify(&token(&issuer, "PNR-1"), "PNR-1", NOW)
        .unwrap();
    verifier
        .verify(&token(&issuer, "PNR-2"), "PNR-2", NOW)
        .unwrap();
    let err = verifier
        .verify(&token(&issuer, "PNR-3"), "PNR-3", NOW)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Replayed);
    assert!(err.detail().contains("full"), "{err}");
}

/// A store that remembers in a set, logs each call's entries, and can be told to fail or
/// to answer the wrong number of verdicts.
#[derive(Debug, Default)]
struct Recording {
    seen: Mutex<std::collections::HashSet<String>>,
    calls: Mutex<Vec<Vec<(String, u64)>>>,
    fail: bool,
    short: bool,
    remote: bool,
}

impl ReplayStore for Recording {
    fn check_and_record_all(
        &self,
        entries: &[ReplayEntry<'_>],
        _now: u64,
    ) -> Vec<kycvs_core::Result<()>> {
        self.calls.lock().unwrap().push(
            entries
                .iter()
                .map(|e| (e.jti.to_owned(), e.keep_until))
                .collect(),
        );
        if self.short {
            return Vec::new();
        }
        entries
            .iter()
            .map(|e| {
                if self.fail {
                    Err(Error::new(ErrorCode::ReplayStoreUnavailable, "down"))
                } else if self.seen.lock().unwrap().insert(e.jti.to_owned()) {
                    Ok(())
                } else {
                    Err(Error::new(ErrorCode::Replayed, "seen"))
                }
            })
            .collect()
    }

    fn is_remote(&self) -> bool {
        self.remote
    }
}

fn verifier_with(store: Arc<Recording>) -> (Issuer, Verifier) {
    let (issuer, verifier) = setup(1);
    let plain = Verifier::new(verifier.trust_store().clone(), verifier.policy().clone()).unwrap();
    (issuer, plain.with_replay_store(store))
}

#[test]
fn a_batch_asks_its_store_once_for_the_accepted_tokens_in_order() {
    let store = Arc::new(Recording::default());
    let (issuer, verifier) = verifier_with(store.clone());
    let a = token(&issuer, "A");
    let b = token(&issuer, "B");
    let items = [
        BatchItem::new(&a, "A"),
        BatchItem::new(&b, "wrong"),
        BatchItem::new(&b, "B"),
        BatchItem::new(&a, "A"),
    ];
    let verdicts = verifier.verify_batch(&items, NOW);
    let codes: Vec<Option<ErrorCode>> = verdicts
        .iter()
        .map(|v| v.as_ref().err().map(|e| e.code()))
        .collect();
    assert_eq!(
        codes,
        [
            None,
            Some(ErrorCode::NonceMismatch),
            None,
            Some(ErrorCode::Replayed)
        ]
    );
    let calls = store.calls.lock().unwrap();
    assert_eq!(calls.len(), 1, "one call for the whole batch");
    let jti = |t: &str| {
        kycvs_core::inspect_unverified(t).unwrap().claims["jti"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let keep = NOW + 300 + kycvs_core::DEFAULT_LEEWAY;
    assert_eq!(
        calls[0],
        [(jti(&a), keep), (jti(&b), keep), (jti(&a), keep)],
        "only tokens that passed every other check, in input order"
    );
}

#[test]
fn a_failing_or_short_store_refuses_the_tokens_it_was_asked_about() {
    for store in [
        Recording {
            fail: true,
            ..Default::default()
        },
        Recording {
            short: true,
            ..Default::default()
        },
    ] {
        let (issuer, verifier) = verifier_with(Arc::new(store));
        let t = token(&issuer, "A");
        let err = verifier.verify(&t, "A", NOW).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ReplayStoreUnavailable);
        let verdicts =
            verifier.verify_batch(&[BatchItem::new(&t, "A"), BatchItem::new(&t, "x")], NOW);
        assert_eq!(
            verdicts[0].as_ref().unwrap_err().code(),
            ErrorCode::ReplayStoreUnavailable
        );
        assert_eq!(
            verdicts[1].as_ref().unwrap_err().code(),
            ErrorCode::NonceMismatch,
            "a token refused before the store keeps its own code"
        );
    }
}

#[test]
fn a_remote_store_gets_a_long_batch_in_two_ordered_calls_with_the_same_verdicts() {
    let n = kycvs_core::MIN_OVERLAPPED_BATCH * 2;
    let split = n / 4 * 3;
    let remote = Arc::new(Recording {
        remote: true,
        ..Default::default()
    });
    let local = Arc::new(Recording::default());
    let (issuer, overlapped) = verifier_with(remote.clone());
    let plain = Verifier::new(
        overlapped.trust_store().clone(),
        overlapped.policy().clone(),
    )
    .unwrap()
    .with_replay_store(local.clone());
    let tokens: Vec<String> = (0..n).map(|i| token(&issuer, &format!("N{i}"))).collect();
    let nonces: Vec<String> = (0..n).map(|i| format!("N{i}")).collect();
    let mut items: Vec<BatchItem<'_>> = (0..n)
        .map(|i| BatchItem::new(&tokens[i], &nonces[i]))
        .collect();
    // Replays within the head, across the split, within the tail; a refusal in each part.
    items[20] = BatchItem::new(&tokens[5], &nonces[5]);
    items[split + 3] = BatchItem::new(&tokens[7], &nonces[7]);
    items[n - 1] = BatchItem::new(&tokens[split + 10], &nonces[split + 10]);
    items[30] = BatchItem::new(&tokens[30], "wrong");
    items[split + 30] = BatchItem::new(&tokens[split + 30], "wrong");
    let codes = |verdicts: Vec<kycvs_core::Result<kycvs_core::VerifiedStatus>>| {
        verdicts
            .into_iter()
            .map(|v| v.err().map(|e| e.code()))
            .collect::<Vec<_>>()
    };
    let got = codes(overlapped.verify_batch(&items, NOW));
    assert_eq!(got, codes(plain.verify_batch(&items, NOW)));
    assert_eq!(got[20], Some(ErrorCode::Replayed));
    assert_eq!(got[split + 3], Some(ErrorCode::Replayed));
    assert_eq!(got[n - 1], Some(ErrorCode::Replayed));
    assert_eq!(got[30], Some(ErrorCode::NonceMismatch));
    assert_eq!(got.iter().filter(|c| c.is_none()).count(), n - 5);

    let calls = remote.calls.lock().unwrap();
    assert_eq!(calls.len(), 2, "the head, then the tail");
    assert_eq!(calls[0].len(), split - 1, "the head's accepted tokens");
    assert_eq!(calls[1].len(), n - split - 1, "the tail's accepted tokens");
    // The same entries in the same order as the one call of a local store.
    let local_calls = local.calls.lock().unwrap();
    assert_eq!(local_calls.len(), 1);
    assert_eq!(calls.concat(), local_calls[0]);
    drop(calls);

    // A short batch is one call, as for any store.
    let (issuer, short) = verifier_with(Arc::new(Recording {
        remote: true,
        ..Default::default()
    }));
    let few: Vec<String> = (0..8).map(|_| token(&issuer, "A")).collect();
    let few: Vec<BatchItem<'_>> = few.iter().map(|t| BatchItem::new(t, "A")).collect();
    assert!(short.verify_batch(&few, NOW).iter().all(Result::is_ok));
}

#[test]
fn a_failing_remote_store_refuses_every_token_of_a_long_batch_it_was_asked_about() {
    let store = Arc::new(Recording {
        remote: true,
        fail: true,
        ..Default::default()
    });
    let (issuer, verifier) = verifier_with(store.clone());
    let n = kycvs_core::MIN_OVERLAPPED_BATCH;
    let tokens: Vec<String> = (0..n).map(|_| token(&issuer, "A")).collect();
    let mut items: Vec<BatchItem<'_>> = tokens.iter().map(|t| BatchItem::new(t, "A")).collect();
    items[n - 1] = BatchItem::new(&tokens[n - 1], "x");
    let verdicts = verifier.verify_batch(&items, NOW);
    for verdict in &verdicts[..n - 1] {
        assert_eq!(
            verdict.as_ref().unwrap_err().code(),
            ErrorCode::ReplayStoreUnavailable
        );
    }
    assert_eq!(
        verdicts[n - 1].as_ref().unwrap_err().code(),
        ErrorCode::NonceMismatch
    );
    assert_eq!(store.calls.lock().unwrap().len(), 2);
}
