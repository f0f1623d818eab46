//! The `--check` mode fails, naming the file, when a generated file differs from the table,
//! and `--write` repairs it. Runs the real program on a copy of the repository's files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory holding copies of every generated file of the repository.
fn copy_of_repo(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kycvs-codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for file in kycvs_codegen::FILES
        .iter()
        .chain(&[kycvs_codegen::REPLAY_LUA])
    {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(file), &to).unwrap();
    }
    dir
}

fn codegen(mode: &str, root: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kycvs-codegen"))
        .arg(mode)
        .arg(root)
        .output()
        .unwrap()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_committed_files_are_current() {
    let out = codegen("--check", &repo_root());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_names_each_stale_file_and_write_repairs_it() {
    let edits = [
        (kycvs_codegen::FFI_CODES, "BadClaims = 7,", "BadClaim = 7,"),
        (
            kycvs_codegen::PY_EXCEPTIONS,
            "class ExpiredError(",
            "class ExpiryError(",
        ),
        (kycvs_codegen::PY_INIT, "    ReplayedError,\n", ""),
        (
            kycvs_codegen::SPEC,
            "| 11 | `expired` |",
            "| 12 | `expired` |",
        ),
        (kycvs_codegen::PY_REDIS, "'SMISMEMBER'", "'SISMEMBER'"),
        (kycvs_codegen::C_REDIS, "'SADD'", "'SREM'"),
    ];
    for (file, from, to) in edits {
        let dir = copy_of_repo("stale");
        assert!(
            codegen("--check", &dir).status.success(),
            "fresh copy of {file}"
        );
        edit(&dir.join(file), from, to);

        let out = codegen("--check", &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(stderr.contains(file), "{file} not named: {stderr}");
        for other in kycvs_codegen::FILES.iter().filter(|f| **f != file) {
            assert!(!stderr.contains(other), "{other} named too: {stderr}");
        }

        let out = codegen("--write", &dir);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains(file));
        assert!(codegen("--check", &dir).status.success(), "{file} repaired");
        for other in kycvs_codegen::FILES {
            let repaired = std::fs::read(dir.join(other)).unwrap();
            assert_eq!(
                repaired,
                std::fs::read(repo_root().join(other)).unwrap(),
                "{other}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_missing_marker_is_an_error_naming_the_file() {
    let dir = copy_of_repo("marker");
    edit(
        &dir.join(kycvs_codegen::PY_INIT),
        "END GENERATED (imports)",
        "END (imports)",
    );
    let out = codegen("--check", &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(kycvs_codegen::PY_INIT), "{stderr}");
    assert!(stderr.contains("END GENERATED (imports)"), "{stderr}");
    assert!(!codegen("--write", &dir).status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_edited_script_makes_both_copies_stale() {
    let dir = copy_of_repo("script");
    edit(
        &dir.join(kycvs_codegen::REPLAY_LUA),
        "'EXPIRE'",
        "'PEXPIRE'",
    );
    let out = codegen("--check", &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(kycvs_codegen::PY_REDIS), "{stderr}");
    assert!(stderr.contains(kycvs_codegen::C_REDIS), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_kycvs-codegen"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
