//! The benchmark's matrix, report, chart and `--guest` files (moved from the CLI's
//! `commands/bench/tests.rs` with the engine).

use std::path::PathBuf;
use std::time::Duration;

use boundary_bench::chart::{chart_rows, svg};
use boundary_bench::engine::bench_limits;
use boundary_bench::goals::goals;
use boundary_bench::instantiation::inst_row_count;
use boundary_bench::measure::{run, total_samples};
use boundary_bench::report::{Machine, markdown, write_report};
use boundary_bench::rows::{NATIVE, pooled_row, row_count, transform_row};
use boundary_bench::web::{
    WEB_START, WebCase, WebResults, measured_web_section, read_web_results, replace_web_section,
    web_section,
};
use boundary_bench::{
    BenchError, Cell, Guests, Harness, InstCell, InstHarness, InstKind, Plan, Results, RowKind,
    workloads,
};
use boundary_guests::{PathVisitor, for_each_path};
use boundary_host::error::one_line;
use boundary_host::{Load, Registration, Traffic};
use boundary_schema::write_atomically;

/// The row names the registry implies: native, then each path's `transform`, `pooled` and
/// variants.
fn registered_row_names() -> Vec<String> {
    struct Names(Vec<String>);
    impl PathVisitor for Names {
        fn visit<G: Load>(&mut self, registration: &Registration) {
            self.0.push(transform_row(registration.name));
            self.0.push(pooled_row(registration.name));
            for variant in G::variants() {
                self.0
                    .push(format!("{}/{}", registration.name, variant.name));
            }
        }
    }
    let mut names = Names(vec![NATIVE.to_owned()]);
    for_each_path(&mut names);
    names.0
}

/// Results with made-up medians (row `i` takes `i + 1` times native), for the report's shape.
fn synthetic_results() -> Results {
    let rows = Harness::new(&Guests::embedded()).unwrap().rows();
    let workloads = workloads();
    let mut cells = Vec::new();
    for w in &workloads {
        for row in 0..rows.len() {
            cells.push(Cell {
                workload: w.id,
                row,
                median: Duration::from_micros(10 * (row as u64 + 1)),
                traffic: Traffic::default(),
                counted: None,
            });
        }
    }
    let paths: Vec<&'static str> = boundary_guests::paths().iter().map(|p| p.name()).collect();
    let inst = paths
        .iter()
        .flat_map(|&path| {
            InstKind::ALL.into_iter().map(move |kind| InstCell {
                path,
                kind,
                median: Duration::from_micros(match kind {
                    InstKind::InstantiatePooling => 4,
                    _ => 10,
                }),
            })
        })
        .collect();
    Results {
        workloads,
        rows,
        cells,
        inst,
        memory: Vec::new(),
        plan: Plan::QUICK,
        quick: true,
        guests: Vec::new(),
        peers: Vec::new(),
    }
}

#[test]
fn workloads_have_the_sizes_the_issue_names() {
    let w = workloads();
    assert_eq!(w[1].input.names.len(), 1_000);
    assert!(w[1].input.names.iter().all(|n| n.len() == 16));
    assert_eq!(w[2].input.names.len(), 100_000);
    assert!(w[2].input.names.iter().all(|n| n.len() == 16));
    assert_eq!(w[3].input.names[0].len(), 1 << 20);
    assert_eq!(w[4].input.names.len(), 64);
    assert!(w[4].input.names.iter().all(|n| n.len() == 16 << 10));
}

#[test]
fn the_rows_are_native_then_every_registered_path_and_variant() {
    let harness = Harness::new(&Guests::embedded()).unwrap();
    let names: Vec<String> = harness.rows().into_iter().map(|r| r.name).collect();
    assert_eq!(names, registered_row_names());
    assert_eq!(row_count(), names.len());
    for path in boundary_guests::paths() {
        assert!(
            names.contains(&transform_row(path.name())),
            "{}",
            path.name()
        );
    }
}

#[test]
fn every_row_agrees_with_native_rust() {
    let mut harness = Harness::new(&Guests::embedded()).unwrap();
    let rows = harness.rows();
    for workload in &workloads()[..2] {
        for (index, row) in rows.iter().enumerate() {
            harness.check(index, workload).unwrap();
            let traffic = harness.check(index, workload).unwrap();
            if row.name == "raw/tuned" {
                assert_eq!(traffic.guest_calls, 1, "one call once the buffers exist");
            }
            assert!(harness.time(index, workload, 2).unwrap() > Duration::ZERO);
        }
    }
    // Each path's default call, and the same on a pooled instance, reuse an instance whose memory
    // the report follows.
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(
            harness.memory_bytes(index).is_some(),
            matches!(row.kind, RowKind::Transform | RowKind::Pooled),
            "{}",
            row.name
        );
    }
}

