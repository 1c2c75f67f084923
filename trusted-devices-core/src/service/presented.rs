//! What a client presented to the service (SPEC §§8, 9): a token, the way it came, and the
//! request's DPoP proof. The token verbs take it as one value, so a new binding is a field
//! here, not a suffix on every verb.

use std::fmt;

use crate::domain::DeviceInfo;
use crate::dpop::DpopRequest;
use crate::token::Transport;

/// How a token came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Via {
    /// `Authorization: Bearer` (a refresh token: a JSON body).
    Bearer,
    /// The browser transport's cookie (SPEC §8).
    Cookie,
    /// `Authorization: DPoP`, with a proof, for a key-bound device (SPEC §9).
    Dpop,
}

/// A token as a client presented it, with the request's DPoP proof if it carried one.
/// A plain `&str` is a bearer token with no proof, so `authenticate(token, ip)` reads as
/// before; its `Debug` never shows the token.
///
/// ```
/// use trusted_devices_core::{Presented, Transport, Via};
/// let bearer: Presented<'_> = "a.jwt.token".into();
/// assert_eq!(bearer.via, Via::Bearer);
/// let cookie = Presented::new("a.jwt.token", Transport::Cookie);
/// assert_eq!(cookie.via, Via::Cookie);
/// assert!(!format!("{cookie:?}").contains("jwt"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Presented<'a> {
    /// The token as sent: an access token, or a refresh token for `refresh` and `sign_out`.
    pub token: &'a str,
    /// How it came.
    pub via: Via,
    /// The request's DPoP proof, if it carried one (SPEC §9).
    pub proof: Option<DpopRequest<'a>>,
}

impl fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presented")
            .field("token", &"<redacted>")
            .field("via", &self.via)
            .field("proof", &self.proof.map(|_| "<proof>"))
            .finish()
    }
}

impl<'a> Presented<'a> {
    /// A token that came by `transport`, with no proof yet.
    #[must_use]
    pub fn new(token: &'a str, transport: Transport) -> Self {
        let via = match transport {
            Transport::Cookie => Via::Cookie,
            Transport::Bearer => Via::Bearer,
        };
        Self {
            token,
            via,
            proof: None,
        }
    }

    /// `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer(token: &'a str) -> Self {
        Self::new(token, Transport::Bearer)
    }

    /// The access cookie's token (SPEC §8).
    #[must_use]
    pub fn cookie(token: &'a str) -> Self {
        Self::new(token, Transport::Cookie)
    }

    /// `Authorization: DPoP <token>` with the request's proof (SPEC §9).
    #[must_use]
    pub fn dpop(token: &'a str, proof: Option<DpopRequest<'a>>) -> Self {
        Self {
            token,
            via: Via::Dpop,
            proof,
        }
    }

    /// The same, with the request's DPoP proof (a refresh or sign-out of a key-bound
    /// device needs one).
    #[must_use]
    pub fn with_proof(mut self, proof: Option<DpopRequest<'a>>) -> Self {
        self.proof = proof;
        self
    }

    /// The transport the token was issued for: a cookie's, or a header's (bearer or DPoP).
    #[must_use]
    pub fn transport(&self) -> Transport {
        match self.via {
            Via::Cookie => Transport::Cookie,
            Via::Bearer | Via::Dpop => Transport::Bearer,
        }
    }
}

impl<'a> From<&'a str> for Presented<'a> {
    /// A bearer token with no proof.
    fn from(token: &'a str) -> Self {
        Self::bearer(token)
    }
}

impl<'a> From<&'a String> for Presented<'a> {
    /// A bearer token with no proof.
    fn from(token: &'a String) -> Self {
        Self::bearer(token)
    }
}

/// What a client presents to log in: what is known of its device, the transport it wants
/// its tokens on (SPEC §8), and the request's DPoP proof (SPEC §9). A [`DeviceInfo`] alone
/// is a bearer login without a proof, so `login(user, info)` reads as before.
///
/// ```
/// use trusted_devices_core::{DeviceInfo, LoginRequest, Transport};
/// let request = LoginRequest::from(DeviceInfo::new()).transport(Transport::Cookie);
/// assert_eq!(request.transport, Transport::Cookie);
/// assert!(request.proof.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct LoginRequest<'a> {
    /// The device's User-Agent, address, requested name...
    pub info: DeviceInfo,
    /// How its tokens travel [default: bearer].
    pub transport: Transport,
    /// The request's DPoP proof, if it carried one [default: none].
    pub proof: Option<DpopRequest<'a>>,
}

impl<'a> LoginRequest<'a> {
    /// A bearer login of the device `info` describes, without a proof.
    #[must_use]
    pub fn new(info: DeviceInfo) -> Self {
        Self {
            info,
            transport: Transport::Bearer,
            proof: None,
        }
    }

    /// The same, with tokens on `transport`.
    #[must_use]
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The same, with the request's DPoP proof.
    #[must_use]
    pub fn proof(mut self, proof: Option<DpopRequest<'a>>) -> Self {
        self.proof = proof;
        self
    }
}

impl From<DeviceInfo> for LoginRequest<'_> {
    /// A bearer login without a proof.
    fn from(info: DeviceInfo) -> Self {
        Self::new(info)
    }
}
