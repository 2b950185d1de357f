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
/// At most `max_idle` instances are kept; more may be in use at once, one per concurrent call.
/// A call that is cancelled drops its instance.
pub struct Pool<G: Guest> {
    guest: G,
    idle: Mutex<Vec<G::Instance>>,
    max_idle: usize,
}

impl<G: Guest> std::fmt::Debug for Pool<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("idle", &self.idle_count())
            .field("max_idle", &self.max_idle)
            .finish_non_exhaustive()
    }
}

impl<G: Guest> Pool<G> {
    /// A pool that keeps at most `max_idle` instances of `guest` between calls (at least one).
    pub fn new(guest: G, max_idle: usize) -> Self {
        Self {
            guest,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
        }
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
        if error.is_none_or(|error| instance.is_reusable_after(error)) {
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
