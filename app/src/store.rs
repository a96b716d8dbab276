//! The app's files in its data directory:
//!
//! * `device.json`: service URL, phone, device id, certificate and chain, the sealed keys,
//!   the Argon2id parameters, and the wrong-code counter and lock flag;
//! * `keystore.key`: 32 random bytes standing in for the phone's hardware keystore. The
//!   device-auth key is sealed under it, so that the app can list and refuse actions
//!   without the personal code; the signing key is sealed under the personal code only.
//!
//! Files are written to a temporary file and renamed into place, readable by the owner only.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use formats::pki::key::Pkcs8Key;
use formats::pki::SigningKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::vault::{random_bytes, KdfParams, SealedBox, CIPHER};
use crate::{code, AppError};

/// The app's state file in its data directory.
pub const DEVICE_FILE: &str = "device.json";
/// The simulated hardware keystore key.
pub const KEYSTORE_FILE: &str = "keystore.key";
/// Wrong personal codes in a row that lock the app.
pub const MAX_ATTEMPTS: u32 = 5;
/// The format version written.
const FORMAT: u32 = 1;
/// `device.json` is small (two certificates, two sealed keys); refuse anything far larger.
const MAX_FILE: u64 = 1024 * 1024;

/// The contents of `device.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DeviceFile {
    pub format: u32,
    pub service_url: String,
    pub phone: String,
    pub device_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: time::OffsetDateTime,
    #[serde(with = "crate::wire::b64")]
    pub certificate: Vec<u8>,
    #[serde(with = "crate::wire::b64_list")]
    pub chain: Vec<Vec<u8>>,
    /// Always AES-256-GCM.
    pub cipher: String,
    /// The device-auth key (PKCS#8) sealed under the keystore key; erased on lock.
    pub device_key: Option<SealedBox>,
    /// Derives the key that seals `signing_key` from the personal code.
    pub kdf: KdfParams,
    /// The signing key (PKCS#8) sealed under the personal code; erased on lock.
    pub signing_key: Option<SealedBox>,
    /// Wrong personal codes entered in a row.
    pub failed_code_attempts: u32,
    /// Set after [`MAX_ATTEMPTS`] wrong codes: the app refuses everything.
    pub locked: bool,
}

/// What a fresh enrollment stores.
pub(crate) struct NewDevice<'a> {
    pub service_url: &'a str,
    pub phone: &'a str,
    pub device_id: &'a str,
    pub certificate: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub device_key: &'a Pkcs8Key,
    pub signing_key: &'a Pkcs8Key,
    pub personal_code: &'a str,
    pub kdf: KdfParams,
}

fn signing_aad(device_id: &str) -> String {
    format!("esig-app/v1/signing-key/{device_id}")
}

fn device_aad(device_id: &str) -> String {
    format!("esig-app/v1/device-key/{device_id}")
}

impl DeviceFile {
    /// Seals the keys and writes `keystore.key` and `device.json` into `dir` (created if
    /// needed), replacing any earlier enrollment.
    pub(crate) fn create(dir: &Path, new: NewDevice<'_>) -> Result<Self, AppError> {
        std::fs::create_dir_all(dir).map_err(|e| AppError::io(dir, e))?;
        let code_key = new
            .kdf
            .derive(new.personal_code)
            .map_err(|reason| AppError::Storage {
                path: dir.join(DEVICE_FILE),
                reason,
            })?;
        let keystore = Zeroizing::new(random_bytes::<32>()?);
        let file = Self {
            format: FORMAT,
            service_url: new.service_url.to_owned(),
            phone: new.phone.to_owned(),
            device_id: new.device_id.to_owned(),
            enrolled_at: time::OffsetDateTime::now_utc(),
            certificate: new.certificate,
            chain: new.chain,
            cipher: CIPHER.to_owned(),
            device_key: Some(SealedBox::seal(
                &keystore,
                &device_aad(new.device_id),
                new.device_key.as_der(),
            )?),
            signing_key: Some(SealedBox::seal(
                &code_key,
                &signing_aad(new.device_id),
                new.signing_key.as_der(),
            )?),
            kdf: new.kdf,
            failed_code_attempts: 0,
            locked: false,
        };
        write_private(&dir.join(KEYSTORE_FILE), keystore.as_slice())?;
        file.save(dir)?;
        Ok(file)
    }

