//! The models of the applications API (`applications.yaml`, identity-api-server 1.0.82 to
//! 1.3.83): the fields this federation needs, typed, and every other field kept in `extra`.
//!
//! Fields that exist only on some releases are `Option`s, written only when set:
//!
//! | field | releases |
//! |---|---|
//! | [`AdvancedConfigurations::skip_consent`] | IS 5.10 |
//! | [`AdvancedConfigurations::skip_login_consent`], [`skip_logout_consent`](AdvancedConfigurations::skip_logout_consent) | IS 5.11 and later |
//! | [`NewApplication::template_id`] | IS 5.11 and later |
//! | [`NewApplication::associated_roles`] | IS 7.0 and later |
//! | [`OidcConfiguration::client_authentication`] | IS 7.0 and later |
//! | [`SubjectConfig::mapped_local_subject_mandatory`] | IS 7.0 and later |

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::carbon::secret::Secret;
use crate::error::{Error, InvalidInput, Result};
use crate::names::ApplicationName;
use crate::oauth::GrantType;
use crate::version::ConsentFields;

/// The id the server gave an application (a UUID), as used in `/applications/{id}`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApplicationId(String);

impl ApplicationId {
    /// Checks and wraps an id: not empty, at most 255 characters, no white space, control
    /// characters or URL delimiters (`/ ? # %`).
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidInput> {
        let id = id.into();
        if id.is_empty() {
            return Err(InvalidInput::new("application id", "must not be empty"));
        }
        if id.chars().count() > 255 {
            return Err(InvalidInput::new(
                "application id",
                "is longer than 255 characters",
            ));
        }
        if let Some(c) = id
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '%'))
        {
            return Err(InvalidInput::new(
                "application id",
                format!("must not contain {c:?}"),
            ));
        }
        Ok(Self(id))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApplicationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ApplicationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ApplicationId {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, InvalidInput> {
        Self::new(value)
    }
}

impl From<ApplicationId> for String {
    fn from(value: ApplicationId) -> Self {
        value.0
    }
}

/// Declares a closed vocabulary written as a JSON string, with `Other` for values this crate
/// does not know (kept as written).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not know, as written.
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(s) => s,
                }
            }

            /// Reads a wire value (exact match).
            pub fn parse(value: &str) -> Self {
                match value {
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $name::Other(s) => s,
                    known => known.as_str().to_owned(),
                }
            }
        }
    };
}

string_enum!(
    /// The claim dialect of an application (`claimConfiguration.dialect`).
    ClaimDialect {
        /// `LOCAL`: claims are the server's local claim URIs.
        Local = "LOCAL",
        /// `CUSTOM`: the application names its own claims (with `claimMappings`).
        Custom = "CUSTOM",
    }
);

string_enum!(
    /// The kind of an authentication sequence (`authenticationSequence.type`).
    SequenceType {
        /// `DEFAULT`: the server's default sequence.
        Default = "DEFAULT",
        /// `USER_DEFINED`: the steps given.
        UserDefined = "USER_DEFINED",
    }
);

string_enum!(
    /// Whose roles an application may carry (`associatedRoles.allowedAudience`, IS 7.0+).
    RoleAudienceKind {
        /// `ORGANIZATION`: roles of the organization.
        Organization = "ORGANIZATION",
        /// `APPLICATION`: roles whose audience is this application.
        Application = "APPLICATION",
    }
);

string_enum!(
    /// How the client authenticates at the token endpoint
    /// (`clientAuthentication.tokenEndpointAuthMethod`, IS 7.0+).
    TokenEndpointAuthMethod {
        /// `client_secret_basic`: the `Authorization: Basic` header (what APIM's OIDC
        /// authenticator sends with `IsBasicAuthEnabled=true`).
        ClientSecretBasic = "client_secret_basic",
        /// `client_secret_post`: `client_id` and `client_secret` in the form body.
        ClientSecretPost = "client_secret_post",
        /// `private_key_jwt`.
        PrivateKeyJwt = "private_key_jwt",
        /// `tls_client_auth` (mutual TLS with a CA-issued certificate).
        TlsClientAuth = "tls_client_auth",
    }
);

