//! Credentials at rest and secrets in flight.
//!
//! - [`KeyRing`]: the AES-256-GCM keys, by id; the first one encrypts, all of them decrypt,
//!   so keys rotate without downtime.
//! - [`KeyRing::seal`] / [`KeyRing::open`]: a credential is bound to the row that holds it
//!   (table, column, row id) through the associated data, so a ciphertext copied to another
//!   row does not decrypt.
//! - [`tokens`]: random secrets, their hashes, and constant-time comparison.

mod keyring;
pub mod tokens;

pub use keyring::{CryptoError, KeyId, KeyRing, LoadedKeys, SealedFor, generate_key_line};
