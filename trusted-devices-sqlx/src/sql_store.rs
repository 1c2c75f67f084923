//! Both traits for both databases, written once. The SQL here runs unchanged on SQLite and
//! PostgreSQL (`$1` placeholders work in both); what differs lives in each database's
//! module as a small dialect layer of inherent items that this macro calls:
//!
//! - `Self::time(DateTime<Utc>)`: how an instant is bound (a `TIMESTAMPTZ`, or whole
//!   microseconds since the epoch);
//! - `Self::instant(&row, column)` and `Self::optional_instant`: how one is read back;
//! - `self.begin_for_user(user)`: a transaction in which no other login of `user` can count
//!   or insert (a per-user advisory lock, or SQLite's write lock);
//! - `self.rotate_token(rotation)` and `self.revoke_tokens_of(devices)`: the two token steps
//!   whose best form differs (one statement with a CTE, or a transaction; an array, or a
//!   loop);
//! - the `skip_locked` clause of cleanup batches (`FOR UPDATE SKIP LOCKED` where rows are
//!   locked one by one; nothing where a writer holds the whole database);
//! - `self.after_cleanup_batch()`: what a database needs after a cleanup batch's delete
//!   (SQLite copies its write-ahead log back, so that requests do not; PostgreSQL nothing).
//!
//! A new column is a change to the migrations, `device_columns!`, `INSERT_DEVICE` and
//! `device()` below: in one place for both databases. Every instant is the core's: the
//! session's end (`deadline`, which cleanup reads) is written as `Device::deadline()` and
//! `IdleExtension` give it, never computed here.

/// The columns every device query returns, in `device()`'s order.
macro_rules! device_columns {
    () => {
        "id, user_id, name, user_agent, ip, last_ip, location, created_at, last_seen_at, \
         can_delete_other_devices, can_update_other_devices, metadata, idle_expires_at, \
         session_expires_at"
    };
}

/// The columns every token query returns, in `record()`'s order.
macro_rules! token_columns {
    () => {
        "hash, device_id, user_id, issued_at, expires_at, rotated_at, successor_hash, \
         sealed_successor"
    };
}

/// A `Debug` that names the store and nothing else: the pool's options may hold a
/// password.
macro_rules! opaque_debug {
    ($store:ident) => {
        impl std::fmt::Debug for $store {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($store)).finish_non_exhaustive()
            }
        }
    };
}

