//! `OAuthAdminService`: OAuth/OIDC consumer applications (identity-inbound-auth-oauth 6.2.28 on
//! IS 5.9, 6.2.25 on APIM 3.0; the WSDL is the same).
//!
//! What the server does, and what this module does about it:
//!
//! * [`register`](OAuthApps::register) keeps a caller-supplied consumer key and secret verbatim.
//!   A secret without a key is ignored by the server (both are then generated), so it is refused
//!   here before sending.
//! * [`update`](OAuthApps::update) (`updateConsumerApplication`) **replaces the whole record**:
//!   every field not sent is reset (callback URL, PKCE flags, expiry times, token type, owner),
//!   and the grant types, audiences, scope validators, logout URLs and id-token encryption are
//!   only written when `OAuthVersion` is exactly `OAuth-2.0`. It needs the consumer key and the
//!   *unchanged* secret (the secret cannot be changed this way). Use
//!   [`modify`](OAuthApps::modify), which reads the application and sends back everything read.
//! * Missing applications: both lookups fault (`Error while retrieving the app information by app
//!   name: X` / `… using consumerKey: X`); [`get`](OAuthApps::get) and
//!   [`get_by_name`](OAuthApps::get_by_name) read those faults as `None`. The server gives the
//!   same text when its database fails during the lookup, so a `None` is "absent or unreadable";
//!   a following register then fails with the duplicate-name fault rather than creating twice.
//! * [`remove`](OAuthApps::remove) of a key that does not exist succeeds silently. Deleting the
//!   service provider that links the application (`inboundAuthKey`) deletes it too.
//! * Answers carry the consumer secret in clear: it is held as a [`Secret`] and never appears in
//!   `Debug`, errors, logs or serialised snapshots.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::oauth::{GrantType, OAuthConsumerAppDTO};
//! use wso2_is_client::{ConsumerKey, IsClient, OAuthAppName};
//!
//! let is = IsClient::builder("https://is.example.com:9443")
//!     .credentials("admin", "admin-password")
//!     .ca_pem(std::fs::read("is-ca.pem").unwrap())
//!     .build()?;
//! let key = ConsumerKey::new("apim-federation-client")?;
//! if is.oauth_apps().get(&key).await?.is_none() {
//!     let app = OAuthConsumerAppDTO::new(&OAuthAppName::new("apim-federation")?)
//!         .with_callback_url("https://apim.example.com:9443/commonauth")
//!         .with_grant_types([GrantType::AuthorizationCode, GrantType::RefreshToken])
//!         .with_consumer_key(&key)
//!         .with_consumer_secret("a-long-random-secret");
//!     is.oauth_apps().register(&app).await?;
//! }
//! // Later: change one thing, keep everything else.
//! is.oauth_apps()
//!     .modify(&key, |app| app.pkce_mandatory = Some(false))
//!     .await?;
//! # Ok(()) }
//! ```

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::carbon::CarbonClient;
use crate::carbon::secret::Secret;
use crate::carbon::soap::soap_operation;
use crate::carbon::xml::{ns, xml_model};
use crate::error::{Error, Result};
use crate::names::{ConsumerKey, OAuthAppName};

/// The `OAuthVersion` of OAuth 2.0 applications. `updateConsumerApplication` writes the grant
/// types and the other OAuth 2.0 fields only when this exact value is sent.
pub const OAUTH_VERSION_2: &str = "OAuth-2.0";

/// The `state` of an application in use.
pub const STATE_ACTIVE: &str = "ACTIVE";

