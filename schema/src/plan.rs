//! How long and how often to sample: the one [`Plan`] every process that times the
//! [`workloads`](crate::workloads::workloads) follows (`boundary bench` and the Extism peer's own
//! bench), so that a `--quick` run of one compares with a `--quick` run of the other.

use std::time::Duration;

use crate::workloads::iterations;

/// How long and how often to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Samples per cell; the median is reported.
    pub samples: u32,
    /// Each sample repeats the call until it lasts at least this long.
    pub sample_target: Duration,
    /// Samples per instantiation figure (only the main bench measures instantiation).
    pub inst_samples: u32,
}

impl Plan {
    /// The full run.
    pub const FULL: Plan = Plan {
        samples: 41,
        sample_target: Duration::from_millis(8),
        inst_samples: 21,
    };
    /// `--quick`: fewer, shorter samples.
    pub const QUICK: Plan = Plan {
        samples: 7,
        sample_target: Duration::from_millis(1),
        inst_samples: 5,
    };

    /// [`Plan::QUICK`] for a `--quick` run, else [`Plan::FULL`].
    pub fn of(quick: bool) -> Plan {
        if quick { Plan::QUICK } else { Plan::FULL }
    }

    /// How many calls one sample makes of a call that took `once`: enough to last
    /// [`Plan::sample_target`], at least 1 and at most `max` ([`iterations`]).
    pub fn iterations(&self, once: Duration, max: u128) -> u64 {
        iterations(self.sample_target, once, max)
    }

    /// [`Plan::sample_target`] in nanoseconds, as a peer's figures record it.
    pub fn sample_target_ns(&self) -> u64 {
        u64::try_from(self.sample_target.as_nanos()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_plan_samples_less_and_shorter() {
        assert_eq!(Plan::of(true), Plan::QUICK);
        assert_eq!(Plan::of(false), Plan::FULL);
        const { assert!(Plan::QUICK.samples < Plan::FULL.samples) };
        assert!(Plan::QUICK.sample_target < Plan::FULL.sample_target);
        const { assert!(Plan::QUICK.inst_samples < Plan::FULL.inst_samples) };
        // Odd sample counts: the median is one of the samples.
        for plan in [Plan::QUICK, Plan::FULL] {
            assert_eq!(plan.samples % 2, 1);
            assert_eq!(plan.inst_samples % 2, 1);
        }
        assert_eq!(Plan::FULL.sample_target_ns(), 8_000_000);
    }

    #[test]
    fn a_sample_repeats_a_call_to_last_the_target() {
        let plan = Plan::QUICK;
        assert_eq!(plan.iterations(Duration::from_micros(10), 1_000_000), 100);
        assert_eq!(plan.iterations(Duration::from_secs(1), 1_000_000), 1);
        assert_eq!(plan.iterations(Duration::ZERO, 50), 50);
    }
}
