//! The consent flow across processes: a `FileConsentStore` shared by two services with the
//! same keys, what the file holds, concurrency through the file, and bad files.

mod issuance_support;

use issuance_support::*;
use kycvs_core::{
    ConsentStore, ErrorCode, FileConsentStore, IssuanceService, Issuer, JsonlRegistry,
    PseudonymKey, VaccinationStatus, dose_records_from_json,
};
use std::path::PathBuf;
use std::sync::Arc;

const OTP_KEY: [u8; 32] = [5u8; 32];

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("kycvs-{tag}-{name}"));
        std::fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("consents.json")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A service over `registry` keeping consents in `path`, with fixed OTP and pseudonym keys,
/// as a second process would build it.
fn file_service(path: &PathBuf, registry: JsonlRegistry, otp_key: &[u8]) -> IssuanceService {
    IssuanceService::new(
        Issuer::new(signing_key(), ISSUER).unwrap(),
        Arc::new(registry),
    )
    .unwrap()
    .with_pseudonym_key(PseudonymKey::from_bytes(&[7u8; 32]).unwrap())
    .with_otp_key(otp_key)
    .unwrap()
    .with_consent_store(Box::new(FileConsentStore::open(path).unwrap()))
}

fn empty_registry() -> JsonlRegistry {
    JsonlRegistry::from_jsonl("").unwrap()
}

#[test]
fn begin_in_one_service_completes_in_another_once() {
    let dir = TempDir::new("file-store");
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let first = file_service(&dir.file(), JsonlRegistry::sample(), &OTP_KEY);
    let c = first
        .begin(&p.mobile, &p.name, AUDIENCE, "PNR-1", NOW)
        .unwrap();
    drop(first);

    // The file holds the consent's MAC and ids, and no OTP, mobile number or name.
    let text = std::fs::read_to_string(dir.file()).unwrap();
    assert!(text.contains(&c.consent_id));
    assert!(text.contains(&p.id));
    assert!(!text.contains(c.otp.expose()));
    assert!(!text.contains(&p.mobile));
    assert!(!text.contains(&p.name));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.file()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let second = file_service(&dir.file(), empty_registry(), &OTP_KEY);
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
        .begin(&p.mobile, &p.name, AUDIENCE, "PNR-1", NOW)
        .unwrap();
    let other = file_service(&dir.file(), empty_registry(), &[6u8; 32]);
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
    let c = open()
        .begin(&p.mobile, &p.name, AUDIENCE, "PNR-1", NOW)
        .unwrap();
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

    let c = open()
        .begin(&p.mobile, &p.name, AUDIENCE, "PNR-2", NOW + 10)
        .unwrap();
    let err = open()
        .complete(&c.consent_id, c.otp.expose(), c.expires_at)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentExpired);

    // Two begins so far; three more fill the hour, the sixth is refused by a new instance.
    for i in 0..3 {
        open()
            .begin(&p.mobile, &p.name, AUDIENCE, "PNR-3", NOW + 20 + i)
            .unwrap();
    }
    let err = open()
        .begin(&p.mobile, &p.name, AUDIENCE, "PNR-3", NOW + 30)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    // Expired consents are dropped from the file as it is rewritten.
    open()
        .begin(&p.mobile, &p.name, AUDIENCE, "PNR-4", NOW + 3_600)
        .unwrap();
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
            .begin(&p.mobile, &p.name, AUDIENCE, "PNR-1", NOW + round)
            .unwrap();
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let path = dir.file();
                    let (id, otp) = (c.consent_id.clone(), c.otp.clone());
                    s.spawn(move || {
                        file_service(&path, empty_registry(), &OTP_KEY).complete(
                            &id,
                            otp.expose(),
                            NOW + round + 1,
                        )
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
        br#"{"version":2,"consents":[],"rates":[]}"#,
        br#"{"version":1,"consents":[{"id":"x","otp_mac":"AA","expires_at":1,"attempts_left":1,"audience":"a","nonce":"n","beneficiary":null}],"rates":[]}"#,
        br#"{"version":1,"consents":[],"rates":[],"mobile":"9876543210"}"#,
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
    assert!(!store.update("anything", &mut |_| unreachable!()));

    let service = IssuanceService::new(
        Issuer::new(signing_key(), ISSUER).unwrap(),
        Arc::new(empty_registry()),
    )
    .unwrap();
    assert_eq!(
        service.with_otp_key(&[1u8; 31]).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
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
