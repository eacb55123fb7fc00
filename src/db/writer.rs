//! SQLite's single writer with group commit.
//!
//! SQLite lets one connection write at a time, and with `synchronous = FULL` every commit is an
//! fsync. Left to themselves, the pool's connections would queue for the write lock in SQLite's
//! busy handler, which sleeps in growing steps, and pay one fsync each. Instead every write of
//! this process goes to one thread that owns one connection: it takes whatever writes are
//! queued as one batch, runs each in its own savepoint of one `BEGIN IMMEDIATE` transaction (a
//! refusal or a failure rolls back that write's part only), commits once (one fsync for the
//! batch), and only then answers each write of the batch. A batch whose commit fails answers
//! every one of its writes 503, and none of them is left in the database.
//!
//! Readers keep the pool (WAL lets them read beside the writer). The busy timeout stays for
//! other processes writing to the same file (a second instance, the command line).

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::ManageConnection;
use diesel::Connection;
use tokio::sync::oneshot;

use super::{
    past_request_deadline, ConnectionManager, DbConnection, StoreError, TransactionError,
    REQUEST_DEADLINE,
};

/// Most writes committed together. A batch is whatever is queued when the writer is free, so
/// this only bounds how long the first write of a very long queue waits for its answer.
const MAX_BATCH: usize = 128;

/// Most writes waiting for the writer; past that a write is answered 503 at once instead of
/// queueing behind work it would time out waiting for.
const QUEUE_CAPACITY: usize = 1024;

/// One queued write, as the writer thread sees it whatever its result type.
trait Job: Send {
    /// When the request's answer stops waiting for this write.
    fn deadline(&self) -> Instant;

    /// Runs the write inside its own savepoint of the batch's transaction. `false` when the
    /// savepoint itself could not be released or rolled back, so the batch cannot commit.
    fn run(&mut self, conn: &mut DbConnection) -> bool;

    /// Answers the request once the batch's commit is done (`Ok`) or failed.
    fn answer(self: Box<Self>, committed: Result<(), StoreError>);
}

struct QueuedWrite<T, E, F> {
    work: F,
    outcome: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
    deadline: Instant,
}

impl<T, E, F> Job for QueuedWrite<T, E, F>
where
    T: Send,
    E: TransactionError + Send,
    F: FnMut(&mut DbConnection) -> Result<T, E> + Send,
{
    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn run(&mut self, conn: &mut DbConnection) -> bool {
        REQUEST_DEADLINE.set(Some(self.deadline));
        let (outcome, sound) = in_savepoint(conn, &mut self.work);
        REQUEST_DEADLINE.set(None);
        self.outcome = Some(outcome);
        sound
    }

    fn answer(self: Box<Self>, committed: Result<(), StoreError>) {
        let result = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(E::from(StoreError::unavailable(
                "the write waited past its request's deadline and was not run",
            ))),
            (Err(failure), _) => Err(E::from(failure)),
        };
        // The request may have stopped waiting (answered 503 already): nothing to tell it.
        let _ = self.reply.send(result);
    }
}

/// Runs `work` in a savepoint: released when it succeeds or when its error still commits what
/// came before it ([`TransactionError::commits`]), rolled back otherwise. The flag is false when
/// the savepoint could not be ended, which dooms the batch.
fn in_savepoint<T, E, F>(conn: &mut DbConnection, work: &mut F) -> (Result<T, E>, bool)
where
    E: TransactionError,
    F: FnMut(&mut DbConnection) -> Result<T, E>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    if let Err(e) = Manager::begin_transaction(conn) {
        return (Err(E::from(e)), false);
    }
    let outcome =
        work(conn).and_then(|value| past_request_deadline().map(|()| value).map_err(E::from));
    let keep = match &outcome {
        Ok(_) => true,
        Err(e) => e.commits(),
    };
    let ended = if keep {
        Manager::commit_transaction(conn)
    } else {
        Manager::rollback_transaction(conn)
    };
    match ended {
        Ok(()) => (outcome, true),
        Err(e) => (Err(E::from(e)), false),
    }
}

/// The handle requests use to queue their writes; the thread ends when the last handle is
/// dropped.
pub(super) struct SqliteWriter {
    queue: SyncSender<Box<dyn Job>>,
}

