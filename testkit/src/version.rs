//! The product versions the simulated servers behave as, and what follows from each.
//!
//! The testkit's own types (not the client crates'): a sandbox is started for one Identity Server
//! release and one API Manager release, and every behaviour that differs between releases is
//! decided here, from the facts in the project's `WSO2-VERSIONS.md` (§1, §3, §4, §6, §7).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a version text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError {
    /// `IS` or `APIM`.
    pub product: &'static str,
    /// The text given (at most 64 characters).
    pub text: String,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = match self.product {
            "IS" => list(IsVersion::ALL.iter().map(|v| v.as_str())),
            _ => list(ApimVersion::ALL.iter().map(|v| v.as_str())),
        };
        write!(
            f,
            "{:?} is not a simulated {} version (one of {list})",
            self.text, self.product
        )
    }
}

impl std::error::Error for VersionError {}

impl From<std::convert::Infallible> for VersionError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

fn list<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

/// `5.10`, `5.10.0`, `v5.10.0`, `5.10.0-SNAPSHOT` -> `(5, 10)`.
fn major_minor(text: &str) -> Option<(u16, u16)> {
    let t = text.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    let core = t.split(['-', '+', ' ']).next().unwrap_or_default();
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    match parts.next() {
        None => {}
        Some(p) if p.parse::<u16>().is_ok() => {}
        Some(_) => return None,
    }
    parts.next().is_none().then_some((major, minor))
}

macro_rules! versions {
    ($(#[$doc:meta])* $name:ident, $product:literal, $([$var:ident, $maj:literal, $min:literal, $text:literal, $full:literal]),+ $(,)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                #[doc = concat!($product, " ", $text)]
                $var,
            )+
        }

        impl $name {
            /// Every simulated release, oldest first.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// `major.minor`, e.g. `7.3`.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $text),+ }
            }

            /// The release's full number as `ServerAdmin.getServerVersion` answers it, e.g. `7.3.0`.
            pub fn full(self) -> &'static str {
                match self { $($name::$var => $full),+ }
            }

            /// `(major, minor)`.
            pub fn number(self) -> (u16, u16) {
                match self { $($name::$var => ($maj, $min)),+ }
            }

            /// Parses `7.3`, `7.3.0`, `v7.3.0` or `7.3.0-SNAPSHOT`.
            pub fn parse(text: &str) -> Result<Self, VersionError> {
                let err = || VersionError { product: $product, text: text.chars().take(64).collect() };
                let mm = major_minor(text).ok_or_else(err)?;
                Self::ALL.iter().copied().find(|v| v.number() == mm).ok_or_else(err)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = VersionError;
            fn from_str(s: &str) -> Result<Self, VersionError> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = VersionError;
            fn try_from(s: &str) -> Result<Self, VersionError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = VersionError;
            fn try_from(s: String) -> Result<Self, VersionError> {
                Self::parse(&s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

versions!(
    /// A WSO2 Identity Server release the simulated IS can behave as.
    IsVersion, "IS",
    [V5_9, 5, 9, "5.9", "5.9.0"],
    [V5_10, 5, 10, "5.10", "5.10.0"],
    [V5_11, 5, 11, "5.11", "5.11.0"],
    [V6_0, 6, 0, "6.0", "6.0.0"],
    [V6_1, 6, 1, "6.1", "6.1.0"],
    [V7_0, 7, 0, "7.0", "7.0.0"],
    [V7_1, 7, 1, "7.1", "7.1.0"],
    [V7_2, 7, 2, "7.2", "7.2.0"],
    [V7_3, 7, 3, "7.3", "7.3.0"],
);

versions!(
    /// A WSO2 API Manager release the simulated APIM can behave as.
    ApimVersion, "APIM",
    [V3_0, 3, 0, "3.0", "3.0.0"],
    [V3_1, 3, 1, "3.1", "3.1.0"],
    [V3_2, 3, 2, "3.2", "3.2.0"],
    [V4_0, 4, 0, "4.0", "4.0.0"],
    [V4_1, 4, 1, "4.1", "4.1.0"],
    [V4_2, 4, 2, "4.2", "4.2.0"],
    [V4_3, 4, 3, "4.3", "4.3.0"],
    [V4_4, 4, 4, "4.4", "4.4.0"],
    [V4_5, 4, 5, "4.5", "4.5.0"],
    [V4_6, 4, 6, "4.6", "4.6.0"],
    [V4_7, 4, 7, "4.7", "4.7.0"],
);

impl Default for IsVersion {
    /// IS 5.9, the seed baseline.
    fn default() -> Self {
        IsVersion::V5_9
    }
}

impl Default for ApimVersion {
    /// APIM 3.0, the seed baseline.
    fn default() -> Self {
        ApimVersion::V3_0
    }
}

/// Whether IS's SOAP admin services answer (WSO2-VERSIONS.md §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoapAvailability {
    /// Supported (IS 5.9-5.11, and APIM always).
    Supported,
    /// Deprecated but working (IS 6.0-7.1).
    Deprecated,
    /// Off by default (IS 7.2+): every admin service answers HTTP 500 (product-is #25745).
    Off,
    /// Off by default but switched on (`[server] enable_admin_services = true`).
    Enabled,
}

impl SoapAvailability {
    /// Whether calls are served.
    pub fn serves(self) -> bool {
        self != SoapAvailability::Off
    }
}

/// The version of `applications.yaml` (identity-api-server) a simulated IS serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppsSpec {
    /// 1.0.82 (IS 5.10).
    V1_0_82,
    /// 1.0.190 (IS 5.11).
    V1_0_190,
    /// 1.2.3 (IS 6.0).
    V1_2_3,
    /// 1.2.23 (IS 6.1).
    V1_2_23,
    /// 1.2.176 (IS 7.0).
    V1_2_176,
    /// 1.3.83 (IS 7.1; also used for 7.2 and 7.3, whose specs are not vendored).
    V1_3_83,
}

impl AppsSpec {
    /// The contract file (under `contracts/rest/`).
    pub(crate) fn file(self) -> &'static str {
        match self {
            AppsSpec::V1_0_82 => "applications.yaml",
            AppsSpec::V1_0_190 => "applications.v1.0.190-is5.11.yaml",
            AppsSpec::V1_2_3 => "applications.v1.2.3-is6.0.yaml",
            AppsSpec::V1_2_23 => "applications.v1.2.23-is6.1.yaml",
            AppsSpec::V1_2_176 => "applications.v1.2.176-is7.yaml",
            AppsSpec::V1_3_83 => "applications.v1.3.83-is7.1.yaml",
        }
    }
}

