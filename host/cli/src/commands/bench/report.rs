//! The report: goals, the Markdown, the browser section `--web-only` replaces in place, and
//! writing files so that nothing is left half-written.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::BenchError;
use super::chart::svg;
use super::matrix::{InstKind, NATIVE};
use super::measure::{COUNTED_WORKLOAD, Results};
use boundary_schema::stats::{fmt_duration, ratio};

/// The wasmtime release the host is pinned to (`=48.0.8` in the workspace manifest).
pub const WASMTIME_VERSION: &str = "48.0.8";

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
    goals.extend(super::peers::goals(results));
    goals
}

fn fmt_throughput(bytes: u64, d: std::time::Duration) -> String {
    let per_sec = bytes as f64 / d.as_secs_f64().max(1e-12);
    if per_sec >= 1e9 {
        format!("{:.2} GB/s", per_sec / 1e9)
    } else if per_sec >= 1e6 {
        format!("{:.1} MB/s", per_sec / 1e6)
    } else {
        format!("{:.2} MB/s", per_sec / 1e6)
    }
}

/// The machine the run happened on, for the report's header.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPU model, from `/proc/cpuinfo` where there is one.
    pub cpu: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// `rustc --version`, if rustc is on the PATH.
    pub rustc: String,
    /// The OS and architecture.
    pub os: String,
}

impl Machine {
    /// Looks the machine up.
    pub fn detect() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "rustc (unknown version)".to_owned());
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            rustc,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// Markers around the browser section, so `--web-only` can replace it in place.
pub(super) const WEB_START: &str = "<!-- web:start -->";
const WEB_END: &str = "<!-- web:end -->";

/// The browser figures the Playwright run writes to `web/test-results/comparison.json`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebResults {
    /// The browser's user agent.
    pub browser: String,
    /// The unit of the figures.
    pub unit: String,
    /// One row per case.
    pub cases: Vec<WebCase>,
    /// Shipped sizes per path.
    #[serde(default)]
    pub shipped_bytes: Vec<WebShipped>,
}

/// One browser case.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebCase {
    /// The case's name.
    pub case: String,
    /// The jco path's median, in [`WebResults::unit`].
    pub component_us: f64,
    /// The TypeScript ptr/len path's median.
    pub raw_us: f64,
    /// The wasm-bindgen path's median (`None` in figures written before that path existed).
    #[serde(default)]
    pub bindgen_us: Option<f64>,
    /// Whether every path gave the record the contract specifies.
    pub equal: bool,
}

/// What a browser path ships.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebShipped {
    /// The path.
    pub path: String,
    /// Bytes of JavaScript glue.
    pub glue_js: u64,
    /// Bytes of wasm.
    pub wasm: u64,
}

/// Reads the browser figures.
///
/// # Errors
///
/// [`BenchError::Read`] or [`BenchError::WebResults`].
pub fn read_web_results(path: &Path) -> Result<WebResults, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| BenchError::WebResults {
        path: path.to_owned(),
        source,
    })
}

/// A row's name in the ratio table, with an anchor (`#row-component-sync`) the README links to.
pub fn anchored(row: &str) -> String {
    format!("<a id=\"row-{}\"></a>{row}", row.replace('/', "-"))
}

/// What counting guest calls with a store call hook costs: each guest row on
/// [`COUNTED_WORKLOAD`], timed without the hook and on its counting twin.
fn counting_section(results: &Results, out: &mut String) {
    let cells: Vec<(&str, Duration, Duration)> = results
        .cells
        .iter()
        .filter_map(|cell| {
            let counted = cell.counted?;
            Some((results.rows[cell.row].name.as_str(), cell.median, counted))
        })
        .collect();
    if cells.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Call counting\n\n\
         `Limits::count_guest_calls` installs a store call hook, which wasmtime runs on every \
         transition between host and guest; it gives the guest-call counts above and the demo's \
         traffic lines. Each guest row on {COUNTED_WORKLOAD}, timed without it (the figures \
         above) and with it, samples interleaved:\n\n\
         | row | without the hook | with the hook | with ÷ without |\n|---|---:|---:|---:|"
    );
    for (row, without, with) in cells {
        let _ = writeln!(
            out,
            "| {row} | {} | {} | {:.2}× |",
            fmt_duration(without),
            fmt_duration(with),
            with.as_secs_f64() / without.as_secs_f64().max(1e-12)
        );
    }
}

