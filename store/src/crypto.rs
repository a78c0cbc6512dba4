//! Encryption at rest: AES-256-GCM with keys derived per table (and per purpose) from one
//! master key.
//!
//! The master key is 32 bytes ([`EncryptionKey`]), read from a file holding them raw, as 64 hex
//! digits or as base64. It is never used directly: HKDF-SHA256 derives a key for each context
//! (`item values` of table `<id>`, a backup, an export, the key check), so that no two tables
//! share a key and a ciphertext cannot be moved to another context. A sealed record is
//! `nonce (12 random bytes) || ciphertext || tag (16 bytes)`; the caller's associated data (for
//! items: the table id and the item's storage key) is authenticated with it, so records cannot
//! be swapped between items either.
//!
//! Opening a store with a key checks it first against a sealed record written when the store
//! was first opened with encryption ([`KEY_CHECK_FILE`]): a wrong key fails at open with a clear
//! error, never with garbage later.
//!
//! Random 96-bit nonces are safe for about 2^32 records per derived key; with one key per table
//! that bounds writes per table, not per store.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use parking_lot::RwLock;
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroize;

use crate::error::{Result, StoreError};

/// Length of a master key in bytes.
pub const KEY_BYTES: usize = 32;
/// Bytes a sealed record adds to its plaintext (nonce and tag).
pub const SEAL_OVERHEAD: usize = NONCE_BYTES + TAG_BYTES;
/// The file in the data directory holding the sealed key check.
pub const KEY_CHECK_FILE: &str = "encryption-check";

const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const HKDF_SALT: &[u8] = b"tarn encryption at rest v1";
const KEY_CHECK_CONTEXT: &[u8] = b"key check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"tarn: this store is encrypted with this key";

/// A 32-byte master key. Zeroed when dropped; its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct EncryptionKey([u8; KEY_BYTES]);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(..)")
    }
}

impl Drop for EncryptionKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl EncryptionKey {
    /// A key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| {
            StoreError::Encryption(format!(
                "an encryption key is {KEY_BYTES} bytes, not {}",
                bytes.len()
            ))
        })?;
        Ok(EncryptionKey(arr))
    }

    /// Parses a key file's contents: 32 raw bytes, or (surrounding whitespace ignored) 64 hex
    /// digits or the base64 of 32 bytes.
    pub fn parse(contents: &[u8]) -> Result<Self> {
        if contents.len() == KEY_BYTES {
            return Self::from_bytes(contents);
        }
        let text = std::str::from_utf8(contents)
            .map_err(|_| StoreError::Encryption(key_file_shape()))?
            .trim();
        if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut out = [0u8; KEY_BYTES];
            for (i, pair) in text.as_bytes().chunks(2).enumerate() {
                let s = std::str::from_utf8(pair).expect("ascii");
                out[i] = u8::from_str_radix(s, 16).expect("hex digits");
            }
            let key = Self::from_bytes(&out);
            out.zeroize();
            return key;
        }
        if let Some(mut bytes) = decode_base64(text) {
            let key = Self::from_bytes(&bytes);
            bytes.zeroize();
            return key;
        }
        Err(StoreError::Encryption(key_file_shape()))
    }

    /// Reads and parses a key file (see [`EncryptionKey::parse`]).
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut contents = std::fs::read(path).map_err(|e| {
            StoreError::Encryption(format!("cannot read key file {}: {e}", path.display()))
        })?;
        let key = Self::parse(&contents);
        contents.zeroize();
        key
    }

    /// The cipher of one context, its key derived with HKDF-SHA256.
    pub fn cipher(&self, context: &[u8]) -> Cipher {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), &self.0);
        let mut okm = [0u8; KEY_BYTES];
        hk.expand(context, &mut okm)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let aead = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&okm));
        okm.zeroize();
        Cipher { aead }
    }

    /// Seals `plaintext` for `context` (a backup name, an export id...) in one call.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        self.cipher(context).seal(b"", plaintext)
    }

    /// Opens what [`EncryptionKey::seal`] sealed for `context`.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        self.cipher(context).open(b"", sealed)
    }
}

fn key_file_shape() -> String {
    format!(
        "an encryption key file holds {KEY_BYTES} raw bytes, {} hex digits or their base64",
        2 * KEY_BYTES
    )
}

/// Standard base64 (with or without padding), without pulling a dependency in for 44 bytes.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// AES-256-GCM under one derived key.
pub struct Cipher {
    aead: Aes256Gcm,
}

