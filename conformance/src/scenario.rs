//! What the scenario runners of `amqp-peer client` and `xmpp-peer client`
//! share: a scenario's verdict, the run's totals, and the loop that runs
//! the scenarios a command line names and prints one line for each.

/// A scenario's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It passed; the text says what was seen (may be empty).
    Pass(String),
    /// It failed, and why.
    Fail(String),
    /// It could not run, and why.
    Skip(String),
}

impl From<Result<String, String>> for Outcome {
    fn from(r: Result<String, String>) -> Self {
        match r {
            Ok(note) => Self::Pass(note),
            Err(why) => Self::Fail(why),
        }
    }
}

/// A scenario: runs against what `C` describes.
pub type Scenario<C> = fn(&C) -> Outcome;

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Scenarios passed.
    pub passed: usize,
    /// Scenarios failed.
    pub failed: usize,
    /// Scenarios skipped.
    pub skipped: usize,
}

/// Fails for a name in `names` that is neither one of `scenarios` nor `all`.
pub fn check_names<C>(scenarios: &[(&str, Scenario<C>)], names: &[String]) -> Result<(), String> {
    match names
        .iter()
        .find(|n| *n != "all" && !scenarios.iter().any(|(s, _)| s == n))
    {
        Some(unknown) => {
            let known: Vec<&str> = scenarios.iter().map(|(n, _)| *n).collect();
            Err(format!(
                "unknown scenario {unknown:?} (known: {}, all)",
                known.join(", ")
            ))
        }
        None => Ok(()),
    }
}

/// Runs the scenarios named (`all` for every one) in the order of
/// `scenarios`, telling `say` `PASS name`, `FAIL name: why` or
/// `SKIP name: why` for each.
pub fn run<C>(
    ctx: &C,
    scenarios: &[(&str, Scenario<C>)],
    names: &[String],
    say: impl Fn(&str),
) -> Result<Report, String> {
    check_names(scenarios, names)?;
    let all = names.iter().any(|n| n == "all");
    let mut report = Report::default();
    for (name, scenario) in scenarios {
        if !all && !names.iter().any(|n| n == name) {
            continue;
        }
        let started = std::time::Instant::now();
        let outcome = scenario(ctx);
        let secs = started.elapsed().as_secs_f64();
        match outcome {
            Outcome::Pass(note) => {
                report.passed += 1;
                if note.is_empty() {
                    say(&format!("PASS {name} ({secs:.1} s)"));
                } else {
                    say(&format!("PASS {name} ({secs:.1} s): {note}"));
                }
            }
            Outcome::Fail(why) => {
                report.failed += 1;
                say(&format!("FAIL {name}: {why} ({secs:.1} s)"));
            }
            Outcome::Skip(why) => {
                report.skipped += 1;
                say(&format!("SKIP {name}: {why}"));
            }
        }
    }
    Ok(report)
}

/// Fails with `why` unless `cond`.
pub(crate) fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}
