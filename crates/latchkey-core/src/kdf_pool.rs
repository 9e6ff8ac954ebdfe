//! The bounded pool that runs Argon2id off the async runtime (docs/security.md): a storm of PIN
//! attempts occupies at most `workers` threads, and once `queue` callers are waiting, or the
//! hashes already queued would keep a newcomer waiting longer than `max_wait`, the server
//! answers 429 instead of piling up memory-hard hashes. The wait bound is what keeps a storm
//! from turning into request timeouts: a 429 is refused before any guess is counted and says
//! "nothing happened, retry", while a 408 after the hash leaves the client unsure whether its
//! PIN changed.

use crate::error::ApiError;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

type Job = Box<dyn FnOnce() + Send>;

/// A bounded pool for memory-hard key derivations: `workers` dedicated threads take jobs in
/// arrival order, so the pool stays busy with no thread start-up between hashes.
#[derive(Debug, Clone)]
pub struct KdfPool {
    jobs: mpsc::Sender<Job>,
    admitted: Arc<Semaphore>,
    worker_count: usize,
    load: Arc<Load>,
    max_wait: Duration,
}

/// What the pool has queued, and how long a hash has been taking.
#[derive(Debug, Default)]
struct Load {
    /// Jobs sent to the threads and not finished.
    pending: AtomicUsize,
    /// Moving average of one job's duration, in microseconds (0 before the first job).
    mean_us: AtomicU64,
}

impl Load {
    fn record(&self, took: Duration) {
        let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        // An exponential moving average (weight 1/8): follows a changed cost within a few
        // dozen hashes, and one slow hash does not move it much.
        let _ = self
            .mean_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |mean| {
                Some(if mean == 0 {
                    took
                } else {
                    mean - mean / 8 + took / 8
                })
            });
    }
}

impl KdfPool {
    /// `workers` hashes at once; at most `queue` more waiting, and no newcomer admitted when
    /// the queued hashes would take longer than [`defaults::KDF_MAX_WAIT_MS`] (see
    /// [`KdfPool::with_max_wait`]).
    ///
    /// [`defaults::KDF_MAX_WAIT_MS`]: crate::defaults::KDF_MAX_WAIT_MS
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("latchkey-kdf-{i}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // every pool handle is gone
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a KDF thread");
            }
        }
        Self {
            jobs,
            admitted: Arc::new(Semaphore::new(workers + queue)),
            worker_count: workers,
            load: Arc::new(Load::default()),
            max_wait: Duration::from_millis(crate::defaults::KDF_MAX_WAIT_MS),
        }
    }

    /// The longest a newcomer may expect to wait for the hashes queued before it; past it,
    /// [`KdfPool::admit`] refuses (429). Servers set it to a third of their request timeout:
    /// a PIN change is two hashes after the wait, and the answer must beat the timeout.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// How long the hashes queued now would keep a newcomer waiting (their count times the
    /// recent duration of one, shared among the threads).
    fn expected_wait(&self) -> Duration {
        let pending = self.load.pending.load(Ordering::Relaxed) as u64;
        let mean = self.load.mean_us.load(Ordering::Relaxed);
        let workers = self.worker_count.max(1) as u64;
        Duration::from_micros(pending.saturating_mul(mean) / workers)
    }

    /// The default size: one thread fewer than the machine has cores, at least one.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1))
            .unwrap_or(1)
            .max(1)
    }

    /// How many hashes run at once.
    pub fn workers(&self) -> usize {
        self.worker_count
    }

    /// Takes a place in the queue, or refuses with 429 when it is full. Callers admit
    /// *before* they count a guess, so that a refusal never costs the user an attempt.
    pub fn admit(&self) -> Result<KdfTicket, ApiError> {
        if self.expected_wait() > self.max_wait {
            return Err(ApiError::too_many_requests());
        }
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::too_many_requests())?;
        Ok(KdfTicket {
            pool: self.clone(),
            admitted: Arc::new(admitted),
        })
    }

    /// Admits and runs `job` (see [`KdfTicket::run`]).
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.admit()?.run(job).await
    }
}

/// A place in the KDF queue, held until the caller and every job it queued are done. A clone
/// shares the place (for a job handed to a task of its own).
#[derive(Debug, Clone)]
pub struct KdfTicket {
    pool: KdfPool,
    admitted: Arc<OwnedSemaphorePermit>,
}

impl KdfTicket {
    /// Runs `job` on a pool thread, in arrival order.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        // The job keeps the place in the queue even if the caller goes away mid-hash.
        let place = self.admitted.clone();
        let load = self.pool.load.clone();
        load.pending.fetch_add(1, Ordering::Relaxed);
        let sent = self.pool.jobs.send(Box::new(move || {
            let _place = place;
            let started = Instant::now();
            let out = job();
            load.record(started.elapsed());
            load.pending.fetch_sub(1, Ordering::Relaxed);
            let _ = tx.send(out);
        }));
        if sent.is_err() {
            self.pool.load.pending.fetch_sub(1, Ordering::Relaxed);
            return Err(ApiError::internal());
        }
        rx.await.map_err(|_| ApiError::internal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn never_runs_more_than_workers_and_refuses_past_queue() {
        let pool = KdfPool::new(2, 2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (pool, running, peak) = (pool.clone(), running.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        let mut refused = 0;
        for t in tasks {
            if let Err(e) = t.await.unwrap() {
                assert_eq!(e.status, 429);
                refused += 1;
            }
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert!(refused >= 4, "refused {refused}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_when_the_queued_hashes_would_outlast_the_wait_bound() {
        // Room for 100 in the queue, but 50 ms jobs on one thread and a 120 ms bound: once
        // the pool has timed a job, only about three may wait.
        let pool = KdfPool::new(1, 100).with_max_wait(Duration::from_millis(120));
        let sleep = || std::thread::sleep(Duration::from_millis(50));
        pool.run(sleep).await.unwrap(); // the pool learns what a job costs
        let mut tasks = Vec::new();
        let mut refused = 0;
        for _ in 0..10 {
            match pool.admit() {
                Ok(ticket) => {
                    // Queue the job now (run sends before it awaits), so the next admit sees it.
                    let fut = async move { ticket.run(sleep).await };
                    let task = tokio::spawn(fut);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    tasks.push(task);
                }
                Err(e) => {
                    assert_eq!(e.status, 429);
                    refused += 1;
                }
            }
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(
            (2..=5).contains(&(10 - refused)),
            "admitted {}",
            10 - refused
        );
        // Drained: admitted again at once.
        assert!(pool.admit().is_ok());
    }
}
