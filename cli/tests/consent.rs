//! Drives `kycvs consent begin` / `complete` as separate processes sharing a state
//! directory: the full flow per status, the token verified by `kycvs verify`, the state files,
//! expiry, attempt and rate limits, single use, unknown people answered alike, two concurrent
//! completes, and usage errors.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ISSUER: &str = "cowin.example";
const AUDIENCE: &str = "irctc.example";
const NOW: u64 = 1_700_000_000;

/// Sample registry people: (mobile as typed, name, status their records give).
const FULL: (&str, &str, u64) = ("+91 95567-19886", "సాయి దేవి", 2);
const PARTIAL: (&str, &str, u64) = ("8906219727", "ସୁଭାଷ ମହାନ୍ତି", 1);
const NONE: (&str, &str, u64) = ("08439734719", "সুমিতা ঘোষ", 0);

fn kycvs(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kycvs"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run kycvs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "kycvs panicked: {stderr}");
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temporary directory with an issuer key and its JWKS, removed on drop.
struct Setup {
    dir: PathBuf,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("kycvs-cli-consent-{tag}-{name}"));
        std::fs::create_dir(&dir).unwrap();
        let s = Setup { dir };
        let out = kycvs(&[
            "keygen",
            "--issuer",
            ISSUER,
            "--key-out",
            s.path("issuer.pem").to_str().unwrap(),
            "--jwks-out",
            s.path("trust.json").to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn state(&self) -> String {
        self.path("state").to_str().unwrap().to_owned()
    }

    fn key(&self) -> String {
        self.path("issuer.pem").to_str().unwrap().to_owned()
    }

    fn begin_with(
        &self,
        mobile: &str,
        name: &str,
        nonce: &str,
        now: u64,
        extra: &[&str],
    ) -> Output {
        let (state, key, now) = (self.state(), self.key(), now.to_string());
        let mut args = vec![
            "consent",
            "begin",
            "--state",
            &state,
            "--key",
            &key,
            "--issuer",
            ISSUER,
            "--mobile",
            mobile,
            "--name",
            name,
            "--audience",
            AUDIENCE,
            "--nonce",
            nonce,
            "--now",
            &now,
        ];
        args.extend_from_slice(extra);
        kycvs(&args)
    }

    /// Begins a consent; returns (consent id, OTP from the SMS line).
    fn begin(&self, mobile: &str, name: &str, nonce: &str, now: u64) -> (String, String) {
        let out = self.begin_with(mobile, name, nonce, now, &[]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        sms(&out)
    }

    fn complete(&self, id: &str, otp: &str, now: u64) -> Output {
        let (state, key, now) = (self.state(), self.key(), now.to_string());
        kycvs(&[
            "consent",
            "complete",
            "--state",
            &state,
            "--key",
            &key,
            "--issuer",
            ISSUER,
            "--consent-id",
            id,
            "--otp",
            otp,
            "--now",
            &now,
        ])
    }

    fn verify(&self, token: &str, nonce: &str, now: u64) -> Value {
        let out = kycvs(&[
            "verify",
            "--jwks",
            self.path("trust.json").to_str().unwrap(),
            "--audience",
            AUDIENCE,
            "--nonce",
            nonce,
            "--now",
            &now.to_string(),
            token,
        ]);
        serde_json::from_str(stdout(&out).trim()).unwrap()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The consent id on stdout and the OTP in the SMS line on stderr.
fn sms(out: &Output) -> (String, String) {
    let id = stdout(out).trim().to_owned();
    assert_eq!(id.len(), 22, "{id:?}");
    let err = stderr(out);
    assert!(err.starts_with("kycvs: SMS to +91"), "{err}");
    let otp = err
        .split("consent code is ")
        .nth(1)
        .and_then(|rest| rest.get(..6))
        .unwrap_or_else(|| panic!("no OTP in {err:?}"))
        .to_owned();
    assert!(otp.bytes().all(|b| b.is_ascii_digit()), "{otp:?}");
    (id, otp)
}

fn wrong(otp: &str) -> String {
    format!("{:06}", (otp.parse::<u32>().unwrap() + 1) % 1_000_000)
}

fn refused(out: &Output, what: &str) {
    assert_eq!(code(out), 1, "{}", stderr(out));
    assert!(stdout(out).is_empty());
    assert!(stderr(out).contains(what), "{}", stderr(out));
}

#[test]
fn each_status_through_two_processes_then_verify() {
    let s = Setup::new("flow");
    for (i, (mobile, name, status)) in [FULL, PARTIAL, NONE].into_iter().enumerate() {
        let nonce = format!("PNR-{i}");
        let out = s.begin_with(mobile, name, &nonce, NOW, &[]);
        let (id, otp) = sms(&out);
        let digits: String = mobile.chars().filter(char::is_ascii_digit).collect();
        let digits = &digits[digits.len() - 10..];
        assert!(stderr(&out).contains(&format!("+91{digits}")));
        let out = s.complete(&id, &otp, NOW + 10);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let token = stdout(&out).trim().to_owned();
        assert!(!token.contains(digits));
        assert!(!stderr(&out).contains(digits));
        let verdict = s.verify(&token, &nonce, NOW + 11);
        assert_eq!(verdict["ok"], true, "{verdict}");
        assert_eq!(verdict["status"], status, "{verdict}");
        // Single use.
        refused(&s.complete(&id, &otp, NOW + 12), "consent_not_found");
    }
}

#[test]
fn state_directory_is_private_and_holds_no_personal_data() {
    let s = Setup::new("state");
    let (id, otp) = s.begin(FULL.0, FULL.1, "PNR-1", NOW);
    let state = Path::new(&s.state()).to_owned();
    let consents = std::fs::read_to_string(state.join("consents.json")).unwrap();
    assert!(consents.contains(&id));
    // No OTP, mobile number, name, beneficiary id, product or dose date (B000002's).
    for secret in [
        otp.as_str(),
        "9556719886",
        FULL.1,
        "B000002",
        "Covishield",
        "2021-08-21",
        "2021-11-30",
    ] {
        assert!(!consents.contains(secret), "{secret} in {consents}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        for f in ["consents.json", "otp-mac.key", "pseudonym.key"] {
            assert_eq!(mode(&state.join(f)), 0o600, "{f}");
        }
    }
    // The keys stay put across begins, so subjects stay stable.
    let key = std::fs::read(state.join("pseudonym.key")).unwrap();
    assert_eq!(key.len(), 65);
    s.begin(PARTIAL.0, PARTIAL.1, "PNR-2", NOW);
    assert_eq!(std::fs::read(state.join("pseudonym.key")).unwrap(), key);
    // The complete side needs no pseudonym key (nor a registry): begin decided the subject.
    std::fs::remove_file(state.join("pseudonym.key")).unwrap();
    let out = s.complete(&id, &otp, NOW + 1);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn wrong_otps_then_attempts_exhausted() {
    let s = Setup::new("attempts");
    let (id, otp) = s.begin(FULL.0, FULL.1, "PNR-1", NOW);
    refused(&s.complete(&id, &wrong(&otp), NOW + 1), "otp_mismatch");
    refused(&s.complete(&id, "12", NOW + 2), "otp_mismatch");
    refused(
        &s.complete(&id, &wrong(&otp), NOW + 3),
        "attempts_exhausted",
    );
    refused(&s.complete(&id, &otp, NOW + 4), "consent_not_found");
    // A wrong OTP, then the right one.
    let (id, otp) = s.begin(FULL.0, FULL.1, "PNR-2", NOW);
    refused(&s.complete(&id, &wrong(&otp), NOW + 1), "otp_mismatch");
    assert_eq!(code(&s.complete(&id, &otp, NOW + 2)), 0);
}

#[test]
fn expiry_with_the_injected_clock() {
    let s = Setup::new("expiry");
    let (id, otp) = s.begin(FULL.0, FULL.1, "PNR-1", NOW);
    refused(&s.complete(&id, &otp, NOW + 180), "consent_expired");
    refused(&s.complete(&id, &otp, NOW + 181), "consent_not_found");
    let (id, otp) = s.begin(FULL.0, FULL.1, "PNR-2", NOW);
    let out = s.complete(&id, &otp, NOW + 179);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn rate_limit_across_processes() {
    let s = Setup::new("rate");
    for (i, mobile) in [
        "9556719886",
        "+91 9556719886",
        "09556719886",
        "919556719886",
        "9556-719886",
    ]
    .into_iter()
    .enumerate()
    {
        s.begin(mobile, &format!("name {i}"), "PNR-1", NOW + i as u64);
    }
    refused(
        &s.begin_with(FULL.0, FULL.1, "PNR-1", NOW + 10, &[]),
        "rate_limited",
    );
    s.begin(PARTIAL.0, PARTIAL.1, "PNR-1", NOW + 10);
    s.begin(FULL.0, FULL.1, "PNR-1", NOW + 3_600);
}

#[test]
fn unknown_mobile_or_name_answered_like_a_wrong_otp() {
    let s = Setup::new("unknown");
    let mut seen = Vec::new();
    for (mobile, name, own_otp) in [
        ("9000000001", FULL.1, true),
        (FULL.0, "Sai Devi", true),
        (FULL.0, FULL.1, false),
    ] {
        let out = s.begin_with(mobile, name, "PNR-1", NOW, &[]);
        assert_eq!(code(&out), 0);
        let (id, otp) = sms(&out);
        let otp = if own_otp { otp } else { wrong(&otp) };
        let codes: Vec<(i32, String)> = (0..4)
            .map(|i| {
                let out = s.complete(&id, &otp, NOW + 1 + i);
                let err = stderr(&out);
                let name = err
                    .split("refused: ")
                    .nth(1)
                    .and_then(|rest| rest.split(':').next())
                    .unwrap_or("")
                    .to_owned();
                (code(&out), name)
            })
            .collect();
        seen.push(codes);
    }
    let expected: Vec<(i32, String)> = [
        "otp_mismatch",
        "otp_mismatch",
        "attempts_exhausted",
        "consent_not_found",
    ]
    .iter()
    .map(|c| (1, c.to_string()))
    .collect();
    assert_eq!(seen, vec![expected.clone(), expected.clone(), expected]);
}

#[test]
fn two_concurrent_completes_give_one_token() {
    let s = Setup::new("race");
    for round in 0..3 {
        let (id, otp) = s.begin(FULL.0, FULL.1, "PNR-1", NOW + round);
        let outs: Vec<Output> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| s.complete(&id, &otp, NOW + round + 1)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = outs.iter().filter(|o| code(o) == 0).count();
        assert_eq!(ok, 1, "{:?}", outs.iter().map(stderr).collect::<Vec<_>>());
        for o in outs.iter().filter(|o| code(o) != 0) {
            refused(o, "consent_not_found");
        }
    }
}

#[test]
fn custom_registry_and_usage_errors() {
    let s = Setup::new("usage");
    let registry = s.path("registry.jsonl");
    std::fs::write(
        &registry,
        "{\"id\":\"X1\",\"mobile\":\"9876543210\",\"name\":\"Asha Rao\",\"doses\":\
         [{\"product\":\"Janssen\",\"dose\":1,\"date\":\"2021-07-13\"}]}\n",
    )
    .unwrap();
    let reg = registry.to_str().unwrap();
    let out = s.begin_with("9876543210", "asha rao", "PNR-1", NOW, &["--registry", reg]);
    let (id, otp) = sms(&out);
    let out = s.complete(&id, &otp, NOW + 1);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(s.verify(stdout(&out).trim(), "PNR-1", NOW + 2)["status"], 2);

    // Usage and configuration errors exit 2.
    let out = s.begin_with("12345", "x", "PNR-1", NOW, &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("invalid_mobile"));
    assert_eq!(code(&s.begin_with(FULL.0, "   ", "PNR-1", NOW, &[])), 2);
    assert_eq!(
        code(&s.begin_with(FULL.0, FULL.1, "bad\u{7f}nonce", NOW, &[])),
        2
    );
    std::fs::write(&registry, "not json\n").unwrap();
    let out = s.begin_with(FULL.0, FULL.1, "PNR-1", NOW, &["--registry", reg]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("invalid_registry"),
        "{}",
        stderr(&out)
    );
    let missing = s.path("missing.jsonl");
    let out = s.begin_with(
        FULL.0,
        FULL.1,
        "PNR-1",
        NOW,
        &["--registry", missing.to_str().unwrap()],
    );
    assert_eq!(code(&out), 2);

    let out = kycvs(&[
        "consent",
        "complete",
        "--state",
        s.path("nowhere").to_str().unwrap(),
        "--key",
        &s.key(),
        "--issuer",
        ISSUER,
        "--consent-id",
        &id,
        "--otp",
        &otp,
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no pending consents"),
        "{}",
        stderr(&out)
    );

    // A consent id is base64url and may begin with '-': still an id, not an option.
    refused(
        &s.complete("-abcdefghijklmnopqrstu", &otp, NOW + 1),
        "consent_not_found",
    );

    // A consent store file that is not one: a configuration error with its own code.
    let consents = Path::new(&s.state()).join("consents.json");
    let kept = std::fs::read(&consents).unwrap();
    std::fs::write(&consents, "garbage").unwrap();
    let out = s.begin_with(FULL.0, FULL.1, "PNR-1", NOW, &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("consent_store_unavailable"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&consents).unwrap(), b"garbage");
    std::fs::write(&consents, kept).unwrap();

    std::fs::write(Path::new(&s.state()).join("otp-mac.key"), "zz\n").unwrap();
    let out = s.complete(&id, &otp, NOW + 1);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("otp-mac.key"), "{}", stderr(&out));
    assert_eq!(code(&kycvs(&["consent"])), 2);
}
