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

/// How many hashes run at once. Each takes 19 MiB and tens of milliseconds of a core: a burst
/// of sign-ins waits its turn rather than taking the machine's memory and blocking threads.
const AT_ONCE: usize = 2;
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);

/// Runs `work` on a blocking thread once one of the [`AT_ONCE`] turns is free.
pub(crate) async fn in_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _turn = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// [`hash`], off the async threads and in turn; `None` if hashing failed.
pub async fn hash_in_turn(password: String) -> Option<String> {
    in_turn(move || hash(&password).ok()).await.flatten()
}

/// [`verify`], off the async threads and in turn.
pub async fn verify_in_turn(password: String, phc: String) -> bool {
    in_turn(move || verify(&password, &phc)).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_two_hashes_run_at_once() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(in_turn(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let _ = hash("a long enough password"); // real work, so that turns overlap
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.expect("task").expect("ran");
        }
        assert_eq!(most.load(Ordering::SeqCst), AT_ONCE);
    }

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