impl IsVersion {
    pub(crate) fn at_least(self, other: IsVersion) -> bool {
        self >= other
    }

    /// The management REST API (`/api/server/v1`) exists from 5.10.
    pub(crate) fn rest_api(self) -> bool {
        self.at_least(IsVersion::V5_10)
    }

    /// Which applications spec governs the REST answers.
    pub(crate) fn apps_spec(self) -> Option<AppsSpec> {
        Some(match self {
            IsVersion::V5_9 => return None,
            IsVersion::V5_10 => AppsSpec::V1_0_82,
            IsVersion::V5_11 => AppsSpec::V1_0_190,
            IsVersion::V6_0 => AppsSpec::V1_2_3,
            IsVersion::V6_1 => AppsSpec::V1_2_23,
            IsVersion::V7_0 => AppsSpec::V1_2_176,
            IsVersion::V7_1 | IsVersion::V7_2 | IsVersion::V7_3 => AppsSpec::V1_3_83,
        })
    }

    /// The `applications.yaml` (under `contracts/rest/`) whose answers the simulated IS gives;
    /// `None` for 5.9. IS 7.2 and 7.3 use 7.1's (their specs are not vendored).
    pub fn applications_spec(self) -> Option<&'static str> {
        self.apps_spec().map(AppsSpec::file)
    }

    /// The SCIM2 spec (under `contracts/scim2/`) of the release's SCIM2 endpoint.
    pub fn scim2_spec(self) -> &'static str {
        match self {
            IsVersion::V5_9 => "scim2.yaml",
            IsVersion::V5_10 => "scim2.v1.5.1-is5.10.yaml",
            IsVersion::V5_11 | IsVersion::V6_0 | IsVersion::V6_1 => "scim2.v1.5.46-is5.11.yaml",
            _ => "scim2.v3.4.67-is7.yaml",
        }
    }

    /// The OIDC scope management spec file (under `contracts/rest/`); `None` for 5.9.
    pub fn scopes_spec(self) -> Option<&'static str> {
        if !self.rest_api() {
            None
        } else if self.at_least(IsVersion::V6_0) {
            Some("oidc-scope-management.v1.2.176-is6.0-7.1.yaml")
        } else {
            Some("oidc-scope-management.v1.0.82-is5.10.yaml")
        }
    }

    /// SOAP admin services by default.
    pub fn soap_default(self) -> SoapAvailability {
        if self.at_least(IsVersion::V7_2) {
            SoapAvailability::Off
        } else if self.at_least(IsVersion::V6_0) {
            SoapAvailability::Deprecated
        } else {
            SoapAvailability::Supported
        }
    }

    /// The default OIDC scopes of a fresh tenant (`oidc-scope-config.xml` of the release):
    /// `openid` lists `groups` up to 5.11, is empty on 6.0+; `groups` scope from 6.1, `roles`
    /// scope from 7.0.
    pub(crate) fn default_scopes(self) -> Vec<(&'static str, Vec<&'static str>)> {
        let profile = vec![
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ];
        let mut out = Vec::new();
        if self.at_least(IsVersion::V6_0) {
            out.push(("openid", Vec::new()));
        } else {
            let mut openid = vec!["sub", "email", "email_verified", "upn", "groups"];
            openid.extend(profile.iter().copied());
            openid.extend(["phone_number", "phone_number_verified", "address"]);
            out.push(("openid", openid));
        }
        out.push(("profile", profile));
        out.push(("email", vec!["email", "email_verified"]));
        out.push(("phone", vec!["phone_number", "phone_number_verified"]));
        out.push((
            "address",
            vec![
                "address",
                "street_address",
                "locality",
                "region",
                "postal_code",
                "country",
                "formatted",
            ],
        ));
        if self.at_least(IsVersion::V6_1) {
            out.push(("groups", vec!["groups"]));
        }
        if self.at_least(IsVersion::V7_0) {
            out.push(("roles", vec!["roles"]));
        }
        out
    }
}

