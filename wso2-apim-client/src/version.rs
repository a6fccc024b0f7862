//! What each API Manager release can do, for the steps that differ between releases.
//!
//! Derived from a [`ServerVersion`] in one place ([`ApimCapabilities::of`]); nothing else in
//! the crate family compares APIM version numbers. The handlers take the capabilities
//! ([`ApimClient::with_capabilities`](crate::ApimClient::with_capabilities),
//! [`Portals::for_version`](crate::portals::Portals::for_version),
//! [`OidcIdp::release`](crate::idp::OidcIdp::release)); without them they keep the
//! release-agnostic behaviour (every name and trigger any release used). Facts and sources:
//! the project's `WSO2-VERSIONS.md` (§3), and the sources cited on each item below.
//!
//! ```
//! use wso2_apim_client::portals::Portal;
//! use wso2_apim_client::version::{ApimCapabilities, IdpScopes};
//! use wso2_is_client::version::ServerVersion;
//!
//! let caps = ApimCapabilities::of(ServerVersion::apim(4, 3));
//! assert_eq!(caps.idp_scopes, IdpScopes::ScopesProperty);
//! assert_eq!(caps.portal_names.admin, Some("apim_admin_portal"));
//! let old = ApimCapabilities::of(ServerVersion::apim(3, 0));
//! assert_eq!(
//!     old.portal_names.name(Portal::DevPortal, "ops@example.com").as_deref(),
//!     Some("ops_admin_store")
//! );
//! ```

use serde::{Deserialize, Serialize};
pub use wso2_is_client::version::{Product, ServerVersion, VersionError};

use crate::portals::{Portal, owner_part};

/// How the identity provider's OIDC authenticator is told which scopes to request from IS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdpScopes {
    /// `commonAuthQueryParams = scope=openid groups` (outbound OIDC up to 5.9: APIM 4.2 and
    /// earlier; without it the authenticator asks for `openid` only). How the value must be
    /// encoded is [`ApimCapabilities::query_params_encoding`].
    QueryParams,
    /// The `Scopes` property (outbound OIDC 5.11.1 and later: APIM 4.3 and later), appended to
    /// the authorize request as `&scope=` + its value, then URL-encoded by the authenticator.
    ScopesProperty,
}

/// How the OIDC authenticator puts `commonAuthQueryParams` on the authorize URL, which decides
/// how a value with a space (`scope=openid groups`) must be stored.
///
/// Source: wso2-extensions/identity-outbound-auth-oidc, `OpenIDConnectAuthenticator.
/// initiateAuthenticationRequest`: up to v5.5.1 the stored string is appended to the authorize
/// URL as it is (v5.3.2 = APIM 3.0, v5.5.0 = APIM 3.1/3.2); from v5.5.2 it is split at `&` and
/// `=`, and each value is passed through `URLEncoder.encode` (`getEvaluatedQueryString`, first
/// in v5.5.2; v5.6.0 = APIM 4.0 ... v5.9.0 = APIM 4.2, and the `Scopes` line 5.11.x / 5.14.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryParamsEncoding {
    /// Appended verbatim: values must already be percent-encoded (`scope=openid%20groups`); a
    /// raw space would reach the browser inside the `Location` header.
    Verbatim,
    /// Each value is URL-encoded by the authenticator: values are stored raw
    /// (`scope=openid groups`); `%20` would arrive at IS as the literal text `%20`, and `+` as
    /// a literal plus.
    PerValue,
}

/// The property that carries the scopes of the authorize request, and its value, as
/// [`ApimCapabilities::scope_property`] makes it for one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeProperty {
    /// `Scopes` or `commonAuthQueryParams`.
    pub key: &'static str,
    /// `openid groups`, `scope=openid groups` or `scope=openid%20groups`.
    pub value: String,
}

/// The service-provider names APIM gives its portals' logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortalNames {
    /// The Publisher's: `apim_publisher` (3.1+); on 3.0 `{owner}_admin_publisher`, written here
    /// with the owner part as `{owner}` (see [`name`](Self::name)).
    pub publisher: &'static str,
    /// The Developer Portal's: `apim_devportal` (3.1+); on 3.0 `{owner}_admin_store`.
    pub devportal: &'static str,
    /// The Admin portal's, `apim_admin_portal` (3.2+; never `apim_admin`); none before.
    pub admin: Option<&'static str>,
}

impl PortalNames {
    /// The name of `portal`'s service provider on a server whose admin user is `admin_user`
    /// (`{owner}` is that user without its tenant domain, `/` replaced by `_` and `@` by
    /// `-AT-`, as APIM 3.0's client registration writes it); `None` when the release has no
    /// service provider for the portal.
    pub fn name(&self, portal: Portal, admin_user: &str) -> Option<String> {
        let template = match portal {
            Portal::Publisher => self.publisher,
            Portal::DevPortal => self.devportal,
            Portal::AdminPortal => self.admin?,
        };
        Some(template.replace("{owner}", &owner_part(admin_user)))
    }
}

