//! Criterion benches over the same matrix `boundary bench` runs: every workload on every row
//! (native Rust, then each registered path's `Instance::transform` and variants), and the
//! instantiation figures of every registered path. The closures are the bench command's own
//! (`boundary_bench::{Harness, InstHarness}`), so the two tools time the same code on the same
//! inputs, and a newly registered path is benched with no edit here.
//!
//! `cargo bench -p boundary-bench --bench boundary` (`just bench-criterion`) runs them all; add a
//! filter such as `W2` or `raw/tuned`; `-- --test` runs each once as a check.

use std::time::Duration;

use boundary_bench::{Guests, Harness, InstHarness, InstKind, workloads};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn transform(c: &mut Criterion) {
    let mut harness = Harness::new(&Guests::embedded()).expect("the embedded guests load");
    let rows = harness.rows();
    for workload in workloads() {
        let mut group = c.benchmark_group(format!("transform/{}", workload.id));
        group.throughput(Throughput::Bytes(workload.payload_bytes()));
        if workload.payload_bytes() > 1 << 20 {
            group.sample_size(10);
        }
        for (index, row) in rows.iter().enumerate() {
            harness
                .check(index, &workload)
                .expect("every row agrees with native Rust");
            group.bench_function(row.name.as_str(), |b| {
                b.iter_custom(|iters| {
                    harness
                        .time(index, &workload, iters)
                        .expect("the call succeeds")
                });
            });
        }
        group.finish();
    }
}

fn instantiation(c: &mut Criterion) {
    let mut harness = InstHarness::new(&Guests::embedded()).expect("the embedded guests load");
    let rows = harness.rows();
    let mut paths: Vec<&str> = rows.iter().map(|(path, _)| *path).collect();
    paths.dedup();
    for path in paths {
        let mut group = c.benchmark_group(format!("instantiate/{path}"));
        for (index, (_, kind)) in rows.iter().enumerate().filter(|(_, (p, _))| *p == path) {
            if *kind == InstKind::Load {
                group.sample_size(10);
                group.measurement_time(Duration::from_secs(10));
            } else {
                group.sample_size(100);
                group.measurement_time(Duration::from_secs(5));
            }
            group.bench_function(kind.label(), |b| {
                b.iter_custom(|iters| harness.time(index, iters).expect("instantiates"));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, transform, instantiation);
criterion_main!(benches);
