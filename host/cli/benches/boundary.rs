//! Criterion benches over the same matrix `boundary bench` runs: every workload on every path,
//! and instantiation for both guests. The closures are `boundary_host::bench`'s own, so the
//! two tools time the same code on the same inputs.
//!
//! `cargo bench -p boundary-host` runs them all; `cargo bench -p boundary-host -- W2` filters.

use std::time::Duration;

use boundary_host::bench::{GuestKind, Harness, InstHarness, InstKind, PathKind, workloads};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn transform(c: &mut Criterion) {
    let mut harness = Harness::new(None, None).expect("the embedded guests load");
    for workload in workloads() {
        let mut group = c.benchmark_group(format!("transform/{}", workload.id));
        group.throughput(Throughput::Bytes(workload.payload_bytes()));
        if workload.payload_bytes() > 1 << 20 {
            group.sample_size(10);
        }
        for path in PathKind::ALL {
            harness
                .check(path, &workload)
                .expect("every path agrees with native Rust");
            group.bench_function(path.label(), |b| {
                b.iter_custom(|iters| {
                    harness
                        .time(path, &workload, iters)
                        .expect("the call succeeds")
                });
            });
        }
        group.finish();
    }
}

fn instantiation(c: &mut Criterion) {
    let mut harness = InstHarness::new(None, None).expect("the embedded guests load");
    for guest in GuestKind::ALL {
        let mut group = c.benchmark_group(format!("instantiate/{}", guest.label()));
        for kind in InstKind::ALL {
            if kind == InstKind::Compile {
                group.sample_size(10);
                group.measurement_time(Duration::from_secs(10));
            } else {
                group.sample_size(100);
                group.measurement_time(Duration::from_secs(5));
            }
            group.bench_function(kind.label(), |b| {
                b.iter_custom(|iters| harness.time(guest, kind, iters).expect("instantiates"));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, transform, instantiation);
criterion_main!(benches);