#[test]
fn every_registered_path_gets_the_four_instantiation_figures() {
    let mut harness = InstHarness::new(&Guests::embedded()).unwrap();
    let rows = harness.rows();
    for path in boundary_guests::paths() {
        let kinds: Vec<InstKind> = rows
            .iter()
            .filter(|(p, _)| *p == path.name())
            .map(|(_, kind)| *kind)
            .collect();
        assert_eq!(kinds, InstKind::ALL, "{}", path.name());
    }
    for index in 0..rows.len() {
        harness.time(index, 1).unwrap();
    }
}

#[test]
fn every_goal_compares_rows_the_harness_builds() {
    let results = synthetic_results();
    let names: Vec<&str> = results.rows.iter().map(|r| r.name.as_str()).collect();
    let goals = goals(&results);
    for goal in &goals {
        for row in &goal.rows {
            assert!(names.contains(row), "{} names {row}", goal.what);
        }
        assert!(goal.measured.is_some(), "{}", goal.what);
    }
    for path in boundary_guests::paths() {
        let goal = goals
            .iter()
            .find(|g| g.what == format!("instantiate, {}: pooling / on-demand", path.name()))
            .unwrap();
        assert_eq!(goal.verdict(), "met");
    }
}

#[test]
fn the_chart_shows_native_every_path_and_the_goal_rows_with_a_legend() {
    let results = synthetic_results();
    let charted: Vec<&str> = chart_rows(&results)
        .into_iter()
        .map(|row| results.rows[row].name.as_str())
        .collect();
    assert_eq!(charted[0], NATIVE);
    for path in boundary_guests::paths() {
        assert!(charted.contains(&transform_row(path.name()).as_str()));
    }
    for goal in goals(&results) {
        for row in goal.rows {
            assert!(charted.contains(&row), "{row}");
        }
    }
    let svg = svg(&results).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
    for name in &charted {
        // plotters writes each text on a line of its own.
        assert!(svg.contains(&format!("\n{name}\n")), "legend entry {name}");
    }
    for w in &results.workloads {
        assert!(svg.contains(&format!("{}: {}", w.id, w.label)), "{}", w.id);
    }
    assert!(svg.contains("native Rust (log scale)"));
}

#[test]
fn the_report_names_every_row_and_goal() {
    let results = synthetic_results();
    let machine = Machine::detect();
    let report = markdown(&results, &machine, "chart.svg", None);
    for row in &results.rows {
        assert!(
            report.contains(&format!("| {} |", row.name)),
            "{}",
            row.name
        );
    }
    for goal in goals(&results) {
        assert!(report.contains(&goal.what), "{}", goal.what);
    }
    assert!(report.contains("![ratio to native, log scale](chart.svg)"));
    assert!(report.contains(WEB_START));
}

#[test]
fn the_web_section_is_replaced_in_place() {
    let web = WebResults {
        browser: "test".into(),
        unit: "µs".into(),
        cases: vec![WebCase {
            case: "100,000 names".into(),
            component_us: 3.0,
            raw_us: 2.0,
            bindgen_us: Some(1.2),
            equal: true,
        }],
        shipped_bytes: vec![],
    };
    let report = format!("# r\n\n{}\ntail\n", web_section(None));
    let merged = replace_web_section(&report, &web);
    assert!(merged.starts_with("# r\n\n"));
    assert!(merged.contains("1.50×, met"));
    assert!(merged.contains("W2 **2.50×, missed**"), "{merged}");
    assert!(merged.ends_with("tail\n"));
    assert_eq!(merged.matches(WEB_START).count(), 1);
}

#[test]
fn browser_figures_with_and_without_the_wasm_bindgen_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("comparison.json");
    // As web/tests/e2e.test.ts writes it; `bindgenUs` absent in figures from before that path.
    std::fs::write(
        &path,
        r#"{"browser": "b", "unit": "µs", "cases": [
            {"case": "seed example", "componentUs": 3, "rawUs": 2, "bindgenUs": 2, "equal": true},
            {"case": "100,000 names", "componentUs": 10, "rawUs": 8, "equal": true}],
          "shippedBytes": [{"path": "bindgen", "glueJs": 100, "wasm": 1000}]}"#,
    )
    .unwrap();
    let web = read_web_results(&path).unwrap();
    assert_eq!(web.cases[0].bindgen_us, Some(2.0));
    assert_eq!(web.cases[1].bindgen_us, None);
    let section = web_section(Some(&web));
    assert!(
        section.contains("| seed example | 3.0 µs | 2.0 µs | 2.0 µs | 1.50× | 1.50× |"),
        "{section}"
    );
    assert!(
        section.contains("| 100,000 names | 10.0 µs | – | 8.0 µs | – | 1.25× |"),
        "{section}"
    );
    assert!(
        section.contains(
            "jco within 2× of wasm-bindgen (jco's time ÷ wasm-bindgen's): W0 **1.50×, met**."
        ),
        "{section}"
    );
    assert!(
        section.contains("| bindgen | 100 B | 1000 B | 1100 B |"),
        "{section}"
    );
}