    /// Reads `dir/device.json`.
    pub(crate) fn load(dir: &Path) -> Result<Self, AppError> {
        let path = dir.join(DEVICE_FILE);
        let bytes = match read_bounded(&path) {
            Err(AppError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(AppError::NotEnrolled {
                    dir: dir.to_owned(),
                })
            }
            other => other?,
        };
        let file: Self = serde_json::from_slice(&bytes).map_err(|e| AppError::Storage {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if file.format != FORMAT || file.cipher != CIPHER {
            return Err(AppError::Storage {
                path,
                reason: format!(
                    "format {} with cipher {} is not supported (this app writes format {FORMAT}, {CIPHER})",
                    file.format, file.cipher
                ),
            });
        }
        Ok(file)
    }

    /// Writes `dir/device.json` atomically.
    pub(crate) fn save(&self, dir: &Path) -> Result<(), AppError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| AppError::Storage {
            path: dir.join(DEVICE_FILE),
            reason: e.to_string(),
        })?;
        write_private(&dir.join(DEVICE_FILE), &json)
    }

    /// Fails with [`AppError::Locked`] when the app is locked.
    pub(crate) fn ensure_unlocked(&self) -> Result<(), AppError> {
        if self.locked {
            return Err(AppError::Locked {
                attempts: self.failed_code_attempts,
            });
        }
        Ok(())
    }

    /// Unseals the device-auth key with the keystore key.
    pub(crate) fn device_key(&self, dir: &Path) -> Result<SigningKey, AppError> {
        self.ensure_unlocked()?;
        let damaged = |reason: &str| AppError::Storage {
            path: dir.join(DEVICE_FILE),
            reason: reason.to_owned(),
        };
        let sealed = self
            .device_key
            .as_ref()
            .ok_or_else(|| damaged("the device key is missing"))?;
        let keystore_path = dir.join(KEYSTORE_FILE);
        let keystore = Zeroizing::new(read_bounded(&keystore_path)?);
        let keystore: &[u8; 32] = keystore
            .as_slice()
            .try_into()
            .map_err(|_wrong_length| damaged("keystore.key is not 32 bytes"))?;
        let pkcs8 = sealed
            .open(keystore, &device_aad(&self.device_id))
            .ok_or_else(|| damaged("the device key does not unseal with keystore.key"))?;
        SigningKey::from_pkcs8(&Pkcs8Key::from_der(pkcs8.to_vec()))
            .map_err(AppError::key("loading the device key"))
    }

    /// Unseals the signing key with the personal code, counting wrong codes: the count is
    /// raised and saved *before* the code is tried (so that killing the app mid-try does
    /// not give a free attempt) and reset on success. The fifth wrong code in a row erases
    /// both keys and locks the app.
    pub(crate) fn unlock_signing_key(
        dir: &Path,
        personal_code: &str,
    ) -> Result<SigningKey, AppError> {
        let mut file = Self::load(dir)?;
        file.ensure_unlocked()?;
        code::check_shape(personal_code)?;
        let path = dir.join(DEVICE_FILE);
        let sealed = file.signing_key.clone().ok_or_else(|| AppError::Storage {
            path: path.clone(),
            reason: "the signing key is missing".into(),
        })?;
        file.failed_code_attempts = file.failed_code_attempts.saturating_add(1);
        file.save(dir)?;

        let key = file
            .kdf
            .derive(personal_code)
            .map_err(|reason| AppError::Storage {
                path: path.clone(),
                reason,
            })?;
        match sealed.open(&key, &signing_aad(&file.device_id)) {
            Some(pkcs8) => {
                file.failed_code_attempts = 0;
                file.save(dir)?;
                SigningKey::from_pkcs8(&Pkcs8Key::from_der(pkcs8.to_vec()))
                    .map_err(AppError::key("loading the signing key"))
            }
            None if file.failed_code_attempts >= MAX_ATTEMPTS => {
                file.locked = true;
                file.signing_key = None;
                file.device_key = None;
                file.save(dir)?;
                match std::fs::remove_file(dir.join(KEYSTORE_FILE)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(AppError::io(dir.join(KEYSTORE_FILE), e))
                    }
                    _ => {}
                }
                Err(AppError::Locked {
                    attempts: file.failed_code_attempts,
                })
            }
            None => Err(AppError::WrongPersonalCode {
                attempts_left: MAX_ATTEMPTS.saturating_sub(file.failed_code_attempts),
            }),
        }
    }
}

