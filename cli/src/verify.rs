//! `kycvs verify`: verify tokens from the arguments or stdin, one JSON verdict per line.

use crate::fail::{CliError, Outcome};
use crate::files::read_prefix;
use kycvs_core::{
    BatchItem, BundleLoad, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, Error, ErrorCode, MAX_BUNDLE_LEN,
    MAX_JWKS_LEN, MAX_ROOT_JWK_LEN, MAX_TOKEN_LEN, Policy, TrustBundle, TrustStore, VerifiedStatus,
    Verifier, unix_now,
};
use serde::Serialize;
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The longest stdin line handed to the verifier. Lines up to here reach the core, which
/// judges their size itself; a longer one is reported `too_large` without being buffered.
const MAX_LINE_LEN: usize = MAX_TOKEN_LEN + 1024;

const VERIFY_HELP: &str = "\
Output, one line per token in input order:
  {\"ok\":true,\"status\":2,\"iss\":…,\"sub\":…,\"aud\":…,\"jti\":…,\"iat\":…,\"exp\":…,\"kid\":…}
  {\"ok\":false,\"error\":\"<code>\",\"detail\":\"…\"}
With no TOKEN, reads one token per line from stdin (a trailing \\r\\n or \\n is removed; an
empty line is a malformed token). A token is judged as bytes, from stdin or an argument: one
that is not UTF-8 is a malformed verdict. --nonce (the transaction every token must be bound
to) or --no-nonce-check is required. Exit 0 when every token is valid, 1 when any is
rejected, 2 on a usage or configuration error.";

/// Verify tokens against a JWKS trust store or a signed trust bundle and print one JSON
/// verdict per line.
#[derive(clap::Args, Debug)]
#[command(after_help = VERIFY_HELP)]
#[command(group = clap::ArgGroup::new("trust").required(true).args(["jwks", "bundle"]))]
#[command(group = clap::ArgGroup::new("nonce_check").required(true).args(["nonce", "no_nonce_check"]))]
pub struct Args {
    /// The trusted keys: a JWKS file whose keys each name their issuer (`iss`).
    #[arg(long, value_name = "TRUST.json")]
    jwks: Option<PathBuf>,
    /// The trusted keys: a signed trust bundle (`kycvs trust sign`), checked against --root
    /// at --now; a token's `iat` must lie in its key's window.
    #[arg(long, value_name = "FILE", requires_all = ["root", "min_sequence"])]
    bundle: Option<PathBuf>,
    /// The pinned root key of --bundle: its public JWK (`kycvs trust root`).
    #[arg(long, value_name = "ROOT.json", requires = "bundle")]
    root: Option<PathBuf>,
    /// Refuse a --bundle whose sequence number is below N, the highest one accepted before
    /// (required with --bundle: 0 only for a first load).
    #[arg(long, value_name = "N", requires = "bundle")]
    min_sequence: Option<u64>,
    /// This verifier's id: a token's `aud` must equal it.
    #[arg(long, value_name = "AUD")]
    audience: String,
    /// Accept only tokens from this issuer (repeat for several). Default: every issuer in
    /// the JWKS.
    #[arg(long = "issuer", value_name = "ISS")]
    issuers: Vec<String>,
    /// The nonce every token must carry: this verifier's transaction. Required unless
    /// --no-nonce-check is given.
    #[arg(long, value_name = "N")]
    nonce: Option<String>,
    /// Do not check the tokens' nonce, for a verifier with no transaction to bind them to.
    #[arg(long)]
    no_nonce_check: bool,
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
    tokens: Vec<OsString>,
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let verifier = build_verifier(args)?;
    let nonce = args.nonce.as_deref();
    if args.tokens.is_empty() {
        return if rayon::current_num_threads() > 1 {
            verify_stdin_pipelined(&verifier, args.now, nonce)
        } else {
            verify_stdin(&verifier, args.now, nonce)
        };
    }
    // Arguments are judged as bytes, like stdin lines: one that is not UTF-8 is a
    // `malformed` verdict, not a usage error.
    let items: Vec<BatchItem<'_>> = args
        .tokens
        .iter()
        .map(|token| item(token.as_encoded_bytes(), nonce))
        .collect();
    let now = args.now.unwrap_or_else(unix_now);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut rejected = false;
    for verdict in verifier.verify_batch(&items, now) {
        rejected |= verdict.is_err();
        write_verdict(&mut out, &verdict).map_err(write_failed)?;
    }
    out.flush().map_err(write_failed)?;
    Ok(outcome(rejected))
}

fn outcome(rejected: bool) -> Outcome {
    if rejected {
        Outcome::Rejected
    } else {
        Outcome::Success
    }
}

/// Writes one verdict as a line of JSON.
fn write_verdict(out: &mut impl Write, verdict: &Result<VerifiedStatus, Error>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &VerdictLine::of(verdict))?;
    out.write_all(b"\n")
}

/// One line of `verify`'s output, borrowed from its verdict and written field by field in
/// this order (no intermediate JSON value: at a few hundred thousand lines a second, building
/// one per line was a tenth of the CLI's time).
#[derive(Serialize)]
#[serde(untagged)]
enum VerdictLine<'a> {
    Verified {
        ok: bool,
        status: u8,
        iss: &'a str,
        sub: &'a str,
        aud: &'a str,
        jti: &'a str,
        iat: u64,
        exp: u64,
        kid: &'a str,
    },
    Rejected {
        ok: bool,
        error: &'a str,
        detail: &'a str,
    },
}