#[test]
fn a_new_report_keeps_the_browser_figures_merged_earlier() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.md");
    let web = WebResults {
        browser: "kept".into(),
        unit: "µs".into(),
        cases: vec![],
        shipped_bytes: vec![],
    };
    std::fs::write(&out, replace_web_section("# old\n", &web)).unwrap();
    let chart = write_report(&synthetic_results(), &out, None).unwrap();
    assert_eq!(chart, dir.path().join("chart.svg"));
    let report = std::fs::read_to_string(&out).unwrap();
    assert!(report.starts_with("# Benchmark report"));
    assert!(
        measured_web_section(&report)
            .unwrap()
            .contains("Browser: kept.")
    );
    assert!(std::fs::read_to_string(chart).unwrap().starts_with("<svg"));
}

#[test]
fn files_are_replaced_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.md");
    write_atomically(&file, "one").unwrap();
    write_atomically(&file, "two").unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_ne!(
            mode & 0o044,
            0,
            "readable by others as fs::write makes it: {mode:o}"
        );
    }
    // Renaming over a directory fails: the directory is untouched and no temporary is left.
    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("inside"), "x").unwrap();
    let error = BenchError::from(write_atomically(&taken, "three").unwrap_err());
    assert!(matches!(error, BenchError::Write(_)), "{error}");
    assert!(taken.join("inside").exists());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    // A directory that does not exist: nothing is written.
    let missing = dir.path().join("missing").join("report.md");
    assert!(matches!(
        write_atomically(&missing, "four").map_err(BenchError::from),
        Err(BenchError::Write(_))
    ));
    assert!(!missing.exists());
}

#[test]
fn a_guest_file_replaces_the_default_of_its_kinds_path() {
    let dir = tempfile::tempdir().unwrap();
    let limits = bench_limits(Default::default());
    let component = boundary_guests::path("component").unwrap();
    let file = dir.path().join("mine.wasm");
    std::fs::write(&file, component.registration.default_guest).unwrap();
    let guests = Guests::from_files(std::slice::from_ref(&file), limits).unwrap();
    assert_eq!(
        guests.describe(),
        vec![format!("component: `{}`", file.display())]
    );
    assert_eq!(
        guests.bytes(&component.registration),
        component.registration.default_guest
    );
    // The other paths keep their embedded guests.
    let raw = boundary_guests::path("raw").unwrap();
    assert_eq!(
        guests.bytes(&raw.registration),
        raw.registration.default_guest
    );
    // The replaced guest is what the rows run.
    let mut harness = Harness::new(&guests).unwrap();
    harness.check(1, &workloads()[0]).unwrap();
}

#[test]
fn bad_guest_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let limits = bench_limits(Default::default());
    let component = dir.path().join("a.wasm");
    std::fs::write(&component, boundary_guests::COMPONENT).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not wasm at all").unwrap();
    let cases: Vec<(Vec<PathBuf>, &str)> = vec![
        (
            vec![component.clone(), component.clone()],
            "both replace the component path",
        ),
        (vec![text], "not a WebAssembly file"),
        (vec![dir.path().to_owned()], "is a directory"),
        (vec![dir.path().join("nope.wasm")], "cannot read"),
    ];
    for (files, expected) in cases {
        let error = Guests::from_files(&files, limits).unwrap_err();
        let line = one_line(&error);
        assert!(error.is_input_error(), "{line}");
        assert!(line.contains(expected), "{line}");
        let last = files.last().unwrap().display().to_string();
        let named = if files.len() == 2 { 2 } else { 1 };
        assert_eq!(
            line.matches(&last).count(),
            named,
            "the file named once: {line}"
        );
    }
}

#[test]
fn a_wrong_output_is_a_guest_failure() {
    let error = BenchError::Mismatch {
        row: "component/sync".into(),
        workload: "W0",
    };
    assert!(!error.is_input_error());
    assert_eq!(
        one_line(&error),
        "component/sync on W0: the output differs from native Rust's"
    );
}

#[test]
fn a_tiny_run_measures_every_cell_and_writes_the_report() {
    let plan = Plan {
        samples: 1,
        sample_target: Duration::from_micros(1),
        inst_samples: 1,
    };
    let mut ticks = 0;
    let results = run(plan, true, &Guests::embedded(), |_| ticks += 1).unwrap();
    assert_eq!(ticks, total_samples(plan));
    assert_eq!(
        results.cells.len(),
        results.workloads.len() * results.rows.len()
    );
    assert!(results.cells.iter().all(|c| c.median > Duration::ZERO));
    assert_eq!(
        results.inst.len(),
        boundary_guests::paths().len() * InstKind::ALL.len()
    );
    assert_eq!(results.inst.len(), inst_row_count());
    assert!(goals(&results).iter().all(|g| g.measured.is_some()));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench").join("report.md");
    write_report(&results, &out, None).unwrap();
    assert!(std::fs::read_to_string(&out).unwrap().contains("## W4"));
}
