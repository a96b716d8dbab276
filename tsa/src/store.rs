//! The append-only token log (SQLite, WAL) and the durable serial-number reservation.
//!
//! One writer thread owns the connection. Requests send their [`TokenRecord`] over a channel
//! and wait; the writer takes everything queued (up to [`StoreOptions::max_batch`]), inserts
//! it in one transaction, commits (one fsync with [`Durability::Full`]) and only then lets
//! the replies go: a token is never sent before its record is on disk, and the cost of the
//! fsync is shared by the whole batch (group commit).
//!
//! Serial numbers come from blocks reserved in the `serial_reservation` row (see
//! [`crate::serial`]); a reservation is always committed with `synchronous=FULL`, so even
//! with [`Durability::Normal`] a serial number is never issued twice after a power loss.

use std::{
    ops::Range,
    path::{Path, PathBuf},
    sync::{mpsc, Arc, Mutex, PoisonError},
    thread::JoinHandle,
    time::{Duration, SystemTime},
};

use const_oid::ObjectIdentifier;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::oneshot;

use crate::{
    request::ImprintAlgorithm,
    serial::{SerialAllocator, SerialError},
};

/// How hard a commit of token records pushes to the disk.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum Durability {
    /// `synchronous=FULL`: every batch is fsynced before its replies are sent. Survives power
    /// loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: records survive a crash of the process but the last batches may
    /// be lost on power loss (serial numbers stay unique: reservations are always fsynced).
    Normal,
}

/// Tuning of the store.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct StoreOptions {
    /// Commit mode of token records.
    pub durability: Durability,
    /// Serial numbers reserved at a time.
    pub serial_block: u64,
    /// Most records per transaction.
    pub max_batch: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Full,
            serial_block: 100_000,
            max_batch: 4096,
        }
    }
}

/// What the log keeps of each issued token.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TokenRecord {
    /// TSTInfo serialNumber.
    pub serial: u64,
    /// TSTInfo genTime.
    pub gen_time: SystemTime,
    /// The imprint hash algorithm.
    pub algorithm: ImprintAlgorithm,
    /// The hashed message.
    pub imprint: Vec<u8>,
    /// TSTInfo policy.
    pub policy: ObjectIdentifier,
}

/// A row of the token log, as read back.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LoggedToken {
    /// Serial number.
    pub serial: u64,
    /// genTime, seconds since 1970-01-01T00:00:00Z.
    pub gen_time_unix: i64,
    /// Imprint algorithm name (`sha256`, ...).
    pub algorithm: String,
    /// The hashed message.
    pub imprint: Vec<u8>,
    /// Policy OID, dotted.
    pub policy: String,
}

/// Store failures.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("token store: {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// SQLite's error (shared by every request of a failed batch).
        #[source]
        source: Arc<rusqlite::Error>,
    },
    /// The data directory could not be created.
    #[error("token store: cannot create {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// 2^63 serial numbers are used up.
    #[error("token store: the serial number space is exhausted")]
    SerialSpaceExhausted,
    /// No serial number could be handed out.
    #[error(transparent)]
    Serial(#[from] SerialError),
    /// The writer thread has stopped (shut down or failed).
    #[error("token store is closed")]
    Closed,
    /// A genTime before 1970 or past the range of i64 seconds.
    #[error("token store: genTime out of range")]
    TimeOutOfRange,
}

fn sqlite(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Sqlite {
        context,
        source: Arc::new(e),
    }
}

enum Command {
    Record(TokenRecord, oneshot::Sender<Result<(), StoreError>>),
    ReserveBlock,
    Shutdown,
}