impl<'a> VerdictLine<'a> {
    fn of(verdict: &'a Result<VerifiedStatus, Error>) -> VerdictLine<'a> {
        match verdict {
            Ok(v) => VerdictLine::Verified {
                ok: true,
                status: v.status().as_u8(),
                iss: v.iss(),
                sub: v.sub(),
                aud: v.aud(),
                jti: v.jti(),
                iat: v.iat(),
                exp: v.exp(),
                kid: v.kid(),
            },
            Err(e) => VerdictLine::Rejected {
                ok: false,
                error: e.code().as_str(),
                detail: e.detail(),
            },
        }
    }
}

fn write_failed(e: io::Error) -> CliError {
    CliError::new(format!("cannot write output: {e}"))
}

/// Where the verdicts of stdin go: stdout, the progress line, and whether any was a
/// rejection.
struct StdinOutput {
    out: BufWriter<io::StdoutLock<'static>>,
    progress: Progress,
    rejected: bool,
}

impl StdinOutput {
    fn new() -> StdinOutput {
        StdinOutput {
            out: BufWriter::new(io::stdout().lock()),
            progress: Progress::new(),
            rejected: false,
        }
    }

    /// Writes one chunk's verdicts, flushed when the producer may be waiting for them.
    fn write(
        &mut self,
        verdicts: &[Result<VerifiedStatus, Error>],
        flush: bool,
    ) -> Result<(), CliError> {
        for verdict in verdicts {
            self.rejected |= verdict.is_err();
            self.progress.count(verdict.is_err());
            write_verdict(&mut self.out, verdict).map_err(write_failed)?;
        }
        self.progress.show(false);
        if flush {
            self.out.flush().map_err(write_failed)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Outcome, CliError> {
        self.out.flush().map_err(write_failed)?;
        self.progress.show(true);
        Ok(outcome(self.rejected))
    }
}

fn build_verifier(args: &Args) -> Result<Verifier, CliError> {
    let trust = match (&args.jwks, &args.bundle, &args.root) {
        (Some(jwks), _, _) => {
            let bytes = read_prefix(jwks, MAX_JWKS_LEN + 1)
                .map_err(|e| CliError::io("cannot read", jwks, &e))?;
            TrustStore::from_jwks(&bytes).map_err(|e| CliError::core(jwks.display(), &e))?
        }
        (None, Some(bundle), Some(root)) => {
            let min_sequence = args
                .min_sequence
                .ok_or_else(|| CliError::new("--bundle needs --min-sequence"))?;
            let root_bytes = read_prefix(root, MAX_ROOT_JWK_LEN + 1)
                .map_err(|e| CliError::io("cannot read", root, &e))?;
            let root_key = TrustBundle::root_key_from_jwk(&root_bytes)
                .map_err(|e| CliError::core(root.display(), &e))?;
            let bytes = read_prefix(bundle, MAX_BUNDLE_LEN + 2)
                .map_err(|e| CliError::io("cannot read", bundle, &e))?;
            let load = BundleLoad {
                root: &root_key,
                min_sequence,
                now: args.now.unwrap_or_else(unix_now),
            };
            TrustBundle::load(without_line_end(&bytes), &load)
                .map_err(|e| CliError::core(bundle.display(), &e))?
                .into_trust_store()
        }
        _ => {
            return Err(CliError::new(
                "give --jwks, or --bundle with --root and --min-sequence",
            ));
        }
    };
    let mut policy = Policy::new(args.audience.as_str());
    policy
        .set_leeway(args.leeway)
        .set_max_lifetime(args.max_lifetime);
    if !args.issuers.is_empty() {
        policy.set_issuers(args.issuers.iter().cloned());
    }
    if args.no_nonce_check {
        policy.disable_nonce_check();
    }
    Verifier::new(trust, policy).map_err(|e| CliError::core("policy", &e))
}

/// A bundle file as `kycvs trust sign --out` writes it ends in one line break, which is no
/// part of the bundle.
fn without_line_end(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// The batch item of one token: with the expected nonce, or (under --no-nonce-check)
/// without one.
fn item<'a>(token: &'a [u8], nonce: Option<&'a str>) -> BatchItem<'a> {
    match nonce {
        Some(nonce) => BatchItem::new(token, nonce),
        None => BatchItem::without_nonce(token),
    }
}

/// Reads stdin lines into `chunk` until it is full, or until the input read so far is used
/// up (whole chunks for piped files, every line for an interactive producer waiting on its
/// answer); sets `ended` at the end of input. True when the verdicts of what was read must
/// be flushed before reading on (the producer may be waiting for them). Memory stays
/// bounded by one chunk whatever the input.
fn read_chunk<R: Read>(
    lines: &mut LineReader<R>,
    chunk: &mut Chunk,
    ended: &mut bool,
) -> Result<bool, CliError> {
    while !*ended && chunk.len() < CHUNK_TOKENS {
        let line = lines
            .next_line()
            .map_err(|e| CliError::new(format!("cannot read stdin: {e}")))?;
        match line {
            None => *ended = true,
            Some(Line::Token(token)) => chunk.push_token(token),
            Some(Line::TooLong(len)) => chunk.push_rejection(Error::new(
                ErrorCode::TooLarge,
                format!("token is {len} bytes, more than {MAX_TOKEN_LEN}"),
            )),
        }
        if lines.is_drained() {
            return Ok(true);
        }
    }
    Ok(*ended)
}

/// Stdin on one thread: read a chunk, verify it, write its verdicts, and again.
fn verify_stdin(
    verifier: &Verifier,
    now: Option<u64>,
    nonce: Option<&str>,
) -> Result<Outcome, CliError> {
    let mut output = StdinOutput::new();
    let mut lines = LineReader::new(io::stdin());
    let mut chunk = Chunk::default();
    let mut ended = false;
    while !ended {
        let flush = read_chunk(&mut lines, &mut chunk, &mut ended)?;
        let now = now.unwrap_or_else(unix_now);
        output.write(&chunk.verify(verifier, nonce, now), flush)?;
    }
    output.finish()
}

/// Stdin with more than one thread in the pool: reading, verifying and writing each on a
/// thread of their own, a chunk at a time, so that reading the next chunk and writing the
/// last one's verdicts overlap the verification of this one instead of leaving the pool
/// idle. Verdicts stay in input order; at most three chunks are held at once (one read,
/// one verified, one written).
fn verify_stdin_pipelined(
    verifier: &Verifier,
    now: Option<u64>,
    nonce: Option<&str>,
) -> Result<Outcome, CliError> {
    use std::sync::mpsc::sync_channel;
    std::thread::scope(|scope| {
        let (to_verify, chunks) = sync_channel::<(Chunk, bool)>(0);
        let (to_write, verdicts) = sync_channel::<(Vec<Result<VerifiedStatus, Error>>, bool)>(0);
        scope.spawn(move || {
            for (mut chunk, flush) in chunks {
                let now = now.unwrap_or_else(unix_now);
                if to_write
                    .send((chunk.verify(verifier, nonce, now), flush))
                    .is_err()
                {
                    break;
                }
            }
        });
        let writer = scope.spawn(move || {
            let mut output = StdinOutput::new();
            for (verdicts, flush) in verdicts {
                output.write(&verdicts, flush)?;
            }
            output.finish()
        });
        let mut lines = LineReader::new(io::stdin());
        let mut ended = false;
        let read = (|| {
            while !ended {
                let mut chunk = Chunk::default();
                let flush = read_chunk(&mut lines, &mut chunk, &mut ended)?;
                // A send fails only when the writer stopped on an error, reported below.
                if (chunk.len() > 0 || flush) && to_verify.send((chunk, flush)).is_err() {
                    break;
                }
            }
            Ok::<(), CliError>(())
        })();
        drop(to_verify);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(CliError::new("cannot write output")));
        read?;
        written
    })
}

/// The most stdin tokens verified as one batch: big enough for the batch equation's full
/// saving and for every core to get a share, small enough that a chunk of the longest lines
/// (1,024 x 5 KiB) keeps the process far below 64 MiB.
const CHUNK_TOKENS: usize = 1024;

/// Stdin tokens waiting for one `verify_batch` call, in input order, with the lines judged
/// before reaching the core (too long to buffer).
#[derive(Default)]
struct Chunk {
    /// Every token's bytes, back to back.
    bytes: Vec<u8>,
    /// Per line: the end of its token in `bytes`, or its verdict already known.
    lines: Vec<Result<usize, Error>>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.lines.len()
    }

    fn push_token(&mut self, token: &[u8]) {
        self.bytes.extend_from_slice(token);
        self.lines.push(Ok(self.bytes.len()));
    }

    fn push_rejection(&mut self, error: Error) {
        self.lines.push(Err(error));
    }

    /// Verifies the chunk's tokens in one batch (a line judged already goes in as a rejected
    /// item) and empties it; verdicts in input order.
    fn verify(
        &mut self,
        verifier: &Verifier,
        nonce: Option<&str>,
        now: u64,
    ) -> Vec<Result<VerifiedStatus, Error>> {
        let mut start = 0;
        let items: Vec<BatchItem<'_>> = self
            .lines
            .iter()
            .map(|line| match line {
                Ok(end) => {
                    let token = &self.bytes[start..*end];
                    start = *end;
                    item(token, nonce)
                }
                Err(e) => BatchItem::rejected(e.clone()),
            })
            .collect();
        let verdicts = verifier.verify_batch(&items, now);
        self.lines.clear();
        self.bytes.clear();
        verdicts
    }
}

/// The progress line on stderr, only when stderr is a terminal: tokens verified and rejected,
/// redrawn at most ten times a second.
struct Progress {
    enabled: bool,
    verified: u64,
    rejected: u64,
    last: Option<Instant>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            enabled: io::stderr().is_terminal(),
            verified: 0,
            rejected: 0,
            last: None,
        }
    }

    fn count(&mut self, rejected: bool) {
        self.verified += 1;
        self.rejected += u64::from(rejected);
    }

    fn show(&mut self, done: bool) {
        if !self.enabled || (self.verified == 0 && done && self.last.is_none()) {
            return;
        }
        let due = self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if !(done || due) {
            return;
        }
        self.last = Some(Instant::now());
        let end = if done { "\n" } else { "" };
        // Progress is a courtesy: a stderr that cannot be written is no reason to stop.
        let _ = write!(
            io::stderr().lock(),
            "\rkycvs verify: {} tokens, {} rejected{end}",
            self.verified,
            self.rejected
        );
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
