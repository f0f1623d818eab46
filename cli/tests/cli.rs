//! Drives the built `kycvs` binary: exit codes, files written, per-line JSON, the demo, and
//! every shared test vector that the command line can express.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const AUDIENCE: &str = "irctc.example";
const ISSUER: &str = "cowin.example";
const NOW: u64 = 1_700_000_000;

fn kycvs(args: &[&str]) -> Output {
    kycvs_with_stdin(args, None)
}

fn kycvs_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kycvs"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kycvs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        // Written from a thread: a large input would otherwise block against a full stdout.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let out = child.wait_with_output().expect("wait for kycvs");
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

fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// A fresh, empty directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kycvs-cli-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Runs keygen; returns the kid it printed.
fn keygen(key: &Path, jwks: &Path, issuer: &str) -> String {
    let out = kycvs(&[
        "keygen",
        "--issuer",
        issuer,
        "--key-out",
        s(key),
        "--jwks-out",
        s(jwks),
    ]);
    assert_eq!(code(&out), 0, "keygen: {}", stderr(&out));
    let kid = stdout(&out).trim().to_owned();
    assert_eq!(kid.len(), 43, "kid {kid:?}");
    kid
}

fn issue(key: &Path, status: &str, extra: &[&str]) -> String {
    let now = NOW.to_string();
    let mut args = vec![
        "issue",
        "--key",
        s(key),
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
        "--nonce",
        "PNR-1",
        "--status",
        status,
        "--now",
        &now,
    ];
    args.extend_from_slice(extra);
    let out = kycvs(&args);
    assert_eq!(code(&out), 0, "issue: {}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text:?}");
    text.trim_end().to_owned()
}

fn jwks_kids(jwks: &Path) -> Vec<(String, String)> {
    let doc: Value = serde_json::from_slice(&std::fs::read(jwks).unwrap()).unwrap();
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["iss"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// An issuer key and trust store in `dir`, and a token for status 2 at `NOW`.
fn setup(test: &str) -> (PathBuf, PathBuf, PathBuf, String, String) {
    let dir = temp_dir(test);
    let key = dir.join("issuer.pem");
    let jwks = dir.join("trust.json");
    let kid = keygen(&key, &jwks, ISSUER);
    let token = issue(&key, "2", &["--subject", "psn-test-1"]);
    (dir, key, jwks, kid, token)
}

/// `kycvs verify` over `jwks` at `now`, expecting the nonce `issue` gives its tokens.
fn verify_args<'a>(jwks: &'a Path, now: &'a str) -> Vec<&'a str> {
    verify_args_with(jwks, now, &["--nonce", "PNR-1"])
}

fn verify_args_with<'a>(jwks: &'a Path, now: &'a str, nonce: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "verify",
        "--jwks",
        s(jwks),
        "--audience",
        AUDIENCE,
        "--now",
        now,
    ];
    args.extend_from_slice(nonce);
    args
}

#[test]
fn version_names_the_backend_in_use_and_those_compiled_in() {
    // The child runs on this CPU with this build, so it must choose what the core chooses here.
    let compiled: Vec<&str> = kycvs_core::Backend::compiled()
        .iter()
        .map(|b| b.as_str())
        .collect();
    let want = format!(
        "kycvs {}\ncurve25519 backend: {} (compiled in: {})\n",
        kycvs_core::VERSION,
        kycvs_core::backend(),
        compiled.join(" ")
    );
    for flag in ["--version", "-V"] {
        let out = kycvs(&[flag]);
        assert_eq!(code(&out), 0, "{flag}: {}", stderr(&out));
        assert_eq!(stdout(&out), want, "{flag}");
    }
}