xml_model! {
    /// An OAuth/OIDC consumer application (`OAuthConsumerAppDTO`): every field of the WSDL type
    /// in every vendored version (identity-inbound-auth-oauth 6.2.28 of IS 5.9 / APIM 3.0, 6.4.2
    /// of IS 5.10 / APIM 3.1-3.2, 6.4.111 (to 6.13.27) of IS 5.11-6.1 / APIM 4.0-4.5, 7.0.26 of IS
    /// 7.0), in WSDL order, so that a value read from any of them and sent back loses nothing.
    /// Fields newer than 6.2.28 say their version and are not written when `None`.
    ///
    /// The consumer secret is a [`Secret`]: it never shows in `Debug` or serialised values.
    pub struct OAuthConsumerAppDTO in ns::OAUTH_DTO {
        /// `OAuth-2.0` ([`OAUTH_VERSION_2`]) or `OAuth-1.0a`. Must be sent as `OAuth-2.0` for an
        /// update to write the grant types and the other OAuth 2.0 fields.
        pub oauth_version: Option<String> = "OAuthVersion",
        /// Lifetime of application (client-credentials) access tokens, in seconds; 0 or absent
        /// means the server default.
        pub application_access_token_expiry_time: Option<i64> = "applicationAccessTokenExpiryTime",
        /// The application name (unique per owner).
        pub application_name: Option<String> = "applicationName",
        /// Audiences added to issued tokens.
        pub audiences: Vec<String> = "audiences",
        /// Signature algorithm of JARM authorization responses (oauth 7.0.26).
        pub authorization_response_signature_algorithm: Option<String> = "authorizationResponseSignatureAlgorithm",
        /// OIDC back-channel logout URL.
        pub back_channel_logout_url: Option<String> = "backChannelLogoutUrl",
        /// Whether the client may skip client authentication (public clients).
        pub bypass_client_credentials: Option<bool> = "bypassClientCredentials",
        /// Redirect URI; several are written `regexp=(url1|url2)`. Required with the
        /// `authorization_code` or `implicit` grant.
        pub callback_url: Option<String> = "callbackUrl",
        /// Whether the application conforms to FAPI (oauth 7.0.26).
        pub fapi_conformance_enabled: Option<bool> = "fapiConformanceEnabled",
        /// OIDC front-channel logout URL.
        pub frontchannel_logout_url: Option<String> = "frontchannelLogoutUrl",
        /// Allowed grants, space separated (see [`GrantType`] and
        /// [`grant_type_list`](OAuthConsumerAppDTO::grant_type_list)).
        pub grant_types: Option<String> = "grantTypes",
        /// Id-token encryption algorithm (JWE `alg`).
        pub id_token_encryption_algorithm: Option<String> = "idTokenEncryptionAlgorithm",
        /// Whether id tokens are encrypted.
        pub id_token_encryption_enabled: Option<bool> = "idTokenEncryptionEnabled",
        /// Id-token encryption method (JWE `enc`).
        pub id_token_encryption_method: Option<String> = "idTokenEncryptionMethod",
        /// Id-token lifetime, in seconds; 0 or absent means the server default.
        pub id_token_expiry_time: Option<i64> = "idTokenExpiryTime",
        /// Id-token signature algorithm (JWS `alg`) (oauth 7.0.26).
        pub id_token_signature_algorithm: Option<String> = "idTokenSignatureAlgorithm",
        /// JWKS URI of the client (oauth 7.0.26).
        pub jwks_uri: Option<String> = "jwksURI",
        /// The consumer key (client id). Kept verbatim when given at registration.
        pub oauth_consumer_key: Option<String> = "oauthConsumerKey",
        /// The consumer secret (client secret). Kept verbatim when given with a key at
        /// registration; cannot be changed by an update.
        pub oauth_consumer_secret: Option<Secret> = "oauthConsumerSecret",
        /// Whether PKCE is mandatory.
        pub pkce_mandatory: Option<bool> = "pkceMandatory",
        /// Whether the PKCE `plain` method is allowed.
        pub pkce_support_plain: Option<bool> = "pkceSupportPlain",
        /// Refresh-token lifetime, in seconds; 0 or absent means the server default.
        pub refresh_token_expiry_time: Option<i64> = "refreshTokenExpiryTime",
        /// Whether refresh tokens are renewed on use: `true`, `false`, or absent for the server
        /// default (a string in the WSDL).
        pub renew_refresh_token_enabled: Option<String> = "renewRefreshTokenEnabled",
        /// Request-object encryption algorithm (JWE `alg`) (oauth 7.0.26).
        pub request_object_encryption_algorithm: Option<String> = "requestObjectEncryptionAlgorithm",
        /// Request-object encryption method (JWE `enc`) (oauth 7.0.26).
        pub request_object_encryption_method: Option<String> = "requestObjectEncryptionMethod",
        /// Request-object signature algorithm (oauth 7.0.26).
        pub request_object_signature_algorithm: Option<String> = "requestObjectSignatureAlgorithm",
        /// Whether request objects must be signed.
        pub request_object_signature_validation_enabled: Option<bool> = "requestObjectSignatureValidationEnabled",
        /// Whether pushed authorization requests (PAR) are required (oauth 7.0.26).
        pub require_pushed_authorization_requests: Option<bool> = "requirePushedAuthorizationRequests",
        /// Scope validators, e.g. `Role based scope validator`.
        pub scope_validators: Vec<String> = "scopeValidators",
        /// Sector identifier URI, for pairwise subjects (oauth 7.0.26).
        pub sector_identifier_uri: Option<String> = "sectorIdentifierURI",
        /// `ACTIVE` or `REVOKED` (set by the server).
        pub state: Option<String> = "state",
        /// `public` or `pairwise` (oauth 7.0.26).
        pub subject_type: Option<String> = "subjectType",
        /// Subject DN of the client certificate for `tls_client_auth` (oauth 7.0.26).
        pub tls_client_auth_subject_dn: Option<String> = "tlsClientAuthSubjectDN",
        /// Token binding, e.g. `cookie` or `sso-session` (oauth 6.4.2).
        pub token_binding_type: Option<String> = "tokenBindingType",
        /// Whether token bindings are validated (oauth 6.4.111).
        pub token_binding_validation_enabled: Option<bool> = "tokenBindingValidationEnabled",
        /// Client authentication at the token endpoint, e.g. `client_secret_basic`,
        /// `client_secret_post`, `private_key_jwt`, `tls_client_auth` (oauth 7.0.26).
        pub token_endpoint_auth_method: Option<String> = "tokenEndpointAuthMethod",
        /// Signature algorithm of `private_key_jwt` client assertions (oauth 7.0.26).
        pub token_endpoint_auth_signature_algorithm: Option<String> = "tokenEndpointAuthSignatureAlgorithm",
        /// Whether tokens are revoked when the IdP session ends (oauth 6.4.111).
        pub token_revocation_with_idp_session_termination_enabled: Option<bool> = "tokenRevocationWithIDPSessionTerminationEnabled",
        /// Token type, e.g. `Default` or `JWT`.
        pub token_type: Option<String> = "tokenType",
        /// Lifetime of user access tokens, in seconds; 0 or absent means the server default.
        pub user_access_token_expiry_time: Option<i64> = "userAccessTokenExpiryTime",
        /// Owner (an existing user becomes the owner; otherwise the caller is).
        pub username: Option<String> = "username",
    }
}

