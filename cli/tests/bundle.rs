//! `kycvs trust sign`, `kycvs trust root` and `kycvs verify --bundle --root`: the whole flow,
//! each rejection with its exit code, and every case of `testvectors/bundles.json`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const AUDIENCE: &str = "irctc.example";
const ISSUER: &str = "cowin.example";
const NOW: u64 = 1_700_000_000;

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

fn temp_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kycvs-cli-bundle-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A root key and an issuer key (with its plain JWKS), made by `kycvs keygen`.
struct Setup {
    dir: PathBuf,
    root_key: PathBuf,
    root_jwk: PathBuf,
    key: PathBuf,
    jwks: PathBuf,
}

fn setup(test: &str) -> Setup {
    let dir = temp_dir(test);
    let root_key = dir.join("root.pem");
    let key = dir.join("issuer.pem");
    let jwks = dir.join("keys.json");
    for (k, j) in [
        (&root_key, dir.join("root-jwks.json")),
        (&key, jwks.clone()),
    ] {
        let out = kycvs(&[
            "keygen",
            "--issuer",
            ISSUER,
            "--key-out",
            s(k),
            "--jwks-out",
            s(&j),
        ]);
        assert_eq!(code(&out), 0, "keygen: {}", stderr(&out));
    }
    let root_jwk = dir.join("root.json");
    let out = kycvs(&[
        "trust",
        "root",
        "--root-key",
        s(&root_key),
        "--out",
        s(&root_jwk),
    ]);
    assert_eq!(code(&out), 0, "trust root: {}", stderr(&out));
    Setup {
        dir,
        root_key,
        root_jwk,
        key,
        jwks,
    }
}

impl Setup {
    /// Signs the issuer key into a bundle with the window [nbf, exp); returns its path.
    fn sign(&self, sequence: u64, window: (u64, u64)) -> PathBuf {
        let path = self.dir.join(format!("bundle-{sequence}.jws"));
        let out = kycvs(&[
            "trust",
            "sign",
            "--root-key",
            s(&self.root_key),
            "--jwks",
            s(&self.jwks),
            "--sequence",
            &sequence.to_string(),
            "--expires",
            &(NOW + 3600).to_string(),
            "--nbf",
            &window.0.to_string(),
            "--exp",
            &window.1.to_string(),
            "--now",
            &NOW.to_string(),
            "--out",
            s(&path),
        ]);
        assert_eq!(code(&out), 0, "trust sign: {}", stderr(&out));
        path
    }

    fn issue(&self, iat: u64) -> String {
        let out = kycvs(&[
            "issue",
            "--key",
            s(&self.key),
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--nonce",
            "PNR-1",
            "--status",
            "2",
            "--now",
            &iat.to_string(),
        ]);
        assert_eq!(code(&out), 0, "issue: {}", stderr(&out));
        stdout(&out).trim_end().to_owned()
    }

    fn verify(&self, bundle: &Path, root: &Path, now: u64, extra: &[&str], token: &str) -> Output {
        let now = now.to_string();
        let mut args = vec![
            "verify",
            "--bundle",
            s(bundle),
            "--root",
            s(root),
            "--audience",
            AUDIENCE,
            "--nonce",
            "PNR-1",
            "--now",
            &now,
        ];
        if !extra.contains(&"--min-sequence") {
            args.extend(["--min-sequence", "0"]);
        }
        args.extend_from_slice(extra);
        args.push(token);
        kycvs(&args)
    }
}

fn verdict(out: &Output) -> Value {
    serde_json::from_str(stdout(out).trim()).expect("one JSON verdict")
}

