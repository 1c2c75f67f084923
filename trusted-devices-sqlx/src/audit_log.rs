//! Rule H's `AuditLog` for any [`Dialect`]: the SQL runs unchanged on SQLite and
//! PostgreSQL; instants go through the dialect, and the deletion batch takes its cleanup
//! clause.

use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use trusted_devices_core::audit::{AuditEntry, AuditLog, AuditPosition};
use trusted_devices_core::{StorageError, UserId};

use crate::SqlStore;
use crate::dialect::Dialect;
use crate::driver::{On, Reads, RowOf, Statement};
use crate::row::{self, AuditRow};
use crate::store::instant;

#[async_trait]
impl<D: Dialect> AuditLog for SqlStore<D> {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        let statement = Statement::new(&D::statements().append_audit)
            .bind(entry.id)
            .bind(entry.user_id.as_str());
        Self::at(statement, entry.at)
            .bind(entry.kind.name())
            .bind(entry.actor.map(|id| *id.as_uuid()))
            .bind(entry.target.map(|id| *id.as_uuid()))
            .bind(entry.target_name.clone())
            .bind(entry.detail.clone())
            .bind(entry.client_ip.map(|ip| ip.to_string()))
            .bind(row::location_value(entry.location.as_ref()).map(Json))
            .execute(On::Pool(&self.pool))
            .await?;
        Ok(())
    }

    async fn page(
        &self,
        user: &UserId,
        before: Option<AuditPosition>,
        limit: NonZeroU32,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        // Without a cursor, from after the last instant there can be.
        let (at, id) = match before {
            Some(position) => (position.at, position.id),
            None => (DateTime::<Utc>::MAX_UTC, uuid::Uuid::max()),
        };
        let statement = Statement::new(&D::statements().audit_page).bind(user.as_str());
        let rows = Self::at(statement, at)
            .bind(id)
            .bind(i64::from(limit.get()))
            .fetch_all(On::Pool(&self.pool))
            .await?;
        rows.iter().map(audit_entry::<D>).collect()
    }

    async fn delete_before(
        &self,
        cutoff: DateTime<Utc>,
        batch: NonZeroU32,
    ) -> Result<u64, StorageError> {
        let statement = Statement::new(&D::statements().delete_audit_before);
        Self::at(statement, cutoff)
            .bind(i64::from(batch.get()))
            .execute(On::Pool(&self.pool))
            .await
    }
}

fn audit_entry<D: Dialect>(row: &RowOf<D>) -> Result<AuditEntry, StorageError> {
    AuditRow {
        id: D::read(row, "id")?,
        user_id: D::read(row, "user_id")?,
        at: instant::<D>(row, "at")?,
        kind: D::read(row, "kind")?,
        actor: D::read(row, "actor")?,
        target: D::read(row, "target")?,
        target_name: D::read(row, "target_name")?,
        detail: D::read(row, "detail")?,
        client_ip: D::read(row, "client_ip")?,
        location: <D as Reads<Option<Json<serde_json::Value>>>>::read(row, "location")?
            .map(|json| json.0),
    }
    .into_entry()
}