impl Cipher {
    /// `nonce || ciphertext || tag` of `plaintext`, authenticating `aad` with it.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encrypts any buffer under 64 GB");
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext of a sealed record, if it was sealed under this key with this `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(StoreError::Encryption(
                "sealed record too short".to_string(),
            ));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| {
                StoreError::Encryption(
                    "a record does not decrypt: wrong key, or the data was altered".to_string(),
                )
            })
    }
}

/// The ciphers of a store's tables, derived once per table and cached.
pub(crate) struct Keyring {
    key: EncryptionKey,
    tables: RwLock<HashMap<Uuid, Arc<Cipher>>>,
}

impl Keyring {
    pub(crate) fn new(key: EncryptionKey) -> Self {
        Keyring {
            key,
            tables: RwLock::new(HashMap::new()),
        }
    }

    /// The cipher of table `id`'s item values.
    pub(crate) fn items(&self, id: &Uuid) -> Arc<Cipher> {
        if let Some(c) = self.tables.read().get(id) {
            return c.clone();
        }
        let mut context = b"item values of table ".to_vec();
        context.extend_from_slice(id.as_bytes());
        let cipher = Arc::new(self.key.cipher(&context));
        self.tables.write().entry(*id).or_insert(cipher).clone()
    }
}

/// Checks `key` against the store in `dir`: opens the key check written at the first encrypted
/// open, or writes it when the store is new (`empty`). Refuses a store holding unencrypted data.
pub(crate) fn check_key(dir: &Path, key: &EncryptionKey, empty: bool) -> Result<()> {
    let path = dir.join(KEY_CHECK_FILE);
    match std::fs::read(&path) {
        Ok(sealed) => {
            let plain = key
                .open(KEY_CHECK_CONTEXT, &sealed)
                .map_err(|_| wrong_key(dir))?;
            if plain != KEY_CHECK_PLAINTEXT {
                return Err(wrong_key(dir));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !empty {
                return Err(StoreError::Encryption(format!(
                    "the store in {} holds unencrypted tables; an encryption key can only be \
                     given to a new store",
                    dir.display()
                )));
            }
            let sealed = key.seal(KEY_CHECK_CONTEXT, KEY_CHECK_PLAINTEXT);
            let tmp = dir.join(format!("{KEY_CHECK_FILE}.tmp"));
            std::fs::write(&tmp, &sealed)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            tracing::info!(dir = %dir.display(), "store encrypted at rest from now on");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses to open an encrypted store without its key.
pub(crate) fn check_no_key(dir: &Path) -> Result<()> {
    if dir.join(KEY_CHECK_FILE).exists() {
        return Err(StoreError::Encryption(format!(
            "the store in {} is encrypted; open it with its key (--encrypt-key-file)",
            dir.display()
        )));
    }
    Ok(())
}

fn wrong_key(dir: &Path) -> StoreError {
    StoreError::Encryption(format!(
        "wrong encryption key for the store in {}: it was encrypted with another key",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn seal_and_open_round_trip_and_bind_their_context() {
        let k = key(7);
        let a = k.cipher(b"table a");
        let sealed = a.seal(b"item 1", b"hello");
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(a.open(b"item 1", &sealed).unwrap(), b"hello");
        // Another item's aad, another table's key, another master key, a flipped bit: refused.
        assert!(a.open(b"item 2", &sealed).is_err());
        assert!(k.cipher(b"table b").open(b"item 1", &sealed).is_err());
        assert!(key(8).cipher(b"table a").open(b"item 1", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(a.open(b"item 1", &flipped).is_err());
        assert!(a.open(b"item 1", &sealed[..10]).is_err());
        // Fresh nonces: the same plaintext seals differently.
        assert_ne!(a.seal(b"item 1", b"hello"), sealed);
        // One-call seal for backups and exports.
        let blob = k.seal(b"backup 42", b"data");
        assert_eq!(k.open(b"backup 42", &blob).unwrap(), b"data");
        assert!(k.open(b"export 42", &blob).is_err());
    }

    #[test]
    fn key_files_in_three_shapes() {
        let raw = [0xabu8; 32];
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let b64 = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
        for contents in [
            &raw[..],
            hex.as_bytes(),
            format!("{hex}\n").as_bytes(),
            b64.as_bytes(),
        ] {
            let k = EncryptionKey::parse(contents).unwrap();
            assert_eq!(k.0, raw);
        }
        assert!(EncryptionKey::parse(b"too short").is_err());
        assert!(EncryptionKey::parse(&[1u8; 31]).is_err());
        assert!(format!("{:?}", key(1)) == "EncryptionKey(..)");
    }

    #[test]
    fn the_key_check_catches_a_wrong_key() {
        let dir = tempfile::tempdir().unwrap();
        check_no_key(dir.path()).unwrap();
        check_key(dir.path(), &key(1), true).unwrap();
        check_key(dir.path(), &key(1), false).unwrap();
        let e = check_key(dir.path(), &key(2), false).unwrap_err();
        assert!(e.to_string().contains("wrong encryption key"), "{e}");
        let e = check_no_key(dir.path()).unwrap_err();
        assert!(e.to_string().contains("is encrypted"), "{e}");
        let other = tempfile::tempdir().unwrap();
        let e = check_key(other.path(), &key(1), false).unwrap_err();
        assert!(e.to_string().contains("unencrypted"), "{e}");
    }
}
