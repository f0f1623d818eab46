//! OTP delivery behind one trait, [`OtpSender`], with three senders: [`LogSender`]
//! (development: the SMS goes to a file or stderr), [`CommandSender`] (an operator's program
//! gets `{"to","text"}` on its stdin) and [`WebhookSender`] (an HTTP POST to an SMS gateway
//! with a bearer secret). A failure is a [`DeliveryError`] whose text never holds the number
//! or the message.

use crate::config::SmsConfig;
use std::fmt;
use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use zeroize::Zeroizing;

/// One SMS: the number in international form and the text, which holds the OTP. Zeroized on
/// drop; `Debug` shows neither.
pub struct Sms {
    /// The number, `+91` and ten digits.
    pub to: Zeroizing<String>,
    /// The text, with the OTP in it.
    pub text: Zeroizing<String>,
}

impl Sms {
    /// The SMS that carries `otp` for a consent with `client_name`, valid `ttl_s` seconds.
    pub fn otp(
        mobile: &kycvs_core::Mobile,
        otp: &kycvs_core::Otp,
        client_name: &str,
        ttl_s: u64,
    ) -> Sms {
        let minutes = ttl_s.div_ceil(60);
        Sms {
            to: Zeroizing::new(format!("+91{}", mobile.as_str())),
            text: Zeroizing::new(format!(
                "{} is your KYC-VS code to share your vaccination status with {}. \
                 It expires in {} minute{}. Never share it with anyone else.",
                otp.expose(),
                client_name,
                minutes,
                if minutes == 1 { "" } else { "s" }
            )),
        }
    }

    /// `{"to","text"}` on one line, as the command and webhook senders pass it.
    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(
            serde_json::json!({"to": self.to.as_str(), "text": self.text.as_str()}).to_string(),
        )
    }
}

impl fmt::Debug for Sms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sms(<redacted>)")
    }
}

/// Why an SMS was not delivered, in words that hold no number and no message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError(pub String);

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The future a sender returns.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// Hands an SMS to whatever delivers it.
pub trait OtpSender: Send + Sync {
    /// The sender's kind, for metrics and logs (`log`, `command`, `webhook`).
    fn kind(&self) -> &'static str;
    /// Delivers `sms`; done when the gateway has accepted it.
    fn send<'a>(&'a self, sms: &'a Sms) -> Delivery<'a>;
}

/// Builds the sender the configuration names.
pub fn from_config(config: &SmsConfig) -> std::io::Result<Arc<dyn OtpSender>> {
    Ok(match config {
        SmsConfig::Log { path } => Arc::new(LogSender::new(path.clone())?),
        SmsConfig::Command {
            program,
            args,
            timeout,
        } => Arc::new(CommandSender {
            program: program.clone(),
            args: args.clone(),
            timeout: *timeout,
        }),
        SmsConfig::Webhook {
            url,
            bearer_secret_file,
            timeout,
        } => Arc::new(WebhookSender::new(url, bearer_secret_file, *timeout)?),
    })
}

/// Development sender: appends `{"to","text"}` lines to a file (created 0600) or writes them
/// to stderr. The file holds numbers and OTPs: it is the development stand-in for a phone.
pub struct LogSender {
    file: Option<std::sync::Mutex<std::fs::File>>,
}

impl LogSender {
    /// A sender writing to `path`, or to stderr when `None`.
    pub fn new(path: Option<PathBuf>) -> std::io::Result<LogSender> {
        let file = match path {
            Some(path) => {
                let mut options = std::fs::OpenOptions::new();
                options.create(true).append(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                Some(std::sync::Mutex::new(options.open(path)?))
            }
            None => None,
        };
        Ok(LogSender { file })
    }
}

impl OtpSender for LogSender {
    fn kind(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, sms: &'a Sms) -> Delivery<'a> {
        Box::pin(async move {
            let mut line = sms.to_json();
            line.push('\n');
            let written = match &self.file {
                Some(file) => {
                    let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                    file.write_all(line.as_bytes()).and_then(|()| file.flush())
                }
                None => std::io::stderr().lock().write_all(line.as_bytes()),
            };
            written.map_err(|e| {
                DeliveryError(format!("the SMS log could not be written: {}", e.kind()))
            })
        })
    }
}

/// Runs an operator's program for each SMS with `{"to","text"}` and a line break on its
/// stdin; delivered when it exits 0 within the timeout (it is killed otherwise).
pub struct CommandSender {
    program: PathBuf,
    args: Vec<String>,
    timeout: Duration,
}

impl OtpSender for CommandSender {
    fn kind(&self) -> &'static str {
        "command"
    }

    fn send<'a>(&'a self, sms: &'a Sms) -> Delivery<'a> {
        Box::pin(async move {
            let mut child = tokio::process::Command::new(&self.program)
                .args(&self.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| {
                    DeliveryError(format!("the SMS command could not start: {}", e.kind()))
                })?;
            let mut line = sms.to_json();
            line.push('\n');
            let run = async {
                if let Some(mut stdin) = child.stdin.take() {
                    // A program that exits without reading is judged by its exit status.
                    let _ = stdin.write_all(line.as_bytes()).await;
                }
                child.wait().await
            };
            match tokio::time::timeout(self.timeout, run).await {
                Ok(Ok(status)) if status.success() => Ok(()),
                Ok(Ok(status)) => Err(DeliveryError(format!("the SMS command failed ({status})"))),
                Ok(Err(e)) => Err(DeliveryError(format!(
                    "the SMS command failed: {}",
                    e.kind()
                ))),
                Err(_) => Err(DeliveryError("the SMS command timed out".into())),
            }
        })
    }
}

/// POSTs `{"to","text"}` as JSON to an SMS gateway with `Authorization: Bearer <secret>`;
/// delivered on a 2xx answer within the timeout.
pub struct WebhookSender {
    client: reqwest::Client,
    url: String,
    bearer: Zeroizing<String>,
}

impl WebhookSender {
    /// A sender posting to `url` with the secret in `bearer_secret_file` (one line).
    pub fn new(
        url: &str,
        bearer_secret_file: &std::path::Path,
        timeout: Duration,
    ) -> std::io::Result<WebhookSender> {
        let text = Zeroizing::new(std::fs::read_to_string(bearer_secret_file)?);
        let bearer = Zeroizing::new(text.trim().to_owned());
        if bearer.is_empty()
            || bearer.len() > 4_096
            || !bearer.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the bearer secret file must hold one line of visible ASCII",
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(WebhookSender {
            client,
            url: url.to_owned(),
            bearer,
        })
    }
}

impl OtpSender for WebhookSender {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, sms: &'a Sms) -> Delivery<'a> {
        Box::pin(async move {
            let body = sms.to_json();
            let answer = self
                .client
                .post(&self.url)
                .bearer_auth(self.bearer.as_str())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.as_str().to_owned())
                .send()
                .await;
            match answer {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => Err(DeliveryError(format!(
                    "the SMS gateway answered {}",
                    response.status().as_u16()
                ))),
                Err(e) if e.is_timeout() => Err(DeliveryError("the SMS gateway timed out".into())),
                Err(_) => Err(DeliveryError("the SMS gateway could not be reached".into())),
            }
        })
    }
}
