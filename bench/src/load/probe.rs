//! What a server process and the machine use, read from `/proc`: the server's resident set
//! (`VmRSS`) and CPU time, and the whole machine's busy CPU time, so that a run can say how many
//! cores the server kept busy and how many were busy at all.

use std::process::Command;
use std::time::Instant;

use super::LoadTestError;

/// A snapshot of a server process and of the machine.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// The server's resident set, in KiB.
    pub rss_kib: u64,
    /// The server's user plus system CPU time, in clock ticks.
    pub ticks: u64,
    /// The machine's busy CPU time, all cores, in clock ticks.
    pub machine_ticks: u64,
    /// When it was taken.
    pub at: Instant,
}

impl Probe {
    /// Reads `/proc/PID/status`, `/proc/PID/stat` and `/proc/stat`.
    ///
    /// # Errors
    ///
    /// [`LoadTestError::Probe`] when a file cannot be read or lacks its figure.
    pub fn take(pid: u32) -> Result<Self, LoadTestError> {
        let status = format!("/proc/{pid}/status");
        let stat = format!("/proc/{pid}/stat");
        Ok(Self {
            rss_kib: parse(&status, rss_kib)?,
            ticks: parse(&stat, cpu_ticks)?,
            machine_ticks: parse("/proc/stat", machine_ticks)?,
            at: Instant::now(),
        })
    }

    /// The server's cores busy from `self` to `after`, and the machine's.
    pub fn busy_until(&self, after: &Probe) -> (f64, f64) {
        let wall = after.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let hz = clock_ticks() as f64;
        let cpu = after.ticks.saturating_sub(self.ticks) as f64 / hz;
        let machine = after.machine_ticks.saturating_sub(self.machine_ticks) as f64 / hz;
        (cpu / wall, machine / wall)
    }
}

fn parse(file: &str, figure: fn(&str) -> Result<u64, String>) -> Result<u64, LoadTestError> {
    let probe = |why: String| LoadTestError::Probe {
        file: file.to_owned(),
        why,
    };
    let text = std::fs::read_to_string(file).map_err(|e| probe(format!("cannot read it: {e}")))?;
    figure(&text).map_err(probe)
}

/// `VmRSS` of a `/proc/PID/status`, in KiB.
pub fn rss_kib(status: &str) -> Result<u64, String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".to_owned())
}

/// User plus system CPU time of a `/proc/PID/stat` (fields 14 and 15), in clock ticks.
pub fn cpu_ticks(stat: &str) -> Result<u64, String> {
    // The command name (field 2) is in parentheses and may hold spaces; field 3 follows the last `)`.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("no field {n}"))
    };
    Ok(field(14)? + field(15)?)
}

/// Busy CPU time of the whole machine in a `/proc/stat`, all cores, in clock ticks (the `cpu`
/// line: user, nice, system, irq, softirq and steal; not idle or iowait).
pub fn machine_ticks(stat: &str) -> Result<u64, String> {
    let fields: Vec<u64> = stat
        .lines()
        .find_map(|l| l.strip_prefix("cpu "))
        .ok_or_else(|| "no cpu line".to_owned())?
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    Ok([0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| fields.get(i).copied().unwrap_or(0))
        .sum())
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, Linux's usual value, if that fails).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_are_read_from_procs_formats() {
        assert_eq!(rss_kib("Name:\tboundary\nVmRSS:\t   12345 kB\n"), Ok(12345));
        assert!(rss_kib("Name:\tx\n").is_err());
        // A command name with a space and a parenthesis in it.
        let stat = "42 (my (server) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0";
        assert_eq!(cpu_ticks(stat), Ok(300));
        assert_eq!(cpu_ticks("42 (short) S 1"), Err("no field 14".to_owned()));
        let machine = "cpu  100 5 30 9000 70 1 2 3 0 0\ncpu0 50 2 15 4500 35 0 1 1 0 0\n";
        assert_eq!(machine_ticks(machine), Ok(100 + 5 + 30 + 1 + 2 + 3));
        assert!(machine_ticks("intr 1 2\n").is_err());
    }

    #[test]
    fn this_process_can_be_probed() {
        let before = Probe::take(std::process::id()).unwrap();
        assert!(before.rss_kib > 0);
        let after = Probe::take(std::process::id()).unwrap();
        let (cores, machine) = before.busy_until(&after);
        assert!(cores >= 0.0 && machine >= 0.0);
    }
}
