//! Admission of transforms: two lanes by declared body size, each with a bounded number of
//! running and waiting calls, refused at once past that, and the threads each lane runs its calls
//! on. Nothing here knows HTTP: the transform handler asks for a [`Ticket`] before it reads a
//! body, a [`Turn`] before it calls a guest, and maps a [`Refusal`] to a status.
//!
//! A request is admitted into the [`Lane`] its `Content-Length` names ([`Lane::of`]). A lane's
//! [`LaneGate`] hands out at most `max_in_flight + queue_depth` tickets (admitted: reading a
//! body, waiting, or running) and at most `max_in_flight` turns (running). One more request is
//! [`Refusal::Full`], and counted. Small calls run on tokio's blocking threads; large ones on a
//! thread of their own, [`LARGE_LANE_NICE`] below the server's priority ([`Lane::run`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::os;

/// The largest `Content-Length` of a transform that runs in the small lane.
pub const SMALL_BODY: u64 = 64 << 10;
/// The default of `--queue-depth`.
pub const DEFAULT_QUEUE_DEPTH: usize = 32;
/// The `Retry-After` of a refusal, in seconds.
pub const RETRY_AFTER_SECS: u32 = 1;
/// The nice value a large-lane thread adds to its own: see [`Lane::run`].
pub const LARGE_LANE_NICE: i32 = 10;

/// How many transforms run at once and how many may wait, in each lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Transforms that run at once (at least one): `--max-in-flight`.
    pub max_in_flight: usize,
    /// Transforms that may wait for one of those to finish: `--queue-depth`.
    pub queue_depth: usize,
}

impl Capacity {
    /// One running transform per core, and [`DEFAULT_QUEUE_DEPTH`] waiting.
    pub fn per_core() -> Self {
        Self {
            max_in_flight: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            queue_depth: DEFAULT_QUEUE_DEPTH,
        }
    }

    /// This capacity with at least one transform running at once.
    #[must_use]
    pub fn at_least_one(self) -> Self {
        Self {
            max_in_flight: self.max_in_flight.max(1),
            ..self
        }
    }

    /// Transforms admitted at most: running and waiting.
    pub fn admitted(self) -> usize {
        self.max_in_flight.saturating_add(self.queue_depth)
    }
}

/// The lane a transform runs in, chosen by the size its request declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Bodies of at most [`SMALL_BODY`] bytes.
    Small,
    /// Larger bodies, and bodies of unknown length.
    Large,
}

impl Lane {
    /// The lane of a request whose `Content-Length` header is `content_length` (`None` when the
    /// header is absent or not text): small up to [`SMALL_BODY`], large otherwise, and large
    /// when the length is not a number.
    pub fn of(content_length: Option<&str>) -> Self {
        match content_length.and_then(|value| value.parse::<u64>().ok()) {
            Some(len) if len <= SMALL_BODY => Self::Small,
            _ => Self::Large,
        }
    }

    /// `small` or `large`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Large => "large",
        }
    }

    /// Runs `job` off the async executor, on this lane's kind of thread, and waits for it
    /// without blocking the executor.
    ///
    /// A small job runs on tokio's blocking threads. A large one runs on a thread started for
    /// it, whose scheduling priority is [`LARGE_LANE_NICE`] below the server's: when large and
    /// small transforms want the same cores, the kernel gives the small ones the larger share
    /// (about nine parts in ten at nice 10), so a small request is not slowed by large ones
    /// beside it; when no small transform is waiting, the large ones still use every core. A
    /// thread per large call costs tens of microseconds against a call of tens of milliseconds.
    ///
    /// The job is not cancelled when the returned future is dropped: it runs to its end.
    ///
    /// # Errors
    ///
    /// [`ThreadFailed`] if the thread cannot be started or the job panics.
    pub async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ThreadFailed> {
        match self {
            Self::Small => tokio::task::spawn_blocking(job)
                .await
                .map_err(|e| ThreadFailed(e.to_string())),
            Self::Large => {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                std::thread::Builder::new()
                    .name("boundary-large".to_owned())
                    .spawn(move || {
                        os::lower_this_threads_priority(LARGE_LANE_NICE);
                        sender.send(job()).ok();
                    })
                    .map_err(|e| ThreadFailed(format!("cannot start a thread for it: {e}")))?;
                receiver
                    .await
                    .map_err(|_| ThreadFailed("it panicked".to_owned()))
            }
        }
    }
}

