//! The baseline of the CLI streaming figure (`benches/cli-stream.sh`): writes `N` same-key
//! tokens and the JWKS that trusts their key into `DIR`, then times raw ed25519-dalek
//! `verify_strict` over the same tokens' signing inputs and signatures, decoded beforehand,
//! on this one thread (built as the CLI is, with the same curve25519 backend dispatch).
//! Prints `{"tokens": N, "raw_seconds": S}` with the fastest of three passes.
//!
//! Usage: `kycvs-stream-baseline DIR N`.

use kycvs_benches::{Batch, ISSUER};
use kycvs_core::{SigningKey, TrustStore};
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, n) = match args.as_slice() {
        [dir, n] => match n.parse::<usize>() {
            Ok(n) if n > 0 => (std::path::PathBuf::from(dir), n),
            _ => return usage(),
        },
        _ => return usage(),
    };
    let batch = Batch::new(n, 1);
    let mut trust = TrustStore::new();
    trust
        .add(SigningKey::from_seed(&[1; 32]).public_key().clone(), ISSUER)
        .expect("trust");
    let mut tokens = Vec::with_capacity(n * 200);
    for token in &batch.tokens {
        tokens.extend_from_slice(token.as_bytes());
        tokens.push(b'\n');
    }
    let written = std::fs::write(dir.join("tokens.txt"), tokens)
        .and_then(|()| std::fs::write(dir.join("trust.json"), trust.to_jwks()));
    if let Err(e) = written {
        eprintln!(
            "kycvs-stream-baseline: cannot write into {}: {e}",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let mut fastest = f64::INFINITY;
    for _ in 0..3 {
        let started = Instant::now();
        for ((message, signature), key) in batch
            .messages
            .iter()
            .zip(&batch.signatures)
            .zip(&batch.keys)
        {
            key.verify_strict(std::hint::black_box(message), signature)
                .expect("every fixture signature verifies");
        }
        fastest = fastest.min(started.elapsed().as_secs_f64());
    }
    let _ = writeln!(
        std::io::stdout(),
        "{{\"tokens\": {n}, \"raw_seconds\": {fastest:.6}}}"
    );
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: kycvs-stream-baseline DIR N");
    ExitCode::from(2)
}