/// The browser section of the report, markers included.
pub fn web_section(web: Option<&WebResults>) -> String {
    let mut out = String::new();
    out.push_str(WEB_START);
    out.push_str(
        "\n<a id=\"browser\"></a>\n\n## Browser (jco component vs wasm-bindgen vs hand-written TypeScript ptr/len)\n\n",
    );
    let Some(web) = web else {
        out.push_str(
            "Not measured in this run: `just bench-web` runs the Playwright comparison and fills \
             this section in.\n",
        );
        out.push_str(WEB_END);
        out.push('\n');
        return out;
    };
    let _ = writeln!(
        out,
        "Browser: {}. Figures: {}. The inputs are the browser panel's own \
         (`web/src/Comparison.tsx`): its names are 11 bytes, not 16, and its 1 MiB name is \
         `é` × 524,288.\n",
        web.browser, web.unit
    );
    out.push_str(
        "| case | jco component | wasm-bindgen | TS ptr/len | jco / wasm-bindgen | jco / ptr-len \
         | fastest | equal output |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---|---|\n");
    let us = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.1} µs"));
    let times = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.2}×"));
    for case in &web.cases {
        let fastest = [
            ("component", Some(case.component_us)),
            ("wasm-bindgen", case.bindgen_us),
            ("ptr/len", Some(case.raw_us)),
        ]
        .into_iter()
        .filter_map(|(name, v)| Some((name, v?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("–", |(name, _)| name);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {fastest} | {} |",
            case.case,
            us(Some(case.component_us)),
            us(case.bindgen_us),
            us(Some(case.raw_us)),
            times(case.bindgen_us.map(|b| case.component_us / b.max(1e-9))),
            times(Some(case.component_us / case.raw_us.max(1e-9))),
            case.equal
        );
    }
    let verdict = |ratio: f64| if ratio <= 2.0 { "met" } else { "missed" };
    let seed = web.cases.iter().find(|c| c.case.contains("seed"));
    let w2 = web.cases.iter().find(|c| c.case.contains("100,000"));
    let vs_bindgen: Vec<String> = [("W0", seed), ("W2", w2)]
        .into_iter()
        .filter_map(|(id, case)| {
            let case = case?;
            let ratio = case.component_us / case.bindgen_us?.max(1e-9);
            Some(format!("{id} **{ratio:.2}×, {}**", verdict(ratio)))
        })
        .collect();
    if !vs_bindgen.is_empty() {
        let _ = writeln!(
            out,
            "\nGoal, W0 and W2 in the browser: jco within 2× of wasm-bindgen (jco's time ÷ \
             wasm-bindgen's): {}.",
            vs_bindgen.join(", ")
        );
    }
    if let Some(w2) = w2 {
        let ratio = w2.component_us / w2.raw_us.max(1e-9);
        let _ = writeln!(
            out,
            "\nGoal, W2 in the browser: jco within 2× of the ptr/len path: **{ratio:.2}×, {}**.",
            verdict(ratio)
        );
    }
    if !web.shipped_bytes.is_empty() {
        out.push_str(
            "\n<a id=\"browser-bytes\"></a>\n\n| path | JS glue | wasm | total |\n|---|---:|---:|---:|\n",
        );
        for shipped in &web.shipped_bytes {
            let _ = writeln!(
                out,
                "| {} | {} B | {} B | {} B |",
                shipped.path,
                shipped.glue_js,
                shipped.wasm,
                shipped.glue_js + shipped.wasm
            );
        }
    }
    out.push_str(WEB_END);
    out.push('\n');
    out
}

/// Replaces the browser section of an existing report (or appends one).
pub fn replace_web_section(report: &str, web: &WebResults) -> String {
    replace_section(report, &web_section(Some(web)))
}

/// The browser section of a report, markers included, if it holds figures.
pub(super) fn measured_web_section(report: &str) -> Option<&str> {
    let start = report.find(WEB_START)?;
    let end = report[start..].find(WEB_END)? + start + WEB_END.len();
    let section = &report[start..end];
    (!section.contains("Not measured in this run")).then_some(section)
}

fn replace_section(report: &str, section: &str) -> String {
    let section = format!("{}\n", section.trim_end());
    match (report.find(WEB_START), report.find(WEB_END)) {
        (Some(start), Some(end)) if end > start => {
            let end = end + WEB_END.len();
            let rest = report[end..].strip_prefix('\n').unwrap_or(&report[end..]);
            format!("{}{section}{rest}", &report[..start])
        }
        _ => format!("{report}\n{section}"),
    }
}

/// The report, in Markdown. `chart` is the SVG's file name, relative to the report.
pub fn markdown(
    results: &Results,
    machine: &Machine,
    chart: &str,
    web: Option<&WebResults>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark report\n");
    let _ = writeln!(
        out,
        "Generated by `boundary bench{}` (see `just bench`). Every cell below comes from this \
         one run: ratios are comparable, absolute times on a shared machine are not.\n",
        if results.quick { " --quick" } else { "" }
    );
    let _ = writeln!(
        out,
        "- Machine: {} logical CPUs, {} ({}), shared\n- Toolchain: {}; wasmtime {WASMTIME_VERSION}; \
         guests built with the workspace's `[profile.guest]`\n- Host build: {}\n- Guests: {}\n\
         - Method: each cell is the median of {} samples; a sample repeats the call for at least \
         {:?}. The samples of all rows of one workload are taken round-robin. Every row's output \
         is checked against native Rust's before timing. Outputs are dropped inside the timed \
         loop on every row.\n",
        machine.cores,
        machine.cpu,
        machine.os,
        machine.rustc,
        if cfg!(debug_assertions) {
            "debug (figures are not representative)"
        } else {
            "release"
        },
        if results.guests.is_empty() {
            "the embedded defaults of every registered path".to_owned()
        } else {
            format!(
                "{}; the other paths' embedded defaults",
                results.guests.join(", ")
            )
        },
        results.plan.samples,
        results.plan.sample_target,
    );
    let _ = writeln!(out, "![ratio to native, log scale]({chart})\n");

    out.push_str("## Goals\n\n| goal | bound | measured | verdict |\n|---|---:|---:|---|\n");
    for goal in goals(results) {
        let _ = writeln!(
            out,
            "| {} | ≤ {:.1}× | {} | {} |",
            goal.what,
            goal.target,
            goal.measured.map_or("–".to_owned(), |m| format!("{m:.2}×")),
            goal.verdict()
        );
    }
    out.push_str(
        "\nThe browser goals (W0 and W2, jco within 2× of wasm-bindgen; W2, jco within 2× of the \
         TypeScript ptr/len path) are in the browser section below. Misses are explained in the README's Performance section, with the counts \
         from the tables here.\n\n",
    );

    out.push_str("## Ratio to native, every row × workload\n\n| row |");
    for w in &results.workloads {
        let _ = write!(out, " {} |", w.id);
    }
    out.push_str("\n|---|");
    for _ in &results.workloads {
        out.push_str("---:|");
    }
    out.push('\n');
    for (index, row) in results.rows.iter().enumerate() {
        let _ = write!(out, "| {} |", anchored(&row.name));
        for w in &results.workloads {
            let _ = write!(
                out,
                " {} |",
                results
                    .ratio(w.id, index)
                    .map_or("–".to_owned(), |r| format!("{r:.2}×"))
            );
        }
        out.push('\n');
    }
    super::peers::ratio_rows(results, &mut out);
    out.push_str(
        "\n### The rows\n\nNative Rust, then for each registered path its `Instance::transform` \
         (`PATH/transform`), the same on an instance from the pooling allocator (`PATH/pooled`), \
         and each of its `Load::variants()` (`PATH/VARIANT`).\n\n\
         | row | what it does |\n|---|---|\n",
    );
    for row in &results.rows {
        let _ = writeln!(out, "| {} | {} |", row.name, row.about);
    }
    super::peers::about_rows(results, &mut out);

    for w in &results.workloads {
        let _ = writeln!(
            out,
            "\n## {}: {} ({} payload bytes)\n",
            w.id,
            w.description,
            w.payload_bytes()
        );
        out.push_str(
            "| row | median | throughput | × native | guest calls / transform | bytes in | bytes out |\n\
             |---|---:|---:|---:|---:|---:|---:|\n",
        );
        for (index, row) in results.rows.iter().enumerate() {
            let Some(cell) = results.cell(w.id, index) else {
                continue;
            };
            let t = cell.traffic;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2}× | {} | {} | {} |",
                row.name,
                fmt_duration(cell.median),
                fmt_throughput(w.payload_bytes(), cell.median),
                results.ratio(w.id, index).unwrap_or(f64::NAN),
                t.guest_calls,
                t.bytes_in,
                t.bytes_out,
            );
        }
        super::peers::workload_rows(results, w, fmt_throughput, &mut out);
    }
    out.push_str(
        "\nGuest calls are counted by a store call hook: on the component path, the export plus one \
         `cabi_realloc` per string and list the canonical ABI places in guest memory; on the raw \
         path, every export the host calls. Bytes in/out are payload bytes copied into and out of \
         guest memory (canonical layout for the component, postcard plus the 8-byte result region \
         for raw). The `fresh` rows include instantiation. The timed instances have no call hook: \
         the counts come from a twin of each row whose engine counts (see \"Call counting\" \
         below).\n",
    );
    counting_section(results, &mut out);
    super::peers::section(results, &mut out);

    out.push_str("\n## Instance reuse and memory growth\n\n");
    out.push_str(
        "The linear memory of the instance each path's `transform` row reuses, before and after \
         each workload's samples.\n\n\
         | workload | row | memory before the samples | after | growth |\n|---|---|---:|---:|---:|\n",
    );
    for growth in &results.memory {
        let _ = writeln!(
            out,
            "| {} | {} | {} B | {} B | {} B |",
            growth.workload,
            results.rows[growth.row].name,
            growth.before,
            growth.after,
            growth.after.saturating_sub(growth.before)
        );
    }

    out.push_str(
        "\n## Instantiation\n\n| path | how | median | × on-demand instantiation |\n\
         |---|---|---:|---:|\n",
    );
    for path in results.paths() {
        let base = results.inst_median(path, InstKind::InstantiateOnDemand);
        for kind in InstKind::ALL {
            if let Some(m) = results.inst_median(path, kind) {
                let _ = writeln!(
                    out,
                    "| {path} | {} | {} | {} |",
                    kind.label(),
                    fmt_duration(m),
                    base.map_or("–".to_owned(), |b| format!("{:.2}×", ratio(m, b)))
                );
            }
        }
    }
    out.push_str(
        "\n`load-from-bytes` is the path's `Load::load`: validate, compile with Cranelift, link \
         and check the contract. `deserialize-precompiled` loads an artifact this engine \
         precompiled instead of compiling. The instantiate rows are `Guest::instantiate`: a store \
         (with its limiter and an empty WASI context; no call hook) and an instance from the \
         prepared `InstancePre`, both dropped. The pooling engine reserves slots for 128 memories \
         of up to 256 MiB.\n\n",
    );
    out.push_str(
        "Guest build settings and `wasm-opt` were measured separately: see \
         [tuning.md](tuning.md).\n\n",
    );
    out.push_str(&web_section(web));
    out
}