/// The token log and serial allocator. Cheap to clone; [`Store::close`] flushes and stops
/// the writer.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: mpsc::Sender<Command>,
    allocator: Arc<SerialAllocator>,
    writer: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS serial_reservation (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    -- every serial number below this value may have been handed out
    reserved_until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    serial   INTEGER PRIMARY KEY,
    gen_time INTEGER NOT NULL,   -- seconds since 1970-01-01T00:00:00Z
    hash_alg TEXT    NOT NULL,   -- sha256 | sha384 | sha512
    imprint  BLOB    NOT NULL,
    policy   TEXT    NOT NULL    -- dotted OID
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS tokens_no_update BEFORE UPDATE ON tokens
BEGIN SELECT RAISE(ABORT, 'tokens is append-only'); END;
CREATE TRIGGER IF NOT EXISTS tokens_no_delete BEFORE DELETE ON tokens
BEGIN SELECT RAISE(ABORT, 'tokens is append-only'); END;
";

impl Store {
    /// Opens (creating if needed) the store at `path`, reserves the first serial block and
    /// starts the writer thread.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be opened, migrated or written.
    pub fn open(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::CreateDir {
                path: dir.to_owned(),
                source: Arc::new(e),
            })?;
        }
        let mut conn = Connection::open(path).map_err(sqlite("open"))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sqlite("busy_timeout"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite("journal_mode=WAL"))?;
        set_synchronous(&conn, Durability::Full)?;
        conn.execute_batch(SCHEMA).map_err(sqlite("schema"))?;
        let first = reserve_initial(&mut conn, options.serial_block)?;
        set_synchronous(&conn, options.durability)?;

        let (sender, receiver) = mpsc::channel();
        let request_sender = sender.clone();
        let allocator = Arc::new(SerialAllocator::new(
            first,
            Box::new(move || request_sender.send(Command::ReserveBlock).is_ok()),
        ));
        let writer = Writer {
            conn,
            receiver,
            allocator: allocator.clone(),
            options,
        };
        let handle = std::thread::Builder::new()
            .name("tsa-store".into())
            .spawn(move || writer.run())
            .map_err(|e| StoreError::CreateDir {
                path: path.to_owned(),
                source: Arc::new(e),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                sender,
                allocator,
                writer: Mutex::new(Some(handle)),
                path: path.to_owned(),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The next serial number (never issued before, by any process on this store).
    ///
    /// # Errors
    /// [`StoreError::Serial`] when no block can be reserved.
    pub async fn next_serial(&self) -> Result<u64, StoreError> {
        Ok(self.inner.allocator.next().await?)
    }

    /// Records an issued token; returns once its transaction is committed.
    ///
    /// # Errors
    /// [`StoreError`] when the insert or the commit fails, or the store is closed.
    pub async fn record(&self, record: TokenRecord) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.inner
            .sender
            .send(Command::Record(record, done))
            .map_err(|_closed| StoreError::Closed)?;
        wait.await.map_err(|_closed| StoreError::Closed)?
    }

    /// Commits everything queued, stops the writer and waits for it. Later calls to
    /// [`Store::record`] fail with [`StoreError::Closed`].
    pub fn close(&self) {
        // Queued after every record already sent: the writer commits those first.
        let _ = self.inner.sender.send(Command::Shutdown);
        let handle = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("token store writer thread panicked");
            }
        }
    }

    /// Reads the whole token log of the database at `path`, in serial order (for audits and
    /// tests; opens its own read-only connection).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when the database cannot be read.
    pub fn read_log(path: &Path) -> Result<Vec<LoggedToken>, StoreError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sqlite("open read-only"))?;
        let mut stmt = conn
            .prepare(
                "SELECT serial, gen_time, hash_alg, imprint, policy FROM tokens ORDER BY serial",
            )
            .map_err(sqlite("prepare read"))?;
        let rows = stmt
            .query_map([], |row| {
                Ok(LoggedToken {
                    serial: u64::try_from(row.get::<_, i64>(0)?).unwrap_or_default(),
                    gen_time_unix: row.get(1)?,
                    algorithm: row.get(2)?,
                    imprint: row.get(3)?,
                    policy: row.get(4)?,
                })
            })
            .map_err(sqlite("read"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sqlite("read row"))
    }
}

fn set_synchronous(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    let value = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", value)
        .map_err(sqlite("synchronous"))
}

