//! What the multi-process consent-store tests share: a temporary directory, and this test
//! binary run again as a child process that reports one result line.
// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("kycvs-{tag}-{name}"));
        std::fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }

    /// The consent file inside it.
    pub fn file(&self) -> PathBuf {
        self.0.join("consents.json")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the test named `test` of this binary as a child process, with `child_var` set (the
/// child tests do nothing without it) and `env`, its stdout piped.
pub fn spawn_child<V: AsRef<OsStr>>(child_var: &str, test: &str, env: &[(&str, V)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(child_var, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

/// A variable the parent set for this child.
pub fn child_env(key: &str) -> String {
    std::env::var(key).unwrap()
}

/// Waits for `path` to appear: a barrier between processes, not a timing assumption (the
/// deadline only turns a hang into a failure).
pub fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The child's answer: what it printed after `RESULT `.
pub fn child_result(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "a child failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.split("RESULT ").nth(1).map(|r| r.trim().to_owned()))
        .expect("the child printed its result")
}
