//! The `latchkey` binary: the server, and the operator's and end user's command-line tools.

mod admin;
mod at_rest;
mod bootstrap;
mod chain_config;
mod config;
mod execute;
mod gas_station;
mod listen;
mod serve;
mod summary;

use clap::{Parser, Subcommand};
use config::{ServeArgs, StorageArgs};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "A self-hosted server for user-controlled wallets, speaking Circle's W3S API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        storage: StorageArgs,
        // Boxed: the serve flags outweigh every other command's.
        #[command(flatten)]
        serve: Box<ServeArgs>,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Operator tools: locks, users, audit log.
    Admin {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// The end user's side from a terminal.
    Challenge {
        #[command(subcommand)]
        command: ChallengeCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create an API key for the default entity; prints the key as the last line.
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        /// A label for the key.
        #[arg(long, default_value = "cli")]
        name: String,
        /// A LIVE key (mainnets) instead of TEST (testnets).
        #[arg(long)]
        live: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ChallengeCommand {
    /// Execute a challenge as the end user (the terminal sample app).
    Execute(execute::ExecuteArgs),
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { storage, serve } => serve::run(&storage, &serve).await,
            Command::Apikey {
                command:
                    ApikeyCommand::Create {
                        storage,
                        name,
                        live,
                    },
            } => admin::create_api_key(&storage, &name, live).await,
            Command::Admin { storage, command } => admin::run(&storage, command).await,
            Command::Challenge {
                command: ChallengeCommand::Execute(args),
            } => execute::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
