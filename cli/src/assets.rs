//! `kycvs generate-assets DIR` (hidden): the man pages and the shell completions, generated
//! from the same clap definitions as `--help`, so they cannot drift from the command.
//! `make install` (cli/install.sh) runs it and installs what it writes.

use crate::fail::{CliError, Outcome};
use clap::CommandFactory;
use clap_complete::Shell;
use std::fs;
use std::path::{Path, PathBuf};

/// Write the man pages and the bash, zsh and fish completions into a folder.
///
/// Writes DIR/man1/kycvs.1 and one page per subcommand (kycvs-verify.1, ...), and
/// DIR/completions/kycvs.bash, DIR/completions/_kycvs (zsh), DIR/completions/kycvs.fish.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder to write man1/ and completions/ into (created if missing).
    #[arg(value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let man = args.out.join("man1");
    let completions = args.out.join("completions");
    for dir in [&man, &completions] {
        fs::create_dir_all(dir).map_err(|e| CliError::io("cannot create", dir, &e))?;
    }
    // clap_mangen leaves hidden subcommands (this one) out of the pages it writes.
    clap_mangen::generate_to(crate::Cli::command(), &man)
        .map_err(|e| CliError::io("cannot write man pages to", &man, &e))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        generate_completion(shell, &completions)?;
    }
    Ok(Outcome::Success)
}

fn generate_completion(shell: Shell, dir: &Path) -> Result<(), CliError> {
    let mut command = crate::Cli::command();
    clap_complete::generate_to(shell, &mut command, "kycvs", dir)
        .map(drop)
        .map_err(|e| CliError::io("cannot write completions to", dir, &e))
}
