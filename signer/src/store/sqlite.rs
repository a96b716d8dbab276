//! The SQLite implementation of [`Store`]: one connection behind a mutex (callers are on
//! the blocking pool), WAL journal, `synchronous=FULL` so that a committed change survives
//! even a power cut, a busy timeout so that admin commands may write while the service
//! runs.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{
    migrations, Action, ActionDocument, Device, DeviceStatus, Document, Enrollment, Partner,
    SignedOutput, Store, StoreError, WebhookDelivery,
};
use crate::clock::{from_millis, to_millis};
use crate::domain::actions::{ActionStatus, SignatureLevel};
use crate::domain::enrollment::EnrollmentStatus;
use crate::domain::person::Person;

/// The database file inside the data directory.
pub const DB_FILE: &str = "signer.db";

/// SQLite storage.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite { context, source }
}

fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    ///
    /// # Errors
    /// [`StoreError`] when it cannot be opened or migrated.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(sql("opening the database"))?;
        Self::setup(conn)
    }

    /// A private in-memory database (tests).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory().map_err(sql("opening the database"))?)
    }

    fn setup(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sql("setting the busy timeout"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("enabling WAL"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql("setting synchronous"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql("enabling foreign keys"))?;
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // a panic while holding the lock leaves no half transaction (SQLite rolls it back
        // when the Transaction drops), so the connection is still usable
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_tx<T>(
        &self,
        context: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(context))?;
        let out = f(&tx)?;
        tx.commit().map_err(sql(context))?;
        Ok(out)
    }
}

/// Appends to the hash-chained audit log inside `tx`.
fn audit(
    tx: &Transaction<'_>,
    at: OffsetDateTime,
    action_id: &str,
    event: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let prev: String = tx
        .query_row(
            "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql("reading the audit log"))?
        .unwrap_or_else(|| "0".repeat(64));
    let at = to_millis(at);
    let hash = audit_hash(&prev, at, action_id, event, detail);
    tx.execute(
        "INSERT INTO audit_log (at, action_id, event, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![at, action_id, event, detail, prev, hash],
    )
    .map_err(sql("appending to the audit log"))?;
    Ok(())
}

fn audit_hash(prev: &str, at: i64, action_id: &str, event: &str, detail: Option<&str>) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &at.to_string(),
        action_id,
        event,
        detail.unwrap_or(""),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

fn partner_row(r: &Row<'_>) -> rusqlite::Result<Partner> {
    Ok(Partner {
        id: r.get(0)?,
        name: r.get(1)?,
        webhook_secret: r.get(2)?,
        created_at: from_millis(r.get(3)?),
    })
}

fn device_row(r: &Row<'_>) -> rusqlite::Result<Device> {
    let status: String = r.get(4)?;
    Ok(Device {
        id: r.get(0)?,
        phone: r.get(1)?,
        device_key: r.get(2)?,
        certificate: r.get(3)?,
        status: if status == "active" {
            DeviceStatus::Active
        } else {
            DeviceStatus::Revoked
        },
        created_at: from_millis(r.get(5)?),
    })
}

const DEVICE_COLUMNS: &str = "id, phone, device_key, certificate, status, created_at";
const DOCUMENT_COLUMNS: &str = "id, partner_id, name, sha256, size, pages, created_at";

fn document_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Document> {
    Ok(Document {
        id: r.get(at)?,
        partner_id: r.get(at + 1)?,
        name: r.get(at + 2)?,
        sha256: r.get(at + 3)?,
        size: r.get::<_, i64>(at + 4)?.max(0) as u64,
        pages: r.get::<_, i64>(at + 5)?.clamp(0, i64::from(u32::MAX)) as u32,
        created_at: from_millis(r.get(at + 6)?),
    })
}

/// The columns of an action row as read by [`read_action`].
struct ActionRow {
    id: String,
    partner_id: String,
    partner_name: String,
    device_id: String,
    phone: String,
    level: String,
    message: String,
    icon: String,
    icons: String,
    status: String,
    reason: Option<String>,
    callback_url: Option<String>,
    signer_chain: String,
    created_at: i64,
    expires_at: i64,
    confirmed_at: Option<i64>,
    ended_at: Option<i64>,
    finalize_attempts: i64,
}

const ACTION_SELECT: &str = "SELECT a.id, a.partner_id, p.name, a.device_id, a.phone, a.level,
    a.message, a.icon, a.icons, a.status, a.reason, a.callback_url, a.signer_chain,
    a.created_at, a.expires_at, a.confirmed_at, a.ended_at, a.finalize_attempts
    FROM actions a JOIN partners p ON p.id = a.partner_id";

fn action_row(r: &Row<'_>) -> rusqlite::Result<ActionRow> {
    Ok(ActionRow {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        partner_name: r.get(2)?,
        device_id: r.get(3)?,
        phone: r.get(4)?,
        level: r.get(5)?,
        message: r.get(6)?,
        icon: r.get(7)?,
        icons: r.get(8)?,
        status: r.get(9)?,
        reason: r.get(10)?,
        callback_url: r.get(11)?,
        signer_chain: r.get(12)?,
        created_at: r.get(13)?,
        expires_at: r.get(14)?,
        confirmed_at: r.get(15)?,
        ended_at: r.get(16)?,
        finalize_attempts: r.get(17)?,
    })
}

fn read_action(conn: &Connection, row: ActionRow) -> Result<Action, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT ad.prepared, ad.signature, ad.signed_sha256, ad.signed_size,
                    d.{}
             FROM action_documents ad JOIN documents d ON d.id = ad.document_id
             WHERE ad.action_id = ?1 ORDER BY ad.position",
            DOCUMENT_COLUMNS.replace(", ", ", d.")
        ))
        .map_err(sql("reading an action's documents"))?;
    let documents = stmt
        .query_map([&row.id], |r| {
            let signed_sha256: Option<String> = r.get(2)?;
            let signed_size: Option<i64> = r.get(3)?;
            Ok(ActionDocument {
                prepared: r.get(0)?,
                signature: r.get(1)?,
                signed: signed_sha256
                    .zip(signed_size)
                    .map(|(sha256, size)| SignedOutput {
                        sha256,
                        size: size.max(0) as u64,
                    }),
                document: document_row(r, 4)?,
            })
        })
        .map_err(sql("reading an action's documents"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql("reading an action's documents"))?;
    let status =
        ActionStatus::parse(&row.status).ok_or_else(|| corrupt("action status", &row.status))?;
    let level =
        SignatureLevel::parse(&row.level).ok_or_else(|| corrupt("action level", &row.level))?;
    let icons: Vec<String> =
        serde_json::from_str(&row.icons).map_err(|e| corrupt("action icons", e))?;
    let chain_hex: Vec<String> =
        serde_json::from_str(&row.signer_chain).map_err(|e| corrupt("signer chain", e))?;
    let signer_chain = chain_hex
        .iter()
        .map(hex::decode)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt("signer chain", e))?;
    Ok(Action {
        id: row.id,
        partner_id: row.partner_id,
        partner_name: row.partner_name,
        device_id: row.device_id,
        phone: row.phone,
        level,
        message: row.message,
        icon: row.icon,
        icons,
        status,
        reason: row.reason,
        callback_url: row.callback_url,
        signer_chain,
        created_at: from_millis(row.created_at),
        expires_at: from_millis(row.expires_at),
        confirmed_at: row.confirmed_at.map(from_millis),
        ended_at: row.ended_at.map(from_millis),
        finalize_attempts: row.finalize_attempts.clamp(0, i64::from(u32::MAX)) as u32,
        documents,
    })
}