/// A claim, by URI (`Claim`: `{id, uri, displayName}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRef {
    /// `uri`, e.g. `http://wso2.org/claims/groups`.
    pub uri: String,
    /// Every other field (`id`, `displayName`), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ClaimRef {
    /// The claim with this URI.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            extra: Map::new(),
        }
    }
}

/// A claim the application requests (`RequestedClaimConfiguration`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedClaim {
    /// The claim.
    pub claim: ClaimRef,
    /// Whether the user must have it (login asks for it otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory: Option<bool>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RequestedClaim {
    /// Requests the claim with this URI, mandatory or not.
    pub fn new(uri: impl Into<String>, mandatory: bool) -> Self {
        Self {
            claim: ClaimRef::new(uri),
            mandatory: Some(mandatory),
            extra: Map::new(),
        }
    }
}

/// How the subject (`sub`) is chosen (`claimConfiguration.subject`, `SubjectConfig`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectConfig {
    /// The claim used as subject (IS 7: set `http://wso2.org/claims/username`, or `sub` is the
    /// user's UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimRef>,
    /// `includeUserDomain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_user_domain: Option<bool>,
    /// `includeTenantDomain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_tenant_domain: Option<bool>,
    /// `useMappedLocalSubject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_mapped_local_subject: Option<bool>,
    /// `mappedLocalSubjectMandatory` (IS 7.0 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_local_subject_mandatory: Option<bool>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The role claim of the application (`claimConfiguration.role`, `RoleConfig`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleConfig {
    /// The claim that carries roles (IS 5.10/5.11: `http://wso2.org/claims/role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimRef>,
    /// `includeUserDomain`: whether role names carry their user store (`PRIMARY/x`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_user_domain: Option<bool>,
    /// Every other field (`mappings`), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The claims an application requests and how (`ClaimConfiguration`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimConfiguration {
    /// `dialect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<ClaimDialect>,
    /// `requestedClaims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_claims: Option<Vec<RequestedClaim>>,
    /// `subject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectConfig>,
    /// `role`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleConfig>,
    /// Every other field (`claimMappings`), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ClaimConfiguration {
    /// The local dialect, requesting `role_claim` (from
    /// [`IsCapabilities::role_claim`](crate::version::IsCapabilities::role_claim)) as
    /// mandatory.
    pub fn local_with_mandatory(role_claim: impl Into<String>) -> Self {
        Self {
            dialect: Some(ClaimDialect::Local),
            requested_claims: Some(vec![RequestedClaim::new(role_claim, true)]),
            ..Self::default()
        }
    }

    /// Sets the subject claim (IS 7: `http://wso2.org/claims/username`).
    pub fn with_subject_claim(mut self, uri: impl Into<String>) -> Self {
        self.subject
            .get_or_insert_with(SubjectConfig::default)
            .claim = Some(ClaimRef::new(uri));
        self
    }

    /// Sets the role claim (`role.claim.uri`).
    pub fn with_role_claim(mut self, uri: impl Into<String>) -> Self {
        self.role.get_or_insert_with(RoleConfig::default).claim = Some(ClaimRef::new(uri));
        self
    }
}

/// `advancedConfigurations` (`AdvancedApplicationConfiguration`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedConfigurations {
    /// `saas`: whether users of every tenant may log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saas: Option<bool>,
    /// `skipConsent` (IS 5.10 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_consent: Option<bool>,
    /// `skipLoginConsent` (IS 5.11 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_login_consent: Option<bool>,
    /// `skipLogoutConsent` (IS 5.11 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_logout_consent: Option<bool>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AdvancedConfigurations {
    /// Sets the consent switches a release has (from
    /// [`IsCapabilities::consent`](crate::version::IsCapabilities::consent)) to `skip`;
    /// [`ConsentFields::None`] sets nothing.
    pub fn with_consent_skipped(mut self, fields: ConsentFields, skip: bool) -> Self {
        match fields {
            ConsentFields::None => {}
            ConsentFields::SkipConsent => self.skip_consent = Some(skip),
            ConsentFields::SkipLoginAndLogoutConsent => {
                self.skip_login_consent = Some(skip);
                self.skip_logout_consent = Some(skip);
            }
        }
        self
    }
}

