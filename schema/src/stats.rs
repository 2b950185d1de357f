//! Timing statistics, shared by `boundary demo`, the benchmark, the soak and the Extism peer: one place that turns samples into
//! medians and percentiles and prints durations.
//!
//! Samples go into an HDR histogram ([`hdrhistogram`]), which keeps a bounded amount of memory
//! however many calls are timed, with three significant figures.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Call durations, recorded one at a time, in nanoseconds.
#[derive(Debug, Clone)]
pub struct Timings {
    histogram: Histogram<u64>,
}

impl Default for Timings {
    fn default() -> Self {
        Self::new()
    }
}

impl Timings {
    /// An empty set, for durations from 1 ns to an hour.
    pub fn new() -> Self {
        // 3 significant figures is the precision the reports print.
        #[allow(clippy::expect_used)]
        let histogram = Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
            .expect("constant bounds that hdrhistogram accepts");
        Self { histogram }
    }

    /// Records one duration (clamped to the histogram's range).
    pub fn record(&mut self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(nanos.max(1));
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The duration below which `quantile` (0.0 to 1.0) of the samples fall.
    pub fn quantile(&self, quantile: f64) -> Duration {
        if self.histogram.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.histogram.value_at_quantile(quantile))
    }

    /// The median.
    pub fn median(&self) -> Duration {
        self.quantile(0.5)
    }
}

/// `a / b`, for ratios of durations measured in one run.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

/// A duration in the unit that keeps three or four digits: `812 ns`, `12.3 µs`, `4.5 ms`, `1.20 s`.
pub fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_recorded_samples_is_within_the_histograms_precision() {
        let mut timings = Timings::new();
        for micros in 1..=1001u64 {
            timings.record(Duration::from_micros(micros));
        }
        assert_eq!(timings.count(), 1001);
        let median = timings.median().as_nanos() as f64;
        assert!((median - 501_000.0).abs() / 501_000.0 < 0.001, "{median}");
        assert!(timings.quantile(0.99) > timings.median());
    }

    #[test]
    fn an_empty_set_has_a_zero_median() {
        assert_eq!(Timings::new().median(), Duration::ZERO);
    }

    #[test]
    fn durations_print_in_a_readable_unit() {
        assert_eq!(fmt_duration(Duration::from_nanos(812)), "812 ns");
        assert_eq!(fmt_duration(Duration::from_nanos(12_345)), "12.3 µs");
        assert_eq!(fmt_duration(Duration::from_micros(4_500)), "4.5 ms");
        assert_eq!(fmt_duration(Duration::from_millis(12_000)), "12.00 s");
        assert_eq!(fmt_duration(Duration::from_nanos(9_999)), "9999 ns");
        assert_eq!(fmt_duration(Duration::from_nanos(999_900)), "999.9 µs");
        assert_eq!(fmt_duration(Duration::from_millis(999)), "999.0 ms");
        assert_eq!(fmt_duration(Duration::from_millis(1_200)), "1.20 s");
    }
}
