//! Group commit: one task owns appends, and everything queued while a commit is on disk goes
//! into the next one, so many callers share one fsync. Each caller gets its own ids back once
//! its letters are durable.

use super::{Appended, DeadLetter, DeadLetters, DlqError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Most letters one commit takes; more stay queued for the next (bounds a commit's latency).
const MAX_LETTERS_PER_COMMIT: usize = 8_192;

#[derive(Debug)]
struct Request {
    letters: Vec<DeadLetter>,
    reply: oneshot::Sender<Result<Appended, DlqError>>,
}

/// The pipeline's way in: a cheap-clone handle on the writer task. The inbox is bounded (in
/// requests), so a slow disk slows the callers instead of buffering without bound.
#[derive(Clone, Debug)]
pub struct DeadLetterWriter {
    inbox: mpsc::Sender<Request>,
}

impl DeadLetterWriter {
    /// Starts the writer task on the current tokio runtime, with room for `inbox` waiting
    /// requests. The task ends once every handle is dropped and the queue is written: await
    /// the returned handle on shutdown to know the last letters are on disk.
    pub fn spawn(store: DeadLetters, inbox: usize) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(inbox.max(1));
        (Self { inbox: tx }, tokio::spawn(run(store, rx)))
    }

    /// Dead-letters `letters` and returns their ids once they are durable: acknowledge the
    /// messages only after `Ok`. On `Err` nothing of this call was written. If this future is
    /// dropped before it resolves, the letters may or may not be written.
    pub async fn send(&self, letters: Vec<DeadLetter>) -> Result<Appended, DlqError> {
        let (reply, answer) = oneshot::channel();
        self.inbox.send(Request { letters, reply }).await.map_err(|_| DlqError::WriterStopped)?;
        answer.await.map_err(|_| DlqError::WriterStopped)?
    }
}

/// The writer task: take one request, then whatever else is queued, commit them together.
async fn run(store: DeadLetters, mut inbox: mpsc::Receiver<Request>) {
    while let Some(first) = inbox.recv().await {
        let mut queued = first.letters.len();
        let mut group = vec![first];
        while queued < MAX_LETTERS_PER_COMMIT {
            match inbox.try_recv() {
                Ok(next) => {
                    queued += next.letters.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let mut letters = Vec::with_capacity(queued);
        let mut replies = Vec::with_capacity(group.len());
        for request in group {
            replies.push((request.letters.len(), request.reply));
            letters.extend(request.letters);
        }
        match store.run_blocking(move |s| s.append(&letters)).await {
            Ok(Appended { ids, evicted }) => {
                let mut ids = ids.into_iter();
                for (n, reply) in replies {
                    let mine = ids.by_ref().take(n).collect();
                    // A caller that stopped waiting is fine: its letters are stored.
                    let _ = reply.send(Ok(Appended { ids: mine, evicted }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "dead-letter commit failed");
                for (_, reply) in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
