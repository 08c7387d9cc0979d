//! Signed links to a dashboard: a partner with a key asks for a link (`POST /dashboards/links`) that grants its key's
//! role on one month's page for at most `LIFETIME`, without the key and without cookies, for a browser, a mail or a
//! printer. The link names the key by its prefix only; its signature is an HMAC-SHA256, keyed with the key's stored
//! digest (which never leaves the server), of the prefix, the month and the expiry. So a link dies with its key (a
//! revoked or expired key signs nothing and verifies nothing), holds in every server process over the same
//! database, and cannot be made or changed without the key.

use crate::period::Month;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest a link is valid, in seconds.
pub const LIFETIME: i64 = 15 * 60;

/// What a link grants: a key's role on one month's dashboard, until an instant (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub prefix: String,
    pub month: Month,
    pub expires: i64,
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its signature does not match what it says (changed, or not made by the server).
    Forged,
    /// Its time is up.
    Expired,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Forged => {
                "this dashboard link is not valid (it was changed, or its key is no longer valid): ask for a new one"
            }
            Refusal::Expired => "this dashboard link has expired: links are valid 15 minutes; ask for a new one",
        }
    }
}

impl Link {
    /// The text signed: everything the link grants.
    fn message(&self) -> String {
        format!(
            "observatory-dashboard\n{}\n{}\n{}",
            self.prefix, self.month, self.expires
        )
    }

    fn mac(&self, key_digest: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key_digest.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(self.message().as_bytes());
        mac
    }

    /// The link's signature (hexadecimal) with the key stored as `key_digest`.
    pub fn signature(&self, key_digest: &str) -> String {
        self.mac(key_digest)
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks a link at `now` (Unix seconds): its signature, compared in constant time, then its time. A link that
    /// claims to last longer than `LIFETIME` from now was not made here.
    pub fn verify(&self, key_digest: &str, signature: &str, now: i64) -> Result<(), Refusal> {
        let bytes = from_hex(signature).ok_or(Refusal::Forged)?;
        self.mac(key_digest).verify_slice(&bytes).map_err(|_| Refusal::Forged)?;
        if self.expires - now > LIFETIME {
            return Err(Refusal::Forged);
        }
        if now >= self.expires {
            return Err(Refusal::Expired);
        }
        Ok(())
    }

    /// The page's address for this link, in `language`.
    pub fn path(&self, key_digest: &str, language: &str) -> String {
        format!(
            "/dashboards/{}?lang={language}&key={}&expires={}&signature={}",
            self.month,
            self.prefix,
            self.expires,
            self.signature(key_digest)
        )
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "5f0c7e6d2b";

    fn link() -> Link {
        Link {
            prefix: "mfo_0123abcd".into(),
            month: Month(202012),
            expires: 1_000_600,
        }
    }

    #[test]
    fn a_link_verifies_until_it_expires_and_not_after() {
        let signature = link().signature(DIGEST);
        assert_eq!(link().verify(DIGEST, &signature, 1_000_000), Ok(()));
        assert_eq!(link().verify(DIGEST, &signature, 1_000_600), Err(Refusal::Expired));
    }

    #[test]
    fn a_changed_link_or_another_key_does_not_verify() {
        let signature = link().signature(DIGEST);
        let later = Link {
            expires: 1_000_700,
            ..link()
        };
        assert_eq!(later.verify(DIGEST, &signature, 1_000_000), Err(Refusal::Forged));
        let other_month = Link {
            month: Month(202011),
            ..link()
        };
        assert_eq!(other_month.verify(DIGEST, &signature, 1_000_000), Err(Refusal::Forged));
        assert_eq!(link().verify("another", &signature, 1_000_000), Err(Refusal::Forged));
        assert_eq!(link().verify(DIGEST, "zz", 1_000_000), Err(Refusal::Forged));
    }

    #[test]
    fn a_signed_link_longer_than_the_lifetime_is_refused() {
        let long = Link {
            expires: 1_000_000 + LIFETIME + 1,
            ..link()
        };
        let signature = long.signature(DIGEST);
        assert_eq!(long.verify(DIGEST, &signature, 1_000_000), Err(Refusal::Forged));
    }
}
