//! Writes the C, Python and specification copies of the error-code table and of the Redis
//! replay script, or checks that the committed copies are exactly what it would write.
//!
//! Usage: `kycvs-codegen --write ROOT` or `kycvs-codegen --check ROOT`, where ROOT is the
//! repository root. `--check` exits with status 1 and names every stale file.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, root) = match args.as_slice() {
        [mode, root] if mode == "--write" || mode == "--check" => (mode.as_str(), Path::new(root)),
        _ => {
            eprintln!("usage: kycvs-codegen --write ROOT | --check ROOT");
            return ExitCode::from(2);
        }
    };
    let result = if mode == "--write" {
        kycvs_codegen::write(root).map(|changed| {
            for path in changed {
                println!("kycvs-codegen: wrote {}", path.display());
            }
        })
    } else {
        kycvs_codegen::stale(root).and_then(|stale| {
            if stale.is_empty() {
                return Ok(());
            }
            let names: Vec<String> = stale.iter().map(|p| p.display().to_string()).collect();
            Err(format!(
                "generated files are stale (differ from the error-code table or redis/src/replay.lua): {}\nrun: make codegen",
                names.join(", ")
            ))
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kycvs-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
