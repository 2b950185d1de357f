# wasm-boundary: the menu. Logic lives in Rust (the `boundary` binary), in web/package.json and in
# web/scripts/. Every recipe installs what it needs first (the `setup` group), so on a fresh clone
# `just demo` and `just test` are all there is to run.

cargo := env_var_or_default("CARGO", "cargo")
rustup := env_var_or_default("RUSTUP", "rustup")
npm := env_var_or_default("NPM", "npm")
node := env_var_or_default("NODE", "node")
# The package of the `boundary` binary.
cli := "boundary-cli"
boundary := cargo + " run --quiet -p " + cli + " --"
boundary-release := cargo + " run --quiet --release -p " + cli + " --"
# The benchmark's crate: its criterion bench, the load test, the soak and the concurrency example.
bench-crate := "boundary-bench"
# The Extism peer: its own crate and process, with its own wasmtime (43); not a default member.
peer-extism := "boundary-peer-extism"
peer-results := "target/bench/extism.json"

# List the recipes.
default:
    @just --list --unsorted

# The pinned Rust toolchain and its wasm target (rust-toolchain.toml); instant when they are there.
[group('setup')]
setup:
    {{rustup}} toolchain install

# The pinned npm packages: `npm ci` when web/node_modules is missing or older than package-lock.json.
[group('setup')]
setup-web:
    {{node}} web/scripts/deps.mjs

# A Chromium for the browser tests: $BOUNDARY_CHROMIUM, else one on the PATH, else Debian's (apt-get, as root).
[group('setup')]
setup-browser:
    {{node}} web/scripts/browser.mjs --install

# wasm-bindgen-cli at the wasm-bindgen version in Cargo.lock (the browser's third path): cargo install, ~20 min, only when missing.
[group('setup')]
setup-bindgen:
    {{node}} web/scripts/bindgen.mjs --install

# wasmtime-cli 48.0.8 (`wasmtime serve` runs the wasi:http guest's tests): cargo install, 10-20 min, only when missing or another version.
[group('setup')]
setup-wasmtime:
    #!/usr/bin/env bash
    set -euo pipefail
    found="$(wasmtime --version 2>/dev/null || true)"
    case "$found" in
      "wasmtime 48.0.8"|"wasmtime 48.0.8 "*) echo "$found" ;;
      *) echo "installing wasmtime-cli 48.0.8 (found: ${found:-none})"
         {{cargo}} install wasmtime-cli --version =48.0.8 --locked ;;
    esac

# wrk, the load generator of `just bench-serve`: the one on the PATH, else Debian's (apt-get, as root).
[group('setup')]
setup-wrk:
    #!/usr/bin/env bash
    set -euo pipefail
    if command -v wrk >/dev/null; then exit 0; fi
    echo "installing wrk (apt-get install -y wrk)"
    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }

# Build the guests (embedded by host/guests' build script), the `boundary` binary, and the web app.
[group('build')]
build-all: build web

# Build the guests and the host binary.
[group('build')]
build: setup
    {{cargo}} build -p {{cli}}

# Write the embedded guests to web/wasm/, transpile with jco, build the wasm-bindgen guest, and build web/dist.
[group('build')]
web: setup setup-web setup-bindgen
    {{boundary}} inspect --write-guests web/wasm
    {{npm}} --prefix web run build

# The walk-through: every path on the example record, what crossed the boundary, and timings.
[group('run')]
demo: setup
    {{boundary}} demo

# Print the exports of both embedded guests (the seed's wasm-trace).
[group('run')]
trace: setup
    {{boundary}} inspect

# Build what is missing and serve the web app on http://127.0.0.1:8080.
[group('run')]
serve: web
    {{boundary}} serve --addr 127.0.0.1:8080

# Run every test: Rust (unit, property, CLI, golden), then the web's Node and browser tests.
[group('check')]
test: setup setup-wasmtime setup-web setup-browser test-rust test-peers test-web

