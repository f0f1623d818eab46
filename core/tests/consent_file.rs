//! The consent flow across processes: a `FileConsentStore` shared by two sides with the same
//! keys, what the file holds, concurrency through the file (threads and processes), a paused
//! lock holder, and bad files.
//!
//! The multi-process tests run this test binary again as the child processes (the tests
//! named `child_*`, which do nothing unless `KYCVS_CONSENT_CHILD` is set).

mod issuance_support;
mod process_support;

use issuance_support::*;
use kycvs_core::{
    ConsentCompleter, ConsentRequest, ConsentStore, ErrorCode, FileConsentStore, IssuanceService,
    Issuer, JsonlRegistry, PseudonymKey, VaccinationStatus, dose_records_from_json,
};
use process_support::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

const OTP_KEY: [u8; 32] = [5u8; 32];

/// A service over `registry` keeping consents in `path`, with fixed OTP and pseudonym keys,
/// as a second process would build it.
fn file_service(path: &Path, registry: JsonlRegistry, otp_key: &[u8]) -> IssuanceService {
    IssuanceService::builder(
        Issuer::new(signing_key(), ISSUER).unwrap(),
        Arc::new(registry),
    )
    .pseudonym_key(PseudonymKey::from_bytes(&[7u8; 32]).unwrap())
    .otp_key(otp_key)
    .consent_file(path)
    .build()
    .unwrap()
}

/// The complete side alone over `path`: no registry, no schedule, no pseudonym key.
fn file_completer(path: &Path, otp_key: &[u8]) -> ConsentCompleter {
    ConsentCompleter::builder(Issuer::new(signing_key(), ISSUER).unwrap())
        .otp_key(otp_key)
        .consent_file(path)
        .build_completer()
        .unwrap()
}

fn empty_registry() -> JsonlRegistry {
    JsonlRegistry::from_jsonl("").unwrap()
}

#[test]
fn begin_in_one_service_completes_in_another_once() {
    let dir = TempDir::new("file-store");
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let first = file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY);
    let c = first.begin(&p.request("PNR-1"), NOW).unwrap();
    drop(first);

    // The file holds the consent's MAC and id, and no OTP, beneficiary id, mobile number or
    // name.
    let text = std::fs::read_to_string(dir.file()).unwrap();
    assert!(text.contains(&c.consent_id));
    assert!(!text.contains(&p.id));
    assert!(!text.contains(c.otp.expose()));
    assert!(!text.contains(&p.mobile));
    assert!(!text.contains(&p.name));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.file()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let second = file_completer(&dir.file(), &OTP_KEY);
    let token = second
        .complete(&c.consent_id, c.otp.expose(), NOW + 5)
        .unwrap();
    let v = verifier().verify(&token, "PNR-1", NOW + 6).unwrap();
    assert_eq!(v.status(), VaccinationStatus::FullyVaccinated);
    assert_eq!(v.sub(), service().subject(AUDIENCE, &p.id));
    let again = second.complete(&c.consent_id, c.otp.expose(), NOW + 6);
    assert_eq!(again.unwrap_err().code(), ErrorCode::ConsentNotFound);
    assert!(
        FileConsentStore::open(dir.file())
            .unwrap()
            .is_empty()
            .unwrap()
    );
}

#[test]
fn another_otp_key_never_completes() {
    let dir = TempDir::new("file-key");
    let p = person_with(Ok(VaccinationStatus::PartiallyVaccinated));
    let c = file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY)
        .begin(&p.request("PNR-1"), NOW)
        .unwrap();
    let other = file_completer(&dir.file(), &[6u8; 32]);
    let err = other
        .complete(&c.consent_id, c.otp.expose(), NOW + 1)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OtpMismatch);
}

