//! The file consent store when the file system fails it: a read-only directory, a full disk,
//! a file over the size limit, a store full of live consents, many processes against the rate
//! limit, and a lock file left by a process that died holding it.
//!
//! The read-only and full-disk tests mount a small tmpfs of their own and so need root (as
//! the tests run here and in CI); without it they fail saying so rather than skip. The
//! multi-process tests run this test binary again as the child processes (the tests named
//! `child_*`, which do nothing unless `KYCVS_FAULTS_CHILD` is set).

mod issuance_support;
mod process_support;

use issuance_support::*;
use kycvs_core::{
    ConsentChallenge, ConsentCompleter, ConsentRequest, ErrorCode, FileConsentStore,
    IssuanceService, Issuer, JsonlRegistry, MAX_CONSENT_FILE_LEN, PseudonymKey, VaccinationStatus,
};
use process_support::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

const OTP_KEY: [u8; 32] = [5u8; 32];

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct Tmpfs(TempDir);

impl Tmpfs {
    fn mount(tag: &str, size: &str) -> Tmpfs {
        let dir = TempDir::new(tag);
        mount(
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ],
            &dir.0,
        );
        Tmpfs(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.file()
    }

    fn remount(&self, options: &str) {
        mount(&["-o", &format!("remount,{options}")], &self.0.0);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0.0).status();
    }
}

fn mount(args: &[&str], dir: &Path) {
    let out = Command::new("mount").args(args).arg(dir).output();
    let ok = matches!(&out, Ok(o) if o.status.success());
    assert!(
        ok,
        "this test mounts a tmpfs and needs root (mount {args:?} {}): {out:?}",
        dir.display()
    );
}

fn file_service(path: &Path) -> IssuanceService {
    IssuanceService::builder(
        Issuer::new(signing_key(), ISSUER).unwrap(),
        Arc::new(JsonlRegistry::sample()),
    )
    .pseudonym_key(PseudonymKey::from_bytes(&[7u8; 32]).unwrap())
    .otp_key(&OTP_KEY)
    .consent_file(path)
    .build()
    .unwrap()
}

fn begin(
    service: &IssuanceService,
    p: &Person,
    nonce: &str,
    now: u64,
) -> kycvs_core::Result<ConsentChallenge> {
    service.begin(
        &ConsentRequest {
            mobile: &p.mobile,
            name: &p.name,
            audience: AUDIENCE,
            nonce,
        },
        now,
    )
}

/// The names in `dir`, sorted: no temporary file may be left behind.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_read_only_directory_refuses_begin_and_complete_and_changes_nothing() {
    let fs = Tmpfs::mount("file-ro", "1m");
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let other = person_with(Ok(VaccinationStatus::PartiallyVaccinated));
    let service = file_service(&fs.file());
    let c = begin(&service, &p, "PNR-1", NOW).unwrap();
    let before = std::fs::read(fs.file()).unwrap();

    fs.remount("ro");
    let err = begin(&service, &other, "PNR-2", NOW + 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable, "{err}");
    let err = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 2)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable, "{err}");
    assert_eq!(std::fs::read(fs.file()).unwrap(), before);
    assert_eq!(names(&fs.0.0), ["consents.json", "consents.json.lock"]);

    // Writable again: the refused complete spent nothing, so the consent completes once.
    fs.remount("rw");
    let token = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 3)
        .unwrap();
    let v = verifier().verify(&token, "PNR-1", NOW + 4).unwrap();
    assert_eq!(v.status(), VaccinationStatus::FullyVaccinated);
    assert_eq!(FileConsentStore::open(fs.file()).unwrap().len().unwrap(), 0);
}

#[test]
fn a_full_disk_refuses_begin_and_complete_and_keeps_the_old_file() {
    let fs = Tmpfs::mount("file-full", "64k");
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let other = person_with(Ok(VaccinationStatus::NotVaccinated));
    let service = file_service(&fs.file());
    let c = begin(&service, &p, "PNR-1", NOW).unwrap();
    let before = std::fs::read(fs.file()).unwrap();

    // Fill the file system to the last byte.
    let filler_path = fs.0.0.join("filler");
    let mut filler = std::fs::File::create(&filler_path).unwrap();
    let full = loop {
        if let Err(e) = filler
            .write_all(&[0u8; 512])
            .and_then(|_| filler.sync_all())
        {
            break e;
        }
    };
    assert_eq!(full.raw_os_error(), Some(28), "{full}"); // ENOSPC
    drop(filler);

    let err = begin(&service, &other, "PNR-2", NOW + 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable, "{err}");
    let err = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 2)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable, "{err}");
    // No half-written state: the old file as it was, and no temporary file left.
    assert_eq!(std::fs::read(fs.file()).unwrap(), before);
    assert_eq!(
        names(&fs.0.0),
        ["consents.json", "consents.json.lock", "filler"]
    );

    std::fs::remove_file(&filler_path).unwrap();
    let token = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 3)
        .unwrap();
    let v = verifier().verify(&token, "PNR-1", NOW + 4).unwrap();
    assert_eq!(v.status(), VaccinationStatus::FullyVaccinated);
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let dir = TempDir::new("file-big");
    let empty = br#"{"version":2,"consents":[],"rates":[]}"#;
    // Valid JSON padded with trailing spaces: only the length is wrong.
    let write_len = |len: usize| {
        let mut f = std::fs::File::create(dir.file()).unwrap();
        f.write_all(empty).unwrap();
        f.write_all(&vec![b' '; len - empty.len()]).unwrap();
    };
    write_len(MAX_CONSENT_FILE_LEN);
    assert_eq!(
        FileConsentStore::open(dir.file()).unwrap().len().unwrap(),
        0
    );

    write_len(MAX_CONSENT_FILE_LEN + 1);
    let err = FileConsentStore::open(dir.file()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable, "{err}");
    assert!(
        err.to_string().contains("longer than 67108864 bytes"),
        "{err}"
    );
    assert_eq!(MAX_CONSENT_FILE_LEN, 64 * 1024 * 1024);
}

