//! The bounded pool that runs Argon2id off the async runtime (docs/security.md): a storm of PIN
//! attempts occupies at most `workers` threads, and once `queue` callers are waiting the
//! server answers 429 instead of piling up memory-hard hashes.

use crate::error::ApiError;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

type Job = Box<dyn FnOnce() + Send>;

/// A bounded pool for memory-hard key derivations: `workers` dedicated threads take jobs in
/// arrival order, so the pool stays busy with no thread start-up between hashes.
#[derive(Debug, Clone)]
pub struct KdfPool {
    jobs: mpsc::Sender<Job>,
    admitted: Arc<Semaphore>,
    worker_count: usize,
}

impl KdfPool {
    /// `workers` hashes at once; at most `queue` more waiting.
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
        }
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
        self.pool
            .jobs
            .send(Box::new(move || {
                let _place = place;
                let _ = tx.send(job());
            }))
            .map_err(|_| ApiError::internal())?;
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
}
