//! The benchmark's inputs, W0 to W4: one definition for every process that measures them.
//!
//! `boundary bench` (host/cli) and the Extism peer's own benchmark (peers/extism, a separate
//! process with its own wasmtime) both time [`workloads`], so their figures, and their ratios to
//! native Rust, are on the very same records. Every input is deterministic: the same bytes on
//! every run and every machine.
//!
//! A peer that runs in its own process hands its figures to `boundary bench --peer-results` as
//! JSON in the shape of [`crate::peer::PeerResults`].

use std::time::Duration;

use boundary_kernel::SomeDataStruct;

/// One input of the benchmark matrix.
#[derive(Debug, Clone)]
pub struct Workload {
    /// `W0` to `W4`.
    pub id: &'static str,
    /// A few words for the chart and the goals: `1 MiB`, `100,000 × 16 B`.
    pub label: &'static str,
    /// What it is, for the report.
    pub description: &'static str,
    /// The record every row transforms.
    pub input: SomeDataStruct,
}

impl Workload {
    /// The string bytes of the input, the payload throughput is counted in.
    pub fn payload_bytes(&self) -> u64 {
        // Exhaustive: a field added to the record is a compile error here until it is counted.
        let SomeDataStruct { name, names } = &self.input;
        (name.len() + names.iter().map(String::len).sum::<usize>()) as u64
    }
}

/// How many times to repeat a call that took `once` so that a timed sample lasts `target`: at
/// least 1, at most `max`. Every process that times these workloads (`boundary bench`, a peer's
/// bench, the concurrency example) sizes its samples this way, so their figures compare.
pub fn iterations(target: Duration, once: Duration, max: u128) -> u64 {
    let once = once.max(Duration::from_nanos(1));
    u64::try_from((target.as_nanos() / once.as_nanos()).clamp(1, max)).unwrap_or(1)
}

/// A deterministic name of exactly `len` ASCII bytes: `n000042-abcd...`, cut to `len`.
fn name_of(index: usize, len: usize) -> String {
    let prefix = format!("n{index:06}-");
    let mut name = String::with_capacity(len);
    name.extend(prefix.chars().chain(('a'..='z').cycle()).take(len));
    name
}

/// The five workloads, in order: the seed's example, many small names, one huge name, some
/// medium ones.
///
/// | id | input |
/// |---|---|
/// | W0 | [`SomeDataStruct::example`] |
/// | W1 | 1,000 names of 16 bytes |
/// | W2 | 100,000 names of 16 bytes |
/// | W3 | one name of 1 MiB |
/// | W4 | 64 names of 16 KiB |
pub fn workloads() -> Vec<Workload> {
    let names = |count: usize, len: usize| (0..count).map(|i| name_of(i, len)).collect();
    vec![
        Workload {
            id: "W0",
            label: "seed example",
            description: "the seed example (name3 / [name1, name2])",
            input: SomeDataStruct::example(),
        },
        Workload {
            id: "W1",
            label: "1,000 × 16 B",
            description: "1,000 names of 16 bytes",
            input: SomeDataStruct {
                name: "w1".into(),
                names: names(1_000, 16),
            },
        },
        Workload {
            id: "W2",
            label: "100,000 × 16 B",
            description: "100,000 names of 16 bytes",
            input: SomeDataStruct {
                name: "w2".into(),
                names: names(100_000, 16),
            },
        },
        Workload {
            id: "W3",
            label: "1 MiB",
            description: "one name of 1 MiB",
            input: SomeDataStruct {
                name: "w3".into(),
                names: vec![name_of(0, 1 << 20)],
            },
        },
        Workload {
            id: "W4",
            label: "64 × 16 KiB",
            description: "64 names of 16 KiB",
            input: SomeDataStruct {
                name: "w4".into(),
                names: names(64, 16 << 10),
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workloads_are_what_their_descriptions_say() {
        let w = workloads();
        let ids: Vec<_> = w.iter().map(|w| w.id).collect();
        assert_eq!(ids, ["W0", "W1", "W2", "W3", "W4"]);
        assert_eq!(w[0].input, SomeDataStruct::example());
        let shape = |w: &Workload| {
            (
                w.input.names.len(),
                w.input.names.iter().map(String::len).max().unwrap_or(0),
            )
        };
        assert_eq!(shape(&w[1]), (1_000, 16));
        assert_eq!(shape(&w[2]), (100_000, 16));
        assert_eq!(shape(&w[3]), (1, 1 << 20));
        assert_eq!(shape(&w[4]), (64, 16 << 10));
        assert!(w[1..].iter().all(|w| {
            w.input
                .names
                .iter()
                .all(|n| n.len() == w.input.names[0].len())
        }));
        assert_eq!(w[1].payload_bytes(), 2 + 16_000);
    }

    #[test]
    fn names_are_deterministic_and_distinct() {
        assert_eq!(name_of(42, 16), "n000042-abcdefgh");
        assert_eq!(name_of(0, 3), "n00");
        let w = workloads();
        assert_eq!(w[2].input.names[99_999], "n099999-abcdefgh");
        let mut names = w[2].input.names.clone();
        names.dedup();
        assert_eq!(names.len(), 100_000);
        assert_eq!(workloads()[3].input, w[3].input);
    }
}