/// Writes `contents` to `path` through a temporary file in the same directory, renamed over
/// `path` once complete: a reader sees the old file or the new one, never half of either.
///
/// # Errors
///
/// [`BenchError::Write`] if the directory is not writable or the rename fails; the temporary
/// file is removed and `path` is untouched.
pub fn write_atomically(path: &Path, contents: &str) -> Result<(), BenchError> {
    let error = |source| BenchError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".boundary-bench-");
    // The mode `std::fs::write` gives a new file (less the umask), not the temporary file's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(dir).map_err(error)?;
    file.write_all(contents.as_bytes()).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// Writes the report and its chart; the chart goes next to the report as `chart.svg`. Without
/// new browser figures, the browser section an earlier `--web-only` merged is kept.
///
/// # Errors
///
/// [`BenchError::Chart`] or [`BenchError::Write`].
pub fn write_report(
    results: &Results,
    out: &Path,
    web: Option<&WebResults>,
) -> Result<PathBuf, BenchError> {
    write_report_with(results, out, web, "")
}

/// [`write_report`], with `sections` (Markdown, such as the batch figures) put in before the
/// browser section.
///
/// # Errors
///
/// As [`write_report`].
pub fn write_report_with(
    results: &Results,
    out: &Path,
    web: Option<&WebResults>,
    sections: &str,
) -> Result<PathBuf, BenchError> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|source| BenchError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    let chart = dir.map_or_else(|| PathBuf::from("chart.svg"), |d| d.join("chart.svg"));
    let mut report = markdown(results, &Machine::detect(), "chart.svg", web);
    if let Some(at) = report.find(WEB_START) {
        report.insert_str(at, sections);
    }
    if web.is_none()
        && let Ok(old) = std::fs::read_to_string(out)
        && let Some(section) = measured_web_section(&old)
    {
        report = replace_section(&report, section);
    }
    write_atomically(&chart, &svg(results)?)?;
    write_atomically(out, &report)?;
    Ok(chart)
}

/// Puts fresh browser figures into an existing report without rerunning anything else.
///
/// # Errors
///
/// [`BenchError::Read`], [`BenchError::WebResults`] or [`BenchError::Write`].
pub fn merge_web_results(report: &Path, web_results: &Path) -> Result<(), BenchError> {
    let web = read_web_results(web_results)?;
    let text = std::fs::read_to_string(report).map_err(|source| BenchError::Read {
        path: report.to_owned(),
        source,
    })?;
    write_atomically(report, &replace_web_section(&text, &web))
}