/// A transform's thread did not give back a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the transform's thread failed: {0}")]
pub struct ThreadFailed(pub String);

/// Why a lane did not admit a transform, or give it a turn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Every ticket of the lane is out: `max_in_flight` running and `queue_depth` waiting.
    #[error(
        "the server is busy: {} transforms of the {} lane are running and {} waiting \
         (--max-in-flight, --queue-depth); retry after {RETRY_AFTER_SECS} s",
        capacity.max_in_flight, lane.name(), capacity.queue_depth
    )]
    Full {
        /// The full lane.
        lane: Lane,
        /// Its capacity.
        capacity: Capacity,
    },
    /// The lane's semaphore was closed (it never is while the server runs).
    #[error("the lane was closed")]
    Closed,
}

/// What one lane is doing now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneLoad {
    /// Transforms admitted and not finished: running, waiting for a turn, or reading their body.
    pub admitted: usize,
    /// Transforms on a blocking thread now.
    pub running: usize,
    /// The most that were ever on a blocking thread at once.
    pub peak_running: usize,
    /// Requests refused so far.
    pub refused: usize,
}

/// One lane's bounds: tickets for admission (running and waiting), turns for running, and what
/// it has done.
#[derive(Debug)]
pub struct LaneGate {
    lane: Lane,
    capacity: Capacity,
    tickets: Arc<Semaphore>,
    turns: Arc<Semaphore>,
    running: AtomicUsize,
    peak_running: AtomicUsize,
    refused: AtomicUsize,
}

