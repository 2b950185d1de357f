//! The benchmark as a library: what `boundary bench` runs, and what the load test of the
//! servers (`just bench-serve`) is made of. The reports it writes sit beside this crate, in
//! `bench/*.md`.
