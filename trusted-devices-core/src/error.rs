//! The error type of every fallible operation, one variant per stable `code` of SPEC §6.
//!
//! Web adapters hold no policy: they read [`Error::code`], [`Error::status`] and
//! [`Error::retry_after`] and translate, so both frameworks answer the same way.

use std::error::Error as StdError;

/// A boxed error source, kept so that nothing is lost in a string.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything a trusted-devices operation can refuse or fail with.
///
/// Each variant maps to exactly one stable `code` and HTTP status of SPEC §6.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No access token was presented (`token_missing`, 401).
    #[error("no access token was presented")]
    TokenMissing,
    /// The access token is malformed, forged, signed with an unknown key or another `alg`
    /// (`token_invalid`, 401).
    #[error("the access token is invalid")]
    TokenInvalid,
    /// The access token's `exp` has passed, leeway included (`token_expired`, 401).
    #[error("the access token has expired")]
    TokenExpired,
    /// The token's device was revoked, belongs to someone else, or its session ended
    /// (`device_revoked`, 401).
    #[error("the device of this token has been revoked or its session has ended")]
    DeviceRevoked,
    /// The refresh token is malformed or unknown (`refresh_token_invalid`, 401).
    #[error("the refresh token is invalid")]
    RefreshTokenInvalid,
    /// The refresh token's idle or absolute deadline has passed (`refresh_token_expired`, 401).
    #[error("the refresh token has expired")]
    RefreshTokenExpired,
    /// A consumed refresh token was presented after the reuse grace; its device has been
    /// revoked (`refresh_token_reused`, 401).
    #[error("the refresh token was already used; the device has been revoked")]
    RefreshTokenReused,
    /// The acting device is younger than `delete_delay` (`delete_too_soon`, 403).
    #[error("this device is too new to delete other devices; retry in {retry_after} s")]
    DeleteTooSoon {
        /// Seconds until the acting device is old enough.
        retry_after: u64,
    },
    /// The acting device is younger than `update_delay` (`update_too_soon`, 403).
    #[error("this device is too new to change other devices; retry in {retry_after} s")]
    UpdateTooSoon {
        /// Seconds until the acting device is old enough.
        retry_after: u64,
    },
    /// The policy forbids deleting other devices (`global_delete_disabled`, 403).
    #[error("deleting other devices is disabled")]
    GlobalDeleteDisabled,
    /// The policy forbids changing other devices (`global_update_disabled`, 403).
    #[error("changing other devices is disabled")]
    GlobalUpdateDisabled,
    /// The acting device lacks the permission flag, or tried to grant one it does not hold
    /// (`permission_denied`, 403).
    #[error("this device is not permitted to do that")]
    PermissionDenied,
    /// No such device for this user; another user's device is answered the same way
    /// (`device_not_found`, 404).
    #[error("no such device")]
    DeviceNotFound,
    /// The user holds `max_devices` devices and the eviction mode is `Reject`
    /// (`too_many_devices`, 409).
    #[error("the user already holds the maximum number of devices")]
    TooManyDevices,
    /// A state-changing request authenticated by cookie came from an origin that is not
    /// allowed (`csrf_rejected`, 403): nothing changed.
    #[error("this request did not come from an allowed origin")]
    CsrfRejected,
    /// The application's login refused the user name or the password; the same answer for
    /// both, so that it reveals neither (`invalid_credentials`, 401). The library never
    /// checks passwords: this is for the application's own login handler.
    #[error("wrong user name or password")]
    InvalidCredentials,
    /// Too many requests of this kind: a limit or a bounded queue is full (`rate_limited`,
    /// 429). Nothing was done, nothing is revoked.
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited {
        /// Seconds to wait before retrying.
        retry_after: u64,
    },
    /// The input was malformed, of the wrong type or too large (`invalid_request`, 400/422).
    #[error("invalid request: {0}")]
    InvalidRequest(#[from] InputError),
    /// The storage backend failed or could not be reached (`storage_unavailable`, 503).
    #[error("storage is unavailable")]
    StorageUnavailable(#[from] StorageError),
    /// A DPoP proof was needed and missing, or refused (`dpop_invalid`, 401, with
    /// `WWW-Authenticate: DPoP`): SPEC §9. Nothing changed.
    #[error("the DPoP proof was refused")]
    DpopInvalid(#[source] ProofError),
}

impl Error {
    /// Every code of SPEC §6 with its status, as [`code`](Self::code) and
    /// [`status`](Self::status) answer them (a test holds the three together).
    pub const CODES: [(&'static str, u16); 21] = [
        ("token_missing", 401),
        ("token_invalid", 401),
        ("token_expired", 401),
        ("device_revoked", 401),
        ("refresh_token_invalid", 401),
        ("refresh_token_expired", 401),
        ("refresh_token_reused", 401),
        ("delete_too_soon", 403),
        ("update_too_soon", 403),
        ("global_delete_disabled", 403),
        ("global_update_disabled", 403),
        ("permission_denied", 403),
        ("device_not_found", 404),
        ("too_many_devices", 409),
        ("invalid_credentials", 401),
        ("rate_limited", 429),
        ("csrf_rejected", 403),
        ("invalid_request", 400),
        ("invalid_request", 422),
        ("storage_unavailable", 503),
        ("dpop_invalid", 401),
    ];

    /// The stable machine-readable code of SPEC §6.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TokenMissing => "token_missing",
            Self::TokenInvalid => "token_invalid",
            Self::TokenExpired => "token_expired",
            Self::DeviceRevoked => "device_revoked",
            Self::RefreshTokenInvalid => "refresh_token_invalid",
            Self::RefreshTokenExpired => "refresh_token_expired",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::DeleteTooSoon { .. } => "delete_too_soon",
            Self::UpdateTooSoon { .. } => "update_too_soon",
            Self::GlobalDeleteDisabled => "global_delete_disabled",
            Self::GlobalUpdateDisabled => "global_update_disabled",
            Self::PermissionDenied => "permission_denied",
            Self::DeviceNotFound => "device_not_found",
            Self::TooManyDevices => "too_many_devices",
            Self::InvalidCredentials => "invalid_credentials",
            Self::RateLimited { .. } => "rate_limited",
            Self::CsrfRejected => "csrf_rejected",
            Self::InvalidRequest(_) => "invalid_request",
            Self::StorageUnavailable(_) => "storage_unavailable",
            Self::DpopInvalid(_) => "dpop_invalid",
        }
    }

    /// The HTTP status of SPEC §6.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::TokenMissing
            | Self::TokenInvalid
            | Self::TokenExpired
            | Self::DeviceRevoked
            | Self::RefreshTokenInvalid
            | Self::RefreshTokenExpired
            | Self::RefreshTokenReused
            | Self::InvalidCredentials
            | Self::DpopInvalid(_) => 401,
            Self::DeleteTooSoon { .. }
            | Self::UpdateTooSoon { .. }
            | Self::GlobalDeleteDisabled
            | Self::GlobalUpdateDisabled
            | Self::PermissionDenied
            | Self::CsrfRejected => 403,
            Self::DeviceNotFound => 404,
            Self::TooManyDevices => 409,
            Self::RateLimited { .. } => 429,
            Self::InvalidRequest(input) => input.status(),
            Self::StorageUnavailable(_) => 503,
        }
    }

    /// Seconds to wait before retrying, for the `*_too_soon` and `rate_limited` refusals.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::DeleteTooSoon { retry_after }
            | Self::UpdateTooSoon { retry_after }
            | Self::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// For a refused DPoP proof, the `WWW-Authenticate: DPoP` challenge's error and the
    /// fresh nonce to send in `DPoP-Nonce`, if the refusal asks for one (RFC 9449 §7.1, §8).
    #[must_use]
    pub fn dpop_challenge(&self) -> Option<(&'static str, Option<&str>)> {
        match self {
            Self::DpopInvalid(ProofError::UseNonce { nonce }) => {
                Some(("use_dpop_nonce", Some(nonce.as_str())))
            }
            Self::DpopInvalid(_) => Some(("invalid_dpop_proof", None)),
            _ => None,
        }
    }

    /// Whether this is an access-token failure that HTTP answers with
    /// `WWW-Authenticate: Bearer error="invalid_token"`.
    #[must_use]
    pub fn is_bearer_challenge(&self) -> bool {
        matches!(
            self,
            Self::TokenMissing | Self::TokenInvalid | Self::TokenExpired | Self::DeviceRevoked
        )
    }
}

