//! What a peer that runs in its own process (the Extism peer, with its own wasmtime) hands to
//! `boundary bench --peer-results FILE.json`: its figures on the same [`workloads`], as JSON.

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::workloads::{Workload, workloads};

/// The figures a peer measured in its own process (with its own runtime), as it writes them for
/// `boundary bench --peer-results FILE.json`.
///
/// The peer times its own native baseline ([`PeerResults::NATIVE`]) in the same process, on the
/// same [`workloads`], so that its rows' ratios to native compare with the main bench's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerResults {
    /// The peer's name, the prefix of its rows: `extism`.
    pub peer: String,
    /// What ran the guest: `Extism 1.30.0 (wasmtime 43)`.
    pub runtime: String,
    /// Whether this was a quick run (fewer, shorter samples).
    pub quick: bool,
    /// Samples per cell; each cell is their median.
    pub samples: u32,
    /// Each sample repeats the call for at least this many nanoseconds.
    pub sample_target_ns: u64,
    /// Whether the peer was built with debug assertions (figures not representative).
    pub debug_build: bool,
    /// The workloads measured, in order, with their payload bytes ([`Workload::payload_bytes`]),
    /// so that a reader can check they are its own.
    pub workloads: Vec<PeerWorkload>,
    /// The rows, in order; the first is [`PeerResults::NATIVE`].
    pub rows: Vec<PeerRow>,
    /// Every workload × row.
    pub cells: Vec<PeerCell>,
}

impl PeerResults {
    /// The name of the native baseline's row.
    pub const NATIVE: &'static str = "native";

    /// The median per call of `row` on `workload`, in nanoseconds.
    pub fn median_ns(&self, workload: &str, row: &str) -> Option<u64> {
        self.cells
            .iter()
            .find(|c| c.workload == workload && c.row == row)
            .map(|c| c.median_ns)
    }
}

/// A workload a peer measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerWorkload {
    /// `W0` to `W4`.
    pub id: String,
    /// Its payload bytes.
    pub payload_bytes: u64,
}

/// A row of a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerRow {
    /// `native`, `extism/json`, ...
    pub name: String,
    /// What it does, for the report.
    pub about: String,
}

/// One measured cell of a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerCell {
    /// The workload id.
    pub workload: String,
    /// The row name.
    pub row: String,
    /// Median time per call, in nanoseconds.
    pub median_ns: u64,
}