/// Reserves the first block: after the highest reservation and after every logged serial.
fn reserve_initial(conn: &mut Connection, block: u64) -> Result<Range<u64>, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite("begin reservation"))?;
    let reserved: Option<i64> = tx
        .query_row(
            "SELECT reserved_until FROM serial_reservation WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sqlite("read reservation"))?;
    let max_logged: i64 = tx
        .query_row("SELECT COALESCE(MAX(serial), 0) FROM tokens", [], |r| {
            r.get(0)
        })
        .map_err(sqlite("read highest serial"))?;
    let start = reserved
        .unwrap_or(1)
        .max(max_logged.saturating_add(1))
        .max(1);
    let end = start
        .checked_add(i64::try_from(block).map_err(|_| StoreError::SerialSpaceExhausted)?)
        .ok_or(StoreError::SerialSpaceExhausted)?;
    tx.execute(
        "INSERT INTO serial_reservation (id, reserved_until) VALUES (1, ?1)
         ON CONFLICT(id) DO UPDATE SET reserved_until = excluded.reserved_until",
        [end],
    )
    .map_err(sqlite("write reservation"))?;
    tx.commit().map_err(sqlite("commit reservation"))?;
    // Both bounds are positive i64 values.
    Ok(start.unsigned_abs()..end.unsigned_abs())
}

struct Writer {
    conn: Connection,
    receiver: mpsc::Receiver<Command>,
    allocator: Arc<SerialAllocator>,
    options: StoreOptions,
}

impl Writer {
    fn run(mut self) {
        let mut policy_cache: Option<(ObjectIdentifier, String)> = None;
        loop {
            let Ok(first) = self.receiver.recv() else {
                return;
            };
            let mut batch = Vec::new();
            let mut reserve = false;
            let mut shutdown = false;
            let mut next = Some(first);
            while let Some(command) = next {
                match command {
                    Command::Record(record, done) => batch.push((record, done)),
                    Command::ReserveBlock => reserve = true,
                    Command::Shutdown => {
                        shutdown = true;
                        break;
                    }
                }
                next = if batch.len() < self.options.max_batch {
                    self.receiver.try_recv().ok()
                } else {
                    None
                };
            }
            self.commit(batch, reserve, &mut policy_cache);
            if shutdown {
                return;
            }
        }
    }

    fn commit(
        &mut self,
        batch: Vec<(TokenRecord, oneshot::Sender<Result<(), StoreError>>)>,
        reserve: bool,
        policy_cache: &mut Option<(ObjectIdentifier, String)>,
    ) {
        if batch.is_empty() && !reserve {
            return;
        }
        let block = self.options.serial_block;
        let relax_after = reserve && self.options.durability == Durability::Normal;
        if relax_after {
            if let Err(e) = set_synchronous(&self.conn, Durability::Full) {
                tracing::warn!(error = %e, "could not raise synchronous for a reservation");
            }
        }
        let outcome = (|| {
            let tx = self.conn.transaction().map_err(sqlite("begin batch"))?;
            let mut results = Vec::with_capacity(batch.len());
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO tokens (serial, gen_time, hash_alg, imprint, policy)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(sqlite("prepare insert"))?;
                for (record, _) in &batch {
                    if policy_cache.as_ref().map(|(oid, _)| *oid) != Some(record.policy) {
                        *policy_cache = Some((record.policy, record.policy.to_string()));
                    }
                    let policy = policy_cache.as_ref().map_or("", |(_, text)| text.as_str());
                    results.push(insert_record(&mut insert, record, policy));
                }
            }
            let reserved = if reserve {
                let block_i64 =
                    i64::try_from(block).map_err(|_| StoreError::SerialSpaceExhausted)?;
                let end: i64 = tx
                    .query_row(
                        "UPDATE serial_reservation SET reserved_until = reserved_until + ?1
                         WHERE id = 1 RETURNING reserved_until",
                        [block_i64],
                        |r| r.get(0),
                    )
                    .map_err(sqlite("reserve block"))?;
                Some((end - block_i64).unsigned_abs()..end.unsigned_abs())
            } else {
                None
            };
            tx.commit().map_err(sqlite("commit batch"))?;
            Ok::<_, StoreError>((results, reserved))
        })();
        if relax_after {
            if let Err(e) = set_synchronous(&self.conn, Durability::Normal) {
                tracing::warn!(error = %e, "could not restore synchronous=NORMAL");
            }
        }
        match outcome {
            Ok((results, reserved)) => {
                for ((_, done), result) in batch.into_iter().zip(results) {
                    let _ = done.send(result);
                }
                if let Some(range) = reserved {
                    self.allocator.supply(range);
                }
            }
            Err(error) => {
                tracing::error!(%error, records = batch.len(), "token store batch failed");
                if reserve {
                    self.allocator.supply_failed(error.to_string());
                }
                for (_, done) in batch {
                    let _ = done.send(Err(error.clone()));
                }
            }
        }
    }
}