impl IsVersion {
    /// `/scim2/Roles` (v1) from 5.11.
    pub(crate) fn scim_roles_v1(self) -> bool {
        self.at_least(IsVersion::V5_11)
    }

    /// `/scim2/v2/Roles` (audience) from 7.0.
    pub(crate) fn scim_roles_v2(self) -> bool {
        self.at_least(IsVersion::V7_0)
    }

    /// `/scim2/v3/Roles` from 7.2.
    pub(crate) fn scim_roles_v3(self) -> bool {
        self.at_least(IsVersion::V7_2)
    }

    /// `sub` is the user's id unless the application's subject claim is the username (7.x).
    pub(crate) fn uuid_subject(self) -> bool {
        self.at_least(IsVersion::V7_0)
    }

    /// `tokenEndpointAuthMethod` restricts client authentication (7.x).
    pub(crate) fn token_endpoint_auth_method(self) -> bool {
        self.at_least(IsVersion::V7_0)
    }
}

impl ApimVersion {
    pub(crate) fn at_least(self, other: ApimVersion) -> bool {
        self >= other
    }

    /// The identity provider's `Scopes` property is honoured from 4.3 (outbound OIDC 5.11.1+);
    /// before, only `commonAuthQueryParams` `scope=…` (§3.5).
    pub fn idp_scopes_property(self) -> bool {
        self.at_least(ApimVersion::V4_3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_texts() {
        assert_eq!(IsVersion::parse("7.3"), Ok(IsVersion::V7_3));
        assert_eq!(IsVersion::parse("v5.10.0"), Ok(IsVersion::V5_10));
        assert_eq!(ApimVersion::parse("4.7.0-SNAPSHOT"), Ok(ApimVersion::V4_7));
        assert!(IsVersion::parse("5.8").is_err());
        assert!(IsVersion::parse("7").is_err());
        assert!(ApimVersion::parse("4.7.x").is_err());
        let e = IsVersion::parse("8.0").expect_err("unknown");
        assert!(e.to_string().contains("5.9, 5.10"), "{e}");
        assert!(IsVersion::V5_10 > IsVersion::V5_9);
    }

    #[test]
    fn scopes_per_release() {
        let has = |v: IsVersion, scope: &str, claim: &str| {
            v.default_scopes()
                .iter()
                .any(|(s, c)| *s == scope && c.contains(&claim))
        };
        assert!(has(IsVersion::V5_11, "openid", "groups"));
        assert!(!has(IsVersion::V6_0, "openid", "groups"));
        assert!(!has(IsVersion::V6_0, "groups", "groups"));
        assert!(has(IsVersion::V6_1, "groups", "groups"));
        assert!(has(IsVersion::V7_0, "roles", "roles"));
    }
}
