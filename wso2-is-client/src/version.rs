//! Server versions, and what each version of Identity Server can do.
//!
//! Every behaviour that differs between IS releases is read from [`IsCapabilities`], derived
//! from a [`ServerVersion`] in one place ([`IsCapabilities::of`]); nothing else compares version
//! numbers. API Manager's capabilities live in `wso2-apim-client` (`ApimCapabilities`), derived
//! the same way. The facts and their sources are in the project's `WSO2-VERSIONS.md`.
//!
//! ```
//! use wso2_is_client::version::{IsCapabilities, ManagementApi, Product, ServerVersion};
//!
//! let v: ServerVersion = ServerVersion::parse(Product::IdentityServer, "7.1.0").unwrap();
//! assert!(v.is_supported());
//! let caps = IsCapabilities::of(v);
//! assert_eq!(caps.management, ManagementApi::Rest);
//! assert_eq!(caps.role_claim, "http://wso2.org/claims/groups");
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The WSO2 product a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    /// WSO2 Identity Server.
    IdentityServer,
    /// WSO2 API Manager.
    ApiManager,
}

impl Product {
    /// The short name used in messages: `IS` or `APIM`.
    pub fn short_name(self) -> &'static str {
        match self {
            Self::IdentityServer => "IS",
            Self::ApiManager => "APIM",
        }
    }

    /// The releases this crate family supports, oldest first.
    pub fn supported(self) -> &'static [ServerVersion] {
        match self {
            Self::IdentityServer => SUPPORTED_IS,
            Self::ApiManager => SUPPORTED_APIM,
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// A release of a WSO2 product: major.minor, with the patch level when it matters (or was
/// read from the server).
///
/// Ordered by product, then release; two values of one release with and without a patch level
/// compare by [`same_release`](Self::same_release), not `==`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServerVersion {
    product: Product,
    major: u16,
    minor: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patch: Option<u16>,
}

const fn is(major: u16, minor: u16) -> ServerVersion {
    ServerVersion::new(Product::IdentityServer, major, minor)
}

const fn apim(major: u16, minor: u16) -> ServerVersion {
    ServerVersion::new(Product::ApiManager, major, minor)
}

/// The Identity Server releases supported: 5.9 (SOAP only) and 5.10 to 7.3 (REST).
pub const SUPPORTED_IS: &[ServerVersion] = &[
    is(5, 9),
    is(5, 10),
    is(5, 11),
    is(6, 0),
    is(6, 1),
    is(7, 0),
    is(7, 1),
    is(7, 2),
    is(7, 3),
];

/// The API Manager releases supported: 3.0 to 4.7.
pub const SUPPORTED_APIM: &[ServerVersion] = &[
    apim(3, 0),
    apim(3, 1),
    apim(3, 2),
    apim(4, 0),
    apim(4, 1),
    apim(4, 2),
    apim(4, 3),
    apim(4, 4),
    apim(4, 5),
    apim(4, 6),
    apim(4, 7),
];

impl ServerVersion {
    /// `product` at `major.minor` (patch level unknown).
    pub const fn new(product: Product, major: u16, minor: u16) -> Self {
        Self {
            product,
            major,
            minor,
            patch: None,
        }
    }

    /// Identity Server `major.minor`.
    pub const fn is(major: u16, minor: u16) -> Self {
        is(major, minor)
    }

    /// API Manager `major.minor`.
    pub const fn apim(major: u16, minor: u16) -> Self {
        apim(major, minor)
    }

    /// The same release at patch level `patch`.
    pub const fn with_patch(mut self, patch: u16) -> Self {
        self.patch = Some(patch);
        self
    }

