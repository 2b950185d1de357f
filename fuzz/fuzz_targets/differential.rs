//! Native Rust and every registered path agree on arbitrary records.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use boundary_host::{AnyGuest, Pool, Runtime, SomeDataStruct};
use libfuzzer_sys::fuzz_target;

struct Guests {
    rt: tokio::runtime::Runtime,
    paths: Vec<Pool<AnyGuest>>,
}

fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio");
        let runtime = Runtime::new(Default::default()).expect("engine");
        Guests {
            rt,
            paths: boundary_guests::paths()
                .iter()
                .map(|path| Pool::new(path.load_default(&runtime).expect("default guest"), 1))
                .collect(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(name), Ok(names)) = (String::arbitrary(&mut u), Vec::<String>::arbitrary(&mut u))
    else {
        return;
    };
    let input = SomeDataStruct { name, names };
    let native = boundary_host::native_transform(input.clone());
    let g = guests();
    for pool in &g.paths {
        let name = pool.guest().name();
        let output = g.rt.block_on(pool.transform(&input)).expect(name).value;
        assert_eq!(output, native, "{name}");
    }
});
