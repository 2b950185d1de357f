//! [`MemoryStore`]: the to-do items in a map behind one lock, gone when the server stops.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::{SEED, StoreError, TodoCap, TodoStore};
use crate::api::{Status, Todo};

/// The to-do items in memory, bounded by a [`TodoCap`]. Every operation takes the one lock once.
#[derive(Debug)]
pub struct MemoryStore {
    cap: TodoCap,
    items: Mutex<Items>,
}

#[derive(Debug)]
struct Items {
    next_id: u64,
    by_id: BTreeMap<u64, Todo>,
    /// The UTF-8 bytes of every title in `by_id`.
    bytes: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new(cap: TodoCap) -> Self {
        Self {
            cap,
            items: Mutex::new(Items {
                next_id: 1,
                by_id: BTreeMap::new(),
                bytes: 0,
            }),
        }
    }

    /// A store that starts with the [`SEED`] items, as many as fit under `cap`.
    pub fn seeded(cap: TodoCap) -> Self {
        let store = Self::new(cap);
        {
            let mut items = store.items();
            for (title, status) in SEED {
                if items.insert(cap, title, status).is_err() {
                    break;
                }
            }
        }
        store
    }

    fn items(&self) -> MutexGuard<'_, Items> {
        // Every update is one insert, change or remove after its checks, so a handler that
        // panicked cannot have left the map half-written: keep serving.
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Items {
    fn insert(&mut self, cap: TodoCap, title: &str, status: Status) -> Result<Todo, StoreError> {
        cap.check(self.by_id.len(), self.bytes, title.len())?;
        let id = self.next_id;
        self.next_id += 1;
        let todo = Todo {
            id,
            title: title.to_owned(),
            status,
        };
        self.bytes += title.len() as u64;
        self.by_id.insert(id, todo.clone());
        Ok(todo)
    }
}

impl TodoStore for MemoryStore {
    fn list(&self) -> Result<Vec<Todo>, StoreError> {
        Ok(self.items().by_id.values().cloned().collect())
    }

    fn create(&self, title: &str) -> Result<Todo, StoreError> {
        self.items().insert(self.cap, title, Status::Pending)
    }

    fn mark_done(&self, id: u64) -> Result<Todo, StoreError> {
        let mut items = self.items();
        let todo = items.by_id.get_mut(&id).ok_or(StoreError::NotFound(id))?;
        todo.status = Status::Done;
        Ok(todo.clone())
    }

    fn delete(&self, id: u64) -> Result<(), StoreError> {
        let mut items = self.items();
        let todo = items.by_id.remove(&id).ok_or(StoreError::NotFound(id))?;
        items.bytes -= todo.title.len() as u64;
        Ok(())
    }

    fn cap(&self) -> TodoCap {
        self.cap
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::store::Bound;

    #[test]
    fn the_seed_fits_under_the_cap_it_is_given() {
        let store = MemoryStore::seeded(TodoCap::default());
        assert_eq!(store.list().expect("list").len(), SEED.len());
        let small = MemoryStore::seeded(TodoCap {
            max_items: 2,
            max_bytes: 1000,
        });
        assert_eq!(
            store.list().expect("list")[..2],
            small.list().expect("list")[..]
        );
    }

    #[test]
    fn ids_are_never_reused_and_bytes_are_given_back() {
        let store = MemoryStore::new(TodoCap {
            max_items: 2,
            max_bytes: 6,
        });
        let a = store.create("abc").expect("room");
        store.create("def").expect("room");
        let full = store.create("g").expect_err("two items");
        assert!(matches!(full, StoreError::Full(f) if f.bound == Bound::Items));
        store.delete(a.id).expect("deleted");
        let c = store.create("ghi").expect("room again");
        assert!(c.id > a.id);
        store.delete(c.id).expect("deleted");
        let over = store.create("ghij").expect_err("seven bytes");
        assert!(matches!(over, StoreError::Full(f) if f.bound == Bound::Bytes));
        assert_eq!(store.list().expect("list").len(), 1);
        assert!(matches!(store.delete(a.id), Err(StoreError::NotFound(id)) if id == a.id));
        assert!(matches!(store.mark_done(99), Err(StoreError::NotFound(99))));
    }
}