#[test]
fn attempts_expiry_and_rate_limit_persist() {
    let dir = TempDir::new("file-limits");
    let p = person_with(Ok(VaccinationStatus::NotVaccinated));
    let open = || file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY);
    let c = open().begin(&p.request("PNR-1"), NOW).unwrap();
    let wrong = if c.otp.expose() == "000000" {
        "000001"
    } else {
        "000000"
    };
    let codes: Vec<ErrorCode> = (0..4)
        .map(|i| {
            open()
                .complete(&c.consent_id, wrong, NOW + i)
                .unwrap_err()
                .code()
        })
        .collect();
    assert_eq!(
        codes,
        [
            ErrorCode::OtpMismatch,
            ErrorCode::OtpMismatch,
            ErrorCode::AttemptsExhausted,
            ErrorCode::ConsentNotFound
        ]
    );

    let c = open().begin(&p.request("PNR-2"), NOW + 10).unwrap();
    let err = open()
        .complete(&c.consent_id, c.otp.expose(), c.expires_at)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentExpired);

    // Two begins so far; three more fill the hour, the sixth is refused by a new instance.
    for i in 0..3 {
        open().begin(&p.request("PNR-3"), NOW + 20 + i).unwrap();
    }
    let err = open().begin(&p.request("PNR-3"), NOW + 30).unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    // Expired consents are dropped from the file as it is rewritten.
    open().begin(&p.request("PNR-4"), NOW + 3_600).unwrap();
    assert_eq!(
        FileConsentStore::open(dir.file()).unwrap().len().unwrap(),
        1
    );
}

#[test]
fn concurrent_completes_through_separate_stores_issue_once() {
    let dir = TempDir::new("file-race");
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    for round in 0..5 {
        let c = file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY)
            .begin(&p.request("PNR-1"), NOW + round)
            .unwrap();
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let path = dir.file();
                    let (id, otp) = (c.consent_id.clone(), c.otp.clone());
                    s.spawn(move || {
                        file_completer(&path, &OTP_KEY).complete(&id, otp.expose(), NOW + round + 1)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        for r in results.iter().filter(|r| r.is_err()) {
            assert_eq!(r.as_ref().unwrap_err().code(), ErrorCode::ConsentNotFound);
        }
    }
}

#[test]
fn bad_files_and_keys_are_typed_errors() {
    let dir = TempDir::new("file-bad");
    for bad in [
        &b"not json"[..],
        b"{}",
        br#"{"version":3,"consents":[],"rates":[]}"#,
        // The earlier format, which held beneficiary ids and dose records.
        br#"{"version":1,"consents":[],"rates":[]}"#,
        br#"{"version":2,"consents":[{"id":"x","consent":{"otp_mac":"AA","expires_at":1,"attempts_left":1,"audience":"a","nonce":"n","outcome":0,"value":0,"subject":""}}],"rates":[]}"#,
        br#"{"version":2,"consents":[{"id":"x","consent":{"otp_mac":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","expires_at":1,"attempts_left":1,"audience":"a","nonce":"n","outcome":1,"value":7,"subject":""}}],"rates":[]}"#,
        br#"{"version":2,"consents":[],"rates":[],"mobile":"9876543210"}"#,
    ] {
        std::fs::write(dir.file(), bad).unwrap();
        let err = FileConsentStore::open(dir.file()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable, "{err}");
    }
    // A store whose file went bad after opening refuses to begin and completes nothing.
    std::fs::remove_file(dir.file()).unwrap();
    let store = FileConsentStore::open(dir.file()).unwrap();
    std::fs::write(dir.file(), b"garbage").unwrap();
    assert_eq!(
        store
            .count_begin(&[1u8; 32], NOW, 60, 5)
            .unwrap_err()
            .code(),
        ErrorCode::ConsentStoreUnavailable
    );
    assert_eq!(
        store
            .update("anything", &mut |_| unreachable!())
            .unwrap_err()
            .code(),
        ErrorCode::ConsentStoreUnavailable
    );
    // ... and so does a side built over it: nothing is issued.
    let completer = ConsentCompleter::builder(Issuer::new(signing_key(), ISSUER).unwrap())
        .consent_file(dir.file())
        .build_completer();
    assert_eq!(
        completer.unwrap_err().code(),
        ErrorCode::ConsentStoreUnavailable
    );

    let built = IssuanceService::builder(
        Issuer::new(signing_key(), ISSUER).unwrap(),
        Arc::new(empty_registry()),
    )
    .otp_key(&[1u8; 31])
    .build();
    assert_eq!(built.unwrap_err().code(), ErrorCode::InvalidKey);
}

#[test]
fn dose_records_from_json_reads_the_registry_layout() {
    let doses = dose_records_from_json(
        br#"[{"product":"Covishield","dose":1,"date":"2021-06-25"},
             {"product":"Covishield","dose":2,"date":"2021-09-25","kind":"primary"}]"#,
    )
    .unwrap();
    assert_eq!(doses.len(), 2);
    assert_eq!(
        kycvs_core::VaccineSchedule::default()
            .status(&doses)
            .unwrap(),
        VaccinationStatus::FullyVaccinated
    );
    assert!(dose_records_from_json(b"[]").unwrap().is_empty());
    for bad in [
        &b"{}"[..],
        b"not json",
        br#"[{"product":"X","dose":1,"date":"2021-01-01","extra":1}]"#,
        br#"[{"product":"X","dose":1,"dose":2,"date":"2021-01-01"}]"#,
        br#"[{"product":"X","dose":"1","date":"2021-01-01"}]"#,
        br#"[{"product":"X","dose":1,"date":"2021-01-01","kind":"booster"}]"#,
    ] {
        assert_eq!(
            dose_records_from_json(bad).unwrap_err().code(),
            ErrorCode::InvalidDoseRecords
        );
    }
}

