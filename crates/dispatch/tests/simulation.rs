//! A simulated day of 500 customers and 10 agents, through the real dispatcher.

use tandem_dispatch::simulation::{Params, run};

#[test]
fn a_simulated_day_keeps_every_promise() {
    let report = run(&Params::default());
    println!("{report}");
    assert!(report.violations.is_empty(), "{report}");
    assert_eq!(report.customers, 500);
    assert_eq!(report.answered + report.left_message, report.customers, "{report}");
    // The day exercised what it claims to: declines, expiries, away, returns to the queue.
    assert!(report.declined > 0 && report.expired > 0 && report.went_away > 0, "{report}");
    assert!(report.returned_to_queue > 0, "{report}");
    assert!(report.wait_estimate_mdape_percent <= 30, "{report}");
}

#[test]
fn the_same_seed_gives_the_same_day_and_another_seed_another() {
    let params = Params { customers: 120, ..Params::default() };
    let first = run(&params);
    let again = run(&params);
    assert_eq!(first.time_to_human_p90_ms, again.time_to_human_p90_ms);
    assert_eq!(first.offers, again.offers);
    let other = run(&Params { seed: 8, ..params });
    assert_ne!((first.offers, first.time_to_human_p90_ms), (other.offers, other.time_to_human_p90_ms));
}

#[test]
fn busy_and_quiet_days_keep_every_promise_too() {
    for (seed, agents, customers) in [(1, 4, 400), (2, 20, 300), (3, 2, 150)] {
        let report = run(&Params { seed, agents, customers, ..Params::default() });
        assert!(report.violations.is_empty(), "seed {seed}: {report}");
        assert_eq!(report.answered + report.left_message, customers, "seed {seed}: {report}");
    }
}
