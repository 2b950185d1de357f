//! Peers that run in their own process (`boundary bench --peer-results FILE.json`): Extism, which
//! brings its own wasmtime (43) and so never links into this binary (wasmtime 48).
//!
//! A peer's process times its own native baseline on the same workloads
//! ([`boundary_schema::workloads`]), so each of its rows is reported as a ratio to *its* native,
//! beside this process's rows and their ratios to this process's native. Comparisons across the
//! two processes (the Extism goals) divide those ratios, so that a difference in the two
//! processes' speed cancels out; the raw medians are shown too.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use boundary_schema::peer::{PeerResults, PeerRow};
use boundary_schema::stats::fmt_duration;
use boundary_schema::workloads::Workload;

use crate::BenchError;
use crate::goals::Goal;
use crate::measure::Results;
use crate::report::anchored;
use crate::rows::NATIVE;

/// The row of this process the peers are compared with.
pub const COMPONENT_ROW: &str = "component/sync";

/// The Extism goals: (workload, peer row, bound on component/sync ÷ the peer row, both as
/// ratios to their own process's native). 0.1 is "≥ 10× faster"; 1.0 is "faster".
const PEER_GOALS: [(&str, &str, f64); 8] = [
    ("W0", "extism/json", 0.1),
    ("W3", "extism/json", 0.1),
    ("W4", "extism/json", 0.1),
    ("W0", "extism/bytes", 1.0),
    ("W1", "extism/bytes", 1.0),
    ("W2", "extism/bytes", 1.0),
    ("W3", "extism/bytes", 1.0),
    ("W4", "extism/bytes", 1.0),
];

/// Reads a peer's figures and checks them against this run's workloads.
///
/// # Errors
///
/// [`BenchError::Read`] if the file cannot be read, [`BenchError::PeerResults`] if it is not a
/// peer's JSON, [`BenchError::Peer`] if it was measured on other workloads or misses a cell.
pub fn read_peer_results(path: &Path, workloads: &[Workload]) -> Result<PeerResults, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
        path: path.to_owned(),
        source,
    })?;
    let peer: PeerResults =
        serde_json::from_str(&text).map_err(|source| BenchError::PeerResults {
            path: path.to_owned(),
            source,
        })?;
    check(&peer, workloads)
        .map_err(|why| BenchError::Peer(format!("{}: {why}", path.display())))?;
    Ok(peer)
}

/// Why a peer's figures cannot stand beside this run's, if they cannot.
fn check(peer: &PeerResults, workloads: &[Workload]) -> Result<(), String> {
    if peer.rows.first().map(|r| r.name.as_str()) != Some(PeerResults::NATIVE) {
        return Err(format!(
            "the {} peer's first row is not `{}`",
            peer.peer,
            PeerResults::NATIVE
        ));
    }
    for w in workloads {
        match peer.workloads.iter().find(|p| p.id == w.id) {
            Some(p) if p.payload_bytes == w.payload_bytes() => {}
            Some(p) => {
                return Err(format!(
                    "its {} has {} payload bytes, this build's has {}: rebuild the peer",
                    w.id,
                    p.payload_bytes,
                    w.payload_bytes()
                ));
            }
            None => return Err(format!("it has no figures for {}", w.id)),
        }
        for row in &peer.rows {
            match peer.median_ns(w.id, &row.name) {
                Some(ns) if ns > 0 => {}
                _ => return Err(format!("it has no figure for {} on {}", row.name, w.id)),
            }
        }
    }
    Ok(())
}

/// A peer row's median over its own native's, on a workload.
pub fn peer_ratio(peer: &PeerResults, workload: &str, row: &str) -> Option<f64> {
    let median = peer.median_ns(workload, row)? as f64;
    let native = peer.median_ns(workload, PeerResults::NATIVE)? as f64;
    Some(median / native.max(1e-3))
}

/// `row` of this run over a peer's row, each as a ratio to its own process's native.
pub fn across(results: &Results, peer: &PeerResults, workload: &str, row: &str) -> Option<f64> {
    let ours = results.ratio_between(workload, COMPONENT_ROW, NATIVE)?;
    Some(ours / peer_ratio(peer, workload, row)?)
}

