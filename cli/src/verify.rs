//! `kycvs verify`: verify tokens from the arguments or stdin, one JSON verdict per line.

use crate::fail::{CliError, Outcome};
use crate::files::read_prefix;
use kycvs_core::{
    DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, Error, ErrorCode, MAX_JWKS_LEN, MAX_TOKEN_LEN, Policy,
    TrustStore, VerifiedStatus, Verifier, unix_now,
};
use serde_json::json;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

/// The longest stdin line handed to the verifier. Lines up to here reach the core, which
/// judges their size itself; a longer one is reported `too_large` without being buffered.
const MAX_LINE_LEN: usize = MAX_TOKEN_LEN + 1024;

const VERIFY_HELP: &str = "\
Output, one line per token in input order:
  {\"ok\":true,\"status\":2,\"iss\":…,\"sub\":…,\"aud\":…,\"jti\":…,\"iat\":…,\"exp\":…,\"kid\":…}
  {\"ok\":false,\"error\":\"<code>\",\"detail\":\"…\"}
With no TOKEN, reads one token per line from stdin (a trailing \\r\\n or \\n is removed; an
empty line is a malformed token). Exit 0 when every token is valid, 1 when any is rejected,
2 on a configuration error.";

/// Verify tokens against a JWKS trust store and print one JSON verdict per line.
#[derive(clap::Args, Debug)]
#[command(after_help = VERIFY_HELP)]
pub struct Args {
    /// The trusted keys: a JWKS file whose keys each name their issuer (`iss`).
    #[arg(long, value_name = "TRUST.json")]
    jwks: PathBuf,
    /// This verifier's id: a token's `aud` must equal it.
    #[arg(long, value_name = "AUD")]
    audience: String,
    /// Accept only tokens from this issuer (repeat for several). Default: every issuer in
    /// the JWKS.
    #[arg(long = "issuer", value_name = "ISS")]
    issuers: Vec<String>,
    /// The nonce every token must carry. Default: any nonce.
    #[arg(long, value_name = "N")]
    nonce: Option<String>,
    /// Verify at this time (seconds since the Unix epoch) instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Clock-skew allowance in seconds.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_LEEWAY)]
    leeway: u64,
    /// The longest accepted `exp - iat` in seconds.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_MAX_LIFETIME)]
    max_lifetime: u64,
    /// Tokens to verify; none: read them from stdin, one per line.
    #[arg(value_name = "TOKEN")]
    tokens: Vec<String>,
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let verifier = build_verifier(args)?;
    let check = |token: &str| {
        let now = args.now.unwrap_or_else(unix_now);
        verifier.verify(token, args.nonce.as_deref(), now)
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut rejected = false;
    let write_failed = |e: io::Error| CliError::new(format!("cannot write output: {e}"));
    if args.tokens.is_empty() {
        let mut lines = LineReader::new(io::stdin());
        loop {
            let line = lines
                .next_line()
                .map_err(|e| CliError::new(format!("cannot read stdin: {e}")))?;
            let verdict = match line {
                None => break,
                Some(Line::Token(token)) => check(&String::from_utf8_lossy(token)),
                Some(Line::TooLong(len)) => Err(Error::new(
                    ErrorCode::TooLarge,
                    format!("token is {len} bytes, more than {MAX_TOKEN_LEN}"),
                )),
            };
            rejected |= verdict.is_err();
            write_verdict(&mut out, &verdict).map_err(write_failed)?;
            // Flush once the input read so far is used up: a whole batch at a time for piped
            // files, every line for an interactive producer waiting on its answer.
            if lines.is_drained() {
                out.flush().map_err(write_failed)?;
            }
        }
    } else {
        for token in &args.tokens {
            let verdict = check(token);
            rejected |= verdict.is_err();
            write_verdict(&mut out, &verdict).map_err(write_failed)?;
        }
    }
    out.flush().map_err(write_failed)?;
    Ok(if rejected {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}

fn build_verifier(args: &Args) -> Result<Verifier, CliError> {
    let jwks = read_prefix(&args.jwks, MAX_JWKS_LEN + 1)
        .map_err(|e| CliError::io("cannot read", &args.jwks, &e))?;
    let trust =
        TrustStore::from_jwks(&jwks).map_err(|e| CliError::core(args.jwks.display(), &e))?;
    let mut policy = Policy::new(args.audience.as_str())
        .with_leeway(args.leeway)
        .with_max_lifetime(args.max_lifetime);
    if !args.issuers.is_empty() {
        policy = policy.with_issuers(args.issuers.iter().cloned());
    }
    Verifier::new(trust, policy).map_err(|e| CliError::core("policy", &e))
}

/// Writes one verdict as a line of JSON.
fn write_verdict(out: &mut impl Write, verdict: &Result<VerifiedStatus, Error>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &verdict_json(verdict))?;
    out.write_all(b"\n")
}

/// The JSON form of a verdict, as `verify` prints it.
pub fn verdict_json(verdict: &Result<VerifiedStatus, Error>) -> serde_json::Value {
    match verdict {
        Ok(v) => json!({
            "ok": true, "status": v.status.as_u8(), "iss": v.iss, "sub": v.sub, "aud": v.aud,
            "jti": v.jti, "iat": v.iat, "exp": v.exp, "kid": v.kid,
        }),
        Err(e) => json!({"ok": false, "error": e.code().as_str(), "detail": e.detail()}),
    }
}

/// One line of input.
enum Line<'a> {
    /// The line without its `\n` or `\r\n`.
    Token(&'a [u8]),
    /// A line longer than [`MAX_LINE_LEN`], skipped; its length without the line end.
    TooLong(usize),
}

/// Splits input into lines while holding at most [`MAX_LINE_LEN`] bytes of any one line.
struct LineReader<R> {
    reader: BufReader<R>,
    line: Vec<u8>,
}

impl<R: Read> LineReader<R> {
    fn new(input: R) -> Self {
        LineReader {
            reader: BufReader::with_capacity(64 * 1024, input),
            line: Vec::with_capacity(MAX_LINE_LEN),
        }
    }

    /// True when every byte read from the input so far has been handed out.
    fn is_drained(&self) -> bool {
        self.reader.buffer().is_empty()
    }

    /// The next line; `None` at the end of input. A last line without `\n` still counts.
    fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.line.clear();
        let mut len = 0usize;
        let mut last_byte = None;
        let mut seen_any = false;
        let mut ended = false;
        while !ended {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !seen_any {
                    return Ok(None);
                }
                break;
            }
            seen_any = true;
            let (chunk, used) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    ended = true;
                    (&available[..i], i + 1)
                }
                None => (available, available.len()),
            };
            len += chunk.len();
            last_byte = chunk.last().copied().or(last_byte);
            if len <= MAX_LINE_LEN {
                self.line.extend_from_slice(chunk);
            }
            self.reader.consume(used);
        }
        let crlf = last_byte == Some(b'\r');
        if len > MAX_LINE_LEN {
            return Ok(Some(Line::TooLong(len - usize::from(crlf))));
        }
        if crlf {
            self.line.pop();
        }
        Ok(Some(Line::Token(&self.line)))
    }
}