/// `DeviceRepository` and the shared part of `TokenStore` for `$store`, whose database
/// module provides the dialect items listed above.
macro_rules! sql_store {
    ($store:ty, row: $row:ty, skip_locked: $skip_locked:literal) => {
        const INSERT_DEVICE: &str = "INSERT INTO td_devices (id, user_id, name, user_agent, \
             ip, last_ip, location, created_at, last_seen_at, can_delete_other_devices, \
             can_update_other_devices, metadata, idle_expires_at, session_expires_at, deadline) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

        const EVICT_LEAST_RECENTLY_USED: &str = concat!(
            "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices WHERE user_id = $1 \
             ORDER BY last_seen_at, id LIMIT $2) RETURNING ",
            device_columns!()
        );

        const EVICT_OLDEST: &str = concat!(
            "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices WHERE user_id = $1 \
             ORDER BY created_at, id LIMIT $2) RETURNING ",
            device_columns!()
        );

        const INSERT_TOKEN: &str = "INSERT INTO td_refresh_tokens (hash, device_id, user_id, \
             issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

        const SELECT_TOKEN: &str = concat!(
            "SELECT ",
            token_columns!(),
            " FROM td_refresh_tokens WHERE hash = $1"
        );

        fn get<'r, T>(row: &'r $row, column: &str) -> Result<T, StorageError>
        where
            T: sqlx::Decode<'r, <$row as sqlx::Row>::Database>
                + sqlx::Type<<$row as sqlx::Row>::Database>,
        {
            sqlx::Row::try_get(row, column).map_err(storage_error)
        }

        fn device(row: &$row) -> Result<Device, StorageError> {
            use sqlx::types::Json;
            $crate::row::DeviceRow {
                id: get(row, "id")?,
                user_id: get(row, "user_id")?,
                name: get(row, "name")?,
                user_agent: get(row, "user_agent")?,
                ip: get(row, "ip")?,
                last_ip: get(row, "last_ip")?,
                location: get::<Option<Json<serde_json::Value>>>(row, "location")?
                    .map(|json| json.0),
                created_at: <$store>::instant(row, "created_at")?,
                last_seen_at: <$store>::instant(row, "last_seen_at")?,
                can_delete_other_devices: get(row, "can_delete_other_devices")?,
                can_update_other_devices: get(row, "can_update_other_devices")?,
                metadata: get::<Json<serde_json::Value>>(row, "metadata")?.0,
                idle_expires_at: <$store>::instant(row, "idle_expires_at")?,
                session_expires_at: <$store>::optional_instant(row, "session_expires_at")?,
            }
            .into_device()
        }

        fn devices(rows: &[$row]) -> Result<Vec<Device>, StorageError> {
            rows.iter().map(device).collect()
        }

        fn record(row: &$row) -> Result<RefreshRecord, StorageError> {
            $crate::row::TokenRow {
                hash: get(row, "hash")?,
                device_id: get(row, "device_id")?,
                user_id: get(row, "user_id")?,
                issued_at: <$store>::instant(row, "issued_at")?,
                expires_at: <$store>::instant(row, "expires_at")?,
                rotated_at: <$store>::optional_instant(row, "rotated_at")?,
                successor_hash: get(row, "successor_hash")?,
                sealed_successor: get(row, "sealed_successor")?,
            }
            .into_record()
        }

        /// A device query, bound and ready to run.
        type DeviceQuery<'q> = sqlx::query::Query<
            'q,
            <$row as sqlx::Row>::Database,
            <<$row as sqlx::Row>::Database as sqlx::Database>::Arguments,
        >;

        impl $store {
            /// Runs a query that returns at most one device row.
            async fn one(&self, query: DeviceQuery<'_>) -> Result<Option<Device>, StorageError> {
                query
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(storage_error)?
                    .as_ref()
                    .map(device)
                    .transpose()
            }

            /// Runs a query that returns device rows.
            async fn many(&self, query: DeviceQuery<'_>) -> Result<Vec<Device>, StorageError> {
                devices(&query.fetch_all(&self.pool).await.map_err(storage_error)?)
            }

            /// The stored record of `hash`, read in `tx` or from the pool.
            async fn stored_token(
                &self,
                hash: &RefreshTokenHash,
                tx: Option<&mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>>,
            ) -> Result<Option<RefreshRecord>, StorageError> {
                let query = sqlx::query(SELECT_TOKEN).bind(hash.as_bytes().as_slice());
                let row = match tx {
                    Some(tx) => query.fetch_optional(&mut **tx).await,
                    None => query.fetch_optional(&self.pool).await,
                };
                row.map_err(storage_error)?.as_ref().map(record).transpose()
            }

            /// Inserts a token record, in `tx` or on the pool.
            async fn insert_token(
                &self,
                record: &RefreshRecord,
                tx: Option<&mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>>,
            ) -> Result<(), StorageError> {
                let query = sqlx::query(INSERT_TOKEN)
                    .bind(record.hash.as_bytes().as_slice())
                    .bind(record.device_id.as_uuid())
                    .bind(record.user_id.as_str())
                    .bind(Self::time(record.issued_at))
                    .bind(Self::time(record.expires_at));
                match tx {
                    Some(tx) => query.execute(&mut **tx).await,
                    None => query.execute(&self.pool).await,
                }
                .map_err(storage_error)?;
                Ok(())
            }
        }

        #[async_trait]
        impl DeviceRepository for $store {
            async fn create(
                &self,
                new: Device,
                limit: DeviceLimit,
            ) -> Result<CreateOutcome, StorageError> {
                let user = new.user_id.as_str();
                let mut tx = self.begin_for_user(user).await?;
                let held: i64 = if limit.counts_devices() {
                    sqlx::query_scalar("SELECT count(*) FROM td_devices WHERE user_id = $1")
                        .bind(user)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(storage_error)?
                } else {
                    0
                };
                let mut displaced = Vec::new();
                match $crate::eviction::plan(&limit, held) {
                    $crate::eviction::Plan::Insert => {}
                    $crate::eviction::Plan::Reject => return Ok(CreateOutcome::LimitReached),
                    $crate::eviction::Plan::Evict { order, limit } => {
                        let sql = match order {
                            EvictionOrder::LeastRecentlyUsed => EVICT_LEAST_RECENTLY_USED,
                            EvictionOrder::Oldest => EVICT_OLDEST,
                        };
                        let rows = sqlx::query(sql)
                            .bind(user)
                            .bind(limit)
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(storage_error)?;
                        displaced = devices(&rows)?;
                        order.sort(&mut displaced);
                    }
                }
                sqlx::query(INSERT_DEVICE)
                    .bind(new.id.as_uuid())
                    .bind(user)
                    .bind(new.name.as_str())
                    .bind(&new.user_agent)
                    .bind(new.ip.map(|ip| ip.to_string()))
                    .bind(new.last_ip.map(|ip| ip.to_string()))
                    .bind($crate::row::location_json(&new).map(sqlx::types::Json))
                    .bind(Self::time(new.created_at))
                    .bind(Self::time(new.last_seen_at))
                    .bind(new.can_delete_other_devices)
                    .bind(new.can_update_other_devices)
                    .bind(sqlx::types::Json($crate::row::metadata_json(&new)))
                    .bind(Self::time(new.idle_expires_at))
                    .bind(new.session_expires_at.map(Self::time))
                    .bind(Self::time(new.deadline()))
                    .execute(&mut *tx)
                    .await
                    .map_err(storage_error)?;
                tx.commit().await.map_err(storage_error)?;
                Ok(CreateOutcome::Created { displaced })
            }

            async fn get(&self, id: DeviceId) -> Result<Option<Device>, StorageError> {
                self.one(
                    sqlx::query(concat!(
                        "SELECT ",
                        device_columns!(),
                        " FROM td_devices WHERE id = $1"
                    ))
                    .bind(id.as_uuid()),
                )
                .await
            }

            async fn list(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
                self.many(
                    sqlx::query(concat!(
                        "SELECT ",
                        device_columns!(),
                        " FROM td_devices WHERE user_id = $1 ORDER BY created_at, id"
                    ))
                    .bind(user.as_str()),
                )
                .await
            }

            async fn update(
                &self,
                user: &UserId,
                id: DeviceId,
                patch: &DevicePatch,
            ) -> Result<Option<Device>, StorageError> {
                self.one(
                    sqlx::query(concat!(
                        "UPDATE td_devices SET name = COALESCE($3, name), \
                         can_delete_other_devices = COALESCE($4, can_delete_other_devices), \
                         can_update_other_devices = COALESCE($5, can_update_other_devices) \
                         WHERE id = $1 AND user_id = $2 RETURNING ",
                        device_columns!()
                    ))
                    .bind(id.as_uuid())
                    .bind(user.as_str())
                    .bind(patch.name.as_ref().map(|name| name.as_str()))
                    .bind(patch.can_delete_other_devices)
                    .bind(patch.can_update_other_devices),
                )
                .await
            }

            async fn record_seen(
                &self,
                id: DeviceId,
                sighting: Sighting,
            ) -> Result<(), StorageError> {
                sqlx::query(
                    "UPDATE td_devices SET last_seen_at = $2, last_ip = COALESCE($3, last_ip) \
                     WHERE id = $1 AND last_seen_at <= $4",
                )
                .bind(id.as_uuid())
                .bind(Self::time(sighting.at))
                .bind(sighting.ip.map(|ip| ip.to_string()))
                .bind(Self::time(sighting.stale_before))
                .execute(&self.pool)
                .await
                .map_err(storage_error)?;
                Ok(())
            }

            async fn extend_idle(
                &self,
                id: DeviceId,
                sighting: Sighting,
                extension: IdleExtension,
            ) -> Result<Option<Device>, StorageError> {
                // SET expressions all read the row as it was, so both CASEs test the old value.
                self.one(
                    sqlx::query(concat!(
                        "UPDATE td_devices SET idle_expires_at = $2, deadline = $6, \
                         last_seen_at = CASE WHEN last_seen_at <= $5 THEN $3 \
                           ELSE last_seen_at END, \
                         last_ip = CASE WHEN last_seen_at <= $5 THEN COALESCE($4, last_ip) \
                           ELSE last_ip END \
                         WHERE id = $1 RETURNING ",
                        device_columns!()
                    ))
                    .bind(id.as_uuid())
                    .bind(Self::time(extension.idle_expires_at))
                    .bind(Self::time(sighting.at))
                    .bind(sighting.ip.map(|ip| ip.to_string()))
                    .bind(Self::time(sighting.stale_before))
                    .bind(Self::time(extension.deadline)),
                )
                .await
            }

            async fn delete(
                &self,
                user: &UserId,
                id: DeviceId,
            ) -> Result<Option<Device>, StorageError> {
                self.one(
                    sqlx::query(concat!(
                        "DELETE FROM td_devices WHERE id = $1 AND user_id = $2 RETURNING ",
                        device_columns!()
                    ))
                    .bind(id.as_uuid())
                    .bind(user.as_str()),
                )
                .await
            }

            async fn delete_others(
                &self,
                user: &UserId,
                keep: DeviceId,
            ) -> Result<Vec<Device>, StorageError> {
                self.many(
                    sqlx::query(concat!(
                        "DELETE FROM td_devices WHERE user_id = $1 AND id <> $2 RETURNING ",
                        device_columns!()
                    ))
                    .bind(user.as_str())
                    .bind(keep.as_uuid()),
                )
                .await
            }

            async fn delete_all(&self, user: &UserId) -> Result<Vec<Device>, StorageError> {
                self.many(
                    sqlx::query(concat!(
                        "DELETE FROM td_devices WHERE user_id = $1 RETURNING ",
                        device_columns!()
                    ))
                    .bind(user.as_str()),
                )
                .await
            }

            async fn delete_expired(
                &self,
                now: DateTime<Utc>,
                batch: NonZeroU32,
            ) -> Result<Vec<Device>, StorageError> {
                let deleted = self
                    .many(
                        sqlx::query(concat!(
                            "DELETE FROM td_devices WHERE id IN (SELECT id FROM td_devices \
                             WHERE deadline <= $1 ORDER BY deadline LIMIT $2",
                            $skip_locked,
                            ") RETURNING ",
                            device_columns!()
                        ))
                        .bind(Self::time(now))
                        .bind(i64::from(batch.get())),
                    )
                    .await?;
                self.after_cleanup_batch().await;
                Ok(deleted)
            }
        }

        #[async_trait]
        impl TokenStore for $store {
            async fn insert(&self, record: RefreshRecord) -> Result<(), StorageError> {
                self.insert_token(&record, None).await
            }

            async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StorageError> {
                self.rotate_token(rotation).await
            }

            async fn revoke_devices(&self, devices: &[DeviceId]) -> Result<u64, StorageError> {
                self.revoke_tokens_of(devices).await
            }

            async fn forget_sealed(
                &self,
                consumed_before: DateTime<Utc>,
                batch: NonZeroU32,
            ) -> Result<u64, StorageError> {
                let done = sqlx::query(concat!(
                    "UPDATE td_refresh_tokens SET sealed_successor = NULL WHERE hash IN \
                     (SELECT hash FROM td_refresh_tokens \
                      WHERE sealed_successor IS NOT NULL AND rotated_at < $1 LIMIT $2",
                    $skip_locked,
                    ")"
                ))
                .bind(Self::time(consumed_before))
                .bind(i64::from(batch.get()))
                .execute(&self.pool)
                .await
                .map_err(storage_error)?;
                Ok(done.rows_affected())
            }

            async fn delete_expired(
                &self,
                now: DateTime<Utc>,
                batch: NonZeroU32,
            ) -> Result<u64, StorageError> {
                let done = sqlx::query(concat!(
                    "DELETE FROM td_refresh_tokens WHERE hash IN (SELECT hash \
                     FROM td_refresh_tokens WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2",
                    $skip_locked,
                    ")"
                ))
                .bind(Self::time(now))
                .bind(i64::from(batch.get()))
                .execute(&self.pool)
                .await
                .map_err(storage_error)?;
                self.after_cleanup_batch().await;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use {device_columns, opaque_debug, sql_store, token_columns};
