//! Agent passwords are stored only as argon2id hashes.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};

/// Hashes with argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane),
/// which is what `Argon2::default()` is; the parameters travel inside the PHC string.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// The shortest password an agent may choose, wherever it is set (console or CLI).
pub const MIN_CHARS: usize = 12;
/// Longer input is refused before hashing, so that a huge body costs nothing.
const MAX_BYTES: usize = 1024;

/// Whether `password` is long enough to set (and short enough to hash).
pub fn acceptable(password: &str) -> bool {
    password.chars().count() >= MIN_CHARS && password.len() <= MAX_BYTES
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let first = hash("correct horse").expect("hash");
        let second = hash("correct horse").expect("hash");
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify("correct horse", &first));
        assert!(!verify("wrong horse", &first));
        assert!(!verify("correct horse", "not a hash"));
    }
}