impl OAuthConsumerAppDTO {
    /// An OAuth 2.0 application named `name`, with nothing else set.
    pub fn new(name: &OAuthAppName) -> Self {
        Self {
            oauth_version: Some(OAUTH_VERSION_2.to_owned()),
            application_name: Some(name.as_str().to_owned()),
            ..Self::default()
        }
    }

    /// Sets the callback (redirect) URL.
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Sets the allowed grants.
    pub fn with_grant_types(mut self, grants: impl IntoIterator<Item = GrantType>) -> Self {
        self.set_grant_types(grants);
        self
    }

    /// Sets a caller-chosen consumer key (client id), kept verbatim by the server.
    pub fn with_consumer_key(mut self, key: &ConsumerKey) -> Self {
        self.oauth_consumer_key = Some(key.as_str().to_owned());
        self
    }

    /// Sets a caller-chosen consumer secret; needs a consumer key too.
    pub fn with_consumer_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.oauth_consumer_secret = Some(Secret::new(secret));
        self
    }

    /// The allowed grants, parsed from the space-separated `grantTypes`.
    pub fn grant_type_list(&self) -> Vec<GrantType> {
        self.grant_types
            .as_deref()
            .map(GrantType::parse_list)
            .unwrap_or_default()
    }

    /// Replaces the allowed grants (written space separated, in the order given).
    pub fn set_grant_types(&mut self, grants: impl IntoIterator<Item = GrantType>) {
        let grants: Vec<GrantType> = grants.into_iter().collect();
        self.grant_types = Some(GrantType::format_list(&grants));
    }

    /// Whether the application allows `grant`.
    pub fn allows(&self, grant: &GrantType) -> bool {
        self.grant_type_list().contains(grant)
    }

    /// Whether this is an OAuth 2.0 application (`OAuthVersion` is `OAuth-2.0`).
    pub fn is_oauth2(&self) -> bool {
        self.oauth_version.as_deref() == Some(OAUTH_VERSION_2)
    }

    /// The consumer key as a validated name, if set.
    pub fn consumer_key(&self) -> Option<Result<ConsumerKey>> {
        self.oauth_consumer_key
            .as_deref()
            .map(|k| ConsumerKey::new(k).map_err(Error::from))
    }

    /// Checks what registration needs; nothing is sent when this fails.
    fn check_for_register(&self) -> Result<()> {
        let field = "application";
        let name = self
            .application_name
            .as_deref()
            .ok_or_else(|| Error::invalid(format!("{field}.applicationName"), "is required"))?;
        OAuthAppName::new(name)?;
        match (&self.oauth_consumer_key, &self.oauth_consumer_secret) {
            (Some(key), _) => {
                ConsumerKey::new(key.as_str())?;
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    format!("{field}.oauthConsumerSecret"),
                    "is given without oauthConsumerKey; the server would ignore it and generate both",
                ));
            }
            (None, None) => {}
        }
        if let Some(secret) = &self.oauth_consumer_secret
            && secret.expose() == Some("")
        {
            return Err(Error::invalid(
                format!("{field}.oauthConsumerSecret"),
                "must not be empty (leave it out to have one generated)",
            ));
        }
        self.check_callback(field)?;
        Ok(())
    }

    /// The server refuses code and implicit grants without a callback at registration.
    fn check_callback(&self, field: &str) -> Result<()> {
        let grants = self.grant_type_list();
        let needs_callback = grants
            .iter()
            .any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::Implicit));
        let has_callback = self
            .callback_url
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty());
        if needs_callback && !has_callback {
            return Err(Error::invalid(
                format!("{field}.callbackUrl"),
                "is required with the authorization_code or implicit grant",
            ));
        }
        Ok(())
    }

    /// Checks what an update needs; nothing is sent when this fails.
    fn check_for_update(&self) -> Result<()> {
        let field = "consumerAppDTO";
        let key = self.oauth_consumer_key.as_deref().ok_or_else(|| {
            Error::invalid(
                format!("{field}.oauthConsumerKey"),
                "is required for an update; read the application first",
            )
        })?;
        ConsumerKey::new(key)?;
        match &self.oauth_consumer_secret {
            Some(s) if s.expose().is_some_and(|v| !v.is_empty()) => {}
            Some(s) if s.is_redacted() => {
                return Err(Error::invalid(
                    format!("{field}.oauthConsumerSecret"),
                    "is redacted (the value came from a serialised snapshot); read the application from the server first",
                ));
            }
            _ => {
                return Err(Error::invalid(
                    format!("{field}.oauthConsumerSecret"),
                    "is required for an update (the current secret, unchanged); read the application first",
                ));
            }
        }
        if self.oauth_version.is_none() {
            return Err(Error::invalid(
                format!("{field}.OAuthVersion"),
                "must be set (OAuth-2.0): without it the server silently keeps the old grant types, audiences, scope validators and logout URLs",
            ));
        }
        let name = self.application_name.as_deref().ok_or_else(|| {
            Error::invalid(
                format!("{field}.applicationName"),
                "is required: an update replaces the whole record",
            )
        })?;
        OAuthAppName::new(name)?;
        Ok(())
    }
}