/// One authenticator of a step (`Authenticator`: `{idp, authenticator}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AuthenticatorOption {
    /// The identity provider (`LOCAL` for the server's own authenticators).
    pub idp: String,
    /// The authenticator, e.g. `BasicAuthenticator`, `OpenIDConnectAuthenticator`.
    pub authenticator: String,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One step of an authentication sequence (`AuthenticationStepModel`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AuthenticationStep {
    /// The step number (from 1).
    pub id: u32,
    /// The authenticators offered in the step.
    pub options: Vec<AuthenticatorOption>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `authenticationSequence`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationSequence {
    /// `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SequenceType>,
    /// `steps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<AuthenticationStep>>,
    /// `subjectStepId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_step_id: Option<u32>,
    /// `attributeStepId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_step_id: Option<u32>,
    /// Every other field (`script`, `requestPathAuthenticators`), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A role associated with an application (`Role`: `{id, name}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoleRef {
    /// The role's id.
    pub id: String,
    /// The role's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `associatedRoles` (IS 7.0 and later).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedRoles {
    /// `allowedAudience`.
    pub allowed_audience: RoleAudienceKind,
    /// `roles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleRef>>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AssociatedRoles {
    /// Roles of this audience kind, none listed yet.
    pub fn new(allowed_audience: RoleAudienceKind) -> Self {
        Self {
            allowed_audience,
            roles: None,
            extra: Map::new(),
        }
    }
}

/// `pkce` (`OAuth2PKCEConfiguration`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PkceConfiguration {
    /// `mandatory`. APIM's OIDC authenticator sends no `code_verifier`: keep it `false` for the
    /// application APIM logs in with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory: Option<bool>,
    /// `supportPlainTransformAlgorithm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_plain_transform_algorithm: Option<bool>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `clientAuthentication` (`ClientAuthenticationConfiguration`, IS 7.0 and later).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientAuthentication {
    /// `tokenEndpointAuthMethod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    /// Every other field (`tokenEndpointAuthSigningAlg`, `tlsClientAuthSubjectDn`, ...), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `accessToken` (`AccessTokenConfiguration`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenConfiguration {
    /// `type`: `Default` (opaque) or `JWT`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `userAccessTokenExpiryInSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_access_token_expiry_in_seconds: Option<i64>,
    /// `applicationAccessTokenExpiryInSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_access_token_expiry_in_seconds: Option<i64>,
    /// Every other field (`bindingType`, ...), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `idToken` (`IdTokenConfiguration`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdTokenConfiguration {
    /// `expiryInSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_in_seconds: Option<i64>,
    /// `audience`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// Every other field (`encryption`, `idTokenSignedResponseAlg`), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The OAuth2/OIDC inbound settings of an application (`OpenIDConnectConfiguration`), as sent
/// on create, read from and written to `/applications/{id}/inbound-protocols/oidc`.
///
/// The `PUT` replaces the whole configuration: read it, change what you need, and send it
/// back; every field read is in the model or in `extra`. The client secret is a [`Secret`]:
/// `Debug` and serialised snapshots show it redacted, and a configuration restored from a
/// snapshot cannot be sent until its secret is set again.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcConfiguration {
    /// `clientId` (the consumer key); the server generates one when it is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `clientSecret`; the server generates one when it is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// `state`: `ACTIVE` or `REVOKED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `grantTypes` (required by the server).
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    /// `callbackURLs` (IS stores several as one `regexp=(a|b)`).
    #[serde(
        rename = "callbackURLs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub callback_urls: Option<Vec<String>>,
    /// `allowedOrigins` (CORS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// `publicClient`: a client without a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_client: Option<bool>,
    /// `pkce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce: Option<PkceConfiguration>,
    /// `clientAuthentication` (IS 7.0 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_authentication: Option<ClientAuthentication>,
    /// `accessToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<AccessTokenConfiguration>,
    /// `idToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<IdTokenConfiguration>,
    /// Every other field (`refreshToken`, `logout`, `scopeValidators`, `hybridFlow`, ...), as
    /// read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for OidcConfiguration {
    /// The secret shows as `[REDACTED]`; of `extra` only the field names show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfiguration")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("state", &self.state)
            .field("grant_types", &self.grant_types)
            .field("callback_urls", &self.callback_urls)
            .field("allowed_origins", &self.allowed_origins)
            .field("public_client", &self.public_client)
            .field("pkce", &self.pkce)
            .field("client_authentication", &self.client_authentication)
            .field("access_token", &self.access_token)
            .field("id_token", &self.id_token)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl OidcConfiguration {
    /// Settings with these grant types and nothing else.
    pub fn new(grant_types: Vec<GrantType>) -> Self {
        Self {
            grant_types,
            ..Self::default()
        }
    }

    /// Sets `callbackURLs`.
    pub fn with_callback_urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.callback_urls = Some(urls.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `allowedOrigins`.
    pub fn with_allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `publicClient`.
    pub fn with_public_client(mut self, public: bool) -> Self {
        self.public_client = Some(public);
        self
    }

    /// Sets `pkce.mandatory` and `pkce.supportPlainTransformAlgorithm` (other PKCE fields kept).
    pub fn with_pkce(mut self, mandatory: bool, support_plain: bool) -> Self {
        let pkce = self.pkce.get_or_insert_with(PkceConfiguration::default);
        pkce.mandatory = Some(mandatory);
        pkce.support_plain_transform_algorithm = Some(support_plain);
        self
    }

    /// Sets `clientAuthentication.tokenEndpointAuthMethod` (IS 7.0 and later only; see
    /// [`IsCapabilities::token_endpoint_auth_method`](crate::version::IsCapabilities::token_endpoint_auth_method)).
    pub fn with_token_endpoint_auth_method(mut self, method: TokenEndpointAuthMethod) -> Self {
        self.client_authentication
            .get_or_insert_with(ClientAuthentication::default)
            .token_endpoint_auth_method = Some(method);
        self
    }

    /// Sets the client id and secret (the server keeps caller-supplied credentials).
    pub fn with_client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Self {
        self.client_id = Some(client_id.into());
        self.client_secret = Some(Secret::from(client_secret.into()));
        self
    }

    /// The client secret, if known (read from the server or set by the caller).
    pub fn client_secret(&self) -> Option<&SecretString> {
        self.client_secret.as_ref().and_then(Secret::secret_string)
    }

    /// The JSON sent to the server: the model with the client secret's real value (refused when
    /// the secret is redacted, as after a snapshot round trip).
    pub(crate) fn to_wire(&self, field: &str) -> Result<Value> {
        let mut value = serde_json::to_value(self)
            .map_err(|_| Error::invalid(field, "cannot be written as JSON"))?;
        if self.grant_types.is_empty() {
            return Err(Error::invalid(
                format!("{field}.grantTypes"),
                "must name at least one grant type (the server requires it)",
            ));
        }
        if let (Some(secret), Value::Object(map)) = (&self.client_secret, &mut value) {
            let exposed = secret.expose().ok_or_else(|| {
                Error::invalid(
                    format!("{field}.clientSecret"),
                    "is redacted (restored from a snapshot); read the live settings or set it",
                )
            })?;
            map.insert("clientSecret".into(), Value::from(exposed));
        }
        Ok(value)
    }

    /// Reads the settings from the server's JSON, keeping the client secret's value.
    pub(crate) fn from_wire(mut value: Value) -> serde_json::Result<Self> {
        let secret = match &mut value {
            Value::Object(map) => match map.remove("clientSecret") {
                Some(Value::String(s)) => Some(s),
                Some(other) => {
                    map.insert("clientSecret".into(), other);
                    None
                }
                None => None,
            },
            _ => None,
        };
        let mut config: Self = serde_json::from_value(value)?;
        if let Some(secret) = secret {
            config.client_secret = Some(Secret::from(secret));
        }
        Ok(config)
    }
}

/// `inboundProtocolConfiguration` of a new application (`InboundProtocols`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InboundProtocols {
    /// `oidc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcConfiguration>,
    /// Every other protocol (`saml`, `passiveSts`, ...), as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A new application (`ApplicationModel`), the body of `POST /applications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApplication {
    /// `name` (unique in the tenant).
    pub name: ApplicationName,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `templateId` (console metadata; IS 5.11 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// `associatedRoles` (IS 7.0 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_roles: Option<AssociatedRoles>,
    /// `claimConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_configuration: Option<ClaimConfiguration>,
    /// `inboundProtocolConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_protocol_configuration: Option<InboundProtocols>,
    /// `authenticationSequence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_sequence: Option<AuthenticationSequence>,
    /// `advancedConfigurations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_configurations: Option<AdvancedConfigurations>,
    /// Any other field to send (`imageUrl`, `accessUrl`, `provisioningConfigurations`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NewApplication {
    /// An application with only its name.
    pub fn new(name: &ApplicationName) -> Self {
        Self {
            name: name.clone(),
            description: None,
            template_id: None,
            associated_roles: None,
            claim_configuration: None,
            inbound_protocol_configuration: None,
            authentication_sequence: None,
            advanced_configurations: None,
            extra: Map::new(),
        }
    }

    /// Sets `description`.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets `templateId` (IS 5.11 and later).
    pub fn with_template_id(mut self, template_id: impl Into<String>) -> Self {
        self.template_id = Some(template_id.into());
        self
    }

    /// Sets the OIDC inbound settings.
    pub fn with_oidc(mut self, oidc: OidcConfiguration) -> Self {
        self.inbound_protocol_configuration
            .get_or_insert_with(InboundProtocols::default)
            .oidc = Some(oidc);
        self
    }

    /// Sets `claimConfiguration`.
    pub fn with_claim_configuration(mut self, claims: ClaimConfiguration) -> Self {
        self.claim_configuration = Some(claims);
        self
    }

    /// Sets `advancedConfigurations`.
    pub fn with_advanced_configurations(mut self, advanced: AdvancedConfigurations) -> Self {
        self.advanced_configurations = Some(advanced);
        self
    }

    /// Sets `authenticationSequence`.
    pub fn with_authentication_sequence(mut self, sequence: AuthenticationSequence) -> Self {
        self.authentication_sequence = Some(sequence);
        self
    }

    /// Sets `associatedRoles` (IS 7.0 and later).
    pub fn with_associated_roles(mut self, roles: AssociatedRoles) -> Self {
        self.associated_roles = Some(roles);
        self
    }

    /// The OIDC client secret given, if any.
    pub(crate) fn client_secret(&self) -> Option<&str> {
        self.inbound_protocol_configuration
            .as_ref()?
            .oidc
            .as_ref()?
            .client_secret
            .as_ref()?
            .expose()
    }

    /// The JSON sent to the server (the OIDC client secret with its real value).
    pub(crate) fn to_wire(&self) -> Result<Value> {
        let mut value = serde_json::to_value(self)
            .map_err(|_| Error::invalid("application", "cannot be written as JSON"))?;
        if let Some(oidc) = self
            .inbound_protocol_configuration
            .as_ref()
            .and_then(|p| p.oidc.as_ref())
        {
            let wire = oidc.to_wire("application.inboundProtocolConfiguration.oidc")?;
            if let Some(Value::Object(protocols)) = value.get_mut("inboundProtocolConfiguration") {
                protocols.insert("oidc".into(), wire);
            }
        }
        Ok(value)
    }
}

/// An inbound protocol of an application, as listed in its answer (`InboundProtocolListItem`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InboundProtocolRef {
    /// `type`, e.g. `oauth2`, `samlsso`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `self`: the path of the protocol's settings.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_path: Option<String>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An application as the server answers `GET /applications/{id}` (`ApplicationResponseModel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `id`.
    pub id: ApplicationId,
    /// `name`.
    pub name: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `clientId` of its OIDC settings (IS 6.1 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `templateId` (IS 5.11 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// `associatedRoles` (IS 7.0 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_roles: Option<AssociatedRoles>,
    /// `claimConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_configuration: Option<ClaimConfiguration>,
    /// `inboundProtocols`: which protocols are configured (read their settings separately).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_protocols: Option<Vec<InboundProtocolRef>>,
    /// `authenticationSequence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_sequence: Option<AuthenticationSequence>,
    /// `advancedConfigurations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_configurations: Option<AdvancedConfigurations>,
    /// `access`: `READ` or `WRITE` (IS 5.11 and later; system applications are read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Application {
    /// Whether the OIDC inbound protocol is configured (`inboundProtocols` lists `oauth2`).
    pub fn has_oidc(&self) -> bool {
        self.inbound_protocols
            .iter()
            .flatten()
            .any(|p| p.kind == "oauth2" || p.kind == "oidc")
    }
}

/// An application in a list answer (`ApplicationListItem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSummary {
    /// `id`.
    pub id: ApplicationId,
    /// `name`.
    pub name: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `clientId` (IS 6.1 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `access` (IS 5.11 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    /// `self`: the application's path.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_path: Option<String>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `PATCH /applications/{id}` (`ApplicationPatchModel`): only the fields set are
/// sent, and the server changes only those. A nested object (e.g. `claimConfiguration`) is
/// best sent whole, as read and changed, since the model keeps every field of it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationPatch {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ApplicationName>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `templateId` (IS 5.11 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// `associatedRoles` (IS 7.0 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_roles: Option<AssociatedRoles>,
    /// `claimConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_configuration: Option<ClaimConfiguration>,
    /// `authenticationSequence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_sequence: Option<AuthenticationSequence>,
    /// `advancedConfigurations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_configurations: Option<AdvancedConfigurations>,
    /// Any other field to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ApplicationPatch {
    /// An empty patch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `description`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets `claimConfiguration`.
    pub fn claim_configuration(mut self, claims: ClaimConfiguration) -> Self {
        self.claim_configuration = Some(claims);
        self
    }

    /// Sets `advancedConfigurations`.
    pub fn advanced_configurations(mut self, advanced: AdvancedConfigurations) -> Self {
        self.advanced_configurations = Some(advanced);
        self
    }

    /// Sets `authenticationSequence`.
    pub fn authentication_sequence(mut self, sequence: AuthenticationSequence) -> Self {
        self.authentication_sequence = Some(sequence);
        self
    }

    /// Sets `associatedRoles` (IS 7.0 and later).
    pub fn associated_roles(mut self, roles: AssociatedRoles) -> Self {
        self.associated_roles = Some(roles);
        self
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(ApplicationId::new("29048810-1447-4ea0-a348-30d15ab65fa3").is_ok());
        for bad in ["", "a/b", "a b", "a?b", "a#b", "a%2F", "x\n"] {
            assert!(ApplicationId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_secret_reaches_the_wire_only() {
        let oidc = OidcConfiguration::new(vec![GrantType::AuthorizationCode])
            .with_client_credentials("cid", "canary-secret");
        let wire = oidc.to_wire("oidc").unwrap();
        assert_eq!(wire["clientSecret"], "canary-secret");
        let snapshot = serde_json::to_string(&oidc).unwrap();
        assert!(!snapshot.contains("canary"), "{snapshot}");
        assert!(!format!("{oidc:?}").contains("canary"));
        let restored: OidcConfiguration = serde_json::from_str(&snapshot).unwrap();
        assert!(
            restored.to_wire("oidc").is_err(),
            "a redacted secret is never sent"
        );
        let read = OidcConfiguration::from_wire(wire).unwrap();
        assert_eq!(
            read.client_secret.as_ref().and_then(Secret::expose),
            Some("canary-secret")
        );
    }

    #[test]
    fn consent_switches_follow_the_release() {
        let a = AdvancedConfigurations::default()
            .with_consent_skipped(ConsentFields::SkipConsent, true);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::json!({"skipConsent": true})
        );
        let b = AdvancedConfigurations::default()
            .with_consent_skipped(ConsentFields::SkipLoginAndLogoutConsent, true);
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"skipLoginConsent": true, "skipLogoutConsent": true})
        );
    }
}