/// A defect of a release that breaks the federation's result, with its workaround.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnownDefect {
    /// APIM 4.3.0 / 4.4 GA (outbound OIDC 5.11.34): id_token roles arrive as one string
    /// `"[a, b]"`, so no role mapping matches (api-manager #3015). Workaround: set the
    /// identity provider's `UserInfoUrl` (userinfo claims override the id_token's), or update.
    RolesAsOneString,
}

impl KnownDefect {
    /// What goes wrong, and what to do.
    pub fn describe(self) -> &'static str {
        match self {
            Self::RolesAsOneString => {
                "id_token roles arrive as one string \"[a, b]\" and no role mapping matches \
                 (api-manager #3015); keep the identity provider's UserInfoUrl set (userinfo \
                 claims override the id_token's), or apply the APIM update with outbound OIDC \
                 5.11.35 or later"
            }
        }
    }
}

/// What one API Manager release can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApimCapabilities {
    /// The release these describe.
    pub version: ServerVersion,
    /// The portals' service-provider names.
    pub portal_names: PortalNames,
    /// How the identity provider asks IS for scopes.
    pub idp_scopes: IdpScopes,
    /// How `commonAuthQueryParams` values must be encoded.
    pub query_params_encoding: QueryParamsEncoding,
    /// Whether `LocalAndOutboundAuthenticationConfig.skipConsent` exists (framework 5.17: APIM
    /// 3.1 and later; APIM 3.0's 5.14.97 has no per-application consent switch).
    pub skip_consent: bool,
    /// Whether `LocalAndOutboundAuthenticationConfig.skipLogoutConsent` exists: APIM 3.1 and
    /// later. `WSO2-VERSIONS.md` §1 dates it to framework 5.18 (APIM 4.0), but the
    /// `IdentityApplicationManagementService` WSDL of framework 5.17.5 (APIM 3.1/3.2; the
    /// release commit `527dba70` the v5.17.5 tag names, vendored as
    /// `contracts/soap/IdentityApplicationManagementService.v5.17.5-apim3.1.wsdl`) already has
    /// `skipLogoutConsent` right after `skipConsent`. The WSDL is generated from the model
    /// class, so the field exists there.
    pub skip_logout_consent: bool,
    /// Whether portal access goes by role-to-scope mapping rather than Carbon permissions (APIM
    /// 4.0 and later): federated users need real `Internal/*` roles.
    pub scope_based_portal_access: bool,
    /// Defects of this release that break the result.
    pub known_defects: &'static [KnownDefect],
}

impl ApimCapabilities {
    /// The capabilities of `version` (an APIM release; a later, unknown release is read as the
    /// newest known one).
    pub fn of(version: ServerVersion) -> Self {
        let v = version;
        Self {
            version,
            portal_names: if v.at_least(3, 1) {
                PortalNames {
                    publisher: "apim_publisher",
                    devportal: "apim_devportal",
                    admin: v.at_least(3, 2).then_some("apim_admin_portal"),
                }
            } else {
                PortalNames {
                    publisher: "{owner}_admin_publisher",
                    devportal: "{owner}_admin_store",
                    admin: None,
                }
            },
            idp_scopes: if v.at_least(4, 3) {
                IdpScopes::ScopesProperty
            } else {
                IdpScopes::QueryParams
            },
            query_params_encoding: if v.at_least(4, 0) {
                QueryParamsEncoding::PerValue
            } else {
                QueryParamsEncoding::Verbatim
            },
            skip_consent: v.at_least(3, 1),
            skip_logout_consent: v.at_least(3, 1),
            scope_based_portal_access: v.at_least(4, 0),
            known_defects: if v.same_release(ServerVersion::apim(4, 3))
                || v.same_release(ServerVersion::apim(4, 4))
            {
                &[KnownDefect::RolesAsOneString]
            } else {
                &[]
            },
        }
    }

    /// The portals that have a service provider on this release (no Admin portal one before
    /// 3.2).
    pub fn portals(&self) -> Vec<Portal> {
        Portal::ALL
            .into_iter()
            .filter(|p| *p != Portal::AdminPortal || self.portal_names.admin.is_some())
            .collect()
    }

    /// The endpoints (relative to the server root) whose first use makes this release register
    /// `portal`'s service provider (§3.3; WSO2's own tests call them): the Publisher's and the
    /// Admin portal's `/services/auth/login`, the Developer Portal's `/services/configs`
    /// (carbon-apimgt's devportal `jaggery.conf` maps `/services/configs` to the login
    /// initiator `services/login/idp.jag` and has no `/services/auth/login`). Empty when the
    /// release has no service provider for the portal.
    pub fn registration_paths(&self, portal: Portal) -> Vec<String> {
        let c = portal.context();
        match portal {
            Portal::Publisher => vec![format!("{c}/services/auth/login")],
            Portal::DevPortal => vec![format!("{c}/services/configs")],
            Portal::AdminPortal if self.portal_names.admin.is_some() => {
                vec![format!("{c}/services/auth/login")]
            }
            Portal::AdminPortal => Vec::new(),
        }
    }