/// The peers' rows (every row but their native).
fn peer_rows(peer: &PeerResults) -> impl Iterator<Item = &PeerRow> {
    peer.rows.iter().filter(|r| r.name != PeerResults::NATIVE)
}

/// The Extism goals, for each peer whose rows they name.
pub fn goals(results: &Results) -> Vec<Goal> {
    let mut goals = Vec::new();
    for peer in &results.peers {
        for (workload, row, target) in PEER_GOALS {
            if !peer.rows.iter().any(|r| r.name == row) {
                continue;
            }
            goals.push(Goal {
                what: format!(
                    "{workload}: {COMPONENT_ROW} / {row} (each over its process's native; ≤ {target} is {})",
                    if target < 1.0 {
                        format!("≥ {:.0}× faster", 1.0 / target)
                    } else {
                        "faster".to_owned()
                    }
                ),
                target,
                measured: across(results, peer, workload, row),
                rows: vec![COMPONENT_ROW],
            });
        }
    }
    goals
}

/// The peers' rows of the "ratio to native" table.
pub fn ratio_rows(results: &Results, out: &mut String) {
    for peer in &results.peers {
        for row in peer_rows(peer) {
            let _ = write!(out, "| {} |", anchored(&row.name));
            for w in &results.workloads {
                let _ = write!(
                    out,
                    " {} |",
                    peer_ratio(peer, w.id, &row.name)
                        .map_or("–".to_owned(), |r| format!("{r:.2}×"))
                );
            }
            out.push('\n');
        }
    }
}

/// The peers' rows of the table that says what each row does.
pub fn about_rows(results: &Results, out: &mut String) {
    for peer in &results.peers {
        for row in peer_rows(peer) {
            let _ = writeln!(
                out,
                "| {} | {} (in the peer's own process; × native is over that process's native) |",
                row.name, row.about
            );
        }
    }
}

/// The peers' rows of a workload's table (median, throughput, × their native; no traffic
/// counts: the host's call hook does not see inside another process).
pub fn workload_rows(
    results: &Results,
    w: &Workload,
    throughput: impl Fn(u64, Duration) -> String,
    out: &mut String,
) {
    for peer in &results.peers {
        for row in peer_rows(peer) {
            let Some(ns) = peer.median_ns(w.id, &row.name) else {
                continue;
            };
            let median = Duration::from_nanos(ns);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2}× | – | – | – |",
                row.name,
                fmt_duration(median),
                throughput(w.payload_bytes(), median),
                peer_ratio(peer, w.id, &row.name).unwrap_or(f64::NAN),
            );
        }
    }
}

/// The section on the peers: how they were run, their native against this process's, and
/// `component/sync` against each of their rows.
pub fn section(results: &Results, out: &mut String) {
    if results.peers.is_empty() {
        return;
    }
    out.push_str("\n## Peers in their own process\n\n");
    for peer in &results.peers {
        let _ = writeln!(
            out,
            "**{}** ({}) ran in its own process (`boundary-extism bench{}`, just before this \
             one), with its own native baseline: each of its rows is a ratio to that process's \
             `native`, timed there on the same workloads (`boundary_schema::workloads`) with the \
             same method ({} samples per cell, each at least {:?}, round-robin, outputs checked \
             against native first).{}\n",
            peer.peer,
            peer.runtime,
            if peer.quick { " --quick" } else { "" },
            peer.samples,
            Duration::from_nanos(peer.sample_target_ns),
            if peer.debug_build {
                " **The peer was a debug build: its figures are not representative.**"
            } else {
                ""
            }
        );
        out.push_str(
            "| workload | native here | native in the peer | row | median | \
             component/sync ÷ row, over each native | component/sync ÷ row, raw medians |\n\
             |---|---:|---:|---|---:|---:|---:|\n",
        );
        for w in &results.workloads {
            let here = results.median(w.id, NATIVE);
            let theirs = peer.median_ns(w.id, PeerResults::NATIVE);
            let component = results.median(w.id, COMPONENT_ROW);
            for row in peer_rows(peer) {
                let Some(ns) = peer.median_ns(w.id, &row.name) else {
                    continue;
                };
                let raw = component.map(|c| c.as_nanos() as f64 / (ns as f64).max(1e-3));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    w.id,
                    here.map_or("–".to_owned(), fmt_duration),
                    theirs.map_or("–".to_owned(), |n| fmt_duration(Duration::from_nanos(n))),
                    row.name,
                    fmt_duration(Duration::from_nanos(ns)),
                    across(results, peer, w.id, &row.name)
                        .map_or("–".to_owned(), |r| format!("{r:.3}×")),
                    raw.map_or("–".to_owned(), |r| format!("{r:.3}×")),
                );
            }
        }
        out.push_str(
            "\nBelow 1× the component is faster; 0.1× is 10× faster. The goals use the ratio over \
             each process's own native, so that the two processes' speeds cancel out.\n",
        );
    }
}

