//! `cargo xtask bot-eval`: the demo flow against the labelled set, per language.

use std::process::ExitCode;

use tandem_bot::evaluation::evaluate;
use tandem_bot::{Bot, Flow};

fn main() -> ExitCode {
    let flow: Flow = match serde_json::from_str(include_str!("../flows/demo.json")) {
        Ok(flow) => flow,
        Err(error) => {
            eprintln!("bot-eval: flows/demo.json: {error}");
            return ExitCode::FAILURE;
        }
    };
    let bot = match Bot::new(flow) {
        Ok(bot) => bot,
        Err(problems) => {
            for problem in problems {
                eprintln!("bot-eval: flows/demo.json: {problem}");
            }
            return ExitCode::FAILURE;
        }
    };
    match evaluate(&bot, include_str!("../eval/utterances.tsv")) {
        Ok(report) => {
            let verbose = std::env::args().any(|arg| arg == "--misses");
            print!("{report}");
            if verbose {
                for miss in &report.misses {
                    println!("  {miss}");
                }
            } else {
                println!("{} misses (run with --misses to list them)", report.misses.len());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bot-eval: eval/utterances.tsv: {error}");
            ExitCode::FAILURE
        }
    }
}