# Rust tests only: the default members (the same features as `just build`, so wasmtime is compiled
# once), then the guests' own unit tests on the host.
[group('check')]
test-rust: setup setup-wasmtime
    {{cargo}} test
    {{cargo}} test -p boundary-guest-raw -p boundary-guest-http

# The peers' correctness tests: the Extism plugin against native Rust (builds Extism's wasmtime 43).
[group('check')]
test-peers: setup
    {{cargo}} test -p {{peer-extism}}

# Node tests and the headless-Chromium tests.
[group('check')]
test-web: setup-browser build web
    {{npm}} --prefix web test

# Format all Rust code.
[group('check')]
fmt: setup
    {{cargo}} fmt --all

# Clippy over the workspace, warnings denied.
[group('check')]
lint: setup
    {{cargo}} clippy --workspace --all-targets -- -D warnings

# Soak: 1,000,000 calls per path on one instance, then 10,000 instantiate/drop cycles; prints memory figures.
[group('harden')]
soak calls="1000000" cycles="10000": setup
    {{cargo}} run --release -p {{bench-crate}} --example soak -- {{calls}} {{cycles}}

# Run one fuzz target for SECS seconds (raw_decoder, host_result, differential); needs cargo-fuzz and nightly.
[group('harden')]
fuzz target secs="60":
    cd fuzz && {{cargo}} +nightly fuzz run {{target}} -- -max_total_time={{secs}}

# Every fuzz target for SECS seconds each, as CI does.
[group('harden')]
fuzz-all secs="30":
    just fuzz raw_decoder {{secs}}
    just fuzz host_result {{secs}}
    just fuzz differential {{secs}}

# Benchmark every workload on every path and instantiation (the Extism peer first, in its own process), then the browser's three paths (bench-web); write bench/report.md and bench/chart.svg.
[group('perf')]
bench: setup (bench-peers) && bench-web
    {{boundary-release}} bench --peer-results {{peer-results}} --out bench/report.md

# The same matrix with fewer, shorter samples.
[group('perf')]
bench-quick: setup (bench-peers "--quick")
    {{boundary-release}} bench --quick --peer-results {{peer-results}} --out bench/report.md

# The Extism peer alone, in its own process with its own native baseline: writes target/bench/extism.json.
[group('perf')]
bench-peers *flags: setup
    {{cargo}} run --quiet --release -p {{peer-extism}} --bin boundary-extism -- bench {{flags}} --out {{peer-results}}

# The same matrix under criterion (statistics, change detection); pass a filter such as W2.
[group('perf')]
bench-criterion *filter: setup
    {{cargo}} bench -p {{bench-crate}} --bench boundary -- {{filter}}

# What wasmtime's concurrency_support costs a synchronous component call, on and off in one run: writes bench/concurrency.md. Builds wasmtime with component-model-async in its own target directory (target/concurrency), so the main build is untouched.
[group('perf')]
bench-concurrency: setup
    CARGO_TARGET_DIR=target/concurrency {{cargo}} run --quiet --release -p {{bench-crate}} --features component-model-async --example concurrency -- --out bench/concurrency.md

# Load figures on loopback (wrk): `boundary serve` on every registered path, `wasmtime serve` with the http guest, small requests beside eight 7 MiB ones on each path; writes bench/serve.md and bench/serve.json.
[group('perf')]
bench-serve *flags: setup setup-wrk setup-wasmtime
    {{cargo}} build --quiet --release -p {{cli}} --bin boundary
    {{cargo}} run --quiet --release -p {{bench-crate}} --bin bench_serve -- {{flags}}

# Run the browser comparison (Playwright) and put its figures into bench/report.md.
[group('perf')]
bench-web: setup-browser build web
    {{npm}} --prefix web run test:e2e
    {{boundary}} bench --web-only --web-results web/test-results/comparison.json --out bench/report.md
