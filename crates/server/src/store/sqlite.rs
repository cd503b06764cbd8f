use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tandem_protocol::MerchantId;

use super::{Merchant, NewAgent, Store, StoreError};

/// The embedded default: one SQLite file in WAL mode.
///
/// WAL lets readers proceed while one writer commits; `synchronous = NORMAL` keeps commits
/// durable across a process crash (not a power cut) at several times the FULL throughput.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `path` and applies the embedded migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        Self::connect(options).await
    }

    /// A private in-memory database, for tests of the store itself.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        Self::connect(options).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        // One connection for an in-memory database (each connection would see its own);
        // a handful for a file, where WAL lets readers run beside the writer.
        let max = if options.get_filename() == Path::new(":memory:") { 1 } else { 4 };
        let pool = SqlitePoolOptions::new().max_connections(max).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        let Some(row) = sqlx::query("SELECT display_name, support_email FROM merchants WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let allowed_origins =
            sqlx::query_scalar("SELECT origin FROM merchant_origins WHERE merchant_id = ? ORDER BY origin")
                .bind(id.as_str())
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(Merchant {
            id: id.clone(),
            display_name: row.try_get("display_name")?,
            support_email: row.try_get("support_email")?,
            allowed_origins,
        }))
    }

    async fn upsert_merchant(&self, merchant: &Merchant) -> Result<(), StoreError> {
        // One transaction: a reader never sees the merchant with half its origins.
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO merchants (id, display_name, support_email) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                                            support_email = excluded.support_email",
        )
        .bind(merchant.id.as_str())
        .bind(&merchant.display_name)
        .bind(&merchant.support_email)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM merchant_origins WHERE merchant_id = ?")
            .bind(merchant.id.as_str())
            .execute(&mut *tx)
            .await?;
        for origin in &merchant.allowed_origins {
            sqlx::query("INSERT OR IGNORE INTO merchant_origins (merchant_id, origin) VALUES (?, ?)")
                .bind(merchant.id.as_str())
                .bind(origin)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn upsert_agent(&self, agent: &NewAgent) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO agents (merchant_id, email, display_name, password_hash)
             SELECT id, ?, ?, ? FROM merchants WHERE id = ?
             ON CONFLICT (merchant_id, email) DO UPDATE SET display_name = excluded.display_name,
                                                           password_hash = excluded.password_hash",
        )
        .bind(&agent.email)
        .bind(&agent.display_name)
        .bind(&agent.password_hash)
        .bind(agent.merchant_id.as_str())
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::UnknownMerchant(agent.merchant_id.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Merchant {
        Merchant {
            id: MerchantId::parse("demo").expect("valid id"),
            display_name: "Demo Shop".into(),
            support_email: Some("help@demo.example".into()),
            allowed_origins: vec!["https://shop.example".into()],
        }
    }

    #[tokio::test]
    async fn merchant_round_trips_and_upsert_replaces_origins() {
        let store = SqliteStore::in_memory().await.expect("store");
        assert_eq!(store.merchant(&demo().id).await.expect("read"), None);

        store.upsert_merchant(&demo()).await.expect("insert");
        assert_eq!(store.merchant(&demo().id).await.expect("read"), Some(demo()));

        let renamed = Merchant {
            display_name: "Renamed".into(),
            allowed_origins: vec!["https://other.example".into()],
            ..demo()
        };
        store.upsert_merchant(&renamed).await.expect("update");
        assert_eq!(store.merchant(&demo().id).await.expect("read"), Some(renamed));
    }

    #[tokio::test]
    async fn agent_of_unknown_merchant_is_refused() {
        let store = SqliteStore::in_memory().await.expect("store");
        let agent = NewAgent {
            merchant_id: demo().id,
            email: "anna@demo.example".into(),
            display_name: "Anna".into(),
            password_hash: "x".into(),
        };
        assert!(matches!(store.upsert_agent(&agent).await, Err(StoreError::UnknownMerchant(_))));
        store.upsert_merchant(&demo()).await.expect("insert");
        store.upsert_agent(&agent).await.expect("agent");
        store.upsert_agent(&agent).await.expect("agent again is an update");
    }
}