#[cfg(test)]
mod tests {
    use boundary_schema::peer::{PeerCell, PeerWorkload};
    use boundary_schema::workloads::workloads;

    use super::*;

    fn peer() -> PeerResults {
        let workloads = workloads();
        let rows = ["native", "extism/json", "extism/bytes"];
        PeerResults {
            peer: "extism".into(),
            runtime: "Extism test".into(),
            quick: true,
            samples: 1,
            sample_target_ns: 1,
            debug_build: false,
            workloads: workloads
                .iter()
                .map(|w| PeerWorkload {
                    id: w.id.into(),
                    payload_bytes: w.payload_bytes(),
                })
                .collect(),
            rows: rows
                .iter()
                .map(|r| PeerRow {
                    name: (*r).into(),
                    about: format!("about {r}"),
                })
                .collect(),
            cells: workloads
                .iter()
                .flat_map(|w| {
                    rows.iter().zip([100, 2_000, 400]).map(|(r, ns)| PeerCell {
                        workload: w.id.into(),
                        row: (*r).into(),
                        median_ns: ns,
                    })
                })
                .collect(),
        }
    }

    fn write(dir: &Path, text: &str) -> std::path::PathBuf {
        let path = dir.join("peer.json");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_peers_figures_round_trip_and_are_checked_against_the_workloads() {
        let dir = tempfile::tempdir().unwrap();
        let good = peer();
        let path = write(dir.path(), &serde_json::to_string(&good).unwrap());
        assert_eq!(read_peer_results(&path, &workloads()).unwrap(), good);

        let mut stale = good.clone();
        stale.workloads[2].payload_bytes += 1;
        let path = write(dir.path(), &serde_json::to_string(&stale).unwrap());
        let error = read_peer_results(&path, &workloads()).unwrap_err();
        assert!(error.to_string().contains("W2 has"), "{error}");

        let mut missing = good;
        missing
            .cells
            .retain(|c| !(c.workload == "W4" && c.row == "extism/bytes"));
        let path = write(dir.path(), &serde_json::to_string(&missing).unwrap());
        let error = read_peer_results(&path, &workloads()).unwrap_err();
        assert!(error.to_string().contains("extism/bytes on W4"), "{error}");
    }

    #[test]
    fn a_missing_or_invalid_peer_file_is_a_one_line_input_error() {
        let dir = tempfile::tempdir().unwrap();
        for (path, expected) in [
            (dir.path().join("absent.json"), "cannot read"),
            (
                write(dir.path(), "{\"peer\": 1}"),
                "is not a peer's figures",
            ),
        ] {
            let error = read_peer_results(&path, &workloads()).unwrap_err();
            assert!(error.is_input_error(), "{error}");
            let line = boundary_host::error::one_line(&error);
            assert!(line.contains(expected) && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn peer_ratios_are_over_the_peers_own_native() {
        let peer = peer();
        assert_eq!(peer_ratio(&peer, "W0", "extism/json"), Some(20.0));
        assert_eq!(peer_ratio(&peer, "W3", "extism/bytes"), Some(4.0));
        assert_eq!(peer_ratio(&peer, "W3", "extism/none"), None);
    }
}
