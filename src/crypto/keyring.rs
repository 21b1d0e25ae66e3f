//! The key ring and the sealed-credential format.
//!
//! A sealed value is `0x01 || len(key_id) || key_id || nonce(12) || ciphertext+tag`.
//! The associated data is `slackdesk/v1/{table}/{column}/{row}/{key_id}`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, Generate, KeyInit, Nonce, Payload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::{KeySettings, Secret};

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const DEFAULT_KEY_FILE: &str = "data/master.key";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("key ring: {0}")]
    BadKeyRing(String),
    #[error("key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value uses key {0:?}, which is not in the key ring")]
    UnknownKey(String),
    #[error("sealed value does not decrypt for this row (wrong key or row)")]
    Decrypt,
    #[error("the system random number generator failed")]
    Random,
}

/// A key's name, such as `k2026a`: 1 to 32 of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(raw: &str) -> Result<Self, CryptoError> {
        let ok = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(CryptoError::BadKeyRing(format!(
                "key id {raw:?} must be 1 to 32 letters, digits, '-' or '_'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which stored credential a sealed value belongs to.
#[derive(Debug, Clone, Copy)]
pub struct SealedFor<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row: &'a str,
}

impl SealedFor<'_> {
    fn associated_data(&self, key: &KeyId) -> Vec<u8> {
        format!(
            "slackdesk/v1/{}/{}/{}/{}",
            self.table, self.column, self.row, key.0
        )
        .into_bytes()
    }
}

struct RingKey {
    id: KeyId,
    cipher: Aes256Gcm,
    /// A separate key for signatures, derived from the encryption key.
    mac_key: Vec<u8>,
}

/// The AES-256-GCM keys; the first encrypts.
pub struct KeyRing {
    keys: Vec<RingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

/// The key ring and, when it was just created, the file it was written to.
pub struct LoadedKeys {
    pub ring: KeyRing,
    pub created_file: Option<PathBuf>,
}

impl KeyRing {
    /// Parses `id:base64key,id2:base64key2` (white space and new lines are separators too).
    pub fn parse(spec: &str) -> Result<Self, CryptoError> {
        let mut keys: Vec<RingKey> = Vec::new();
        for entry in spec
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            let (id, encoded) = entry.split_once(':').ok_or_else(|| {
                CryptoError::BadKeyRing("each key must be written id:base64key".into())
            })?;
            let id = KeyId::parse(id)?;
            if keys.iter().any(|k| k.id == id) {
                return Err(CryptoError::BadKeyRing(format!(
                    "key id {:?} appears twice",
                    id.0
                )));
            }
            let bytes = STANDARD.decode(encoded).map_err(|_| {
                CryptoError::BadKeyRing(format!("key {:?} is not valid base64", id.0))
            })?;
            let cipher = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|_| CryptoError::BadKeyRing(format!("key {:?} must be 32 bytes", id.0)))?;
            let mac_key = super::tokens::hmac_sha256(&bytes, &[b"slackdesk/mac/v1"]);
            keys.push(RingKey {
                id,
                cipher,
                mac_key,
            });
        }
        if keys.is_empty() {
            return Err(CryptoError::BadKeyRing("no key given".into()));
        }
        Ok(Self { keys })
    }

    /// Loads the ring from `SLACKDESK_KEYS`, else from the key file, creating
    /// `data/master.key` (mode 0600) when no key is configured at all.
    pub fn load(settings: &KeySettings) -> Result<LoadedKeys, CryptoError> {
        if let Some(spec) = &settings.keys {
            return Ok(LoadedKeys {
                ring: Self::parse(spec.expose())?,
                created_file: None,
            });
        }
        if let Some(path) = &settings.key_file {
            return Ok(LoadedKeys {
                ring: Self::read_file(path)?,
                created_file: None,
            });
        }
        let path = PathBuf::from(DEFAULT_KEY_FILE);
        if path.exists() {
            return Ok(LoadedKeys {
                ring: Self::read_file(&path)?,
                created_file: None,
            });
        }
        let line = generate_key_line("k1")?;
        write_private_file(&path, &line)?;
        Ok(LoadedKeys {
            ring: Self::parse(&line)?,
            created_file: Some(path),
        })
    }

    /// Loads a key ring that must already exist (for `keys rotate`): never creates one.
    pub fn load_existing(settings: &KeySettings) -> Result<Self, CryptoError> {
        let default = PathBuf::from(DEFAULT_KEY_FILE);
        if settings.keys.is_none() && settings.key_file.is_none() && !default.exists() {
            return Err(CryptoError::BadKeyRing(
                "no key ring configured: set SLACKDESK_KEYS or SLACKDESK_KEY_FILE".into(),
            ));
        }
        Self::load(settings).map(|loaded| loaded.ring)
    }

    fn read_file(path: &Path) -> Result<Self, CryptoError> {
        let spec = fs::read_to_string(path).map_err(|e| CryptoError::KeyFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(&spec).map_err(|e| CryptoError::KeyFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// The key that encrypts new values.
    pub fn active_key(&self) -> &KeyId {
        &self.keys[0].id
    }

    /// Encrypts `plaintext` for one row's column under the active key.
    pub fn seal(&self, plaintext: &[u8], row: SealedFor<'_>) -> Result<Vec<u8>, CryptoError> {
        let key = &self.keys[0];
        let nonce = Nonce::<Aes256Gcm>::try_generate().map_err(|_| CryptoError::Random)?;
        let aad = row.associated_data(&key.id);
        let ciphertext = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        let id = key.id.0.as_bytes();
        let mut sealed = Vec::with_capacity(2 + id.len() + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_VERSION);
        sealed.push(id.len() as u8);
        sealed.extend_from_slice(id);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts a value sealed for exactly this row's column.
    pub fn open(&self, sealed: &[u8], row: SealedFor<'_>) -> Result<Secret, CryptoError> {
        let (key_id, nonce, ciphertext) = split_sealed(sealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id.0 == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
        let aad = row.associated_data(&key.id);
        let plaintext = key
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        let text = String::from_utf8(plaintext).map_err(|_| CryptoError::Malformed)?;
        Ok(Secret::new(text))
    }

    /// A signature over `message` for one purpose: `{key id}.{hex HMAC-SHA256}`.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        let key = &self.keys[0];
        format!("{}.{}", key.id.0, hex::encode(mac(key, purpose, message)))
    }

    /// Whether `signature` was made by [`KeyRing::sign`] with any key of the ring,
    /// compared in constant time.
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        let Some((id, hex_mac)) = signature.split_once('.') else {
            return false;
        };
        let Some(key) = self.keys.iter().find(|k| k.id.0 == id) else {
            return false;
        };
        let Ok(given) = hex::decode(hex_mac) else {
            return false;
        };
        super::tokens::constant_time_eq(&given, &mac(key, purpose, message))
    }

    /// The id of the key a sealed value was made with.
    pub fn sealed_key_id(sealed: &[u8]) -> Result<&str, CryptoError> {
        split_sealed(sealed).map(|(id, _, _)| id)
    }
}

fn mac(key: &RingKey, purpose: &str, message: &str) -> Vec<u8> {
    super::tokens::hmac_sha256(
        &key.mac_key,
        &[purpose.as_bytes(), b"\0", message.as_bytes()],
    )
}

fn split_sealed(sealed: &[u8]) -> Result<(&str, &[u8], &[u8]), CryptoError> {
    let (&version, rest) = sealed.split_first().ok_or(CryptoError::Malformed)?;
    let (&id_len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
    if version != FORMAT_VERSION || rest.len() < id_len as usize + NONCE_LEN + 16 {
        return Err(CryptoError::Malformed);
    }
    let (id, rest) = rest.split_at(id_len as usize);
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let id = std::str::from_utf8(id).map_err(|_| CryptoError::Malformed)?;
    Ok((id, nonce, ciphertext))
}

/// A new key ring entry `id:base64(32 random bytes)`.
pub fn generate_key_line(id: &str) -> Result<String, CryptoError> {
    let id = KeyId::parse(id)?;
    let mut key = [0u8; 32];
    getrandom_fill(&mut key)?;
    Ok(format!("{}:{}", id.0, STANDARD.encode(key)))
}

pub(crate) fn getrandom_fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    rand::fill(buf);
    Ok(())
}

fn write_private_file(path: &Path, contents: &str) -> Result<(), CryptoError> {
    let fail = |e: std::io::Error| CryptoError::KeyFile {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(contents.as_bytes()).map_err(fail)?;
    file.write_all(b"\n").map_err(fail)?;
    file.sync_all().map_err(fail)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ROW: SealedFor<'static> = SealedFor {
        table: "slack_workspaces",
        column: "bot_token",
        row: "T1",
    };

    fn ring(ids: &[&str]) -> KeyRing {
        let spec: Vec<String> = ids
            .iter()
            .map(|id| generate_key_line(id).unwrap())
            .collect();
        KeyRing::parse(&spec.join(",")).unwrap()
    }

    #[test]
    fn sealed_values_open_for_the_same_row_only() {
        let keys = ring(&["a"]);
        let sealed = keys.seal(b"xoxb-1", ROW).unwrap();
        assert_eq!(keys.open(&sealed, ROW).unwrap().expose(), "xoxb-1");
        let other_row = SealedFor { row: "T2", ..ROW };
        assert!(matches!(
            keys.open(&sealed, other_row),
            Err(CryptoError::Decrypt)
        ));
        let other_column = SealedFor {
            column: "other",
            ..ROW
        };
        assert!(keys.open(&sealed, other_column).is_err());
    }

    #[test]
    fn old_keys_still_decrypt_after_a_new_one_is_put_first() {
        let old_line = generate_key_line("old").unwrap();
        let sealed = KeyRing::parse(&old_line)
            .unwrap()
            .seal(b"secret", ROW)
            .unwrap();
        let new_line = generate_key_line("new").unwrap();
        let both = KeyRing::parse(&format!("{new_line},{old_line}")).unwrap();
        assert_eq!(both.active_key().as_str(), "new");
        assert_eq!(both.open(&sealed, ROW).unwrap().expose(), "secret");
        assert_eq!(KeyRing::sealed_key_id(&sealed).unwrap(), "old");
        let resealed = both.seal(b"secret", ROW).unwrap();
        assert_eq!(KeyRing::sealed_key_id(&resealed).unwrap(), "new");
    }

    #[test]
    fn signatures_verify_for_their_purpose_and_message_only() {
        let old_line = generate_key_line("old").unwrap();
        let old = KeyRing::parse(&old_line).unwrap();
        let signature = old.sign("file", "T1:F1:1700000000");
        assert!(old.verify("file", "T1:F1:1700000000", &signature));
        assert!(!old.verify("file", "T1:F1:1700000001", &signature));
        assert!(!old.verify("state", "T1:F1:1700000000", &signature));
        assert!(!old.verify("file", "T1:F1:1700000000", "old.00"));
        assert!(!old.verify("file", "T1:F1:1700000000", "garbage"));
        let rotated =
            KeyRing::parse(&format!("{},{old_line}", generate_key_line("new").unwrap())).unwrap();
        assert!(
            rotated.verify("file", "T1:F1:1700000000", &signature),
            "old signatures survive rotation"
        );
        assert!(
            !ring(&["old"]).verify("file", "T1:F1:1700000000", &signature),
            "another key with the same id fails"
        );
    }

    #[test]
    fn the_wrong_key_with_the_same_id_fails_cleanly() {
        let sealed = ring(&["a"]).seal(b"secret", ROW).unwrap();
        assert!(matches!(
            ring(&["a"]).open(&sealed, ROW),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            ring(&["b"]).open(&sealed, ROW),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn malformed_rings_and_values_are_refused() {
        assert!(KeyRing::parse("").is_err());
        assert!(KeyRing::parse("a:notbase64!").is_err());
        assert!(KeyRing::parse("a:AAAA").is_err());
        assert!(KeyRing::parse("bad id:AAAA").is_err());
        let line = generate_key_line("a").unwrap();
        assert!(KeyRing::parse(&format!("{line},{line}")).is_err());
        let keys = ring(&["a"]);
        assert!(matches!(
            keys.open(&[1, 200, 0], ROW),
            Err(CryptoError::Malformed)
        ));
        assert!(matches!(keys.open(&[], ROW), Err(CryptoError::Malformed)));
    }
}