/// Leave to be in a lane (reading a body, waiting, running), until dropped.
#[derive(Debug)]
#[must_use = "the transform is admitted only while its ticket lives"]
pub struct Ticket(#[allow(dead_code)] OwnedSemaphorePermit);

/// Leave to run in a lane, until dropped.
#[derive(Debug)]
#[must_use = "the transform may run only while its turn lives"]
pub struct Turn(#[allow(dead_code)] OwnedSemaphorePermit);

/// Counts a transform as running while it lives ([`LaneGate::start`]).
#[derive(Debug)]
#[must_use = "the transform counts as running only while this lives"]
pub struct Running<'a>(&'a LaneGate);

impl LaneGate {
    /// A gate for `lane` with `capacity` (at least one running).
    pub fn new(lane: Lane, capacity: Capacity) -> Self {
        let capacity = capacity.at_least_one();
        Self {
            lane,
            capacity,
            tickets: Arc::new(Semaphore::new(capacity.admitted())),
            turns: Arc::new(Semaphore::new(capacity.max_in_flight)),
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        }
    }

    /// The lane this gate bounds.
    pub fn lane(&self) -> Lane {
        self.lane
    }

    /// A ticket to wait and run, at once.
    ///
    /// # Errors
    ///
    /// [`Refusal::Full`], counted in [`LaneLoad::refused`], when every ticket is out.
    pub fn admit(&self) -> Result<Ticket, Refusal> {
        self.tickets
            .clone()
            .try_acquire_owned()
            .map(Ticket)
            .map_err(|_| {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Refusal::Full {
                    lane: self.lane,
                    capacity: self.capacity,
                }
            })
    }

    /// Waits for a turn to run: at most `max_in_flight` are out at once.
    ///
    /// # Errors
    ///
    /// [`Refusal::Closed`] if the lane was closed, which does not happen.
    pub async fn turn(&self) -> Result<Turn, Refusal> {
        self.turns
            .clone()
            .acquire_owned()
            .await
            .map(Turn)
            .map_err(|_| Refusal::Closed)
    }

    /// Counts a transform as running until the returned guard is dropped.
    pub fn start(&self) -> Running<'_> {
        let now = self.running.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_running.fetch_max(now, Ordering::Relaxed);
        Running(self)
    }

    /// What the lane is doing now.
    pub fn load(&self) -> LaneLoad {
        LaneLoad {
            admitted: self
                .capacity
                .admitted()
                .saturating_sub(self.tickets.available_permits()),
            running: self.running.load(Ordering::Relaxed),
            peak_running: self.peak_running.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    const CAPACITY: Capacity = Capacity {
        max_in_flight: 2,
        queue_depth: 3,
    };

    /// Polls `future` once, without waiting.
    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn admits_running_plus_waiting_then_refuses_and_counts() {
        let gate = LaneGate::new(Lane::Small, CAPACITY);
        let tickets: Vec<Ticket> = (0..5).map(|_| gate.admit().expect("room")).collect();
        assert_eq!(gate.load().admitted, 5);
        for refused in 1..=2 {
            let refusal = gate.admit().expect_err("full");
            assert_eq!(
                refusal,
                Refusal::Full {
                    lane: Lane::Small,
                    capacity: CAPACITY
                }
            );
            assert_eq!(gate.load().refused, refused);
        }
        assert_eq!(gate.load().admitted, 5);
        // A ticket given back makes room for one more.
        drop(tickets);
        assert_eq!(gate.load().admitted, 0);
        let _again = gate.admit().expect("room again");
        assert_eq!(
            gate.load(),
            LaneLoad {
                admitted: 1,
                running: 0,
                peak_running: 0,
                refused: 2,
            }
        );
    }

    #[test]
    fn a_refusal_names_the_lane_and_the_flags() {
        let gate = LaneGate::new(
            Lane::Large,
            Capacity {
                max_in_flight: 1,
                queue_depth: 0,
            },
        );
        let _ticket = gate.admit().expect("room");
        let message = gate.admit().expect_err("full").to_string();
        assert_eq!(
            message,
            "the server is busy: 1 transforms of the large lane are running and 0 waiting \
             (--max-in-flight, --queue-depth); retry after 1 s"
        );
    }

    #[test]
    fn no_more_than_max_in_flight_turns_are_out() {
        let gate = LaneGate::new(Lane::Small, CAPACITY);
        let first = poll_once(pin!(gate.turn()));
        let second = poll_once(pin!(gate.turn()));
        let (Poll::Ready(Ok(first)), Poll::Ready(Ok(_second))) = (first, second) else {
            panic!("two turns are free");
        };
        let mut third = pin!(gate.turn());
        assert!(poll_once(third.as_mut()).is_pending(), "a third turn waits");
        drop(first);
        assert!(
            matches!(poll_once(third.as_mut()), Poll::Ready(Ok(_))),
            "a turn given back goes to the one waiting"
        );
    }

    #[test]
    fn a_capacity_of_zero_still_runs_one() {
        let gate = LaneGate::new(
            Lane::Small,
            Capacity {
                max_in_flight: 0,
                queue_depth: 0,
            },
        );
        let _ticket = gate.admit().expect("one runs");
        assert!(gate.admit().is_err());
        assert!(poll_once(pin!(gate.turn())).is_ready());
    }

    #[test]
    fn running_and_its_peak_are_counted() {
        let gate = LaneGate::new(Lane::Large, CAPACITY);
        let one = gate.start();
        let two = gate.start();
        assert_eq!((gate.load().running, gate.load().peak_running), (2, 2));
        drop(one);
        let three = gate.start();
        assert_eq!((gate.load().running, gate.load().peak_running), (2, 2));
        drop((two, three));
        assert_eq!((gate.load().running, gate.load().peak_running), (0, 2));
    }

    #[test]
    fn the_lane_is_chosen_by_content_length() {
        let small = SMALL_BODY.to_string();
        let over = (SMALL_BODY + 1).to_string();
        for (length, lane) in [
            (Some("0"), Lane::Small),
            (Some(small.as_str()), Lane::Small),
            (Some(over.as_str()), Lane::Large),
            (None, Lane::Large),
            (Some(""), Lane::Large),
            (Some("-1"), Lane::Large),
            (Some("12 34"), Lane::Large),
            (Some("99999999999999999999999"), Lane::Large),
        ] {
            assert_eq!(Lane::of(length), lane, "{length:?}");
        }
    }

    #[tokio::test]
    async fn each_lane_runs_its_job_off_the_executor_and_reports_a_panic() {
        let here = std::thread::current().id();
        for lane in [Lane::Small, Lane::Large] {
            let (id, name) = lane
                .run(|| {
                    let thread = std::thread::current();
                    (thread.id(), thread.name().map(str::to_owned))
                })
                .await
                .expect("runs");
            assert_ne!(id, here, "{lane:?}");
            if lane == Lane::Large {
                assert_eq!(name.as_deref(), Some("boundary-large"));
            }
            let failed = lane
                .run(|| -> u8 { panic!("on purpose") })
                .await
                .expect_err("panicked");
            assert!(
                failed
                    .to_string()
                    .starts_with("the transform's thread failed: "),
                "{failed}"
            );
        }
    }
}