#[test]
fn keygen_issue_verify_round_trip() {
    let (_dir, key, jwks, kid, token) = setup("round-trip");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    }
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(jwks_kids(&jwks), vec![(kid.clone(), ISSUER.to_owned())]);

    let now = (NOW + 10).to_string();
    let mut args = verify_args(&jwks, &now);
    args.extend(["--issuer", ISSUER, &token]);
    let out = kycvs(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let v = &lines[0];
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], 2);
    assert_eq!(v["iss"], ISSUER);
    assert_eq!(v["sub"], "psn-test-1");
    assert_eq!(v["aud"], AUDIENCE);
    assert_eq!(v["iat"], NOW);
    assert_eq!(v["exp"], NOW + 300);
    assert_eq!(v["kid"], kid.as_str());
    assert!(v["jti"].as_str().unwrap().len() >= 22);
    let names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "ok", "status", "iss", "sub", "aud", "jti", "iat", "exp", "kid"
        ]
    );

    // The same token for another transaction is rejected with exit 1.
    let mut args = verify_args_with(&jwks, &now, &["--nonce", "PNR-2"]);
    args.push(&token);
    let out = kycvs(&args);
    assert_eq!(code(&out), 1);
    let v = &json_lines(&out)[0];
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"], "nonce_mismatch");
    assert!(v["detail"].as_str().is_some());
}