/// Why a proof was refused: every case is 401 `dpop_invalid` with the same words to the
/// client; the case goes to the logs and the history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// No proof where one is needed (a bound device, or `dpop = required`).
    #[error("a DPoP proof is required")]
    Missing,
    /// More than one `DPoP` header.
    #[error("more than one DPoP header")]
    Repeated,
    /// Longer than [`PROOF_MAX_BYTES`](crate::dpop::PROOF_MAX_BYTES), or a field beyond
    /// its bound.
    #[error("the DPoP proof is too large")]
    Oversized,
    /// Not a compact JWS of JSON objects, or a required member is missing.
    #[error("the DPoP proof is malformed")]
    Malformed,
    /// `typ` is not `dpop+jwt`, or the header has `crit`.
    #[error("the DPoP proof's typ is not dpop+jwt")]
    WrongType,
    /// `alg` is not ES256 or EdDSA (none, a MAC, RSA...), or does not fit the key.
    #[error("the DPoP proof's algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The `jwk` is not a P-256 or Ed25519 public key in canonical form.
    #[error("the DPoP proof's key is not accepted")]
    UnsupportedKey,
    /// The `jwk` holds private key material.
    #[error("the DPoP proof's key is private")]
    PrivateKey,
    /// The signature does not verify with the `jwk`.
    #[error("the DPoP proof's signature does not verify")]
    BadSignature,
    /// `htm` is not the request's method.
    #[error("the DPoP proof is for another method")]
    WrongMethod,
    /// `htu` is not the request's URI.
    #[error("the DPoP proof is for another URI")]
    WrongUri,
    /// `iat` lies further from now than `dpop_proof_age`.
    #[error("the DPoP proof is too old or from the future")]
    OutOfWindow,
    /// `ath` is missing or is not the hash of the access token presented.
    #[error("the DPoP proof is for another access token")]
    WrongAccessToken,
    /// Its `jti` was seen before for this key within the window.
    #[error("the DPoP proof was replayed")]
    Replayed,
    /// Signed by another key than the device's.
    #[error("the DPoP proof is signed by another key than the device's")]
    WrongKey,
    /// A token presented with the DPoP scheme whose device holds no key.
    #[error("the token is not bound to a key")]
    NotBound,
    /// The token is key-bound and was presented as `Bearer`.
    #[error("a key-bound token was presented without DPoP")]
    BoundTokenAsBearer,
    /// A server nonce is required and was missing or stale: the answer carries a fresh
    /// one in `DPoP-Nonce` (RFC 9449 section 8).
    #[error("a fresh DPoP nonce is required")]
    UseNonce {
        /// The nonce to use.
        nonce: String,
    },
}

