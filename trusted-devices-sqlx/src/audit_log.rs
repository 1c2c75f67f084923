//! Rule H's `AuditLog` for both databases, written once like `sql_store!`: the SQL runs
//! unchanged on SQLite and PostgreSQL; instants go through each dialect's `time` and
//! `instant`, and the deletion batch takes the dialect's `skip_locked` clause.

/// `AuditLog` for `$store`, whose rows are `$row`.
macro_rules! sql_audit_log {
    ($store:ty, row: $row:ty, skip_locked: $skip_locked:literal) => {
        #[async_trait::async_trait]
        impl trusted_devices_core::audit::AuditLog for $store {
            async fn append(
                &self,
                entry: &trusted_devices_core::audit::AuditEntry,
            ) -> Result<(), trusted_devices_core::StorageError> {
                sqlx::query(
                    "INSERT INTO td_audit_log (id, user_id, at, kind, actor, target, \
                     target_name, detail, client_ip, location) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(entry.id)
                .bind(entry.user_id.as_str())
                .bind(Self::time(entry.at))
                .bind(entry.kind.name())
                .bind(entry.actor.map(|id| *id.as_uuid()))
                .bind(entry.target.map(|id| *id.as_uuid()))
                .bind(entry.target_name.as_deref())
                .bind(entry.detail.as_deref())
                .bind(entry.client_ip.map(|ip| ip.to_string()))
                .bind($crate::row::location_value(entry.location.as_ref()).map(sqlx::types::Json))
                .execute(&self.pool)
                .await
                .map_err($crate::error::storage_error)?;
                Ok(())
            }

            async fn page(
                &self,
                user: &trusted_devices_core::UserId,
                before: Option<trusted_devices_core::audit::AuditPosition>,
                limit: std::num::NonZeroU32,
            ) -> Result<
                Vec<trusted_devices_core::audit::AuditEntry>,
                trusted_devices_core::StorageError,
            > {
                // Without a cursor, from after the last instant there can be.
                let (at, id) = match before {
                    Some(position) => (Self::time(position.at), position.id),
                    None => (
                        Self::time(chrono::DateTime::<chrono::Utc>::MAX_UTC),
                        uuid::Uuid::max(),
                    ),
                };
                let rows: Vec<$row> = sqlx::query(
                    "SELECT id, user_id, at, kind, actor, target, target_name, detail, \
                     client_ip, location FROM td_audit_log \
                     WHERE user_id = $1 AND (at < $2 OR (at = $2 AND id < $3)) \
                     ORDER BY at DESC, id DESC LIMIT $4",
                )
                .bind(user.as_str())
                .bind(at)
                .bind(id)
                .bind(i64::from(limit.get()))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::storage_error)?;
                rows.iter().map(|row| Self::audit_entry(row)).collect()
            }

            async fn delete_before(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
                batch: std::num::NonZeroU32,
            ) -> Result<u64, trusted_devices_core::StorageError> {
                let done = sqlx::query(concat!(
                    "DELETE FROM td_audit_log WHERE id IN (SELECT id FROM td_audit_log \
                     WHERE at < $1 ORDER BY at LIMIT $2",
                    $skip_locked,
                    ")"
                ))
                .bind(Self::time(cutoff))
                .bind(i64::from(batch.get()))
                .execute(&self.pool)
                .await
                .map_err($crate::error::storage_error)?;
                Ok(done.rows_affected())
            }
        }

        impl $store {
            fn audit_entry(
                row: &$row,
            ) -> Result<trusted_devices_core::audit::AuditEntry, trusted_devices_core::StorageError>
            {
                // `get` is `sql_store!`'s row reader, expanded in the same module.
                $crate::row::AuditRow {
                    id: get(row, "id")?,
                    user_id: get(row, "user_id")?,
                    at: Self::instant(row, "at")?,
                    kind: get(row, "kind")?,
                    actor: get(row, "actor")?,
                    target: get(row, "target")?,
                    target_name: get(row, "target_name")?,
                    detail: get(row, "detail")?,
                    client_ip: get(row, "client_ip")?,
                    location: get::<Option<sqlx::types::Json<serde_json::Value>>>(row, "location")?
                        .map(|json| json.0),
                }
                .into_entry()
            }
        }
    };
}

pub(crate) use sql_audit_log;