fn ids(conn: &Connection, query: &str, now: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(query).map_err(sql("listing actions"))?;
    let rows = stmt
        .query_map([now], |r| r.get(0))
        .map_err(sql("listing actions"))?
        .collect::<Result<Vec<String>, _>>()
        .map_err(sql("listing actions"));
    rows
}

impl Store for SqliteStore {
    fn insert_partner(&self, partner: &Partner, api_key_hash: &str) -> Result<(), StoreError> {
        self.with_tx("adding a partner", |tx| {
            let at = to_millis(partner.created_at);
            tx.execute(
                "INSERT INTO partners (id, name, webhook_secret, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![partner.id, partner.name, partner.webhook_secret, at],
            )
            .map_err(sql("adding a partner"))?;
            tx.execute(
                "INSERT INTO api_keys (key_hash, partner_id, created_at) VALUES (?1, ?2, ?3)",
                params![api_key_hash, partner.id, at],
            )
            .map_err(sql("adding an API key"))?;
            Ok(())
        })
    }

    fn add_api_key(
        &self,
        partner_id: &str,
        api_key_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.with_tx("adding an API key", |tx| {
            let exists: Option<String> = tx
                .query_row("SELECT id FROM partners WHERE id = ?1", [partner_id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql("adding an API key"))?;
            if exists.is_none() {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO api_keys (key_hash, partner_id, created_at) VALUES (?1, ?2, ?3)",
                params![api_key_hash, partner_id, to_millis(now)],
            )
            .map_err(sql("adding an API key"))?;
            Ok(true)
        })
    }

    fn partner_by_key_hash(&self, api_key_hash: &str) -> Result<Option<Partner>, StoreError> {
        self.lock()
            .query_row(
                "SELECT p.id, p.name, p.webhook_secret, p.created_at
                 FROM api_keys k JOIN partners p ON p.id = k.partner_id WHERE k.key_hash = ?1",
                [api_key_hash],
                partner_row,
            )
            .optional()
            .map_err(sql("looking up an API key"))
    }

    fn partner(&self, id: &str) -> Result<Option<Partner>, StoreError> {
        self.lock()
            .query_row(
                "SELECT id, name, webhook_secret, created_at FROM partners WHERE id = ?1",
                [id],
                partner_row,
            )
            .optional()
            .map_err(sql("reading a partner"))
    }

    fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT id, name, webhook_secret, created_at FROM partners ORDER BY created_at",
            )
            .map_err(sql("listing partners"))?;
        let rows = stmt
            .query_map([], partner_row)
            .map_err(sql("listing partners"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql("listing partners"));
        rows
    }

