//! What each API Manager release can do, for the steps that differ between releases.
//!
//! Derived from a [`ServerVersion`] in one place ([`ApimCapabilities::of`]); nothing else in
//! the crate family compares APIM version numbers. Facts and sources: the project's
//! `WSO2-VERSIONS.md` (§3).
//!
//! ```
//! use wso2_apim_client::version::{ApimCapabilities, IdpScopes};
//! use wso2_is_client::version::ServerVersion;
//!
//! let caps = ApimCapabilities::of(ServerVersion::apim(4, 3));
//! assert_eq!(caps.idp_scopes, IdpScopes::ScopesProperty);
//! assert_eq!(caps.portal_names.admin, Some("apim_admin_portal"));
//! ```

use serde::{Deserialize, Serialize};
pub use wso2_is_client::version::{Product, ServerVersion, VersionError};

/// How the identity provider's OIDC authenticator is told which scopes to request from IS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdpScopes {
    /// `commonAuthQueryParams = scope=openid groups` (outbound OIDC up to 5.9: APIM 4.2 and
    /// earlier; without it the authenticator asks for `openid` only).
    QueryParams,
    /// The `Scopes` property (outbound OIDC 5.11.1 and later: APIM 4.3 and later).
    ScopesProperty,
}

/// The service-provider names APIM gives its portals' logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortalNames {
    /// The Publisher's: `apim_publisher` (3.1+); on 3.0 `{admin}_admin_publisher`, written here
    /// with the owner part as `{owner}`.
    pub publisher: &'static str,
    /// The Developer Portal's: `apim_devportal` (3.1+); on 3.0 `{owner}_admin_store`.
    pub devportal: &'static str,
    /// The Admin portal's, `apim_admin_portal` (3.2+; never `apim_admin`); none before.
    pub admin: Option<&'static str>,
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
    /// Whether `LocalAndOutboundAuthenticationConfig.skipConsent` exists (framework 5.17: APIM
    /// 3.1 and later).
    pub skip_consent: bool,
    /// Whether `LocalAndOutboundAuthenticationConfig.skipLogoutConsent` exists (framework 5.18:
    /// APIM 4.0 and later).
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
            skip_consent: v.at_least(3, 1),
            skip_logout_consent: v.at_least(4, 0),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_the_versions_matrix() {
        let c = |major, minor| ApimCapabilities::of(ServerVersion::apim(major, minor));
        assert_eq!(c(3, 0).portal_names.publisher, "{owner}_admin_publisher");
        assert_eq!(c(3, 1).portal_names.publisher, "apim_publisher");
        assert_eq!(c(3, 1).portal_names.admin, None);
        assert_eq!(c(3, 2).portal_names.admin, Some("apim_admin_portal"));
        assert!(!c(3, 0).skip_consent && c(3, 1).skip_consent);
        assert!(!c(3, 2).skip_logout_consent && c(4, 0).skip_logout_consent);
        assert_eq!(c(4, 2).idp_scopes, IdpScopes::QueryParams);
        assert_eq!(c(4, 3).idp_scopes, IdpScopes::ScopesProperty);
        assert_eq!(c(4, 4).known_defects, &[KnownDefect::RolesAsOneString]);
        assert!(c(4, 5).known_defects.is_empty());
    }
}
