//! Storage behind one trait, so that each database is an implementation rather than a rewrite.
//!
//! The server holds an `Arc<dyn Store>`; `sqlite` is the embedded default.

mod sqlite;

use async_trait::async_trait;
use tandem_protocol::MerchantId;

pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("no merchant {0}")]
    UnknownMerchant(MerchantId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub id: MerchantId,
    pub display_name: String,
    pub support_email: Option<String>,
    /// Page origins allowed to embed the widget, e.g. `https://shop.example`.
    pub allowed_origins: Vec<String>,
}

impl Merchant {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|allowed| allowed == origin)
    }
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub merchant_id: MerchantId,
    pub email: String,
    pub display_name: String,
    /// An argon2id PHC string (see `crate::password`).
    pub password_hash: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database is reachable (for `/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError>;

    /// Creates the merchant or replaces its name, contact and origins.
    async fn upsert_merchant(&self, merchant: &Merchant) -> Result<(), StoreError>;

    /// Creates the agent or replaces its name and password.
    async fn upsert_agent(&self, agent: &NewAgent) -> Result<(), StoreError>;
}