#[test]
fn the_file_holds_no_personal_data_of_anyone() {
    let dir = TempDir::new("file-privacy");
    let service = file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY);
    let mut needles = Vec::new();
    for (i, line) in kycvs_core::SAMPLE_REGISTRY_JSONL.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |key: &str| v[key].as_str().unwrap().to_owned();
        let (mobile, name) = (text("mobile"), text("name"));
        service
            .begin(
                &ConsentRequest {
                    mobile: &mobile,
                    name: &name,
                    audience: AUDIENCE,
                    nonce: &format!("PNR-{i}"),
                },
                NOW,
            )
            .unwrap();
        needles.extend([text("id"), mobile, name]);
        for dose in v["doses"].as_array().unwrap() {
            needles.push(dose["date"].as_str().unwrap().to_owned());
            needles.push(dose["product"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        FileConsentStore::open(dir.file()).unwrap().len().unwrap(),
        kycvs_core::SAMPLE_REGISTRY_JSONL.lines().count()
    );
    let bytes = std::fs::read(dir.file()).unwrap();
    assert!(needles.len() > 900);
    for needle in &needles {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "the consent file holds {needle:?}"
        );
    }
}

// ---- many processes through one file ----

const CHILD_ENV: &str = "KYCVS_CONSENT_CHILD";

/// Child: builds a complete side of its own, says it is ready, waits for the start file, then
/// completes the consent.
#[test]
fn child_complete() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let path = PathBuf::from(child_env("KYCVS_FILE"));
    let completer = file_completer(&path, &OTP_KEY);
    std::fs::write(child_env("KYCVS_READY"), b"ready").unwrap();
    wait_for_file(Path::new(&child_env("KYCVS_START")));
    let result = completer.complete(&child_env("KYCVS_ID"), &child_env("KYCVS_OTP"), NOW + 1);
    match result {
        Ok(_) => println!("RESULT TOKEN"),
        Err(e) => println!("RESULT {}", e.code()),
    }
}