    /// The identity provider property that makes this release's OIDC authenticator request
    /// `scopes` (space-separated, e.g. `openid groups`): `Scopes = openid groups` from 4.3,
    /// `commonAuthQueryParams = scope=openid groups` on 4.0-4.2, and
    /// `commonAuthQueryParams = scope=openid%20groups` on 3.0-3.2 (see
    /// [`QueryParamsEncoding`]). Runs of whitespace count as one separator.
    pub fn scope_property(&self, scopes: &str) -> ScopeProperty {
        let tokens: Vec<&str> = scopes.split_whitespace().collect();
        match self.idp_scopes {
            IdpScopes::ScopesProperty => ScopeProperty {
                key: wso2_is_client::idp::oidc_keys::SCOPES,
                value: tokens.join(" "),
            },
            IdpScopes::QueryParams => ScopeProperty {
                key: wso2_is_client::idp::oidc_keys::COMMON_AUTH_QUERY_PARAMS,
                value: format!(
                    "scope={}",
                    tokens.join(match self.query_params_encoding {
                        QueryParamsEncoding::Verbatim => "%20",
                        QueryParamsEncoding::PerValue => " ",
                    })
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(major: u16, minor: u16) -> ApimCapabilities {
        ApimCapabilities::of(ServerVersion::apim(major, minor))
    }

    #[test]
    fn capabilities_follow_the_versions_matrix() {
        assert_eq!(c(3, 0).portal_names.publisher, "{owner}_admin_publisher");
        assert_eq!(c(3, 1).portal_names.publisher, "apim_publisher");
        assert_eq!(c(3, 1).portal_names.admin, None);
        assert_eq!(c(3, 2).portal_names.admin, Some("apim_admin_portal"));
        assert!(!c(3, 0).skip_consent && c(3, 1).skip_consent);
        assert!(!c(3, 0).skip_logout_consent && c(3, 1).skip_logout_consent);
        assert_eq!(c(4, 2).idp_scopes, IdpScopes::QueryParams);
        assert_eq!(c(4, 3).idp_scopes, IdpScopes::ScopesProperty);
        assert_eq!(c(3, 2).query_params_encoding, QueryParamsEncoding::Verbatim);
        assert_eq!(c(4, 0).query_params_encoding, QueryParamsEncoding::PerValue);
        assert_eq!(c(4, 4).known_defects, &[KnownDefect::RolesAsOneString]);
        assert!(c(4, 5).known_defects.is_empty());
        assert_eq!(c(3, 1).portals(), [Portal::Publisher, Portal::DevPortal]);
        assert_eq!(c(4, 7).portals(), Portal::ALL);
    }

    #[test]
    fn portal_names_resolve_the_owner_of_3_0() {
        let names = c(3, 0).portal_names;
        assert_eq!(
            names.name(Portal::Publisher, "admin").as_deref(),
            Some("admin_admin_publisher")
        );
        assert_eq!(
            names.name(Portal::DevPortal, "admin@wso2.com").as_deref(),
            Some("admin_admin_store")
        );
        assert_eq!(
            names.name(Portal::Publisher, "ops/x@a@t.com").as_deref(),
            Some("ops_x-AT-a_admin_publisher")
        );
        assert_eq!(names.name(Portal::AdminPortal, "admin"), None);
        assert_eq!(
            c(4, 7)
                .portal_names
                .name(Portal::AdminPortal, "x")
                .as_deref(),
            Some("apim_admin_portal")
        );
    }

    #[test]
    fn triggers_per_release() {
        assert_eq!(
            c(3, 0).registration_paths(Portal::DevPortal),
            ["devportal/services/configs"]
        );
        assert!(c(3, 1).registration_paths(Portal::AdminPortal).is_empty());
        assert_eq!(
            c(3, 2).registration_paths(Portal::AdminPortal),
            ["admin/services/auth/login"]
        );
        assert_eq!(
            c(4, 7).registration_paths(Portal::Publisher),
            ["publisher/services/auth/login"]
        );
    }

    #[test]
    fn scope_property_per_release() {
        let p = |major, minor| c(major, minor).scope_property(" openid  groups ");
        assert_eq!(
            p(3, 0),
            ScopeProperty {
                key: "commonAuthQueryParams",
                value: "scope=openid%20groups".into()
            }
        );
        assert_eq!(p(3, 2).value, "scope=openid%20groups");
        assert_eq!(p(4, 0).value, "scope=openid groups");
        assert_eq!(p(4, 2).key, "commonAuthQueryParams");
        assert_eq!(
            p(4, 3),
            ScopeProperty {
                key: "Scopes",
                value: "openid groups".into()
            }
        );
    }
}
