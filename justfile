# wasm-boundary: the menu. Logic lives in Rust (the `boundary` binary) and in web/package.json.

cargo := env_var_or_default("CARGO", "cargo")
npm := env_var_or_default("NPM", "npm")
boundary := cargo + " run --quiet -p boundary-host --"
boundary-release := cargo + " run --quiet --release -p boundary-host --"

# List the recipes.
default:
    @just --list --unsorted

# Build both guests (embedded by the host's build script), the host, and the web app.
[group('build')]
build-all: build web

# Build the guests and the host binary.
[group('build')]
build:
    {{cargo}} build -p boundary-host

# Write the embedded guests to web/wasm/, transpile with jco, and build web/dist.
[group('build')]
web:
    {{boundary}} inspect --write-guests web/wasm
    {{npm}} --prefix web ci --no-audit --no-fund
    {{npm}} --prefix web run build

# Run the chapter's walk-through: both paths on the example.
[group('run')]
demo:
    {{boundary}} demo

# Print the exports of both embedded guests (the seed's wasm-trace).
[group('run')]
trace:
    {{boundary}} inspect

# Build what is missing and serve the web app on http://127.0.0.1:8080.
[group('run')]
serve: web
    {{boundary}} serve --addr 127.0.0.1:8080

# Run every test: Rust (unit, property, CLI), then the web's Node and browser tests.
[group('check')]
test: test-rust test-web

# Rust tests only.
[group('check')]
test-rust:
    {{cargo}} test --workspace

# Node tests and the headless-Chromium tests (needs /usr/bin/chromium).
[group('check')]
test-web: build web
    {{npm}} --prefix web test

# Format all Rust code.
[group('check')]
fmt:
    {{cargo}} fmt --all

# Clippy over the workspace, warnings denied.
[group('check')]
lint:
    {{cargo}} clippy --workspace --all-targets -- -D warnings

# Soak: 1,000,000 calls per path on one instance, then 10,000 instantiate/drop cycles; prints memory figures.
[group('harden')]
soak calls="1000000" cycles="10000":
    {{cargo}} run --release -p boundary-host --example soak -- {{calls}} {{cycles}}

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

# Benchmark every workload on every path and instantiation; write bench/report.md and bench/chart.svg.
[group('perf')]
bench:
    {{boundary-release}} bench --out bench/report.md

# The same matrix with fewer, shorter samples.
[group('perf')]
bench-quick:
    {{boundary-release}} bench --quick --out bench/report.md

# The same matrix under criterion (statistics, change detection); pass a filter such as W2.
[group('perf')]
bench-criterion *filter:
    {{cargo}} bench -p boundary-host --bench boundary -- {{filter}}

# Run the browser comparison (Playwright) and put its figures into bench/report.md.
[group('perf')]
bench-web: build web
    {{npm}} --prefix web run test:e2e
    {{boundary}} bench --web-only --web-results web/test-results/comparison.json --out bench/report.md
