//! One pool of instances over any path: what every caller that makes more than one call uses.

use std::sync::Mutex;

use boundary_kernel::SomeDataStruct;

use crate::Called;
use crate::error::CallError;
use crate::path::{Guest, Instance};

/// Instances of one guest, reused across calls and shared between tasks.
///
/// A call takes an idle instance (or creates one), runs, and gives the instance back unless the
/// error it returned says the instance must not be called again ([`Instance::is_reusable_after`]).
/// At most `max_idle` instances are kept; more may be in use at once, one per concurrent call,
/// so a caller that needs a bound on concurrent calls (as `boundary serve` does) bounds its calls.
/// An instance whose linear memory grew past [`Pool::with_max_idle_memory`] is dropped after its
/// call instead of kept, so that one large call does not hold its memory for ever. A call that
/// is cancelled drops its instance.
pub struct Pool<G: Guest> {
    guest: G,
    idle: Mutex<Vec<G::Instance>>,
    max_idle: usize,
    max_idle_memory: usize,
}

impl<G: Guest> std::fmt::Debug for Pool<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("idle", &self.idle_count())
            .field("max_idle", &self.max_idle)
            .field("max_idle_memory", &self.max_idle_memory)
            .finish_non_exhaustive()
    }
}

impl<G: Guest> Pool<G> {
    /// A pool that keeps at most `max_idle` instances of `guest` between calls (at least one),
    /// whatever their memory.
    pub fn new(guest: G, max_idle: usize) -> Self {
        Self {
            guest,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
            max_idle_memory: usize::MAX,
        }
    }

    /// Keeps only instances whose linear memory ([`Instance::memory_bytes`]) is at most `bytes`
    /// after a call: a larger one is dropped, and its memory returned, once its call is done.
    #[must_use]
    pub fn with_max_idle_memory(mut self, bytes: usize) -> Self {
        self.max_idle_memory = bytes;
        self
    }

    /// The guest the pool instantiates.
    pub fn guest(&self) -> &G {
        &self.guest
    }

    /// How many instances are idle now.
    pub fn idle_count(&self) -> usize {
        self.lock().len()
    }

    /// Calls `transform` on a pooled instance.
    ///
    /// # Errors
    ///
    /// As [`Guest::instantiate`] and [`Instance::transform`].
    pub async fn transform(
        &self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let mut instance = self.take().await?;
        let result = instance.transform(input).await;
        self.give_back(instance, result.as_ref().err());
        result
    }

    /// Calls `button-text` on a pooled instance.
    ///
    /// # Errors
    ///
    /// As [`Guest::instantiate`] and [`Instance::button_text`].
    pub async fn button_text(&self, status: &str) -> Result<Called<String>, CallError> {
        let mut instance = self.take().await?;
        let result = instance.button_text(status).await;
        self.give_back(instance, result.as_ref().err());
        result
    }

    async fn take(&self) -> Result<G::Instance, CallError> {
        let idle = self.lock().pop();
        match idle {
            Some(instance) => Ok(instance),
            None => self.guest.instantiate().await,
        }
    }

    fn give_back(&self, instance: G::Instance, error: Option<&CallError>) {
        if error.is_none_or(|error| instance.is_reusable_after(error))
            && instance.memory_bytes() <= self.max_idle_memory
        {
            let mut idle = self.lock();
            if idle.len() < self.max_idle {
                idle.push(instance);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<G::Instance>> {
        // A panic while the lock is held cannot leave the list half-changed (push and pop are
        // the only operations), so a poisoned lock is still a good list.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    use super::*;
    use crate::Traffic;

    /// A guest whose instances report the memory `memory` holds when they are called.
    #[derive(Clone, Default)]
    struct Fake {
        memory: Arc<AtomicUsize>,
        created: Arc<AtomicU64>,
    }

    struct FakeInstance {
        memory: Arc<AtomicUsize>,
        grown: usize,
    }

    impl Guest for Fake {
        type Instance = FakeInstance;

        async fn instantiate(&self) -> Result<FakeInstance, CallError> {
            self.created.fetch_add(1, Ordering::Relaxed);
            Ok(FakeInstance {
                memory: self.memory.clone(),
                grown: 0,
            })
        }

        fn instances_created(&self) -> u64 {
            self.created.load(Ordering::Relaxed)
        }
    }

    impl Instance for FakeInstance {
        async fn transform(
            &mut self,
            input: &SomeDataStruct,
        ) -> Result<Called<SomeDataStruct>, CallError> {
            self.grown = self.grown.max(self.memory.load(Ordering::Relaxed));
            Ok(Called {
                value: input.clone(),
                traffic: Traffic::default(),
            })
        }

        async fn button_text(&mut self, status: &str) -> Result<Called<String>, CallError> {
            Ok(Called {
                value: status.to_owned(),
                traffic: Traffic::default(),
            })
        }

        fn memory_bytes(&self) -> usize {
            self.grown
        }
    }

    #[test]
    fn an_instance_that_grew_past_max_idle_memory_is_dropped_after_its_call() {
        let guest = Fake::default();
        let pool = Pool::new(guest.clone(), 4).with_max_idle_memory(1000);
        let call = || crate::path::block_on(pool.transform(&SomeDataStruct::example()));

        guest.memory.store(1000, Ordering::Relaxed);
        call().unwrap();
        call().unwrap();
        assert_eq!((guest.instances_created(), pool.idle_count()), (1, 1));

        // One large call: its instance is not kept, and the next call gets a fresh one.
        guest.memory.store(1001, Ordering::Relaxed);
        call().unwrap();
        assert_eq!((guest.instances_created(), pool.idle_count()), (1, 0));
        guest.memory.store(10, Ordering::Relaxed);
        call().unwrap();
        call().unwrap();
        assert_eq!((guest.instances_created(), pool.idle_count()), (2, 1));

        // Without the bound, every instance is kept.
        let unbounded = Pool::new(guest.clone(), 4);
        guest.memory.store(usize::MAX, Ordering::Relaxed);
        crate::path::block_on(unbounded.transform(&SomeDataStruct::example())).unwrap();
        assert_eq!(unbounded.idle_count(), 1);
    }
}
