//! `Tandem.identify`: the merchant's server signs who its customer is (id, email, name and the
//! time it signed) with a secret it shares with Tandem, so that a script on the page can neither
//! claim to be another customer nor change what the agent sees, and a leaked identity expires.

use hmac::Mac;
use tandem_protocol::Identity;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// A signed identity is refused when its `issued_at` is further ahead than this (clock skew).
pub const MAX_FUTURE_SECS: i64 = 300;

/// The hash a merchant's server puts in `identify`: the lowercase hex HMAC-SHA256 of
/// [`Identity::signed_text`] under the hex-encoded `secret` (`identity.hash` is ignored);
/// `None` if the secret is not hex.
pub fn sign(secret_hex: &str, identity: &Identity) -> Option<String> {
    let mut mac = HmacSha256::new_from_slice(&hex::decode(secret_hex).ok()?).ok()?;
    mac.update(identity.signed_text().as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// Whether `identity.hash` signs its fields, compared in constant time.
pub fn verify(secret_hex: &str, identity: &Identity) -> bool {
    let (Ok(secret), Ok(claimed)) = (hex::decode(secret_hex), hex::decode(&identity.hash)) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(&secret) else { return false };
    mac.update(identity.signed_text().as_bytes());
    mac.verify_slice(&claimed).is_ok()
}

/// Whether an identity signed at `issued_at` is still good at `now` (both in seconds).
pub fn is_fresh(issued_at: i64, now: i64, max_age_secs: u32) -> bool {
    (now - i64::from(max_age_secs)..=now + MAX_FUTURE_SECS).contains(&issued_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kim(issued_at: i64) -> Identity {
        Identity {
            id: "customer-42".into(),
            email: Some("kim@example.com".into()),
            name: Some("Kim".into()),
            issued_at: Some(issued_at),
            hash: String::new(),
        }
    }

    #[test]
    fn a_signature_covers_every_field_and_anything_else_does_not_verify() {
        let secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let signed =
            Identity { hash: sign(secret, &kim(1_764_590_400)).expect("hex secret"), ..kim(1_764_590_400) };
        assert!(verify(secret, &signed));
        for changed in [
            Identity { id: "customer-43".into(), ..signed.clone() },
            Identity { email: Some("eve@example.com".into()), ..signed.clone() },
            Identity { name: None, ..signed.clone() },
            Identity { issued_at: Some(1_764_590_401), ..signed.clone() },
        ] {
            assert!(!verify(secret, &changed), "{changed:?}");
        }
        assert!(!verify(&"ff".repeat(32), &signed), "another secret");
        assert!(!verify(secret, &Identity { hash: "zz".into(), ..signed }), "not hex");
        assert_eq!(sign("not hex", &kim(1)), None);
    }

    #[test]
    fn an_identity_is_fresh_from_its_issue_time_for_the_merchants_age() {
        assert!(is_fresh(1000, 1000 + 3600, 3600));
        assert!(!is_fresh(1000, 1001 + 3600, 3600), "too old");
        assert!(is_fresh(1000 + MAX_FUTURE_SECS, 1000, 3600), "a clock a little ahead");
        assert!(!is_fresh(1001 + MAX_FUTURE_SECS, 1000, 3600), "from the future");
    }
}
