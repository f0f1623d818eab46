//! `kycvs-server`: run the KYC-VS issuer's HTTP service, or administer its configuration.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The KYC-VS issuer's HTTP service.
#[derive(Parser, Debug)]
#[command(name = "kycvs-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the service until SIGTERM or SIGINT.
    Run {
        /// The configuration file (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Check a configuration file and the keys, registry and store it names, then exit.
    Check {
        /// The configuration file (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Create a directory with new keys and a starting configuration (no clients).
    Init {
        /// The directory to create.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The issuer id (the tokens' iss).
        #[arg(long, value_name = "ISS", default_value = "cowin.example")]
        issuer: String,
        /// The address to listen on.
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Manage verifier clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ClientCommand {
    /// Register a client in the configuration and print its new secret (shown only once).
    Add {
        /// The configuration file (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The client id: the audience (aud) of its tokens.
        #[arg(long, value_name = "ID")]
        id: String,
        /// The name shown to people.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// An origin allowed to embed the consent page (repeatable).
        #[arg(long, value_name = "ORIGIN")]
        origin: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kycvs-server: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Run { config } => {
            let config = kycvs_server::config::Config::load(&config)?;
            tracing_subscriber::fmt()
                .json()
                .with_writer(std::io::stderr)
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_env("KYCVS_LOG")
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .init();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(kycvs_server::app::serve(config))
        }
        Command::Check { config } => {
            let config = kycvs_server::config::Config::load(&config)?;
            kycvs_server::app::AppState::from_config(&config)?;
            println!("{}: ok", config.path.display());
            Ok(())
        }
        Command::Init {
            dir,
            issuer,
            listen,
        } => {
            let made = kycvs_server::admin::init(&dir, &issuer, &listen)?;
            println!("{}", made.config.display());
            Ok(())
        }
        Command::Client {
            command:
                ClientCommand::Add {
                    config,
                    id,
                    name,
                    origin,
                },
        } => {
            let secret = kycvs_server::admin::add_client(&config, &id, &name, &origin)?;
            println!("client_id: {id}");
            println!("client_secret: {}", secret.as_str());
            eprintln!(
                "kycvs-server: the secret is shown only this once; the configuration keeps its SHA-256"
            );
            Ok(())
        }
    }
}
