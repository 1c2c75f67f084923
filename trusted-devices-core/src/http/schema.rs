//! Schemas of values that are lists of names (problem codes, history kinds), for the
//! OpenAPI document: a leaf that the answers' types and the document both read.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::audit::AuditKind;
use crate::error::Error;

/// The `code` of a problem: one of [`Error::CODES`].
pub struct ErrorCode;

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let codes = Error::CODES.iter().map(|(code, _)| *code);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(codes))
            .into()
    }
}

impl ToSchema for ErrorCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

/// The `kind` of a history entry: one of [`AuditKind::ALL`]'s names.
pub struct ActivityKind;

impl PartialSchema for ActivityKind {
    fn schema() -> RefOr<Schema> {
        let kinds = AuditKind::ALL.iter().map(|kind| kind.name());
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(kinds))
            .into()
    }
}

impl ToSchema for ActivityKind {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ActivityKind")
    }
}