    /// Parses `5.10`, `5.10.0`, `v7.1.0` or `4.7.0-SNAPSHOT` (what Carbon's `ServerAdmin`
    /// answers, what a settings file pins).
    pub fn parse(product: Product, text: &str) -> Result<Self, VersionError> {
        let bad = || VersionError {
            product,
            text: text.chars().take(64).collect(),
        };
        let trimmed = text.trim();
        let core = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
        let core = core.split(['-', '+', ' ']).next().unwrap_or_default();
        let mut parts = core.split('.');
        let number = |p: Option<&str>| -> Result<Option<u16>, VersionError> {
            match p {
                None => Ok(None),
                Some(s)
                    if !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    s.parse().map(Some).map_err(|_| bad())
                }
                Some(_) => Err(bad()),
            }
        };
        let major = number(parts.next())?.ok_or_else(bad)?;
        let minor = number(parts.next())?.ok_or_else(bad)?;
        let patch = number(parts.next())?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Self {
            product,
            major,
            minor,
            patch,
        })
    }

    /// The product.
    pub const fn product(self) -> Product {
        self.product
    }

    /// The major version (`7` of 7.1).
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The minor version (`1` of 7.1).
    pub const fn minor(self) -> u16 {
        self.minor
    }

    /// The patch level, when known.
    pub const fn patch(self) -> Option<u16> {
        self.patch
    }

    /// This release without its patch level.
    pub const fn release(self) -> Self {
        Self::new(self.product, self.major, self.minor)
    }

    /// Whether both are the same product and major.minor (patch levels ignored).
    pub fn same_release(self, other: Self) -> bool {
        self.release() == other.release()
    }

    /// Whether this release is `major.minor` or later (same product assumed).
    pub const fn at_least(self, major: u16, minor: u16) -> bool {
        self.major > major || (self.major == major && self.minor >= minor)
    }

    /// Whether this crate family supports the release.
    pub fn is_supported(self) -> bool {
        self.product
            .supported()
            .iter()
            .any(|s| s.same_release(self))
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}.{}", self.product, self.major, self.minor)?;
        if let Some(p) = self.patch {
            write!(f, ".{p}")?;
        }
        Ok(())
    }
}

/// The supported releases of `product`, as text (`5.9, 5.10, ...`), for messages.
pub fn supported_list(product: Product) -> String {
    product
        .supported()
        .iter()
        .map(|v| format!("{}.{}", v.major, v.minor))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A version text that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a {product} version such as 7.1 or 5.10.0")]
pub struct VersionError {
    /// The product it was meant for.
    pub product: Product,
    /// The text (at most 64 characters of it).
    pub text: String,
}

impl FromStr for Product {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "is" | "identity_server" | "identity-server" => Ok(Self::IdentityServer),
            "apim" | "api_manager" | "api-manager" => Ok(Self::ApiManager),
            other => Err(format!("{other:?} is not a product (is, apim)")),
        }
    }
}

/// Which API manages applications (service providers and their OAuth/OIDC inbound settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagementApi {
    /// The Carbon SOAP admin services (`IdentityApplicationManagementService`,
    /// `OAuthAdminService`): IS 5.9, the only API it has.
    Soap,
    /// The REST API under `/api/server/v1` (IS 5.10 and later).
    Rest,
}

/// Whether the Carbon SOAP admin services answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoapAdminServices {
    /// On and supported (IS 5.9 to 5.11).
    Supported,
    /// On, but deprecated (IS 6.0 to 7.1).
    Deprecated,
    /// Off unless `[server] enable_admin_services = true` (IS 7.2 and later); a disabled service
    /// answers HTTP 500.
    OffByDefault,
}

/// How users and the roles they carry are managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserManagement {
    /// `RemoteUserStoreManagerService` (SOAP): `addUser`, `addRole` (IS 5.9).
    Soap,
    /// SCIM2 `/scim2/Users` and `/scim2/Groups`: the groups are what the id_token's `groups`
    /// claim carries (IS 5.10 and later).
    Scim2Groups,
}

