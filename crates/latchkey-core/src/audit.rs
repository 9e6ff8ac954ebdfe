//! Audit events that need no transaction of their own (a token issued) are queued here and
//! written in batches, so that the hot token path never waits for a durable commit. Events
//! that belong to a state change (guesses, locks, recoveries) are written in that change's
//! transaction instead, never through this queue.

use crate::model::AuditEvent;
use crate::store::Store;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

enum Message {
    Event(AuditEvent),
    Flush(oneshot::Sender<()>),
}

/// The handle that queues audit events.
#[derive(Debug, Clone)]
pub struct AuditSender(mpsc::UnboundedSender<Message>);

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditMessage")
    }
}

const BATCH: usize = 512;

impl AuditSender {
    /// Starts the writer task.
    pub fn spawn(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut waiters = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                while let Some(message) = next.take() {
                    match message {
                        Message::Event(e) => batch.push(e),
                        Message::Flush(w) => waiters.push(w),
                    }
                    if batch.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    if let Err(e) = store.append_audit(&batch).await {
                        tracing::error!(error = %e, lost = batch.len(), "audit batch not written");
                    }
                    batch.clear();
                }
                for w in waiters.drain(..) {
                    let _ = w.send(());
                }
            }
        });
        Self(tx)
    }

    /// Queues one event.
    pub fn send(&self, event: AuditEvent) {
        let _ = self.0.send(Message::Event(event));
    }

    /// Returns once every event queued before the call is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.0.send(Message::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}
