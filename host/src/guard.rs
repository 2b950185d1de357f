//! What every store gets, on both paths: resource limits, a deadline, optional fuel, a call
//! counter, and the classification of what went wrong into a precise [`CallError`].

use wasmtime::{CallHook, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};

use crate::Limits;
use crate::error::{CallError, wasmtime_one_line};

/// Per-store state shared by both paths.
pub(crate) struct Guard {
    limits: Limits,
    memory: StoreLimits,
    /// Set when the store refused to grow a memory or table: the next error is a memory limit.
    limit_hit: bool,
    /// Entries into guest code during the current call.
    pub(crate) guest_calls: u32,
    /// Linear memory the guest holds, in bytes: the largest size a memory has grown to.
    pub(crate) memory_bytes: usize,
}

impl Guard {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            memory: StoreLimitsBuilder::new()
                .memory_size(limits.max_memory_bytes)
                .instances(16)
                .tables(16)
                .memories(4)
                .build(),
            limit_hit: false,
            guest_calls: 0,
            memory_bytes: 0,
        }
    }
}

impl ResourceLimiter for Guard {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.memory.memory_growing(current, desired, maximum)?;
        self.limit_hit |= !allowed;
        if allowed {
            self.memory_bytes = self.memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.memory.table_growing(current, desired, maximum)?;
        self.limit_hit |= !allowed;
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        self.memory.instances()
    }

    fn tables(&self) -> usize {
        self.memory.tables()
    }

    fn memories(&self) -> usize {
        self.memory.memories()
    }
}

/// Installs the guard on a new store: the limiter, the call counter, and the deadline and fuel
/// for instantiation.
pub(crate) fn install<T: Send + 'static>(store: &mut Store<T>, guard: fn(&mut T) -> &mut Guard) {
    store.limiter(move |state| guard(state) as &mut dyn ResourceLimiter);
    if guard(store.data_mut()).limits.count_guest_calls {
        store.call_hook(move |mut store, hook| {
            if matches!(hook, CallHook::CallingWasm) {
                let calls = &mut guard(store.data_mut()).guest_calls;
                *calls = calls.saturating_add(1);
            }
            Ok(())
        });
    }
    store.epoch_deadline_trap();
    arm(store, guard);
}

/// Re-arms the deadline and fuel, and resets the counters, before a call.
pub(crate) fn arm<T>(store: &mut Store<T>, guard: fn(&mut T) -> &mut Guard) {
    let state = guard(store.data_mut());
    state.guest_calls = 0;
    state.limit_hit = false;
    let limits = state.limits;
    store.set_epoch_deadline(crate::runtime::deadline_ticks(limits.deadline));
    if let Some(fuel) = limits.fuel {
        // Fuel is enabled on the engine exactly when `limits.fuel` is set.
        store.set_fuel(fuel).ok();
    }
}

/// Turns an error from a call into guest code into the most precise [`CallError`].
pub(crate) fn classify(error: wasmtime::Error, guard: &Guard) -> CallError {
    let limits = guard.limits;
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => CallError::Timeout {
            deadline: limits.deadline,
        },
        Some(Trap::OutOfFuel) => CallError::OutOfFuel {
            fuel: limits.fuel.unwrap_or_default(),
        },
        Some(Trap::StackOverflow) => CallError::StackOverflow {
            max_wasm_stack: limits.max_wasm_stack,
        },
        _ if guard.limit_hit => CallError::MemoryLimit {
            limit: limits.max_memory_bytes,
            source: error.into(),
        },
        // Lifting a result stops when it would allocate more than the store's hostcall fuel,
        // which the component path sets to the output limit. Wasmtime's error type for it is
        // private, so it is recognised by its message ("...: fuel allocated for hostcalls has
        // been exhausted" in wasmtime 48).
        _ if error.chain().any(|cause| {
            let message = cause.to_string();
            message.contains("fuel allocated for hostcalls") || message.contains("hostcall fuel")
        }) =>
        {
            CallError::OutputTooLarge {
                len: None,
                max: limits.max_output_bytes,
            }
        }
        _ => CallError::Trap(wasmtime_one_line(&error)),
    }
}

/// Turns an error from instantiating a guest into a [`CallError`]: a plain trap there is the
/// guest's start-up code failing, so it is [`CallError::Instantiate`]; limits stay what they are.
pub(crate) fn classify_instantiation(error: wasmtime::Error, guard: &Guard) -> CallError {
    match classify(error, guard) {
        CallError::Trap(message) => CallError::Instantiate(message),
        other => other,
    }
}