/// The SCIM2 role endpoints a server offers (the client can drive each; the federation uses
/// groups, see [`UserManagement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScimRoles {
    /// No `/scim2/Roles` (IS 5.9, 5.10: roles are groups).
    None,
    /// `/scim2/Roles` (internal roles; IS 5.11 to 6.1).
    V1,
    /// `/scim2/Roles` and `/scim2/v2/Roles` with an audience (IS 7.0, 7.1).
    V2,
    /// `/scim2/Roles`, `/scim2/v2/Roles` and `/scim2/v3/Roles` (IS 7.2 and later).
    V3,
}

/// How the id_token comes to carry the role claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    /// The `openid` scope releases `groups` (IS 5.9 to 5.11): nothing to do, APIM asks for
    /// `openid`.
    Openid,
    /// `openid` is empty and there is no `groups` scope (IS 6.0): the federation adds the
    /// `groups` claim to the `openid` scope (`PUT /api/server/v1/oidc/scopes/openid`, after
    /// reading it: the list is replaced), and APIM asks for `openid`.
    WidenOpenid,
    /// The `groups` scope releases it (IS 6.1 and later): APIM asks for `openid groups`.
    Groups,
}

impl RoleScope {
    /// The scopes APIM must request from IS.
    pub fn requested_scopes(self) -> &'static str {
        match self {
            Self::Openid | Self::WidenOpenid => "openid",
            Self::Groups => "openid groups",
        }
    }
}

/// The names of the consent switches of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentFields {
    /// No skip-consent setting (IS 5.9, framework 5.14.97).
    None,
    /// REST `advancedConfigurations.skipConsent` (IS 5.10).
    SkipConsent,
    /// REST `advancedConfigurations.skipLoginConsent` and `skipLogoutConsent` (IS 5.11 and later).
    SkipLoginAndLogoutConsent,
}

/// What one Identity Server release can do, for the steps that differ between releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IsCapabilities {
    /// The release these describe.
    pub version: ServerVersion,
    /// How applications (service providers, OAuth/OIDC inbound) are managed.
    pub management: ManagementApi,
    /// Whether the SOAP admin services answer by default.
    pub soap_admin_services: SoapAdminServices,
    /// How users and their roles/groups are managed.
    pub users: UserManagement,
    /// The SCIM2 role endpoints offered.
    pub scim_roles: ScimRoles,
    /// The local claim the application requests (mandatory) to carry roles:
    /// `http://wso2.org/claims/role` up to 5.11, `http://wso2.org/claims/groups` from 6.0 (where
    /// `…/claims/role` is no longer supported by default).
    pub role_claim: &'static str,
    /// The id_token claim that carries the roles (APIM's role claim URI): `groups` in every
    /// release.
    pub token_role_claim: &'static str,
    /// How the id_token comes to carry the role claim.
    pub role_scope: RoleScope,
    /// The application's consent switches.
    pub consent: ConsentFields,
    /// Whether the OIDC inbound settings have `clientAuthentication.tokenEndpointAuthMethod`
    /// (REST) / `tokenEndpointAuthMethod` (SOAP DTO): IS 7.0 and later, set to
    /// `client_secret_basic`.
    pub token_endpoint_auth_method: bool,
    /// Whether `sub` is the user's UUID unless the application's subject claim is set to
    /// `http://wso2.org/claims/username` (IS 7.0 and later; JIT users on APIM would otherwise
    /// get UUID names).
    pub subject_is_uuid: bool,
}

