//! `cargo xtask bench`: the real `tandem` server loaded from outside over loopback, beside a
//! bare axum WebSocket relay loaded the same way in the same run, so that each figure is read
//! as a ratio (absolute numbers move from run to run on shared machines).
//!
//! Scenarios, in one run: W customers join the queue (`POST /v1/conversations`) and connect
//! their WebSockets, idle (connect time by tenths, RSS per socket); agents then accept
//! customers while the others wait (accepts per second, how fast each `queue` update reaches
//! every waiting customer); then S waiting customers send a message a second each (persisted
//! messages per second, send → ack latency). Each client has its own source address in
//! 127.0.0.0/8, so the per-address limits do not apply.

mod client;
mod relay;
mod report;
mod scenario;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The baseline: a bare WebSocket relay (echo, and broadcast to every socket).
    Relay,
    /// Runs the benchmark against `--server` and the relay, and prints the table.
    Run {
        /// The `tandem` binary to load.
        #[arg(long)]
        server: PathBuf,
        /// Waiting customers (each an idle WebSocket); at most 9,000 for the open-files limit.
        #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(100..=9_000))]
        waiting: u32,
        /// Customers who then send a message a second each.
        #[arg(long, default_value_t = 2_000)]
        senders: u32,
        /// How long they send, in seconds.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Accepts made while the others wait.
        #[arg(long, default_value_t = 100)]
        accepts: u32,
        /// `tandem serve` processes sharing the load, on the PostgreSQL database of
        /// `TANDEM_DATABASE_URL` (customers and agents spread over them in turn).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4))]
        instances: u32,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let outcome = match args.command {
        Command::Relay => relay::serve().await,
        Command::Run { server, waiting, senders, seconds, accepts, instances } => {
            let senders = senders.min(waiting / 2);
            let plan = scenario::Plan { waiting, senders, seconds, accepts, instances };
            scenario::run(&server, &plan).await
        }
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("tandem-bench: {problem}");
            std::process::ExitCode::FAILURE
        }
    }
}
