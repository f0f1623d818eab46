//! Starts the real `kycvs-server` binary on an ephemeral loopback port with a configuration
//! made by `kycvs-server init` and `client add`, and talks to it over HTTP.

#![allow(dead_code)]

use base64::Engine as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kycvs-server");
pub const ISSUER: &str = "cowin.example";

/// A sample person (core/data/sample-registry.jsonl): mobile as typed, name, and status.
pub struct Person {
    pub mobile: &'static str,
    pub name: &'static str,
}

/// B000002: two Covishield doses, fully vaccinated.
pub const FULL: Person = Person {
    mobile: "+91 95567-19886",
    name: "సాయి దేవి",
};
/// B000001: one Covishield dose, partially vaccinated.
pub const PARTIAL: Person = Person {
    mobile: "8906219727",
    name: "ସୁଭାଷ ମହାନ୍ତି",
};

/// A client registered in the test configuration.
#[derive(Clone)]
pub struct Credentials {
    pub id: String,
    pub secret: String,
}

impl Credentials {
    pub fn header(&self) -> String {
        let pair = format!("{}:{}", self.id, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// A test service: its directory, configuration, clients and process.
pub struct Service {
    pub dir: tempfile::TempDir,
    /// The service's directory (the first process's `dir` for a sibling).
    pub home: PathBuf,
    pub config: PathBuf,
    pub clients: Vec<Credentials>,
    pub url: String,
    child: Option<Child>,
    log: PathBuf,
    http: reqwest::blocking::Client,
}

/// Edits to the configuration `init` writes: (section header or line, replacement).
pub type Edits<'a> = &'a [(&'a str, &'a str)];

impl Service {
    /// Initialises a directory, applies `edits` to its configuration, registers the clients
    /// `irctc.example` and `other.example`, and starts the server.
    pub fn start(edits: Edits<'_>) -> Service {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(BIN)
            .args(["init", "--dir"])
            .arg(dir.path())
            .args(["--issuer", ISSUER, "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("kycvs-server.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "the configuration has no {from:?}");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(&config, text).unwrap();
        let mut clients = Vec::new();
        for (id, name) in [("irctc.example", "IRCTC"), ("other.example", "Other Rail")] {
            let out = Command::new(BIN)
                .args(["client", "add", "--config"])
                .arg(&config)
                .args([
                    "--id",
                    id,
                    "--name",
                    name,
                    "--origin",
                    "http://127.0.0.1:8000",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8(out.stdout).unwrap();
            let secret = stdout
                .lines()
                .find_map(|l| l.strip_prefix("client_secret: "))
                .unwrap()
                .to_owned();
            clients.push(Credentials {
                id: id.into(),
                secret,
            });
        }
        let log = dir.path().join("server.log");
        let mut service = Service {
            home: dir.path().to_path_buf(),
            dir,
            config,
            clients,
            url: String::new(),
            child: None,
            log,
            // One connection per request: an answer that closes its connection early (413)
            // must not break the next request on a pooled connection.
            http: reqwest::blocking::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        service.spawn();
        service
    }

    /// Starts (or restarts) the process and waits for its address.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("kycvs-server listening on ")
            .unwrap_or_else(|| panic!("no address line: {line:?}; log: {}", self.log_text()))
            .to_owned();
        // Keep draining stdout so that the server never blocks on it.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        self.url = url;
        self.child = Some(child);
    }

    /// A second process of the same service: same configuration, keys and clients, its own
    /// port and log.
    pub fn sibling(&self) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let mut sibling = Service {
            home: self.home.clone(),
            log: dir.path().join("server.log"),
            dir,
            config: self.config.clone(),
            clients: self.clients.clone(),
            url: String::new(),
            child: None,
            http: self.http.clone(),
        };
        sibling.spawn();
        sibling
    }

    /// Kills the process with SIGKILL (no shutdown of any kind).
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Sends SIGTERM and returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The SMS log written by the `log` sender.
    pub fn sms_path(&self) -> PathBuf {
        self.home.join("state/sms.log")
    }

    /// Every SMS sent so far, as (to, text).
    pub fn sms(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.sms_path()).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["to"].as_str().unwrap().to_owned(),
                    v["text"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The OTP of the last SMS sent.
    pub fn last_otp(&self) -> String {
        let (_, text) = self.sms().pop().expect("an SMS was sent");
        text[..6].to_owned()
    }

    pub fn client(&self, i: usize) -> &Credentials {
        &self.clients[i]
    }

    pub fn http(&self) -> &reqwest::blocking::Client {
        &self.http
    }

    /// POST a JSON body as `client`; returns (status, JSON body).
    pub fn post(
        &self,
        path: &str,
        client: Option<&Credentials>,
        body: &serde_json::Value,
    ) -> Answer {
        let mut request = self.http.post(format!("{}{path}", self.url)).json(body);
        if let Some(client) = client {
            request = request.header("authorization", client.header());
        }
        Answer::from(request.send().unwrap())
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> Answer {
        Answer::from(self.http.get(format!("{}{path}", self.url)).send().unwrap())
    }

    /// Begins a consent for `person` with `nonce` as client `i`.
    pub fn begin(&self, i: usize, mobile: &str, name: &str, nonce: &str) -> Answer {
        self.post(
            "/v1/consents",
            Some(self.client(i)),
            &serde_json::json!({"mobile": mobile, "name": name, "nonce": nonce}),
        )
    }

    /// Completes consent `id` with `otp` as client `i`.
    pub fn complete(&self, i: usize, id: &str, otp: &str) -> Answer {
        self.post(
            &format!("/v1/consents/{id}/complete"),
            Some(self.client(i)),
            &serde_json::json!({"otp": otp}),
        )
    }

    /// A verifier for client `i` over the JWKS the service publishes.
    pub fn verifier(&self, i: usize) -> kycvs_core::Verifier {
        let jwks = self.get("/.well-known/jwks.json");
        assert_eq!(jwks.status, 200);
        let trust = kycvs_core::TrustStore::from_jwks(jwks.text.as_bytes()).unwrap();
        kycvs_core::Verifier::new(trust, kycvs_core::Policy::new(&self.client(i).id)).unwrap()
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.join("state/consents.db")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// An HTTP answer: status, headers, body text and body JSON (Null when not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: serde_json::Value,
}

impl From<reqwest::blocking::Response> for Answer {
    fn from(response: reqwest::blocking::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }
}

impl Answer {
    /// The `error` code of an error body.
    pub fn code(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }
}

/// Waits until `path` exists.
pub fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