impl SqliteWriter {
    /// Starts the writer thread; it opens its connection on the first write (and again after a
    /// failure), so a database that cannot be opened shows as 503 answers, not as a crash.
    pub(super) fn start(manager: ConnectionManager) -> std::io::Result<SqliteWriter> {
        let (queue, jobs) = mpsc::sync_channel(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || serve(&manager, &jobs))?;
        Ok(SqliteWriter { queue })
    }

    /// Queues `work` and waits, at most `timeout`, for the batch it joins to commit.
    pub(super) async fn write<T, E, F>(&self, timeout: Duration, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: TransactionError + Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = QueuedWrite {
            work,
            outcome: None,
            reply,
            deadline: Instant::now() + timeout,
        };
        match self.queue.try_send(Box::new(job)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(E::from(StoreError::unavailable(format!(
                    "{QUEUE_CAPACITY} writes are already waiting for the database"
                ))))
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(E::from(StoreError::internal(
                    "the SQLite writer has stopped",
                )))
            }
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(E::from(StoreError::internal(
                "the SQLite writer dropped a write without answering",
            ))),
            Err(_) => Err(E::from(StoreError::unavailable(format!(
                "the write was not committed within {timeout:?}"
            )))),
        }
    }
}

/// The writer thread: one batch at a time, until every handle is gone.
fn serve(manager: &ConnectionManager, jobs: &Receiver<Box<dyn Job>>) {
    let mut conn: Option<DbConnection> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let committed = match &mut conn {
            Some(c) => commit_batch(c, fenced(manager), &mut batch),
            None => match manager.connect() {
                Ok(c) => commit_batch(conn.insert(c), fenced(manager), &mut batch),
                Err(e) => Err(StoreError::unavailable(e)),
            },
        };
        if let Err(e) = &committed {
            log::warn!("a batch of {} writes was rolled back: {e}", batch.len());
            // Whatever state the failure left the connection in, the next batch starts anew.
            conn = None;
        }
        log::trace!(
            "committed a batch of {} writes in {:?}",
            batch.len(),
            started.elapsed()
        );
        for job in batch {
            job.answer(committed.clone());
        }
    }
}

/// Whether the batches check the schema generation ([`super::check_generation`]): once the
/// pool's migrations ran.
fn fenced(manager: &ConnectionManager) -> bool {
    manager.fenced.load(std::sync::atomic::Ordering::Relaxed)
}

/// Runs every job of `batch` in one transaction and commits it; with `fence`, only if this
/// release knows the database's schema generation.
fn commit_batch(
    conn: &mut DbConnection,
    fence: bool,
    batch: &mut [Box<dyn Job>],
) -> Result<(), StoreError> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(StoreError::internal(
            "the SQLite writer holds another backend",
        ));
    };
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    // The fence, once for the batch: under the write lock, no migration runs beside it.
    let checked = if fence {
        super::check_generation(conn)
    } else {
        Ok(())
    };
    if let Err(e) = checked {
        if let DbConnection::Sqlite(c) = conn {
            let _ = AnsiTransactionManager::rollback_transaction(c);
        }
        return Err(e);
    }
    let mut sound = true;
    for job in batch.iter_mut() {
        // A request already answered 503 for waiting too long must not change anything now.
        if Instant::now() >= job.deadline() {
            continue;
        }
        // A panic in one write (a bug) must not take the writer, and every later write, down:
        // the batch is rolled back and answered 503 like any failed batch.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(conn)));
        if !matches!(ran, Ok(true)) {
            sound = false;
            break;
        }
    }
    let DbConnection::Sqlite(c) = conn else {
        return Err(StoreError::internal(
            "the SQLite writer holds another backend",
        ));
    };
    if !sound {
        let _ = AnsiTransactionManager::rollback_transaction(c);
        return Err(StoreError::unavailable(
            "a write of the batch could not be ended cleanly",
        ));
    }
    let committing = Instant::now();
    if let Err(e) = AnsiTransactionManager::commit_transaction(c) {
        let _ = AnsiTransactionManager::rollback_transaction(c);
        // Which write of the batch broke the commit cannot be told: none of them happened, and
        // each may be sent again.
        return Err(StoreError::unavailable(format!(
            "the batch could not commit: {e}"
        )));
    }
    crate::metrics::record_write_batch(batch.len(), committing.elapsed());
    Ok(())
}