fn insert_record(
    insert: &mut rusqlite::CachedStatement<'_>,
    record: &TokenRecord,
    policy: &str,
) -> Result<(), StoreError> {
    let serial = i64::try_from(record.serial).map_err(|_| StoreError::SerialSpaceExhausted)?;
    let gen_time = record
        .gen_time
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .ok_or(StoreError::TimeOutOfRange)?;
    insert
        .execute(params![
            serial,
            gen_time,
            record.algorithm.name(),
            record.imprint,
            policy
        ])
        .map_err(sqlite("insert token"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

    fn record(serial: u64) -> TokenRecord {
        TokenRecord {
            serial,
            gen_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            algorithm: ImprintAlgorithm::Sha256,
            imprint: vec![serial as u8; 32],
            policy: POLICY,
        }
    }

    fn small_blocks() -> StoreOptions {
        StoreOptions {
            serial_block: 4,
            ..StoreOptions::default()
        }
    }

    #[tokio::test]
    async fn records_are_committed_and_serials_never_repeat_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.sqlite");
        let mut seen = Vec::new();
        for _round in 0..3 {
            let store = Store::open(&path, small_blocks()).unwrap();
            for _ in 0..6 {
                let serial = store.next_serial().await.unwrap();
                store.record(record(serial)).await.unwrap();
                seen.push(serial);
            }
            // One more serial handed out but never recorded (a crash before the commit).
            seen.push(store.next_serial().await.unwrap());
            store.close();
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len(), "no serial repeats: {seen:?}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "increasing: {seen:?}");
        let log = Store::read_log(&path).unwrap();
        assert_eq!(log.len(), 18);
        assert_eq!(log[0].policy, "1.3.6.1.4.1.99999.1.1");
        assert_eq!(log[0].algorithm, "sha256");
        assert_eq!(log[0].gen_time_unix, 1_700_000_000);
    }

    #[tokio::test]
    async fn concurrent_records_are_batched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let store = Store::open(
            &path,
            StoreOptions {
                durability: Durability::Normal,
                serial_block: 10,
                max_batch: 64,
            },
        )
        .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let serial = store.next_serial().await.unwrap();
                store.record(record(serial)).await.unwrap();
                serial
            }));
        }
        let mut serials = Vec::new();
        for t in tasks {
            serials.push(t.await.unwrap());
        }
        store.close();
        serials.sort_unstable();
        serials.dedup();
        assert_eq!(serials.len(), 200);
        assert_eq!(Store::read_log(&path).unwrap().len(), 200);
    }

    #[tokio::test]
    async fn log_is_append_only_and_duplicates_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let store = Store::open(&path, small_blocks()).unwrap();
        store.record(record(1)).await.unwrap();
        assert!(matches!(
            store.record(record(1)).await,
            Err(StoreError::Sqlite { .. })
        ));
        store.close();
        let conn = Connection::open(&path).unwrap();
        assert!(conn.execute("UPDATE tokens SET policy = 'x'", []).is_err());
        assert!(conn.execute("DELETE FROM tokens", []).is_err());
        assert!(matches!(
            store.record(record(2)).await,
            Err(StoreError::Closed)
        ));
    }

    #[tokio::test]
    async fn restart_starts_after_logged_serials_even_without_reservation_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let store = Store::open(&path, small_blocks()).unwrap();
        store.record(record(1000)).await.unwrap();
        store.close();
        let conn = Connection::open(&path).unwrap();
        conn.execute("DELETE FROM serial_reservation", []).unwrap();
        drop(conn);
        let store = Store::open(&path, small_blocks()).unwrap();
        assert_eq!(store.next_serial().await.unwrap(), 1001);
        store.close();
    }
}
