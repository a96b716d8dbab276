//! Administration commands, run against the data directory while the service runs or not:
//! create a partner with an API key, add a key, vouch for a person.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::person::{Person, PersonError};
use crate::ids::{new_api_key, new_id, random_bytes, secret_hash, RandomError};
use crate::store::sqlite::DB_FILE;
use crate::store::{Partner, SqliteStore, Store, StoreError};

/// Domain label of API key hashes.
pub const API_KEY_DOMAIN: &str = "api-key";

/// An admin command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The person's data is not acceptable.
    #[error(transparent)]
    Person(#[from] PersonError),
    /// The partner's name is empty or too long.
    #[error("the partner name must be 1 to 100 characters")]
    PartnerName,
    /// No such partner.
    #[error("no partner {0}")]
    UnknownPartner(String),
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// What `admin create-partner` prints: the key is shown only here.
#[derive(Debug, Serialize)]
pub struct NewPartner {
    /// Partner id.
    pub partner_id: String,
    /// Display name.
    pub name: String,
    /// The API key (`Authorization: Bearer <key>`); stored hashed, never shown again.
    pub api_key: String,
    /// The HMAC-SHA256 key of webhook signatures.
    pub webhook_secret: String,
}

/// Opens the data directory's database (creating it).
///
/// # Errors
/// [`AdminError`].
pub fn open_store(data_dir: &Path) -> Result<SqliteStore, AdminError> {
    std::fs::create_dir_all(data_dir).map_err(|source| AdminError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    Ok(SqliteStore::open(&data_dir.join(DB_FILE))?)
}

/// The stored form of an API key.
pub fn api_key_hash(key: &str) -> String {
    secret_hash(API_KEY_DOMAIN, key)
}

/// Creates a partner and its first API key.
///
/// # Errors
/// [`AdminError`].
pub fn create_partner(
    store: &dyn Store,
    name: &str,
    now: OffsetDateTime,
) -> Result<NewPartner, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AdminError::PartnerName);
    }
    let partner = Partner {
        id: new_id("ptn")?,
        name: name.to_string(),
        webhook_secret: format!("whsec_{}", hex::encode(random_bytes(32)?)),
        created_at: now,
    };
    let api_key = new_api_key()?;
    store.insert_partner(&partner, &api_key_hash(&api_key))?;
    Ok(NewPartner {
        partner_id: partner.id,
        name: partner.name,
        api_key,
        webhook_secret: partner.webhook_secret,
    })
}

/// Adds an API key to a partner (key rotation); returns the new key.
///
/// # Errors
/// [`AdminError::UnknownPartner`], [`AdminError::Store`].
pub fn add_api_key(
    store: &dyn Store,
    partner_id: &str,
    now: OffsetDateTime,
) -> Result<String, AdminError> {
    let key = new_api_key()?;
    if !store.add_api_key(partner_id, &api_key_hash(&key), now)? {
        return Err(AdminError::UnknownPartner(partner_id.to_string()));
    }
    Ok(key)
}

/// Vouches for a person (identity proofing is a later issue).
///
/// # Errors
/// [`AdminError::Person`], [`AdminError::Store`].
pub fn vouch(store: &dyn Store, person: &Person, now: OffsetDateTime) -> Result<(), AdminError> {
    person.check()?;
    store.upsert_person(person, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_keys_are_stored_hashed() {
        let store = SqliteStore::in_memory().unwrap();
        let now = OffsetDateTime::now_utc();
        let p = create_partner(&store, "Notary Dupont", now).unwrap();
        let found = store
            .partner_by_key_hash(&api_key_hash(&p.api_key))
            .unwrap();
        assert_eq!(found.unwrap().id, p.partner_id);
        assert!(store.partner_by_key_hash(&p.api_key).unwrap().is_none());
        let k2 = add_api_key(&store, &p.partner_id, now).unwrap();
        assert!(store
            .partner_by_key_hash(&api_key_hash(&k2))
            .unwrap()
            .is_some());
        assert!(matches!(
            add_api_key(&store, "ptn_nope", now),
            Err(AdminError::UnknownPartner(_))
        ));
        assert!(matches!(
            create_partner(&store, "  ", now),
            Err(AdminError::PartnerName)
        ));
    }
}
