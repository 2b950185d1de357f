//! What the server asks of the operating system and the C library: a lower priority for the
//! large lane's threads, and glibc's allocator tuned to give back the memory of large requests.
//! Where a call does not exist (not Linux, not glibc), it does nothing, which is still correct.

/// Adds `nice` to the calling thread's nice value (at most 19). Raising it needs no privilege;
/// where it cannot be done the thread keeps the server's priority, which is still correct, only
/// less fair to small requests.
#[cfg(target_os = "linux")]
pub fn lower_this_threads_priority(nice: i32) {
    // SAFETY: `getpriority`/`setpriority` take plain integers and touch no memory of ours. On
    // Linux the nice value is a per-thread attribute, and `who == 0` names the calling thread.
    unsafe {
        let current = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, current.saturating_add(nice).min(19));
    }
}

/// Adds `nice` to the calling thread's nice value: nothing to do off Linux.
#[cfg(not(target_os = "linux"))]
pub fn lower_this_threads_priority(_nice: i32) {}

/// What the server does about memory the allocator keeps after large requests.
///
/// glibc's `malloc` keeps freed memory in per-thread arenas for reuse, and raises the size above
/// which it maps blocks of their own each time such a block is freed; after a burst of 7 MiB
/// bodies the process stays hundreds of MiB large. [`memory::configure`] fixes that size, so
/// large buffers are unmapped when freed, and [`memory::give_back_freed`] hands free pages back
/// to the kernel (`malloc_trim`) when the large lane goes idle. Elsewhere both do nothing.
pub mod memory {
    /// Blocks at least this large get a mapping of their own, given back when freed.
    pub const MMAP_THRESHOLD: i32 = 1 << 20;

    /// Call once at start-up.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn configure() {
        // SAFETY: `mallopt` changes a tunable of glibc's allocator; it takes integers only and
        // may be called at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }

    /// Gives the free pages of every arena back to the kernel.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn give_back_freed() {
        // SAFETY: `malloc_trim` takes an integer, only releases pages the allocator holds free,
        // and locks each arena while it does.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// Call once at start-up.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn configure() {}

    /// Gives the free pages of every arena back to the kernel.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn give_back_freed() {}
}