#[test]
fn sign_pin_and_verify() {
    let t = setup("flow");
    let root: Value = serde_json::from_slice(&std::fs::read(&t.root_jwk).unwrap()).unwrap();
    assert!(root.get("d").is_none() && root["kty"] == "OKP", "{root}");
    let bundle = t.sign(4, (NOW - 100, NOW + 100));
    let token = t.issue(NOW);
    let out = t.verify(
        &bundle,
        &t.root_jwk,
        NOW + 1,
        &["--min-sequence", "4"],
        &token,
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(verdict(&out)["ok"], true);

    // The key window: a token issued after the key's exp is refused (exit 1, a verdict).
    let late = t.issue(NOW + 100);
    let out = t.verify(&bundle, &t.root_jwk, NOW + 101, &[], &late);
    assert_eq!(code(&out), 1);
    assert_eq!(verdict(&out)["error"], "key_not_valid");
    // The same token under the plain JWKS (no window) passes.
    let out = kycvs(&[
        "verify",
        "--jwks",
        s(&t.jwks),
        "--audience",
        AUDIENCE,
        "--nonce",
        "PNR-1",
        "--now",
        &(NOW + 101).to_string(),
        &late,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn bad_bundles_are_configuration_errors() {
    let t = setup("reject");
    let bundle = t.sign(4, (NOW - 100, NOW + 100));
    let token = t.issue(NOW);
    let rejects = |bundle: &Path, root: &Path, now: u64, extra: &[&str], want: &str| {
        let out = t.verify(bundle, root, now, extra, &token);
        assert_eq!(code(&out), 2, "{want}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{want}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
    };
    rejects(&bundle, &t.root_jwk, NOW + 3600, &[], "stale_bundle");
    rejects(
        &bundle,
        &t.root_jwk,
        NOW,
        &["--min-sequence", "5"],
        "bundle_rollback",
    );
    // Pinning another root: the issuer key's own JWK, written by `trust root`.
    let other = t.dir.join("other-root.json");
    let out = kycvs(&["trust", "root", "--root-key", s(&t.key), "--out", s(&other)]);
    assert_eq!(code(&out), 0);
    rejects(&bundle, &other, NOW, &[], "invalid_bundle");
    // A tampered bundle.
    let mut text = std::fs::read_to_string(&bundle).unwrap();
    text.insert(text.find('.').unwrap() + 1, 'A');
    let tampered = t.dir.join("tampered.jws");
    std::fs::write(&tampered, text).unwrap();
    rejects(&tampered, &t.root_jwk, NOW, &[], "invalid_bundle");
    // A root file that is a JWKS, not one JWK.
    rejects(&bundle, &t.jwks, NOW, &[], "invalid_key");
}

#[test]
fn argument_rules() {
    let t = setup("args");
    let bundle = t.sign(1, (0, 10));
    // --jwks and --bundle are mutually exclusive; --bundle needs --root; one is required.
    for args in [
        vec![
            "verify",
            "--jwks",
            s(&t.jwks),
            "--bundle",
            s(&bundle),
            "--root",
            s(&t.root_jwk),
        ],
        vec!["verify", "--bundle", s(&bundle)],
        vec!["verify", "--root", s(&t.root_jwk)],
        vec!["verify"],
        vec!["verify", "--jwks", s(&t.jwks), "--min-sequence", "3"],
        // The rollback floor has no default: a bundle without it is a usage error.
        vec!["verify", "--bundle", s(&bundle), "--root", s(&t.root_jwk)],
    ] {
        let mut args = args;
        args.extend(["--audience", AUDIENCE, "--nonce", "PNR-1", "tok"]);
        let out = kycvs(&args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
    let out = kycvs(&[
        "verify",
        "--bundle",
        s(&bundle),
        "--root",
        s(&t.root_jwk),
        "--audience",
        AUDIENCE,
        "--nonce",
        "PNR-1",
        "tok",
    ]);
    assert!(stderr(&out).contains("--min-sequence"), "{}", stderr(&out));
    // Keys without a window need --nbf/--exp.
    let out = kycvs(&[
        "trust",
        "sign",
        "--root-key",
        s(&t.root_key),
        "--jwks",
        s(&t.jwks),
        "--sequence",
        "1",
        "--expires",
        "99",
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--nbf"), "{}", stderr(&out));
    // Sequence 0 and an expiry before the issue time are refused by the core.
    for (seq, expires) in [("0", "99"), ("1", "5")] {
        let out = kycvs(&[
            "trust",
            "sign",
            "--root-key",
            s(&t.root_key),
            "--jwks",
            s(&t.jwks),
            "--sequence",
            seq,
            "--expires",
            expires,
            "--nbf",
            "0",
            "--exp",
            "9",
            "--now",
            "10",
        ]);
        assert_eq!(code(&out), 2, "{seq} {expires}");
        assert!(
            stderr(&out).contains("invalid_argument"),
            "{}",
            stderr(&out)
        );
    }
    // Printing to stdout: one line, the bundle.
    let out = kycvs(&[
        "trust",
        "sign",
        "--root-key",
        s(&t.root_key),
        "--jwks",
        s(&t.jwks),
        "--sequence",
        "2",
        "--expires",
        "99",
        "--nbf",
        "0",
        "--exp",
        "9",
        "--now",
        "10",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).matches('.').count(), 2);
}

#[test]
fn every_bundle_vector_through_the_command() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testvectors/bundles.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let dir = temp_dir("vectors");
    let (bundle, root) = (dir.join("bundle.jws"), dir.join("root.json"));
    let run = |case: &Value, now: &str, token: &str| {
        let audience = case["audience"].as_str().unwrap_or(AUDIENCE);
        std::fs::write(&bundle, case["bundle"].as_str().unwrap()).unwrap();
        std::fs::write(&root, case["root"].as_str().unwrap()).unwrap();
        let min = case["min_sequence"].as_u64().unwrap_or(0).to_string();
        kycvs(&[
            "verify",
            "--bundle",
            s(&bundle),
            "--root",
            s(&root),
            "--min-sequence",
            &min,
            "--audience",
            audience,
            "--no-nonce-check",
            "--now",
            now,
            token,
        ])
    };
    for case in doc["cases"].as_array().unwrap() {
        let (name, expected) = (&case["name"], case["expected"].as_str().unwrap());
        // Any token: the bundle is judged before it.
        let out = run(case, &case["now"].to_string(), "x.y.z");
        if expected == "ok" {
            assert_eq!(code(&out), 1, "{name}: {}", stderr(&out));
            assert_eq!(verdict(&out)["error"], "malformed", "{name}");
        } else {
            assert_eq!(code(&out), 2, "{name}");
            assert!(stderr(&out).contains(expected), "{name}: {}", stderr(&out));
        }
    }
    // The command loads the bundle and verifies at one time, the token's: every token case
    // lies well inside its bundle's lifetime.
    for case in doc["token_cases"].as_array().unwrap() {
        let name = &case["name"];
        let out = run(
            case,
            &case["now"].to_string(),
            case["token"].as_str().unwrap(),
        );
        let got = verdict(&out);
        match case["expected"].as_str().unwrap() {
            "ok" => assert_eq!(got["ok"], true, "{name}: {got}"),
            want => assert_eq!(got["error"], want, "{name}: {got}"),
        }
    }
}