#[test]
fn processes_racing_to_complete_one_consent_issue_once() {
    let dir = TempDir::new("file-procs");
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let c = file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY)
        .begin(&p.request("PNR-1"), NOW)
        .unwrap();
    let start = dir.0.join("start");
    let (file, start_s) = (
        dir.file().display().to_string(),
        start.display().to_string(),
    );
    let env = [
        ("KYCVS_FILE", file.as_str()),
        ("KYCVS_START", start_s.as_str()),
        ("KYCVS_ID", c.consent_id.as_str()),
        ("KYCVS_OTP", c.otp.expose()),
    ];
    let ready: Vec<String> = (0..10)
        .map(|i| dir.0.join(format!("ready-{i}")).display().to_string())
        .collect();
    let children: Vec<Child> = ready
        .iter()
        .map(|ready| {
            let mut env = env.to_vec();
            env.push(("KYCVS_READY", ready.as_str()));
            spawn_child(CHILD_ENV, "child_complete", &env)
        })
        .collect();
    // A barrier: every child has built its complete side before any may complete.
    for ready in &ready {
        wait_for_file(Path::new(ready));
    }
    std::fs::write(&start, b"go").unwrap();
    let results: Vec<String> = children.into_iter().map(child_result).collect();
    assert_eq!(
        results.iter().filter(|r| *r == "TOKEN").count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| *r != "TOKEN")
            .all(|r| r == "consent_not_found"),
        "{results:?}"
    );
}

/// Child: takes the store's lock (the sidecar file, as the store does), says so, holds it
/// until the release file appears, then completes the consent itself.
#[test]
fn child_hold_lock_then_complete() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let path = PathBuf::from(child_env("KYCVS_FILE"));
    let completer = file_completer(&path, &OTP_KEY);
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("{}.lock", path.display()))
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(child_env("KYCVS_LOCKED"), b"locked").unwrap();
    wait_for_file(Path::new(&child_env("KYCVS_RELEASE")));
    drop(lock);
    let result = completer.complete(&child_env("KYCVS_ID"), &child_env("KYCVS_OTP"), NOW + 1);
    match result {
        Ok(_) => println!("RESULT TOKEN"),
        Err(e) => println!("RESULT {}", e.code()),
    }
}

#[cfg(unix)]
#[test]
fn a_paused_lock_holder_keeps_its_lock() {
    let signal = |pid: u32, sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    let dir = TempDir::new("file-pause");
    let p = person_with(Ok(VaccinationStatus::PartiallyVaccinated));
    let c = file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY)
        .begin(&p.request("PNR-1"), NOW)
        .unwrap();
    let (locked, release) = (dir.0.join("locked"), dir.0.join("release"));
    let [file, locked_s, release_s] =
        [dir.file(), locked.clone(), release.clone()].map(|p| p.display().to_string());
    let holder = spawn_child(
        CHILD_ENV,
        "child_hold_lock_then_complete",
        &[
            ("KYCVS_FILE", file.as_str()),
            ("KYCVS_LOCKED", locked_s.as_str()),
            ("KYCVS_RELEASE", release_s.as_str()),
            ("KYCVS_ID", c.consent_id.as_str()),
            ("KYCVS_OTP", c.otp.expose()),
        ],
    );
    wait_for_file(&locked);
    signal(holder.id(), "-STOP");
    // The start file exists already: the waiter completes as soon as it has the lock.
    let waiter_ready = dir.0.join("waiter-ready").display().to_string();
    let mut waiter = spawn_child(
        CHILD_ENV,
        "child_complete",
        &[
            ("KYCVS_FILE", file.as_str()),
            ("KYCVS_READY", waiter_ready.as_str()),
            ("KYCVS_START", locked_s.as_str()),
            ("KYCVS_ID", c.consent_id.as_str()),
            ("KYCVS_OTP", c.otp.expose()),
        ],
    );
    // Longer than the 30 s after which the earlier lock was taken to be stale.
    std::thread::sleep(Duration::from_secs(32));
    let waited = waiter.try_wait().unwrap();
    std::fs::write(&release, b"go").unwrap();
    signal(holder.id(), "-CONT");
    assert!(
        waited.is_none(),
        "the waiter finished while the holder was paused"
    );
    let mut results = [child_result(waiter), child_result(holder)];
    results.sort();
    assert_eq!(results, ["TOKEN", "consent_not_found"]);
}
