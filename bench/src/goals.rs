//! The issues' goals this run measures, and how it did against each: transform ratios between
//! named rows, pooling against on-demand instantiation for every registered path, and the
//! Extism peer's goals.

use crate::instantiation::InstKind;
use crate::measure::Results;
use crate::rows::NATIVE;
use boundary_schema::stats::ratio;

/// A goal of the issue and how this run did against it.
#[derive(Debug, Clone)]
pub struct Goal {
    /// What is measured.
    pub what: String,
    /// The bound.
    pub target: f64,
    /// The measured ratio, if both figures exist.
    pub measured: Option<f64>,
    /// The rows the goal compares (none for instantiation goals).
    pub rows: Vec<&'static str>,
}

impl Goal {
    /// The goal on one line for the terminal: what, the bound, the figure, the verdict.
    pub fn line(&self) -> String {
        format!(
            "  {:<56} ≤ {:>4.1}×  {:>8}  {}",
            self.what,
            self.target,
            self.measured.map_or("–".to_owned(), |m| format!("{m:.2}×")),
            self.verdict()
        )
    }

    /// Met, missed, or not measured.
    pub fn verdict(&self) -> &'static str {
        match self.measured {
            Some(m) if m <= self.target => "met",
            Some(_) => "missed",
            None => "not measured",
        }
    }
}

/// The issues' transform goals, by row name: (workload, row, over, bound). The first six are
/// "One shape for every path"'s; the last two the tighter per-call goals of the peers' issue.
const TRANSFORM_GOALS: [(&str, &str, &str, f64); 8] = [
    ("W3", "component/sync", NATIVE, 3.0),
    ("W3", "raw/tuned", NATIVE, 3.0),
    ("W2", "component/sync", NATIVE, 4.0),
    ("W2", "raw/tuned", NATIVE, 3.0),
    ("W0", "component/sync", "raw/seed", 1.5),
    ("W0", "component/sync", "raw/tuned", 1.5),
    ("W0", "component/sync", "raw/tuned", 1.0),
    ("W0", "component/sync", NATIVE, 5.0),
];

/// Pooling instantiation against on-demand, for every registered path.
const POOLING_GOAL: f64 = 0.5;

/// The goals of the issue that this run measures (the browser goal is in its own section): the
/// transform goals name rows; the instantiation goal holds for every registered path.
pub fn goals(results: &Results) -> Vec<Goal> {
    let label = |id: &str| {
        results
            .workloads
            .iter()
            .find(|w| w.id == id)
            .map_or(String::new(), |w| format!(" ({})", w.label))
    };
    let mut goals: Vec<Goal> = TRANSFORM_GOALS
        .iter()
        .map(|&(workload, row, over, target)| Goal {
            what: format!(
                "{workload}{}{}: {row} / {over}",
                label(workload),
                if over == NATIVE { "" } else { " per call" }
            ),
            target,
            measured: results.ratio_between(workload, row, over),
            rows: vec![row, over],
        })
        .collect();
    for path in results.paths() {
        goals.push(Goal {
            what: format!("instantiate, {path}: pooling / on-demand"),
            target: POOLING_GOAL,
            measured: (|| {
                Some(ratio(
                    results.inst_median(path, InstKind::InstantiatePooling)?,
                    results.inst_median(path, InstKind::InstantiateOnDemand)?,
                ))
            })(),
            rows: Vec::new(),
        });
    }
    goals.extend(crate::peers::goals(results));
    goals
}
