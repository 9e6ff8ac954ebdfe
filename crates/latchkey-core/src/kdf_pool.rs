//! The bounded pool that runs Argon2id off the async runtime (DESIGN.md §1): a storm of PIN
//! attempts occupies at most `workers` threads, and once `queue` callers are waiting the
//! server answers 429 instead of piling up memory-hard hashes.

use crate::error::ApiError;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// A bounded pool for memory-hard key derivations.
#[derive(Debug, Clone)]
pub struct KdfPool {
    workers: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    worker_count: usize,
}

impl KdfPool {
    /// `workers` hashes at once; at most `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            workers: Arc::new(Semaphore::new(workers)),
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
            _admitted: admitted,
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

/// A place in the KDF queue.
#[derive(Debug)]
pub struct KdfTicket {
    pool: KdfPool,
    _admitted: tokio::sync::OwnedSemaphorePermit,
}

impl KdfTicket {
    /// Runs `job` on a blocking thread once a worker is free.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let worker = self
            .pool
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal())?;
        // The permit moves into the job so that a caller who goes away cannot free a worker
        // slot while its hash is still running.
        tokio::task::spawn_blocking(move || {
            let _worker = worker;
            job()
        })
        .await
        .map_err(|_| ApiError::internal())
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
