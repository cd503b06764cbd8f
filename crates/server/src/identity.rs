//! `Tandem.identify`: the merchant's server signs its customer id with a secret it shares with
//! Tandem, so that a script on the page cannot claim to be another customer.

use hmac::Mac;
use tandem_protocol::Identity;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The hash a merchant's server puts in `identify({id, hash})`: the lowercase hex
/// HMAC-SHA256 of `id` under the hex-encoded `secret`; `None` if the secret is not hex.
pub fn sign(secret_hex: &str, id: &str) -> Option<String> {
    let mut mac = HmacSha256::new_from_slice(&hex::decode(secret_hex).ok()?).ok()?;
    mac.update(id.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// Whether `identity.hash` is the signature of `identity.id`, compared in constant time.
pub fn verify(secret_hex: &str, identity: &Identity) -> bool {
    let (Ok(secret), Ok(claimed)) = (hex::decode(secret_hex), hex::decode(&identity.hash)) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(&secret) else { return false };
    mac.update(identity.id.as_bytes());
    mac.verify_slice(&claimed).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_anything_else_does_not() {
        let secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let hash = sign(secret, "customer-42").expect("hex secret");
        let identity =
            |id: &str, hash: &str| Identity { id: id.into(), email: None, name: None, hash: hash.into() };
        assert!(verify(secret, &identity("customer-42", &hash)));
        assert!(!verify(secret, &identity("customer-43", &hash)), "another id");
        assert!(!verify(&"ff".repeat(32), &identity("customer-42", &hash)), "another secret");
        assert!(!verify(secret, &identity("customer-42", "zz")), "not hex");
        assert_eq!(sign("not hex", "x"), None);
    }
}