impl IsCapabilities {
    /// The capabilities of `version` (an IS release; a later, unknown release is read as the
    /// newest known one).
    pub fn of(version: ServerVersion) -> Self {
        let v = version;
        let rest = v.at_least(5, 10);
        Self {
            version,
            management: if rest {
                ManagementApi::Rest
            } else {
                ManagementApi::Soap
            },
            soap_admin_services: if v.at_least(7, 2) {
                SoapAdminServices::OffByDefault
            } else if v.at_least(6, 0) {
                SoapAdminServices::Deprecated
            } else {
                SoapAdminServices::Supported
            },
            users: if rest {
                UserManagement::Scim2Groups
            } else {
                UserManagement::Soap
            },
            scim_roles: if v.at_least(7, 2) {
                ScimRoles::V3
            } else if v.at_least(7, 0) {
                ScimRoles::V2
            } else if v.at_least(5, 11) {
                ScimRoles::V1
            } else {
                ScimRoles::None
            },
            role_claim: if v.at_least(6, 0) {
                "http://wso2.org/claims/groups"
            } else {
                "http://wso2.org/claims/role"
            },
            token_role_claim: "groups",
            role_scope: if v.at_least(6, 1) {
                RoleScope::Groups
            } else if v.at_least(6, 0) {
                RoleScope::WidenOpenid
            } else {
                RoleScope::Openid
            },
            consent: if v.at_least(5, 11) {
                ConsentFields::SkipLoginAndLogoutConsent
            } else if rest {
                ConsentFields::SkipConsent
            } else {
                ConsentFields::None
            },
            token_endpoint_auth_method: v.at_least(7, 0),
            subject_is_uuid: v.at_least(7, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_servers_and_settings_say() {
        let p = Product::IdentityServer;
        assert_eq!(
            ServerVersion::parse(p, "5.10").unwrap(),
            ServerVersion::is(5, 10)
        );
        assert_eq!(
            ServerVersion::parse(p, "v7.1.0").unwrap(),
            ServerVersion::is(7, 1).with_patch(0)
        );
        assert_eq!(
            ServerVersion::parse(Product::ApiManager, " 4.7.0-SNAPSHOT ").unwrap(),
            ServerVersion::apim(4, 7).with_patch(0)
        );
        for bad in ["", "7", "7.", "x.1", "7.1.2.3", "99999.1", "7.-1"] {
            assert!(ServerVersion::parse(p, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn releases_order_and_support() {
        assert!(ServerVersion::is(5, 10) > ServerVersion::is(5, 9));
        assert!(ServerVersion::is(7, 3).is_supported());
        assert!(ServerVersion::is(7, 3).with_patch(4).is_supported());
        assert!(!ServerVersion::is(5, 8).is_supported());
        assert!(!ServerVersion::apim(2, 6).is_supported());
        assert_eq!(ServerVersion::is(7, 1).to_string(), "IS 7.1");
        assert_eq!(
            supported_list(Product::ApiManager),
            "3.0, 3.1, 3.2, 4.0, 4.1, 4.2, 4.3, 4.4, 4.5, 4.6, 4.7"
        );
    }

    #[test]
    fn capabilities_follow_the_versions_matrix() {
        let c = |major, minor| IsCapabilities::of(ServerVersion::is(major, minor));
        assert_eq!(c(5, 9).management, ManagementApi::Soap);
        assert_eq!(c(5, 10).management, ManagementApi::Rest);
        assert_eq!(c(5, 10).consent, ConsentFields::SkipConsent);
        assert_eq!(c(5, 11).consent, ConsentFields::SkipLoginAndLogoutConsent);
        assert_eq!(c(5, 11).role_claim, "http://wso2.org/claims/role");
        assert_eq!(c(6, 0).role_claim, "http://wso2.org/claims/groups");
        assert_eq!(c(6, 0).role_scope, RoleScope::WidenOpenid);
        assert_eq!(c(6, 1).role_scope.requested_scopes(), "openid groups");
        assert!(!c(6, 1).token_endpoint_auth_method);
        assert!(c(7, 0).token_endpoint_auth_method && c(7, 0).subject_is_uuid);
        assert_eq!(c(7, 1).soap_admin_services, SoapAdminServices::Deprecated);
        assert_eq!(c(7, 2).soap_admin_services, SoapAdminServices::OffByDefault);
        assert_eq!(c(7, 3).scim_roles, ScimRoles::V3);
    }
}