impl ProofError {
    /// The stable name of the case, for logs and the history.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Repeated => "repeated",
            Self::Oversized => "oversized",
            Self::Malformed => "malformed",
            Self::WrongType => "wrong_type",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedKey => "unsupported_key",
            Self::PrivateKey => "private_key",
            Self::BadSignature => "bad_signature",
            Self::WrongMethod => "wrong_method",
            Self::WrongUri => "wrong_uri",
            Self::OutOfWindow => "out_of_window",
            Self::WrongAccessToken => "wrong_access_token",
            Self::Replayed => "replayed",
            Self::WrongKey => "wrong_key",
            Self::NotBound => "not_bound",
            Self::BoundTokenAsBearer => "bound_token_as_bearer",
            Self::UseNonce { .. } => "use_nonce",
        }
    }
}

/// Why an input was refused (`invalid_request`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A required value was empty.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name.
        field: &'static str,
    },
    /// A value was longer than its bound.
    #[error("{field} is longer than {max} {unit}")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// The bound.
        max: usize,
        /// What the bound counts: `bytes` or `characters`.
        unit: &'static str,
    },
    /// A value had the wrong form (a control character, a wrong JSON type).
    #[error("{field} is malformed")]
    Malformed {
        /// The field's name.
        field: &'static str,
    },
    /// The request body was larger than the limit.
    #[error("the request body is larger than {max} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The request body was valid JSON but not an object (an array, a string, a number...).
    #[error("the request body must be a JSON object")]
    NotAnObject,
    /// The request body was not sent as `application/json` (a login: a form or text a
    /// cross-site page could send without asking).
    #[error("the request body must be sent as application/json")]
    NotJson,
    /// The request body was not valid JSON, had the wrong types or unknown fields.
    #[error("the request body does not match this route: {0}")]
    Body(#[source] serde_json::Error),
}

impl InputError {
    /// 400 for bodies that are not JSON at all or too large, 422 for well-formed JSON with
    /// the wrong content.
    fn status(&self) -> u16 {
        match self {
            Self::BodyTooLarge { .. } | Self::NotJson => 400,
            Self::Body(json) if json.is_syntax() || json.is_eof() => 400,
            _ => 422,
        }
    }
}

/// A storage backend's failure, with the driver's error kept as the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The backend could not be reached (connection refused or lost, pool timed out).
    #[error("the storage backend is unreachable")]
    Unavailable(#[source] BoxError),
    /// The backend answered with an error.
    #[error("the storage backend failed")]
    Backend(#[source] BoxError),
    /// A stored record could not be read back (unknown format version, bad field).
    #[error("a stored record is corrupt: {detail}")]
    Corrupt {
        /// What was wrong with it.
        detail: String,
    },
}

impl StorageError {
    /// Wraps a driver error that means the backend is unreachable.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }

    /// Wraps any other driver error.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        Self::Backend(source.into())
    }

    /// A stored record that cannot be decoded.
    pub fn corrupt(detail: impl Into<String>) -> Self {
        Self::Corrupt {
            detail: detail.into(),
        }
    }
}
