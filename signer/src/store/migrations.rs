//! Versioned schema changes. Each migration runs once, in its own transaction, and is
//! recorded in `schema_migrations`; a database newer than the program is refused.

use rusqlite::Connection;

use super::StoreError;

/// The migrations, in order; the version of migration `i` is `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema
    "
CREATE TABLE partners (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    created_at     INTEGER NOT NULL          -- ms since 1970
);
CREATE TABLE api_keys (
    key_hash   TEXT PRIMARY KEY,             -- secret_hash('api-key', key)
    partner_id TEXT NOT NULL REFERENCES partners(id),
    created_at INTEGER NOT NULL
);
CREATE TABLE persons (
    phone           TEXT PRIMARY KEY,
    given_name      TEXT NOT NULL,
    surname         TEXT NOT NULL,
    national_number TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE TABLE enrollments (
    id          TEXT PRIMARY KEY,
    phone       TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    wrong_codes INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX enrollments_phone ON enrollments(phone, created_at);
CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    phone       TEXT NOT NULL,
    device_key  BLOB NOT NULL,               -- DER SubjectPublicKeyInfo
    certificate BLOB NOT NULL,               -- DER
    status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX devices_one_active ON devices(phone) WHERE status = 'active';
CREATE TABLE seen_requests (
    device_id   TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (device_id, fingerprint)
) WITHOUT ROWID;
CREATE INDEX seen_requests_time ON seen_requests(seen_at);
CREATE TABLE documents (
    id         TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    pages      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE actions (
    id                TEXT PRIMARY KEY,
    partner_id        TEXT NOT NULL REFERENCES partners(id),
    device_id         TEXT NOT NULL REFERENCES devices(id),
    phone             TEXT NOT NULL,
    level             TEXT NOT NULL,
    message           TEXT NOT NULL,
    icon              TEXT NOT NULL,
    icons             TEXT NOT NULL,         -- JSON array
    status            TEXT NOT NULL CHECK (status IN ('pending', 'finalizing', 'signed',
                          'refused', 'expired', 'icon_mismatch', 'failed')),
    reason            TEXT,
    callback_url      TEXT,
    signer_chain      TEXT NOT NULL,         -- JSON array of hex DER
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    confirmed_at      INTEGER,
    ended_at          INTEGER,
    finalize_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER
);
CREATE INDEX actions_device ON actions(device_id, status);
CREATE INDEX actions_status ON actions(status, expires_at);
CREATE TABLE action_documents (
    action_id     TEXT NOT NULL REFERENCES actions(id),
    document_id   TEXT NOT NULL REFERENCES documents(id),
    position      INTEGER NOT NULL,
    prepared      TEXT NOT NULL,             -- signer::pades::Prepared JSON
    signature     BLOB,
    signed_sha256 TEXT,
    signed_size   INTEGER,
    PRIMARY KEY (action_id, document_id)
);
CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY,
    action_id    TEXT NOT NULL,
    url          TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER,                    -- NULL once delivered or abandoned
    delivered_at INTEGER,
    last_error   TEXT
);
CREATE INDEX webhooks_due ON webhooks(next_at);
-- append-only, hash-chained record of every action state change
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    action_id TEXT NOT NULL,
    event     TEXT NOT NULL,
    detail    TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
",
];

/// Brings the database to the newest schema.
///
/// # Errors
/// [`StoreError::NewerSchema`] for a database from a newer program, SQLite errors.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    let sql = |context| move |source| StoreError::Sqlite { context, source };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at INTEGER NOT NULL
         );",
    )
    .map_err(sql("creating schema_migrations"))?;
    let current: u32 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(sql("reading the schema version"))?;
    let known = MIGRATIONS.len() as u32;
    if current > known {
        return Err(StoreError::NewerSchema {
            found: current,
            known,
        });
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as u32 + 1;
        let tx = conn.transaction().map_err(sql("starting a migration"))?;
        tx.execute_batch(migration)
            .map_err(sql("applying a migration"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            rusqlite::params![
                version,
                crate::clock::to_millis(time::OffsetDateTime::now_utc())
            ],
        )
        .map_err(sql("recording a migration"))?;
        tx.commit().map_err(sql("committing a migration"))?;
        tracing::info!(version, "database migrated");
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len() as u32);
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len() as u32);
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)",
            [],
        )
        .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::NewerSchema { found: 999, .. })
        ));
    }
}
