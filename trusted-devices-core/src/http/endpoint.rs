/// The routes of SPEC §6, with their method and path (`{id}` is the path parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /auth/refresh {refresh_token}`.
    Refresh,
    /// `DELETE /auth/refresh {refresh_token}`, or with cookies an empty body and the
    /// refresh cookie: signs the device out with its refresh token alone (SPEC §8: an
    /// expired access cookie must never leave the session alive). It shares the refresh
    /// route's path because the refresh cookie is sent there only.
    SignOut,
    /// `POST /auth/verify {token}`.
    Verify,
    /// `GET /devices`.
    ListDevices,
    /// `GET /devices/{id}`.
    GetDevice,
    /// `PATCH /devices/{id}`.
    UpdateDevice,
    /// `DELETE /devices/{id}`.
    DeleteDevice,
    /// `POST /devices/logout`.
    Logout,
    /// `POST /devices/revoke-others`.
    RevokeOthers,
    /// `GET /devices/activity?cursor=&limit=` (rule H).
    Activity,
}

impl Endpoint {
    /// Every route, for adapters to register in one loop.
    pub const ALL: [Self; 10] = [
        Self::Refresh,
        Self::SignOut,
        Self::Verify,
        Self::ListDevices,
        Self::GetDevice,
        Self::UpdateDevice,
        Self::DeleteDevice,
        Self::Logout,
        Self::RevokeOthers,
        Self::Activity,
    ];

    /// The HTTP method.
    #[must_use]
    pub fn method(self) -> &'static str {
        match self {
            Self::Refresh | Self::Verify | Self::Logout | Self::RevokeOthers => "POST",
            Self::ListDevices | Self::GetDevice | Self::Activity => "GET",
            Self::UpdateDevice => "PATCH",
            Self::DeleteDevice | Self::SignOut => "DELETE",
        }
    }

    /// The path, with `{id}` for the device id.
    #[must_use]
    pub fn path(self) -> &'static str {
        match self {
            Self::Refresh | Self::SignOut => "/auth/refresh",
            Self::Verify => "/auth/verify",
            Self::ListDevices => "/devices",
            Self::GetDevice | Self::UpdateDevice | Self::DeleteDevice => "/devices/{id}",
            Self::Logout => "/devices/logout",
            Self::RevokeOthers => "/devices/revoke-others",
            Self::Activity => "/devices/activity",
        }
    }

    /// Whether the route changes state (and so, authenticated by cookie, passes the CSRF
    /// guard): every method but `GET`.
    #[must_use]
    pub fn changes_state(self) -> bool {
        self.method() != "GET"
    }

    /// Whether the route ends the acting browser's session: its every answer clears both
    /// cookies (SPEC §8).
    #[must_use]
    pub fn signs_out(self) -> bool {
        matches!(self, Self::Logout | Self::SignOut)
    }

    /// Whether the route issues tokens (a refresh): a missing server nonce is answered
    /// there as RFC 9449 section 8 has a token endpoint answer (SPEC §9).
    #[must_use]
    pub fn issues_tokens(self) -> bool {
        matches!(self, Self::Refresh)
    }

    /// Whether the route needs a bearer access token.
    #[must_use]
    pub fn needs_bearer(self) -> bool {
        !matches!(self, Self::Refresh | Self::SignOut | Self::Verify)
    }
}
