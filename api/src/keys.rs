//! API keys: generated from the operating system's random source, shown once,
//! stored only as their SHA-256 hash with a short prefix for look-up.

use sha2::{Digest, Sha256};

/// Every key starts with this marker, so that a leaked key is recognisable.
pub const KEY_MARKER: &str = "mfo_";
/// Characters of the key kept in clear as its prefix.
pub const PREFIX_LEN: usize = 12;

/// A freshly generated key: the secret (shown once) and what is stored.
pub struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

/// Generates a key of 256 random bits.
pub fn generate() -> Result<NewKey, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let secret = format!("{KEY_MARKER}{}", hex(&bytes));
    Ok(NewKey {
        prefix: secret[..PREFIX_LEN].to_owned(),
        hash: hash(&secret),
        secret,
    })
}

/// SHA-256 of a key, hex.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