#[test]
fn a_store_full_of_live_consents_refuses_the_next_begin() {
    let dir = TempDir::new("file-cap");
    let store = FileConsentStore::open(dir.file())
        .unwrap()
        .with_capacity(3, 100);
    let service = IssuanceService::builder(
        Issuer::new(signing_key(), ISSUER).unwrap(),
        Arc::new(JsonlRegistry::sample()),
    )
    .pseudonym_key(PseudonymKey::from_bytes(&[7u8; 32]).unwrap())
    .otp_key(&OTP_KEY)
    .consent_store(Arc::new(store))
    .build()
    .unwrap();
    let people = people();
    for (i, p) in people[..3].iter().enumerate() {
        begin(&service, p, "PNR-1", NOW + i as u64).unwrap();
    }
    let err = begin(&service, &people[3], "PNR-1", NOW + 3).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentStoreFull, "{err}");
    assert_eq!(
        FileConsentStore::open(dir.file()).unwrap().len().unwrap(),
        3
    );
    // Once the first has expired there is room again.
    let first_expiry = NOW + kycvs_core::DEFAULT_OTP_TTL;
    begin(&service, &people[3], "PNR-1", first_expiry).unwrap();
    assert_eq!(
        FileConsentStore::open(dir.file()).unwrap().len().unwrap(),
        3
    );
}

// ---- many processes through one file ----

const CHILD_ENV: &str = "KYCVS_FAULTS_CHILD";

/// Child: builds its service, says it is ready, waits for the start file, then begins.
#[test]
fn child_begin() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let service = file_service(Path::new(&child_env("KYCVS_FILE")));
    std::fs::write(child_env("KYCVS_READY"), b"ready").unwrap();
    wait_for_file(Path::new(&child_env("KYCVS_START")));
    match begin(&service, &p, "PNR-1", NOW) {
        Ok(_) => println!("RESULT BEGUN"),
        Err(e) => println!("RESULT {}", e.code()),
    }
}

#[test]
fn processes_racing_to_begin_pass_the_rate_limit_exactly() {
    const CHILDREN: usize = 12;
    let dir = TempDir::new("file-rate");
    let start = dir.0.join("start");
    let children: Vec<(Child, PathBuf)> = (0..CHILDREN)
        .map(|i| {
            let ready = dir.0.join(format!("ready-{i}"));
            let env = [
                ("KYCVS_FILE", dir.file().display().to_string()),
                ("KYCVS_READY", ready.display().to_string()),
                ("KYCVS_START", start.display().to_string()),
            ];
            (spawn_child(CHILD_ENV, "child_begin", &env), ready)
        })
        .collect();
    // The barrier: every child has built its service before any may begin.
    for (_, ready) in &children {
        wait_for_file(ready);
    }
    std::fs::write(&start, b"go").unwrap();
    let mut results: Vec<String> = children.into_iter().map(|(c, _)| child_result(c)).collect();
    results.sort();
    let limit = kycvs_core::DEFAULT_RATE_LIMIT as usize;
    let mut expected = vec!["BEGUN".to_owned(); limit];
    expected.extend(vec!["rate_limited".to_owned(); CHILDREN - limit]);
    assert_eq!(results, expected);
    assert_eq!(
        FileConsentStore::open(dir.file()).unwrap().len().unwrap(),
        limit
    );
}

/// Child: takes the store's lock as the store does, says so, and never lets go (it is killed).
#[test]
fn child_lock_and_hang() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(format!("{}.lock", child_env("KYCVS_FILE")))
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(child_env("KYCVS_LOCKED"), b"locked").unwrap();
    loop {
        std::thread::park();
    }
}

#[test]
fn a_lock_file_left_by_a_killed_holder_does_not_block_the_next_caller() {
    let dir = TempDir::new("file-crash");
    let p = person_with(Ok(VaccinationStatus::PartiallyVaccinated));
    let c = begin(&file_service(&dir.file()), &p, "PNR-1", NOW).unwrap();
    let locked = dir.0.join("locked");
    let mut holder = spawn_child(
        CHILD_ENV,
        "child_lock_and_hang",
        &[
            ("KYCVS_FILE", dir.file().display().to_string()),
            ("KYCVS_LOCKED", locked.display().to_string()),
        ],
    );
    wait_for_file(&locked);
    // The holder crashes: the lock file stays, the OS lock goes with the process.
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(Path::new(&format!("{}.lock", dir.file().display())).exists());

    // The next caller proceeds without waiting. A store that took the leftover file for a
    // held lock would block here; the guard turns that hang into a failure.
    let path = dir.file();
    let (id, otp) = (c.consent_id.clone(), c.otp.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let completer = ConsentCompleter::builder(Issuer::new(signing_key(), ISSUER).unwrap())
            .otp_key(&OTP_KEY)
            .consent_file(&path)
            .build_completer()
            .and_then(|c| c.complete(&id, otp.expose(), NOW + 1));
        let _ = tx.send(completer);
    });
    let token = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the next caller is still waiting for a dead process's lock")
        .unwrap();
    let v = verifier().verify(&token, "PNR-1", NOW + 2).unwrap();
    assert_eq!(v.status(), VaccinationStatus::PartiallyVaccinated);
}
