//! What the stores need of a sqlx driver, said once: a [`Statement`] binds the column types
//! the dialect [`Binds`], rows give back what it [`Reads`], and it [`Runs`] on a pool or in
//! a transaction. Each is a trait with one blanket implementation, so the driver's own
//! bounds are written here only; the generic store code names none of them.

use async_trait::async_trait;
use sqlx::query::Query;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type,
};
use trusted_devices_core::StorageError;

use crate::error::storage_error;

/// A database driver.
pub trait Backend: Send + Sync + Sized + 'static {
    /// The sqlx driver.
    type Db: Database;

    /// How many rows a statement changed (sqlx's results say it per driver).
    #[doc(hidden)]
    fn rows_affected(done: &<Self::Db as Database>::QueryResult) -> u64;
}

/// A row of the driver.
pub(crate) type RowOf<B> = <<B as Backend>::Db as Database>::Row;

type QueryOf<'q, B> = Query<'q, <B as Backend>::Db, <<B as Backend>::Db as Database>::Arguments>;

/// The driver binds a `T`.
pub trait Binds<T>: Backend {
    /// `query` with `value` bound to its next placeholder.
    #[doc(hidden)]
    fn bind_to(query: QueryOf<'_, Self>, value: T) -> QueryOf<'_, Self>;
}

impl<B: Backend, T> Binds<T> for B
where
    T: for<'q> Encode<'q, B::Db> + Type<B::Db>,
{
    fn bind_to(query: QueryOf<'_, Self>, value: T) -> QueryOf<'_, Self> {
        query.bind(value)
    }
}

/// The driver reads a `T` back from a named column.
pub trait Reads<T>: Backend {
    /// The value of `column` in `row`.
    #[doc(hidden)]
    fn read(row: &RowOf<Self>, column: &str) -> Result<T, StorageError>;
}

impl<B: Backend, T> Reads<T> for B
where
    T: for<'r> Decode<'r, B::Db> + Type<B::Db>,
    for<'n> &'n str: ColumnIndex<RowOf<B>>,
{
    fn read(row: &RowOf<Self>, column: &str) -> Result<T, StorageError> {
        sqlx::Row::try_get(row, column).map_err(storage_error)
    }
}

/// The driver runs statements on a pool or in a transaction.
#[async_trait]
pub trait Runs: Backend {
    /// At most one row.
    #[doc(hidden)]
    async fn fetch_optional(
        query: QueryOf<'_, Self>,
        on: On<'_, Self>,
    ) -> Result<Option<RowOf<Self>>, StorageError>;

    /// Every row.
    #[doc(hidden)]
    async fn fetch_all(
        query: QueryOf<'_, Self>,
        on: On<'_, Self>,
    ) -> Result<Vec<RowOf<Self>>, StorageError>;

    /// How many rows changed.
    #[doc(hidden)]
    async fn execute(query: QueryOf<'_, Self>, on: On<'_, Self>) -> Result<u64, StorageError>;
}

/// Where a statement runs: on the pool, or in an open transaction.
#[doc(hidden)]
pub enum On<'a, B: Backend> {
    /// A connection of the pool.
    Pool(&'a Pool<B::Db>),
    /// The transaction's connection.
    Transaction(&'a mut Transaction<'static, B::Db>),
}

#[async_trait]
impl<B: Backend> Runs for B
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
{
    async fn fetch_optional(
        query: QueryOf<'_, Self>,
        on: On<'_, Self>,
    ) -> Result<Option<RowOf<Self>>, StorageError> {
        match on {
            On::Pool(pool) => query.fetch_optional(pool).await,
            On::Transaction(tx) => query.fetch_optional(&mut **tx).await,
        }
        .map_err(storage_error)
    }

    async fn fetch_all(
        query: QueryOf<'_, Self>,
        on: On<'_, Self>,
    ) -> Result<Vec<RowOf<Self>>, StorageError> {
        match on {
            On::Pool(pool) => query.fetch_all(pool).await,
            On::Transaction(tx) => query.fetch_all(&mut **tx).await,
        }
        .map_err(storage_error)
    }

    async fn execute(query: QueryOf<'_, Self>, on: On<'_, Self>) -> Result<u64, StorageError> {
        let done = match on {
            On::Pool(pool) => query.execute(pool).await,
            On::Transaction(tx) => query.execute(&mut **tx).await,
        }
        .map_err(storage_error)?;
        Ok(B::rows_affected(&done))
    }
}

/// A statement being bound, for the dialect `B`.
#[doc(hidden)]
pub struct Statement<'q, B: Backend> {
    query: QueryOf<'q, B>,
}

impl<'q, B: Runs> Statement<'q, B> {
    /// The statement `sql`, nothing bound yet.
    pub(crate) fn new(sql: &'static str) -> Self {
        Self {
            query: sqlx::query(sql),
        }
    }

    /// `value` bound to the next placeholder.
    pub(crate) fn bind<T>(self, value: T) -> Self
    where
        B: Binds<T>,
    {
        Self {
            query: B::bind_to(self.query, value),
        }
    }

    /// At most one row.
    pub(crate) async fn fetch_optional(
        self,
        on: On<'_, B>,
    ) -> Result<Option<RowOf<B>>, StorageError> {
        B::fetch_optional(self.query, on).await
    }

    /// Every row.
    pub(crate) async fn fetch_all(self, on: On<'_, B>) -> Result<Vec<RowOf<B>>, StorageError> {
        B::fetch_all(self.query, on).await
    }

    /// How many rows changed.
    pub(crate) async fn execute(self, on: On<'_, B>) -> Result<u64, StorageError> {
        B::execute(self.query, on).await
    }
}
