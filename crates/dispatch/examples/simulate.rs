//! `cargo xtask sim`: a simulated day through the real dispatcher, with your parameters.

use clap::Parser;
use tandem_dispatch::simulation::{Params, run};

/// Simulates a working day of customers and agents and prints what dispatch achieved.
#[derive(Parser)]
struct Args {
    /// Agents working that day.
    #[arg(long, default_value_t = 10)]
    agents: u32,
    /// Customers asking for a person that day.
    #[arg(long, default_value_t = 500, conflicts_with = "arrivals_per_hour")]
    customers: u32,
    /// Or: the average arrival rate, customers per hour (the day then has rate × hours).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    arrivals_per_hour: Option<u32>,
    /// Length of the day, in hours.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=72))]
    hours: u32,
    /// Seed of the randomness: the same seed gives the same day.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Seconds an agent has to answer an offer.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(5..=300))]
    offer_timeout: u32,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let defaults = Params::default();
    let params = Params {
        seed: args.seed,
        agents: args.agents,
        customers: args.arrivals_per_hour.map_or(args.customers, |rate| rate.saturating_mul(args.hours)),
        day_hours: args.hours,
        settings: tandem_dispatch::Settings {
            offer_timeout_ms: i64::from(args.offer_timeout) * 1000,
            ..defaults.settings
        },
        ..defaults
    };
    let report = run(&params);
    println!(
        "simulated {} h, {} agents, {} customers, seed {}\n{report}",
        params.day_hours, params.agents, params.customers, params.seed
    );
    if report.violations.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