    fn upsert_person(&self, person: &Person, now: OffsetDateTime) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO persons (phone, given_name, surname, national_number, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (phone) DO UPDATE SET given_name = excluded.given_name,
                     surname = excluded.surname, national_number = excluded.national_number",
                params![
                    person.phone,
                    person.given_name,
                    person.surname,
                    person.national_number,
                    to_millis(now)
                ],
            )
            .map_err(sql("recording a person"))?;
        Ok(())
    }

    fn person(&self, phone: &str) -> Result<Option<Person>, StoreError> {
        self.lock()
            .query_row(
                "SELECT phone, given_name, surname, national_number FROM persons WHERE phone = ?1",
                [phone],
                |r| {
                    Ok(Person {
                        phone: r.get(0)?,
                        given_name: r.get(1)?,
                        surname: r.get(2)?,
                        national_number: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(sql("looking up a person"))
    }

    fn insert_enrollment(&self, e: &Enrollment) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO enrollments (id, phone, code_hash, status, wrong_codes, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    e.id,
                    e.phone,
                    e.code_hash,
                    e.status.as_str(),
                    e.wrong_codes,
                    to_millis(e.created_at),
                    to_millis(e.expires_at)
                ],
            )
            .map_err(sql("recording an enrollment"))?;
        Ok(())
    }

    fn enrollment(&self, id: &str) -> Result<Option<Enrollment>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT id, phone, code_hash, status, wrong_codes, created_at, expires_at
                 FROM enrollments WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, u32>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                },
            )
            .optional()
            .map_err(sql("reading an enrollment"))?;
        row.map(
            |(id, phone, code_hash, status, wrong_codes, created, expires)| {
                Ok(Enrollment {
                    id,
                    phone,
                    code_hash,
                    status: EnrollmentStatus::parse(&status)
                        .ok_or_else(|| corrupt("enrollment status", &status))?,
                    wrong_codes,
                    created_at: from_millis(created),
                    expires_at: from_millis(expires),
                })
            },
        )
        .transpose()
    }

    fn count_enrollments_since(
        &self,
        phone: &str,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        self.lock()
            .query_row(
                "SELECT COUNT(*) FROM enrollments WHERE phone = ?1 AND created_at >= ?2",
                params![phone, to_millis(since)],
                |r| r.get(0),
            )
            .map_err(sql("counting enrollments"))
    }

    fn record_wrong_code(&self, id: &str, max: u32) -> Result<EnrollmentStatus, StoreError> {
        self.with_tx("counting a wrong code", |tx| {
            tx.execute(
                "UPDATE enrollments SET wrong_codes = wrong_codes + 1,
                     status = CASE WHEN wrong_codes + 1 >= ?2 THEN 'failed' ELSE status END
                 WHERE id = ?1 AND status = 'pending'",
                params![id, max],
            )
            .map_err(sql("counting a wrong code"))?;
            let status: String = tx
                .query_row("SELECT status FROM enrollments WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .map_err(sql("counting a wrong code"))?;
            EnrollmentStatus::parse(&status).ok_or_else(|| corrupt("enrollment status", status))
        })
    }

    fn complete_enrollment(&self, id: &str, device: &Device) -> Result<bool, StoreError> {
        self.with_tx("completing an enrollment", |tx| {
            let n = tx
                .execute(
                    "UPDATE enrollments SET status = 'completed' WHERE id = ?1 AND status = 'pending'",
                    [id],
                )
                .map_err(sql("completing an enrollment"))?;
            if n != 1 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE devices SET status = 'revoked' WHERE phone = ?1 AND status = 'active'",
                [&device.phone],
            )
            .map_err(sql("revoking the previous device"))?;
            tx.execute(
                &format!("INSERT INTO devices ({DEVICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, 'active', ?5)"),
                params![
                    device.id,
                    device.phone,
                    device.device_key,
                    device.certificate,
                    to_millis(device.created_at)
                ],
            )
            .map_err(sql("recording a device"))?;
            Ok(true)
        })
    }

    fn device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        self.lock()
            .query_row(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
                [id],
                device_row,
            )
            .optional()
            .map_err(sql("reading a device"))
    }

    fn active_device(&self, phone: &str) -> Result<Option<Device>, StoreError> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices WHERE phone = ?1 AND status = 'active'"
                ),
                [phone],
                device_row,
            )
            .optional()
            .map_err(sql("reading a device"))
    }

    fn remember_request(
        &self,
        device_id: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.with_tx("remembering a device request", |tx| {
            tx.execute(
                "DELETE FROM seen_requests WHERE seen_at < ?1",
                [to_millis(forget_before)],
            )
            .map_err(sql("forgetting old device requests"))?;
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO seen_requests (device_id, fingerprint, seen_at)
                     VALUES (?1, ?2, ?3)",
                    params![device_id, fingerprint, to_millis(now)],
                )
                .map_err(sql("remembering a device request"))?;
            Ok(n == 1)
        })
    }

    fn insert_document(&self, d: &Document) -> Result<(), StoreError> {
        self.lock()
            .execute(
                &format!(
                    "INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    d.id,
                    d.partner_id,
                    d.name,
                    d.sha256,
                    d.size as i64,
                    d.pages,
                    to_millis(d.created_at)
                ],
            )
            .map_err(sql("recording a document"))?;
        Ok(())
    }

    fn document(&self, partner_id: &str, id: &str) -> Result<Option<Document>, StoreError> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = ?1 AND partner_id = ?2"
                ),
                [id, partner_id],
                |r| document_row(r, 0),
            )
            .optional()
            .map_err(sql("reading a document"))
    }

    fn insert_action(&self, a: &Action) -> Result<(), StoreError> {
        let icons = serde_json::to_string(&a.icons).map_err(|e| corrupt("action icons", e))?;
        let chain: Vec<String> = a.signer_chain.iter().map(hex::encode).collect();
        let chain = serde_json::to_string(&chain).map_err(|e| corrupt("signer chain", e))?;
        self.with_tx("recording an action", |tx| {
            tx.execute(
                "INSERT INTO actions (id, partner_id, device_id, phone, level, message, icon, icons,
                     status, reason, callback_url, signer_chain, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    a.id,
                    a.partner_id,
                    a.device_id,
                    a.phone,
                    a.level.as_str(),
                    a.message,
                    a.icon,
                    icons,
                    a.status.as_str(),
                    a.reason,
                    a.callback_url,
                    chain,
                    to_millis(a.created_at),
                    to_millis(a.expires_at)
                ],
            )
            .map_err(sql("recording an action"))?;
            for (position, d) in a.documents.iter().enumerate() {
                tx.execute(
                    "INSERT INTO action_documents (action_id, document_id, position, prepared)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![a.id, d.document.id, position as i64, d.prepared],
                )
                .map_err(sql("recording an action's documents"))?;
            }
            audit(tx, a.created_at, &a.id, "created", Some(&a.partner_id))
        })
    }

    fn action(&self, id: &str) -> Result<Option<Action>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                &format!("{ACTION_SELECT} WHERE a.id = ?1"),
                [id],
                action_row,
            )
            .optional()
            .map_err(sql("reading an action"))?;
        row.map(|row| read_action(&conn, row)).transpose()
    }

    fn pending_actions(
        &self,
        device_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<Action>, StoreError> {
        let conn = self.lock();
        let rows = {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "{ACTION_SELECT} WHERE a.device_id = ?1 AND a.status = 'pending'
                     AND a.expires_at > ?2 ORDER BY a.created_at, a.id"
                ))
                .map_err(sql("listing pending actions"))?;
            let rows = stmt
                .query_map(params![device_id, to_millis(now)], action_row)
                .map_err(sql("listing pending actions"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql("listing pending actions"))?;
            rows
        };
        rows.into_iter().map(|r| read_action(&conn, r)).collect()
    }

    fn end_pending(
        &self,
        id: &str,
        to: ActionStatus,
        now: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        if !ActionStatus::Pending.can_become(to) || to == ActionStatus::Finalizing {
            return Err(corrupt("transition", format!("pending -> {to}")));
        }
        let expiry = if to == ActionStatus::Expired {
            "expires_at <= ?3"
        } else {
            "expires_at > ?3"
        };
        self.with_tx("ending an action", |tx| {
            let n = tx
                .execute(
                    &format!(
                        "UPDATE actions SET status = ?2, ended_at = ?3, reason = ?4
                         WHERE id = ?1 AND status = 'pending' AND {expiry}"
                    ),
                    params![id, to.as_str(), to_millis(now), reason],
                )
                .map_err(sql("ending an action"))?;
            if n == 1 {
                audit(tx, now, id, to.as_str(), reason)?;
            }
            Ok(n == 1)
        })
    }

    fn confirm(
        &self,
        id: &str,
        now: OffsetDateTime,
        retry_at: OffsetDateTime,
        signatures: &[(String, Vec<u8>)],
    ) -> Result<bool, StoreError> {
        self.with_tx("confirming an action", |tx| {
            let n = tx
                .execute(
                    "UPDATE actions SET status = 'finalizing', confirmed_at = ?2, next_attempt_at = ?3
                     WHERE id = ?1 AND status = 'pending' AND expires_at > ?2",
                    params![id, to_millis(now), to_millis(retry_at)],
                )
                .map_err(sql("confirming an action"))?;
            if n != 1 {
                return Ok(false);
            }
            for (document_id, signature) in signatures {
                let n = tx
                    .execute(
                        "UPDATE action_documents SET signature = ?3
                         WHERE action_id = ?1 AND document_id = ?2",
                        params![id, document_id, signature],
                    )
                    .map_err(sql("storing a signature value"))?;
                if n != 1 {
                    return Err(corrupt(
                        "action documents",
                        format!("no document {document_id} in action {id}"),
                    ));
                }
            }
            audit(tx, now, id, "confirmed", None)?;
            Ok(true)
        })
    }

    fn record_signed(
        &self,
        action_id: &str,
        document_id: &str,
        output: &SignedOutput,
    ) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "UPDATE action_documents SET signed_sha256 = ?3, signed_size = ?4
                 WHERE action_id = ?1 AND document_id = ?2",
                params![action_id, document_id, output.sha256, output.size as i64],
            )
            .map_err(sql("recording a signed document"))?;
        Ok(())
    }

    fn end_finalizing(
        &self,
        id: &str,
        to: ActionStatus,
        now: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        if !ActionStatus::Finalizing.can_become(to) {
            return Err(corrupt("transition", format!("finalizing -> {to}")));
        }
        self.with_tx("finishing an action", |tx| {
            let n = tx
                .execute(
                    "UPDATE actions SET status = ?2, ended_at = ?3, reason = ?4, next_attempt_at = NULL
                     WHERE id = ?1 AND status = 'finalizing'",
                    params![id, to.as_str(), to_millis(now), reason],
                )
                .map_err(sql("finishing an action"))?;
            if n == 1 {
                audit(tx, now, id, to.as_str(), reason)?;
            }
            Ok(n == 1)
        })
    }

    fn finalize_failed(
        &self,
        id: &str,
        retry_at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "UPDATE actions SET finalize_attempts = finalize_attempts + 1,
                     next_attempt_at = ?2, reason = ?3
                 WHERE id = ?1 AND status = 'finalizing'",
                params![id, to_millis(retry_at), reason],
            )
            .map_err(sql("recording a finalization failure"))?;
        Ok(())
    }

    fn due_finalizations(&self, now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
        ids(
            &self.lock(),
            "SELECT id FROM actions WHERE status = 'finalizing'
             AND COALESCE(next_attempt_at, 0) <= ?1 ORDER BY confirmed_at",
            to_millis(now),
        )
    }

    fn overdue_actions(&self, now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
        ids(
            &self.lock(),
            "SELECT id FROM actions WHERE status = 'pending' AND expires_at <= ?1",
            to_millis(now),
        )
    }

    fn enqueue_webhook(
        &self,
        action_id: &str,
        url: &str,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO webhooks (action_id, url, body, next_at) VALUES (?1, ?2, ?3, ?4)",
                params![action_id, url, body, to_millis(now)],
            )
            .map_err(sql("queueing a webhook"))?;
        Ok(())
    }

    fn due_webhooks(&self, now: OffsetDateTime) -> Result<Vec<WebhookDelivery>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, action_id, url, body, attempts FROM webhooks
                 WHERE next_at IS NOT NULL AND next_at <= ?1 ORDER BY next_at LIMIT 100",
            )
            .map_err(sql("listing webhooks"))?;
        let rows = stmt
            .query_map([to_millis(now)], |r| {
                Ok(WebhookDelivery {
                    id: r.get(0)?,
                    action_id: r.get(1)?,
                    url: r.get(2)?,
                    body: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })
            .map_err(sql("listing webhooks"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql("listing webhooks"));
        rows
    }

    fn webhook_attempted(
        &self,
        id: i64,
        now: OffsetDateTime,
        retry_at: Option<OffsetDateTime>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let delivered = if retry_at.is_none() && error.is_none() {
            Some(to_millis(now))
        } else {
            None
        };
        self.lock()
            .execute(
                "UPDATE webhooks SET attempts = attempts + 1, next_at = ?2,
                     delivered_at = ?3, last_error = ?4 WHERE id = ?1",
                params![id, retry_at.map(to_millis), delivered, error],
            )
            .map_err(sql("recording a webhook attempt"))?;
        Ok(())
    }

    fn check_audit_chain(&self) -> Result<u64, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT seq, at, action_id, event, detail, prev_hash, hash FROM audit_log ORDER BY seq")
            .map_err(sql("reading the audit log"))?;
        let mut rows = stmt.query([]).map_err(sql("reading the audit log"))?;
        let mut prev = "0".repeat(64);
        let mut n = 0u64;
        while let Some(r) = rows.next().map_err(sql("reading the audit log"))? {
            let seq: i64 = r.get(0).map_err(sql("reading the audit log"))?;
            let at: i64 = r.get(1).map_err(sql("reading the audit log"))?;
            let action_id: String = r.get(2).map_err(sql("reading the audit log"))?;
            let event: String = r.get(3).map_err(sql("reading the audit log"))?;
            let detail: Option<String> = r.get(4).map_err(sql("reading the audit log"))?;
            let prev_hash: String = r.get(5).map_err(sql("reading the audit log"))?;
            let hash: String = r.get(6).map_err(sql("reading the audit log"))?;
            if prev_hash != prev
                || hash != audit_hash(&prev, at, &action_id, &event, detail.as_deref())
            {
                return Err(corrupt(
                    "audit log",
                    format!("the chain breaks at entry {seq}"),
                ));
            }
            prev = hash;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;

    const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

    fn store_with_action() -> (SqliteStore, Action) {
        let s = SqliteStore::in_memory().unwrap();
        let partner = Partner {
            id: "ptn_1".into(),
            name: "Notary Dupont".into(),
            webhook_secret: "whsec".into(),
            created_at: T0,
        };
        s.insert_partner(&partner, "keyhash").unwrap();
        let device = Device {
            id: "dev_1".into(),
            phone: "+32470000001".into(),
            device_key: vec![1, 2, 3],
            certificate: vec![4, 5, 6],
            status: DeviceStatus::Active,
            created_at: T0,
        };
        s.insert_enrollment(&Enrollment {
            id: "enr_1".into(),
            phone: device.phone.clone(),
            code_hash: "h".into(),
            status: EnrollmentStatus::Pending,
            wrong_codes: 0,
            created_at: T0,
            expires_at: T0 + Duration::minutes(10),
        })
        .unwrap();
        assert!(s.complete_enrollment("enr_1", &device).unwrap());
        let doc = Document {
            id: "doc_1".into(),
            partner_id: "ptn_1".into(),
            name: "contract.pdf".into(),
            sha256: "ab".repeat(32),
            size: 5631,
            pages: 1,
            created_at: T0,
        };
        s.insert_document(&doc).unwrap();
        let action = Action {
            id: "act_1".into(),
            partner_id: "ptn_1".into(),
            partner_name: "Notary Dupont".into(),
            device_id: "dev_1".into(),
            phone: device.phone.clone(),
            level: SignatureLevel::BT,
            message: "Sign please".into(),
            icon: "cat".into(),
            icons: vec!["boat".into(), "cat".into(), "tree".into(), "key".into()],
            status: ActionStatus::Pending,
            reason: None,
            callback_url: None,
            signer_chain: vec![vec![4, 5, 6], vec![7]],
            created_at: T0,
            expires_at: T0 + Duration::minutes(3),
            confirmed_at: None,
            ended_at: None,
            finalize_attempts: 0,
            documents: vec![ActionDocument {
                document: doc,
                prepared: "{}".into(),
                signature: None,
                signed: None,
            }],
        };
        s.insert_action(&action).unwrap();
        (s, action)
    }

    #[test]
    fn action_round_trip() {
        let (s, action) = store_with_action();
        assert_eq!(s.action("act_1").unwrap().unwrap(), action);
        assert_eq!(s.action("act_2").unwrap(), None);
        let pending = s.pending_actions("dev_1", T0).unwrap();
        assert_eq!(pending.len(), 1);
        assert!(s
            .pending_actions("dev_1", T0 + Duration::minutes(3))
            .unwrap()
            .is_empty());
        assert!(s.document("ptn_2", "doc_1").unwrap().is_none());
        assert_eq!(
            s.partner_by_key_hash("keyhash").unwrap().unwrap().name,
            "Notary Dupont"
        );
    }

    #[test]
    fn exactly_one_outcome() {
        let (s, _) = store_with_action();
        let t = T0 + Duration::seconds(10);
        let sigs = vec![("doc_1".to_string(), vec![9u8; 70])];
        assert!(s.confirm("act_1", t, t, &sigs).unwrap());
        assert!(!s.confirm("act_1", t, t, &sigs).unwrap());
        assert!(!s
            .end_pending("act_1", ActionStatus::Refused, t, None)
            .unwrap());
        assert!(!s
            .end_pending(
                "act_1",
                ActionStatus::Expired,
                T0 + Duration::hours(1),
                None
            )
            .unwrap());
        let a = s.action("act_1").unwrap().unwrap();
        assert_eq!(a.status, ActionStatus::Finalizing);
        assert_eq!(a.documents[0].signature.as_deref(), Some(&[9u8; 70][..]));
        assert_eq!(s.due_finalizations(t).unwrap(), vec!["act_1".to_string()]);
        s.finalize_failed("act_1", t + Duration::seconds(5), "tsa down")
            .unwrap();
        assert!(s.due_finalizations(t).unwrap().is_empty());
        assert_eq!(
            s.due_finalizations(t + Duration::seconds(5)).unwrap().len(),
            1
        );
        assert!(s
            .end_finalizing("act_1", ActionStatus::Signed, t, None)
            .unwrap());
        assert!(!s
            .end_finalizing("act_1", ActionStatus::Failed, t, None)
            .unwrap());
        assert_eq!(s.check_audit_chain().unwrap(), 3);
    }

    #[test]
    fn expiry_and_answers_exclude_each_other() {
        let (s, _) = store_with_action();
        let late = T0 + Duration::minutes(3);
        // too late to refuse or confirm
        assert!(!s
            .end_pending("act_1", ActionStatus::Refused, late, None)
            .unwrap());
        assert!(!s.confirm("act_1", late, late, &[]).unwrap());
        // too early to expire
        assert!(!s
            .end_pending("act_1", ActionStatus::Expired, T0, None)
            .unwrap());
        assert_eq!(s.overdue_actions(late).unwrap(), vec!["act_1".to_string()]);
        assert!(s
            .end_pending("act_1", ActionStatus::Expired, late, None)
            .unwrap());
        assert_eq!(
            s.action("act_1").unwrap().unwrap().status,
            ActionStatus::Expired
        );
    }

    #[test]
    fn replays_and_codes() {
        let (s, _) = store_with_action();
        assert!(s.remember_request("dev_1", "fp", T0, T0).unwrap());
        assert!(!s.remember_request("dev_1", "fp", T0, T0).unwrap());
        // forgotten after the window
        let later = T0 + Duration::minutes(11);
        assert!(s
            .remember_request("dev_1", "fp", later, later - Duration::minutes(10))
            .unwrap());
        s.insert_enrollment(&Enrollment {
            id: "enr_2".into(),
            phone: "+32470000001".into(),
            code_hash: "h".into(),
            status: EnrollmentStatus::Pending,
            wrong_codes: 0,
            created_at: T0,
            expires_at: T0 + Duration::minutes(10),
        })
        .unwrap();
        for _ in 0..4 {
            assert_eq!(
                s.record_wrong_code("enr_2", 5).unwrap(),
                EnrollmentStatus::Pending
            );
        }
        assert_eq!(
            s.record_wrong_code("enr_2", 5).unwrap(),
            EnrollmentStatus::Failed
        );
        assert_eq!(s.count_enrollments_since("+32470000001", T0).unwrap(), 2);
    }

    #[test]
    fn a_new_device_revokes_the_old() {
        let (s, _) = store_with_action();
        s.insert_enrollment(&Enrollment {
            id: "enr_3".into(),
            phone: "+32470000001".into(),
            code_hash: "h".into(),
            status: EnrollmentStatus::Pending,
            wrong_codes: 0,
            created_at: T0,
            expires_at: T0 + Duration::minutes(10),
        })
        .unwrap();
        let d2 = Device {
            id: "dev_2".into(),
            phone: "+32470000001".into(),
            device_key: vec![1],
            certificate: vec![2],
            status: DeviceStatus::Active,
            created_at: T0,
        };
        assert!(s.complete_enrollment("enr_3", &d2).unwrap());
        assert!(!s.complete_enrollment("enr_3", &d2).unwrap());
        assert_eq!(
            s.active_device("+32470000001").unwrap().unwrap().id,
            "dev_2"
        );
        assert_eq!(
            s.device("dev_1").unwrap().unwrap().status,
            DeviceStatus::Revoked
        );
    }
}