#[test]
fn default_subject_is_a_fresh_pseudonym() {
    let (_dir, key, jwks, _kid, _token) = setup("pseudonym");
    let now = (NOW + 1).to_string();
    let subjects: Vec<String> = (0..2)
        .map(|_| {
            let token = issue(&key, "2", &[]);
            let mut args = verify_args(&jwks, &now);
            args.push(&token);
            let out = kycvs(&args);
            assert_eq!(code(&out), 0);
            json_lines(&out)[0]["sub"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_ne!(subjects[0], subjects[1]);
    assert!(subjects[0].starts_with("psn-"), "{}", subjects[0]);
}

#[test]
fn verify_from_stdin_answers_each_line_in_order() {
    let (_dir, key, jwks, _kid, token) = setup("stdin");
    let token_1 = issue(&key, "1", &[]);
    let huge = "A".repeat(1 << 20);
    let input = format!(
        "{token}\n\nnot-a-token\n{token_1}\r\n{}\n{huge}\n{token}",
        "B".repeat(4097)
    );
    let now = (NOW + 10).to_string();
    let out = kycvs_with_stdin(&verify_args(&jwks, &now), Some(input.as_bytes()));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let lines = json_lines(&out);
    let verdicts: Vec<String> = lines
        .iter()
        .map(|v| match v["ok"].as_bool() {
            Some(true) => format!("ok {}", v["status"]),
            _ => v["error"].as_str().unwrap().to_owned(),
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            "ok 2",
            "malformed",
            "malformed",
            "ok 1",
            "too_large",
            "too_large",
            "ok 2"
        ]
    );
    assert!(
        lines[5]["detail"].as_str().unwrap().contains("1048576"),
        "{}",
        lines[5]
    );
}

#[test]
fn verify_all_valid_stdin_exits_0_and_empty_input_prints_nothing() {
    let (_dir, _key, jwks, _kid, token) = setup("stdin-ok");
    let now = (NOW + 10).to_string();
    let input = format!("{token}\n{token}\n");
    let out = kycvs_with_stdin(&verify_args(&jwks, &now), Some(input.as_bytes()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 2);

    let out = kycvs_with_stdin(&verify_args(&jwks, &now), Some(b""));
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "");
}

fn assert_config_error(out: &Output, mentions: &str) {
    assert_eq!(code(out), 2, "stderr: {}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err:?}");
    assert!(err.starts_with("kycvs: "), "{err:?}");
    assert!(err.contains(mentions), "{err:?} lacks {mentions:?}");
    assert!(out.stdout.is_empty());
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    let (dir, key, jwks, _kid, token) = setup("config-errors");
    let now = NOW.to_string();

    let missing = dir.join("missing.json");
    let out = kycvs(&[
        "verify",
        "--jwks",
        s(&missing),
        "--audience",
        AUDIENCE,
        "--nonce",
        "PNR-1",
        &token,
    ]);
    assert_config_error(&out, "missing.json");

    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let out = kycvs(&[
        "verify",
        "--jwks",
        s(&garbage),
        "--audience",
        AUDIENCE,
        "--nonce",
        "PNR-1",
        &token,
    ]);
    assert_config_error(&out, "invalid_trust_store");

    // A JWKS holding a private key is refused, not trusted.
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&jwks).unwrap()).unwrap();
    doc["keys"][0]["d"] = "AAAA".into();
    let private = dir.join("private.json");
    std::fs::write(&private, doc.to_string()).unwrap();
    let out = kycvs(&[
        "verify",
        "--jwks",
        s(&private),
        "--audience",
        AUDIENCE,
        "--nonce",
        "PNR-1",
        &token,
    ]);
    assert_config_error(&out, "invalid_trust_store");

    let mut args = verify_args(&jwks, &now);
    args.extend(["--leeway", "999999", &token]);
    assert_config_error(&kycvs(&args), "invalid_argument");

    // keygen will not replace an invalid trust store with a fresh one.
    let out = kycvs(&[
        "keygen",
        "--issuer",
        ISSUER,
        "--key-out",
        s(&dir.join("new.pem")),
        "--jwks-out",
        s(&garbage),
    ]);
    assert_config_error(&out, "invalid_trust_store");
    assert!(!dir.join("new.pem").exists());
    assert_eq!(std::fs::read_to_string(&garbage).unwrap(), "{not json");

    let issue_with = |key_path: &Path, status: &str| {
        kycvs(&[
            "issue",
            "--key",
            s(key_path),
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--nonce",
            "n",
            "--status",
            status,
        ])
    };
    assert_config_error(&issue_with(&jwks, "2"), "invalid_key");
    assert_config_error(&issue_with(&missing, "2"), "missing.json");
    // clap reports usage errors with exit 2 too.
    assert_eq!(code(&issue_with(&key, "3")), 2);
    assert_eq!(code(&kycvs(&["verify", "--audience", AUDIENCE])), 2);
}

#[test]
fn verify_requires_a_nonce_or_an_explicit_no_nonce_check() {
    let (_dir, _key, jwks, _kid, token) = setup("nonce-required");
    let now = (NOW + 10).to_string();
    // Neither: a usage error (exit 2) that names both ways out, and no verdict.
    let mut args = verify_args_with(&jwks, &now, &[]);
    args.push(&token);
    let out = kycvs(&args);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--nonce") && err.contains("--no-nonce-check"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // Both: a usage error too.
    let mut args = verify_args_with(&jwks, &now, &["--nonce", "PNR-1", "--no-nonce-check"]);
    args.push(&token);
    assert_eq!(code(&kycvs(&args)), 2);
    // Explicitly no nonce check: the token passes whatever its nonce, from arguments and
    // from stdin alike.
    let mut args = verify_args_with(&jwks, &now, &["--no-nonce-check"]);
    args.push(&token);
    let out = kycvs(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["ok"], true);
    let args = verify_args_with(&jwks, &now, &["--no-nonce-check"]);
    let out = kycvs_with_stdin(&args, Some(format!("{token}\n").as_bytes()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// A token given as an argument is judged as bytes, like a stdin line: not UTF-8 is a
/// `malformed` verdict (exit 1), not a usage error.
#[cfg(unix)]
#[test]
fn a_non_utf8_argument_token_is_a_malformed_verdict() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let (_dir, _key, jwks, _kid, token) = setup("non-utf8-arg");
    let now = (NOW + 10).to_string();
    let mut bytes = token.clone().into_bytes();
    bytes[3] = 0xff;
    let out = Command::new(env!("CARGO_BIN_EXE_kycvs"))
        .args(verify_args(&jwks, &now))
        .arg(&token)
        .arg(OsStr::from_bytes(&bytes))
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[1]["error"], "malformed");
    // The same bytes on stdin get the same verdict.
    let mut input = bytes.clone();
    input.push(b'\n');
    let out = kycvs_with_stdin(&verify_args(&jwks, &now), Some(&input));
    assert_eq!(json_lines(&out)[0]["error"], "malformed");
}

/// Unpadded base64url.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// An HS256 token (a 32-byte MAC) names its algorithm: `unsupported_algorithm`.
#[test]
fn an_hs256_token_is_unsupported_algorithm() {
    let (_dir, _key, jwks, kid, token) = setup("hs256");
    let now = (NOW + 10).to_string();
    let claims = token.split('.').nth(1).unwrap();
    // The header JSON in unpadded base64url, spelled out to keep the test free of a codec.
    let header =
        base64url(format!(r#"{{"alg":"HS256","typ":"kycvs+jwt","kid":"{kid}"}}"#).as_bytes());
    let hs256 = format!("{header}.{claims}.{}", "A".repeat(43));
    let mut args = verify_args(&jwks, &now);
    args.push(&hs256);
    let out = kycvs(&args);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["error"], "unsupported_algorithm");
}

#[test]
fn keygen_appends_to_a_trust_store_and_refuses_to_overwrite_a_key() {
    let dir = temp_dir("keygen");
    let jwks = dir.join("trust.json");
    let key_a = dir.join("a.pem");
    let key_b = dir.join("b.pem");
    let kid_a = keygen(&key_a, &jwks, "issuer-a.example");
    let kid_b = keygen(&key_b, &jwks, "issuer-b.example");
    assert_ne!(kid_a, kid_b);
    assert_eq!(
        jwks_kids(&jwks),
        vec![
            (kid_a.clone(), "issuer-a.example".to_owned()),
            (kid_b.clone(), "issuer-b.example".to_owned())
        ]
    );

    let pem_a = std::fs::read(&key_a).unwrap();
    let jwks_before = std::fs::read(&jwks).unwrap();
    let args = [
        "keygen",
        "--issuer",
        "issuer-c.example",
        "--key-out",
        s(&key_a),
        "--jwks-out",
        s(&jwks),
    ];
    assert_config_error(&kycvs(&args), "--force");
    assert_eq!(std::fs::read(&key_a).unwrap(), pem_a);
    assert_eq!(std::fs::read(&jwks).unwrap(), jwks_before);

    let mut forced = args.to_vec();
    forced.push("--force");
    let out = kycvs(&forced);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_ne!(std::fs::read(&key_a).unwrap(), pem_a);
    assert_eq!(jwks_kids(&jwks).len(), 3);
    // No temporary files are left behind.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.pem", "b.pem", "trust.json"]);
}

#[test]
fn inspect_marks_the_output_unverified() {
    let (_dir, _key, _jwks, kid, token) = setup("inspect");
    let out = kycvs(&["inspect", &token]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("UNVERIFIED"));
    let shown: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["verified"], false);
    assert!(shown["warning"].as_str().unwrap().starts_with("UNVERIFIED"));
    assert_eq!(shown["header"]["kid"], kid.as_str());
    assert_eq!(shown["header"]["alg"], "Ed25519");
    assert_eq!(shown["claims"]["sub"], "psn-test-1");
    assert_eq!(shown["signature_len"], 64);

    let out = kycvs(&["inspect", "not-a-token"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("malformed"));
}

#[test]
fn legacy_alg_issues_eddsa_tokens_that_verify() {
    let (_dir, key, jwks, _kid, _token) = setup("legacy-alg");
    let token = issue(&key, "2", &["--legacy-alg"]);
    let shown: Value = serde_json::from_str(&stdout(&kycvs(&["inspect", &token]))).unwrap();
    assert_eq!(shown["header"]["alg"], "EdDSA");
    let now = (NOW + 1).to_string();
    let mut args = verify_args(&jwks, &now);
    args.push(&token);
    assert_eq!(code(&kycvs(&args)), 0);
}

#[test]
fn demo_exits_0_and_shows_every_rejection() {
    let out = kycvs(&["demo"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    // The "got" column of the verdict table (the demo prints the expected column itself, so
    // only what the verifier returned is checked here, against verdicts written out by hand).
    let rows: Vec<(String, String)> = text
        .lines()
        .filter(|l| {
            l.get(..2).is_some_and(|n| n.trim().parse::<u32>().is_ok()) && l.get(2..4) == Some("  ")
        })
        .map(|l| {
            let cells: Vec<char> = l.chars().collect();
            let cell = |from: usize, len: usize| -> String {
                cells[from..from + len]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_owned()
            };
            (cell(4, 34), cell(62, 22))
        })
        .collect();
    let got: Vec<(&str, &str)> = rows.iter().map(|(c, g)| (c.as_str(), g.as_str())).collect();
    assert_eq!(
        got,
        [
            ("traveller A: not vaccinated", "valid, status 0"),
            ("traveller B: partially vaccinated", "valid, status 1"),
            ("traveller C: fully vaccinated", "valid, status 2"),
            ("traveller D: fully vaccinated", "valid, status 2"),
            ("traveller E: partially vaccinated", "valid, status 1"),
            ("traveller F: not vaccinated", "valid, status 0"),
            ("consent B000009 (Bengali)", "valid, status 0"),
            ("consent B000024 (Latin)", "valid, status 0"),
            ("consent B000001 (Odia)", "valid, status 1"),
            ("consent B000025 (Latin)", "valid, status 1"),
            ("consent B000002 (Telugu)", "valid, status 2"),
            ("consent B000003 (Telugu)", "valid, status 2"),
            ("legacy alg \"EdDSA\" header", "valid, status 2"),
            ("checked after exp + leeway", "expired"),
            ("issued 10 min in the future", "not_yet_valid"),
            ("issued for another verifier", "audience_mismatch"),
            ("replayed for another transaction", "nonce_mismatch"),
            ("tampered: vs 0 changed to vs 2", "bad_signature"),
            ("signed by an untrusted key", "unknown_key"),
            ("iss not the key's issuer", "issuer_mismatch"),
            ("trusted issuer not accepted here", "issuer_mismatch"),
            ("not a token", "malformed"),
            ("4097 bytes of junk", "too_large"),
            ("forged header with alg \"none\"", "unsupported_algorithm"),
            ("alg \"none\", signature dropped", "malformed"),
            ("signed header with typ \"JWT\"", "bad_header"),
            ("signed, extra claim \"name\"", "bad_claims"),
            ("lifetime 2 h > 3600 s", "lifetime_too_long"),
        ],
        "{text}"
    );
    // The consent walk-through: what each step returned.
    let consent: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(" expected "))
        .filter_map(|l| l.split(" got ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        consent,
        [
            "otp_mismatch",
            "consent_not_found",
            "otp_mismatch",
            "otp_mismatch",
            "consent_expired",
            "rate_limited",
        ],
        "{text}"
    );
    assert!(!text.contains("FAIL"), "{text}");
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testvectors")
}

#[test]
fn every_shared_vector_gives_its_expected_code() {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(vectors_dir().join("verify.json")).unwrap()).unwrap();
    let jwks = vectors_dir().join("trust.jwks");
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() > 100, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let policy = &case["policy"];
        let token = case["token"].as_str().unwrap();
        let (now, leeway, max_lifetime) = (
            case["now"].as_u64().unwrap().to_string(),
            policy["leeway"].as_u64().unwrap().to_string(),
            policy["max_lifetime"].as_u64().unwrap().to_string(),
        );
        let mut args = vec![
            "verify",
            "--jwks",
            s(&jwks),
            "--audience",
            policy["audience"].as_str().unwrap(),
            "--now",
            &now,
            "--leeway",
            &leeway,
            "--max-lifetime",
            &max_lifetime,
        ];
        if let Some(issuers) = policy["issuers"].as_array() {
            for issuer in issuers {
                args.extend(["--issuer", issuer.as_str().unwrap()]);
            }
        }
        match case["nonce"].as_str() {
            Some(nonce) => args.extend(["--nonce", nonce]),
            None => args.push("--no-nonce-check"),
        }
        // stdin strips line ends, so a token holding one goes as an argument; everything
        // else goes through stdin, which also takes tokens too long for an argument.
        let out = if token.contains('\n') || token.ends_with('\r') {
            args.extend(["--", token]);
            kycvs(&args)
        } else {
            kycvs_with_stdin(&args, Some(format!("{token}\n").as_bytes()))
        };
        let lines = json_lines(&out);
        let expected = case["expected"].as_str().unwrap();
        let got = match lines.as_slice() {
            [v] if v["ok"] == true => "ok",
            [v] => v["error"].as_str().unwrap_or("?"),
            _ => "no single verdict",
        };
        let exit_ok = code(&out) == if expected == "ok" { 0 } else { 1 };
        if got != expected || !exit_ok {
            failures.push(format!("{name}: expected {expected}, got {got} ({out:?})"));
            continue;
        }
        if expected == "ok" {
            let v = &lines[0];
            let result = &case["result"];
            for field in ["status", "iss", "sub", "aud", "jti", "iat", "exp", "kid"] {
                if v[field] != result[field] {
                    failures.push(format!("{name}: {field} {} != {}", v[field], result[field]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `kycvs verify` with `args`, stdin and stdout as pipes, and `threads` in rayon's pool.
fn spawn_verify(args: &[&str], threads: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kycvs"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kycvs")
}

#[test]
fn verify_stdin_gives_the_same_lines_on_one_thread_and_on_several() {
    let (_dir, key, jwks, _kid, token) = setup("stdin-threads");
    let partial = issue(&key, "1", &[]);
    let now = (NOW + 10).to_string();
    // Several chunks of 1,024 lines, refusals and an overlong line among them.
    let mut input = String::new();
    for i in 0..2_600 {
        let line = match i % 97 {
            5 => "not-a-token".to_owned(),
            50 => "C".repeat(70_000),
            n if n % 2 == 0 => token.clone(),
            _ => partial.clone(),
        };
        input.push_str(&line);
        input.push('\n');
    }
    let outputs: Vec<(i32, Vec<u8>)> = ["1", "2", "4"]
        .iter()
        .map(|threads| {
            let mut child = spawn_verify(&verify_args(&jwks, &now), threads);
            let mut pipe = child.stdin.take().expect("stdin");
            let bytes = input.clone().into_bytes();
            let writer = std::thread::spawn(move || pipe.write_all(&bytes));
            let out = child.wait_with_output().expect("wait for kycvs");
            writer.join().unwrap().unwrap();
            assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
            (code(&out), out.stdout)
        })
        .collect();
    assert_eq!(outputs[0].0, 1);
    let lines = String::from_utf8(outputs[0].1.clone()).unwrap();
    assert_eq!(lines.lines().count(), 2_600);
    assert_eq!(
        lines
            .lines()
            .filter(|l| l.contains("\"too_large\""))
            .count(),
        27
    );
    for other in &outputs[1..] {
        assert_eq!(other, &outputs[0]);
    }
}

#[test]
fn verify_stdin_answers_a_waiting_producer_line_by_line_on_any_pool() {
    use std::io::{BufRead, BufReader};
    let (_dir, _key, jwks, _kid, token) = setup("stdin-interactive");
    let now = (NOW + 10).to_string();
    for threads in ["1", "2"] {
        let mut child = spawn_verify(&verify_args(&jwks, &now), threads);
        let mut input = child.stdin.take().expect("stdin");
        let (answers, answered) = std::sync::mpsc::channel();
        let output = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines() {
                if answers.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        // Each answer arrives before the next line is written: the producer waits for it.
        for line in [token.as_str(), "not-a-token", token.as_str()] {
            writeln!(input, "{line}").unwrap();
            input.flush().unwrap();
            let answer = answered
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no answer to a line on {threads} threads"));
            assert_eq!(answer.contains("\"ok\":true"), line == token, "{answer}");
        }
        drop(input);
        assert_eq!(child.wait().unwrap().code(), Some(1));
    }
}

#[test]
fn verify_stdin_stops_when_its_output_is_closed() {
    let (_dir, _key, jwks, _kid, token) = setup("stdin-closed");
    let now = (NOW + 10).to_string();
    for threads in ["1", "2"] {
        let mut child = spawn_verify(&verify_args(&jwks, &now), threads);
        drop(child.stdout.take());
        let mut input = child.stdin.take().expect("stdin");
        let line = format!("{token}\n");
        // The writer fails at once; the reader then stops instead of reading all of this.
        std::thread::spawn(move || {
            for _ in 0..200_000 {
                if input.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        });
        let started = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 2, "{threads} threads: {}", stderr(&out));
        assert!(
            stderr(&out).contains("cannot write output"),
            "{}",
            stderr(&out)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }
}