/// Reads a file of at most [`MAX_FILE`] bytes.
fn read_bounded(path: &Path) -> Result<Vec<u8>, AppError> {
    let file = std::fs::File::open(path).map_err(|e| AppError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(AppError::Storage {
            path: path.to_owned(),
            reason: format!("larger than {MAX_FILE} bytes"),
        });
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same directory, renamed into
/// place after a sync; the file is readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let tmp: PathBuf = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(|e| AppError::io(&tmp, e))?;
    file.write_all(bytes).map_err(|e| AppError::io(&tmp, e))?;
    file.sync_all().map_err(|e| AppError::io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| AppError::io(path, e))
}

#[cfg(test)]
mod tests {
    use formats::pki::KeyAlgorithm;

    use super::*;

    fn enrolled(dir: &Path) -> (SigningKey, SigningKey) {
        let (signing, signing_pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let (device, device_pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        DeviceFile::create(
            dir,
            NewDevice {
                service_url: "http://127.0.0.1:1",
                phone: "+32470000001",
                device_id: "dev-1",
                certificate: vec![0x30, 0x00],
                chain: vec![vec![0x30, 0x00]],
                device_key: &device_pkcs8,
                signing_key: &signing_pkcs8,
                personal_code: "90210",
                kdf: KdfParams::with_cost(64, 1).unwrap(),
            },
        )
        .unwrap();
        (signing, device)
    }

    #[test]
    fn keys_round_trip_and_the_code_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (signing, device) = enrolled(dir.path());
        let json = std::fs::read_to_string(dir.path().join(DEVICE_FILE)).unwrap();
        assert!(!json.contains("90210"), "{json}");
        assert!(json.contains("argon2id") && json.contains("AES-256-GCM"));

        let file = DeviceFile::load(dir.path()).unwrap();
        assert_eq!(
            file.device_key(dir.path()).unwrap().public_key_info(),
            device.public_key_info()
        );
        let unlocked = DeviceFile::unlock_signing_key(dir.path(), "90210").unwrap();
        assert_eq!(unlocked.public_key_info(), signing.public_key_info());
        assert_eq!(
            DeviceFile::load(dir.path()).unwrap().failed_code_attempts,
            0
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for name in [DEVICE_FILE, KEYSTORE_FILE] {
                let mode = std::fs::metadata(dir.path().join(name))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{name}");
            }
        }
    }

    #[test]
    fn wrong_codes_count_down_reset_on_success_and_lock_at_five() {
        let dir = tempfile::tempdir().unwrap();
        enrolled(dir.path());
        let unlock = |code| DeviceFile::unlock_signing_key(dir.path(), code);
        for left in [4, 3] {
            let err = unlock("48213").unwrap_err();
            assert!(
                matches!(err, AppError::WrongPersonalCode { attempts_left } if attempts_left == left),
                "{err}"
            );
        }
        assert_eq!(
            unlock("48213").unwrap_err().to_string(),
            "wrong personal code; 2 attempts left before the app locks"
        );
        // a well-formed right code resets the count; a malformed code does not count
        assert!(matches!(
            unlock("12ab"),
            Err(AppError::WeakPersonalCode { .. })
        ));
        unlock("90210").unwrap();
        for left in [4, 3, 2, 1] {
            assert!(matches!(
                unlock("00000"),
                Err(AppError::WrongPersonalCode { attempts_left }) if attempts_left == left
            ));
        }
        let err = unlock("00000").unwrap_err();
        assert!(matches!(err, AppError::Locked { attempts: 5 }), "{err}");
        assert!(err.to_string().contains("enroll again"), "{err}");

        // persisted: the right code no longer helps, keys are gone, everything is refused
        assert!(matches!(unlock("90210"), Err(AppError::Locked { .. })));
        let file = DeviceFile::load(dir.path()).unwrap();
        assert!(file.locked && file.signing_key.is_none() && file.device_key.is_none());
        assert!(!dir.path().join(KEYSTORE_FILE).exists());
        assert!(matches!(
            file.device_key(dir.path()),
            Err(AppError::Locked { .. })
        ));
    }

    #[test]
    fn missing_and_damaged_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            DeviceFile::load(dir.path()),
            Err(AppError::NotEnrolled { .. })
        ));
        std::fs::write(dir.path().join(DEVICE_FILE), b"{not json").unwrap();
        assert!(matches!(
            DeviceFile::load(dir.path()),
            Err(AppError::Storage { .. })
        ));
        enrolled(dir.path());
        std::fs::write(dir.path().join(KEYSTORE_FILE), [7u8; 32]).unwrap();
        let file = DeviceFile::load(dir.path()).unwrap();
        assert!(matches!(
            file.device_key(dir.path()),
            Err(AppError::Storage { .. })
        ));
    }
}
