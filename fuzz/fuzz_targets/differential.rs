//! Native Rust, the component path and the raw path agree on arbitrary records.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use boundary_host::{ComponentGuest, RawGuest, Runtime, SomeDataStruct, embedded};
use libfuzzer_sys::fuzz_target;

struct Guests {
    rt: tokio::runtime::Runtime,
    component: ComponentGuest,
    raw: RawGuest,
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
            component: runtime.component(embedded::COMPONENT).expect("component"),
            raw: runtime.raw(embedded::CORE_MODULE).expect("core module"),
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
    let component =
        g.rt.block_on(g.component.transform(&input))
            .expect("component path")
            .value;
    let raw =
        g.rt.block_on(g.raw.transform(&input))
            .expect("raw path")
            .value;
    assert_eq!(component, native);
    assert_eq!(raw, native);
});
