//! The report's browser section: the figures the Playwright run writes
//! (`web/test-results/comparison.json`), the section drawn from them, and `--web-only`, which
//! replaces that section of an existing report in place.

use std::fmt::Write as _;
use std::path::Path;

use boundary_schema::write_atomically;

use crate::BenchError;

/// Markers around the browser section, so `--web-only` can replace it in place.
pub const WEB_START: &str = "<!-- web:start -->";
pub const WEB_END: &str = "<!-- web:end -->";

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
pub fn measured_web_section(report: &str) -> Option<&str> {
    let start = report.find(WEB_START)?;
    let end = report[start..].find(WEB_END)? + start + WEB_END.len();
    let section = &report[start..end];
    (!section.contains("Not measured in this run")).then_some(section)
}

pub(crate) fn replace_section(report: &str, section: &str) -> String {
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
    Ok(write_atomically(report, replace_web_section(&text, &web))?)
}
