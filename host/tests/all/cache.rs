//! The compiled-guest cache: a second load of the same guest maps what the first compiled.

use std::sync::{Arc, Mutex};

use boundary_host::{
    CacheStats, CompiledCache, ComponentGuest, Instance as _, Load, RawGuest, Runtime,
    SomeDataStruct, native_transform,
};

fn cached_runtime(dir: &std::path::Path) -> Runtime {
    Runtime::new(Default::default())
        .unwrap()
        .with_cache(CompiledCache::new(dir))
}

fn stats(runtime: &Runtime) -> CacheStats {
    runtime.cache().expect("a cache").stats()
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn transforms_like_native<G: Load>(guest: &G) {
    let input = SomeDataStruct::example();
    let mut instance = guest.instantiate().await.unwrap();
    let out = instance.transform(&input).await.unwrap();
    assert_eq!(out.value, native_transform(input));
}

#[tokio::test]
async fn a_second_load_is_a_hit_and_runs_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let first = cached_runtime(dir.path());
    transforms_like_native(&ComponentGuest::load(&first, boundary_guests::COMPONENT).unwrap())
        .await;
    transforms_like_native(&RawGuest::load(&first, boundary_guests::CORE_MODULE).unwrap()).await;
    assert_eq!(
        stats(&first),
        CacheStats {
            misses: 2,
            stored: 2,
            ..CacheStats::default()
        }
    );
    assert_eq!(entries(dir.path()).len(), 2, "{:?}", entries(dir.path()));

    // A new runtime (as in a new process) with the same configuration finds both.
    let second = cached_runtime(dir.path());
    transforms_like_native(&ComponentGuest::load(&second, boundary_guests::COMPONENT).unwrap())
        .await;
    transforms_like_native(&RawGuest::load(&second, boundary_guests::CORE_MODULE).unwrap()).await;
    assert_eq!(
        stats(&second),
        CacheStats {
            hits: 2,
            ..CacheStats::default()
        }
    );
}

#[tokio::test]
async fn an_engine_configured_differently_does_not_share_entries() {
    let dir = tempfile::tempdir().unwrap();
    let plain = cached_runtime(dir.path());
    ComponentGuest::load(&plain, boundary_guests::COMPONENT).unwrap();
    let fueled = Runtime::new(boundary_host::Limits {
        fuel: Some(1 << 30),
        ..Default::default()
    })
    .unwrap()
    .with_cache(CompiledCache::new(dir.path()));
    transforms_like_native(&ComponentGuest::load(&fueled, boundary_guests::COMPONENT).unwrap())
        .await;
    assert_eq!(stats(&fueled).hits, 0, "fuel metering changes the code");
    assert_eq!(entries(dir.path()).len(), 2);
}

#[tokio::test]
async fn a_damaged_entry_is_compiled_again_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    RawGuest::load(&cached_runtime(dir.path()), boundary_guests::CORE_MODULE).unwrap();
    let [entry] = entries(dir.path()).try_into().unwrap();
    let path = dir.path().join(&entry);
    let good = std::fs::read(&path).unwrap();
    for damage in [
        Vec::new(),
        good[..good.len() / 2].to_vec(),
        b"not an ELF".to_vec(),
    ] {
        std::fs::write(&path, &damage).unwrap();
        let runtime = cached_runtime(dir.path());
        transforms_like_native(&RawGuest::load(&runtime, boundary_guests::CORE_MODULE).unwrap())
            .await;
        let stats = stats(&runtime);
        assert_eq!((stats.rejected, stats.misses, stats.stored), (1, 1, 1));
        assert_eq!(std::fs::read(&path).unwrap().len(), good.len());
    }
}

#[tokio::test]
async fn a_cache_that_cannot_be_written_reports_once_and_loads_anyway() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: nothing can be created under it.
    let blocked = dir.path().join("not-a-dir");
    std::fs::write(&blocked, b"").unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&reports);
    let runtime = Runtime::new(Default::default()).unwrap().with_cache(
        CompiledCache::new(blocked.join("cache")).on_write_failure(move |e| {
            seen.lock().unwrap().push(boundary_host::error::one_line(e));
        }),
    );
    transforms_like_native(&ComponentGuest::load(&runtime, boundary_guests::COMPONENT).unwrap())
        .await;
    transforms_like_native(&RawGuest::load(&runtime, boundary_guests::CORE_MODULE).unwrap()).await;
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].starts_with("cannot write the compiled-guest cache at ")
            && reports[0].contains("not-a-dir"),
        "{}",
        reports[0]
    );
    assert_eq!(stats(&runtime).write_failures, 2);
}

#[tokio::test]
async fn a_guest_that_does_not_compile_leaves_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = cached_runtime(dir.path());
    // A valid header, then nothing a module may hold.
    assert!(RawGuest::load(&runtime, b"\0asm\x01\0\0\0\xff").is_err());
    assert!(entries(dir.path()).is_empty());
}