/// An OAuth 2.0 grant type, as written in `grantTypes`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum GrantType {
    /// `authorization_code`.
    AuthorizationCode,
    /// `password` (resource owner password credentials).
    Password,
    /// `client_credentials`.
    ClientCredentials,
    /// `refresh_token`.
    RefreshToken,
    /// `implicit`.
    Implicit,
    /// `urn:ietf:params:oauth:grant-type:saml2-bearer`.
    Saml2Bearer,
    /// `iwa:ntlm` (Integrated Windows Authentication).
    IwaNtlm,
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523; WSO2's JWT grant).
    JwtBearer,
    /// Any other grant the server allows (e.g. `urn:ietf:params:oauth:grant-type:device_code`).
    Other(String),
}

impl GrantType {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Password => "password",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::Implicit => "implicit",
            Self::Saml2Bearer => "urn:ietf:params:oauth:grant-type:saml2-bearer",
            Self::IwaNtlm => "iwa:ntlm",
            Self::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            Self::Other(s) => s,
        }
    }

    /// Parses one wire value (exact, case-sensitive, as the server compares them).
    pub fn parse(value: &str) -> Self {
        match value {
            "authorization_code" => Self::AuthorizationCode,
            "password" => Self::Password,
            "client_credentials" => Self::ClientCredentials,
            "refresh_token" => Self::RefreshToken,
            "implicit" => Self::Implicit,
            "urn:ietf:params:oauth:grant-type:saml2-bearer" => Self::Saml2Bearer,
            "iwa:ntlm" => Self::IwaNtlm,
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => Self::JwtBearer,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Parses a space-separated `grantTypes` value; runs of white space and empty input give no
    /// empty entries.
    pub fn parse_list(value: &str) -> Vec<Self> {
        value.split_whitespace().map(Self::parse).collect()
    }

    /// Writes grants as a space-separated `grantTypes` value.
    pub fn format_list(grants: &[Self]) -> String {
        grants
            .iter()
            .map(Self::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for GrantType {
    fn from(value: String) -> Self {
        Self::parse(&value)
    }
}

impl From<GrantType> for String {
    fn from(value: GrantType) -> Self {
        match value {
            GrantType::Other(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

impl std::str::FromStr for GrantType {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

soap_operation! {
    /// `registerOAuthApplicationData(application)`: registers an application. Returns nothing;
    /// a caller-supplied key and secret are kept.
    pub struct RegisterOAuthApplicationData {
        service: "OAuthAdminService",
        operation: "registerOAuthApplicationData",
        wrapper: ns::AXIS2,
        read_only: false,
        output: () => void,
    } {
        /// The application.
        pub application: OAuthConsumerAppDTO = "application",
    }
}

soap_operation! {
    /// `registerAndRetrieveOAuthApplicationData(application)`: registers an application and
    /// returns it as stored (generated key and secret included).
    pub struct RegisterAndRetrieveOAuthApplicationData {
        service: "OAuthAdminService",
        operation: "registerAndRetrieveOAuthApplicationData",
        wrapper: ns::AXIS2,
        read_only: false,
        output: Option<OAuthConsumerAppDTO> => single,
    } {
        /// The application.
        pub application: OAuthConsumerAppDTO = "application",
    }
}

soap_operation! {
    /// `getOAuthApplicationDataByAppName(appName)`: the application of that name (faults when
    /// there is none).
    pub struct GetOAuthApplicationDataByAppName {
        service: "OAuthAdminService",
        operation: "getOAuthApplicationDataByAppName",
        wrapper: ns::AXIS2,
        read_only: true,
        output: Option<OAuthConsumerAppDTO> => single,
    } {
        /// The application name.
        pub app_name: String = "appName",
    }
}

soap_operation! {
    /// `getOAuthApplicationData(consumerKey)`: the application with that key (faults when there
    /// is none).
    pub struct GetOAuthApplicationData {
        service: "OAuthAdminService",
        operation: "getOAuthApplicationData",
        wrapper: ns::AXIS2,
        read_only: true,
        output: Option<OAuthConsumerAppDTO> => single,
    } {
        /// The consumer key.
        pub consumer_key: String = "consumerKey",
    }
}

soap_operation! {
    /// `updateConsumerApplication(consumerAppDTO)`: **replaces** the application identified by
    /// its consumer key and secret with the value sent. The parameter element must be named
    /// `consumerAppDTO` (Axis2 binds parameters by name).
    pub struct UpdateConsumerApplication {
        service: "OAuthAdminService",
        operation: "updateConsumerApplication",
        wrapper: ns::AXIS2,
        read_only: false,
        output: () => void,
    } {
        /// The complete application, as read and changed.
        pub consumer_app_dto: OAuthConsumerAppDTO = "consumerAppDTO",
    }
}

soap_operation! {
    /// `removeOAuthApplicationData(consumerKey)`: deletes the application (silently succeeds
    /// when there is none).
    pub struct RemoveOAuthApplicationData {
        service: "OAuthAdminService",
        operation: "removeOAuthApplicationData",
        wrapper: ns::AXIS2,
        read_only: false,
        output: () => void,
    } {
        /// The consumer key.
        pub consumer_key: String = "consumerKey",
    }
}

impl RegisterOAuthApplicationData {
    /// The operation for `application`.
    pub fn new(application: OAuthConsumerAppDTO) -> Self {
        Self { application }
    }
}

impl RegisterAndRetrieveOAuthApplicationData {
    /// The operation for `application`.
    pub fn new(application: OAuthConsumerAppDTO) -> Self {
        Self { application }
    }
}

impl GetOAuthApplicationDataByAppName {
    /// The operation for `name`.
    pub fn new(name: &OAuthAppName) -> Self {
        Self {
            app_name: name.as_str().to_owned(),
        }
    }
}

impl GetOAuthApplicationData {
    /// The operation for `key`.
    pub fn new(key: &ConsumerKey) -> Self {
        Self {
            consumer_key: key.as_str().to_owned(),
        }
    }
}

impl UpdateConsumerApplication {
    /// The operation for `application` (the complete record).
    pub fn new(application: OAuthConsumerAppDTO) -> Self {
        Self {
            consumer_app_dto: application,
        }
    }
}

impl RemoveOAuthApplicationData {
    /// The operation for `key`.
    pub fn new(key: &ConsumerKey) -> Self {
        Self {
            consumer_key: key.as_str().to_owned(),
        }
    }
}

/// Whether a lookup fault says the application is not there. Beyond the generic wordings of
/// [`Error::is_not_found`], OAuthAdminService 6.2.x wraps "Cannot find an application
/// associated with …" into these texts.
fn missing_app(e: &Error) -> bool {
    if e.is_not_found() {
        return true;
    }
    e.fault().is_some_and(|f| {
        let m = f.message.raw();
        m.starts_with("Error while retrieving the app information by app name")
            || m.starts_with("Error while retrieving the app information using consumerKey")
    })
}

/// Handler for OAuth applications; get one with `IsClient::oauth_apps()`.
#[derive(Debug, Clone, Copy)]
pub struct OAuthApps<'c> {
    client: &'c CarbonClient,
}

impl<'c> OAuthApps<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// Registers `app` (`registerOAuthApplicationData`). A consumer key and secret given in
    /// `app` are kept verbatim; without them the server generates both (read them back with
    /// [`get_by_name`](Self::get_by_name), or use
    /// [`register_and_retrieve`](Self::register_and_retrieve)).
    ///
    /// Refused before sending: no or an invalid name, a secret without a key, an empty secret,
    /// the `authorization_code` or `implicit` grant without a callback URL.
    /// A duplicate name (per owner) faults with [`Error::is_already_exists`]; a duplicate key
    /// faults with `Error when executing SQL to create OAuth app …`.
    pub async fn register(&self, app: &OAuthConsumerAppDTO) -> Result<()> {
        app.check_for_register()?;
        self.client
            .call(&RegisterOAuthApplicationData::new(app.clone()))
            .await
    }

    /// Registers `app` and returns it as stored (`registerAndRetrieveOAuthApplicationData`),
    /// with the generated key and secret when none were given. Checked like
    /// [`register`](Self::register).
    pub async fn register_and_retrieve(
        &self,
        app: &OAuthConsumerAppDTO,
    ) -> Result<OAuthConsumerAppDTO> {
        app.check_for_register()?;
        self.client
            .call(&RegisterAndRetrieveOAuthApplicationData::new(app.clone()))
            .await?
            .ok_or_else(|| Error::NotFound {
                operation: "registerAndRetrieveOAuthApplicationData",
                what: "the registered application in the answer".to_owned(),
            })
    }

    /// The application named `name`, or `None` when there is none.
    pub async fn get_by_name(&self, name: &OAuthAppName) -> Result<Option<OAuthConsumerAppDTO>> {
        match self
            .client
            .call(&GetOAuthApplicationDataByAppName::new(name))
            .await
        {
            Ok(app) => Ok(app.filter(|a| a.oauth_consumer_key.is_some())),
            Err(e) if missing_app(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The application with consumer key `key`, or `None` when there is none.
    pub async fn get(&self, key: &ConsumerKey) -> Result<Option<OAuthConsumerAppDTO>> {
        match self.client.call(&GetOAuthApplicationData::new(key)).await {
            Ok(app) => Ok(app.filter(|a| a.oauth_consumer_key.is_some())),
            Err(e) if missing_app(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the application with `app` (`updateConsumerApplication`). **Every field not
    /// sent is reset**, so `app` must be the complete record: read it first, or use
    /// [`modify`](Self::modify).
    ///
    /// Refused before sending: no consumer key, no (or a redacted) consumer secret, no
    /// `OAuthVersion` (the server would then silently keep the old grant types), no name.
    /// The secret must be the current one: the server refuses any other with
    /// `Error while updating the app information.`, the same text as for an unknown key.
    pub async fn update(&self, app: &OAuthConsumerAppDTO) -> Result<()> {
        app.check_for_update()?;
        self.client
            .call(&UpdateConsumerApplication::new(app.clone()))
            .await
    }

    /// Reads the application with key `key`, applies `change`, and writes back every field
    /// that was read. Returns the value written. Fails with [`Error::NotFound`] when it does
    /// not exist, and refuses (before writing) a change of the key or the secret.
    pub async fn modify(
        &self,
        key: &ConsumerKey,
        change: impl FnOnce(&mut OAuthConsumerAppDTO),
    ) -> Result<OAuthConsumerAppDTO> {
        let mut app = self.get(key).await?.ok_or_else(|| Error::NotFound {
            operation: "getOAuthApplicationData",
            what: format!("OAuth application with consumer key {key:?}"),
        })?;
        let secret = app.oauth_consumer_secret.clone();
        change(&mut app);
        if app.oauth_consumer_key.as_deref() != Some(key.as_str()) {
            return Err(Error::invalid(
                "consumerAppDTO.oauthConsumerKey",
                "must not be changed by `modify`",
            ));
        }
        if app.oauth_consumer_secret != secret {
            return Err(Error::invalid(
                "consumerAppDTO.oauthConsumerSecret",
                "cannot be changed by updateConsumerApplication (the server regenerates secrets with updateAndRetrieveOauthSecretKey)",
            ));
        }
        self.update(&app).await?;
        Ok(app)
    }

    /// Deletes the application with consumer key `key`. Succeeds silently when there is none.
    pub async fn remove(&self, key: &ConsumerKey) -> Result<()> {
        self.client
            .call(&RemoveOAuthApplicationData::new(key))
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::carbon::soap::{Operation, encode};

    #[test]
    fn grant_types_parse_and_format() {
        let all = "authorization_code password client_credentials refresh_token implicit \
                   urn:ietf:params:oauth:grant-type:saml2-bearer iwa:ntlm \
                   urn:ietf:params:oauth:grant-type:jwt-bearer urn:x:custom";
        let parsed = GrantType::parse_list(all);
        assert_eq!(parsed.len(), 9);
        assert_eq!(parsed[5], GrantType::Saml2Bearer);
        assert_eq!(parsed[6], GrantType::IwaNtlm);
        assert_eq!(parsed[7], GrantType::JwtBearer);
        assert_eq!(parsed[8], GrantType::Other("urn:x:custom".into()));
        assert_eq!(
            GrantType::format_list(&parsed),
            all.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        assert!(GrantType::parse_list("  ").is_empty());
        assert_eq!(
            GrantType::parse_list(" refresh_token\t implicit "),
            vec![GrantType::RefreshToken, GrantType::Implicit]
        );
        // Case matters on the server.
        assert_eq!(
            GrantType::parse("Password"),
            GrantType::Other("Password".into())
        );
        let json = serde_json::to_string(&GrantType::JwtBearer).unwrap();
        assert_eq!(json, "\"urn:ietf:params:oauth:grant-type:jwt-bearer\"");
        assert_eq!(
            serde_json::from_str::<GrantType>(&json).unwrap(),
            GrantType::JwtBearer
        );
    }

    #[test]
    fn update_uses_the_consumer_app_dto_element() {
        let mut app = OAuthConsumerAppDTO::new(&OAuthAppName::new("a").unwrap());
        app.oauth_consumer_key = Some("k".into());
        let req = encode(&UpdateConsumerApplication::new(app)).unwrap();
        assert!(req.body_element().contains("<axis2:consumerAppDTO>"));
        assert!(
            req.body_element()
                .contains("<dto:OAuthVersion>OAuth-2.0</dto:OAuthVersion>")
        );
        assert_eq!(UpdateConsumerApplication::NAME, "updateConsumerApplication");
        assert_eq!(
            <UpdateConsumerApplication as Operation>::SERVICE,
            "OAuthAdminService"
        );
    }
}
