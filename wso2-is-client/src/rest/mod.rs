//! The REST management APIs of Identity Server 5.10 and later, under `{base}/api/server/v1/`
//! (`{base}/t/{tenant}/api/server/v1/` for a tenant): applications with their OIDC inbound
//! settings ([`RestApplications`]) and OIDC scopes ([`OidcScopes`]).
//!
//! Same conventions as the SOAP handlers:
//!
//! * a handler per resource from [`IsClient`](crate::IsClient)
//!   ([`rest_applications`](crate::IsClient::rest_applications),
//!   [`oidc_scopes`](crate::IsClient::oidc_scopes)); typed ids ([`ApplicationId`]) and names;
//!   owned request values; every request also available as a pure [`RestRequest`](crate::carbon::RestRequest) value
//!   (`*_request` methods) that is built without I/O;
//! * models cover the fields this federation needs, and keep every other field in `extra`, so a
//!   read-modify-write (read the OIDC settings, change them, `PUT` them back) loses nothing on any
//!   version. Fields that exist only on some releases are `Option`s: the caller decides from
//!   [`IsCapabilities`](crate::version::IsCapabilities) which to set;
//! * the client secret is a [`Secret`](crate::Secret): never in `Debug`, errors, logs or serialised
//!   snapshots (where it reads `"<redacted>"`), and sent only in the request bodies that carry it;
//! * error answers `{code, message, description, traceId}` become
//!   [`Error::Rest`](crate::Error::Rest)
//!   (server text bounded, secrets scrubbed): [`is_already_exists`](crate::Error::is_already_exists) for
//!   409 and for IS 5.11's HTTP 500 `APP-65001`, [`is_not_found`](crate::Error::is_not_found) for 404,
//!   [`is_auth_failure`](crate::Error::is_auth_failure) for 401 and 403. An HTML page or other non-JSON
//!   answer is [`Error::UnexpectedAnswer`](crate::Error::UnexpectedAnswer); whether the request was
//!   sent is [`Error::dispatch`](crate::Error::dispatch), as for SOAP.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::rest::{NewApplication, OidcConfiguration, TokenEndpointAuthMethod};
//! use wso2_is_client::oauth::GrantType;
//! use wso2_is_client::version::{IsCapabilities, ServerVersion};
//! use wso2_is_client::{ApplicationName, IsClient};
//!
//! let is: IsClient = IsClient::builder("https://is.example.com:9443")
//!     .credentials("admin", "admin-password")
//!     .build()?;
//! let caps = IsCapabilities::of(ServerVersion::is(7, 1));
//! let name = ApplicationName::new("apim-sso")?;
//! let apps = is.rest_applications();
//! let id = match apps.find_by_name(&name).await? {
//!     Some(found) => found.id,
//!     None => {
//!         let mut oidc = OidcConfiguration::new(vec![GrantType::AuthorizationCode])
//!             .with_callback_urls(["https://apim.example.com:9443/commonauth"])
//!             .with_pkce(false, false);
//!         if caps.token_endpoint_auth_method {
//!             oidc = oidc.with_token_endpoint_auth_method(TokenEndpointAuthMethod::ClientSecretBasic);
//!         }
//!         apps.create(&NewApplication::new(&name).with_oidc(oidc)).await?
//!     }
//! };
//! let oidc = apps.get_oidc(&id).await?.expect("the application has OIDC settings");
//! println!("client id {:?}", oidc.client_id);
//! # Ok(()) }
//! ```

mod applications;
mod model;
mod scopes;
pub(crate) mod wire;

use std::fmt;

use crate::ServerText;
use serde::{Deserialize, Serialize};

pub use applications::{ApplicationList, RestApplications, decode_created, decode_oidc};
pub use model::{
    AccessTokenConfiguration, AdvancedConfigurations, Application, ApplicationId, ApplicationPatch,
    ApplicationSummary, AssociatedRoles, AuthenticationSequence, AuthenticationStep,
    AuthenticatorOption, ClaimConfiguration, ClaimDialect, ClaimRef, ClientAuthentication,
    IdTokenConfiguration, InboundProtocolRef, InboundProtocols, NewApplication, OidcConfiguration,
    PkceConfiguration, RequestedClaim, RoleAudienceKind, RoleConfig, RoleRef, SequenceType,
    SubjectConfig, TokenEndpointAuthMethod,
};
pub use scopes::{OidcScope, OidcScopes, ScopeUpdate};

/// The base path of the REST management APIs, below the server's base URL (and its tenant
/// prefix).
pub const API_BASE_PATH: &str = "api/server/v1/";

/// The error code IS 5.11 answers, with HTTP 500, for an application name that already exists
/// (`APP-65001`).
pub const DUPLICATE_APPLICATION_CODE: &str = "APP-65001";

/// The error document of the REST management APIs: `{code, message, description, traceId}`.
///
/// Every text is the server's, as a [`ServerText`] (bounded; shown cleaned) with any secret
/// sent in the request scrubbed out. `Display` of the error shows the code and
/// a short excerpt of the message only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RestErrorBody {
    /// `code`, e.g. `APP-60001` (client errors) or `APP-65001` (server errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ServerText>,
    /// `message`: a short summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<ServerText>,
    /// `description`: the details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<ServerText>,
    /// `traceId`: the correlation id to look up in the server's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<ServerText>,
}

/// Longest excerpt of a server message shown by `Display`, in bytes.
const DISPLAY_EXCERPT_CHARS: usize = 120;

impl RestErrorBody {
    /// Whether the code says an application of that name already exists (`APP-65001`, which IS
    /// 5.11 sends with HTTP 500).
    pub fn is_duplicate_application(&self) -> bool {
        self.code
            .as_ref()
            .is_some_and(|c| c.raw().trim() == DUPLICATE_APPLICATION_CODE)
    }

    /// `" (CODE): excerpt"`, for the error's `Display`; empty when the document was empty.
    pub(crate) fn summary(&self) -> String {
        let mut out = String::new();
        if let Some(code) = &self.code {
            out.push_str(&format!(" ({code})"));
        }
        if let Some(message) = &self.message {
            out.push_str(": ");
            out.push_str(&crate::carbon::text::clean(
                message.raw(),
                DISPLAY_EXCERPT_CHARS,
            ));
        }
        out
    }
}

impl fmt::Display for RestErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summary = self.summary();
        f.write_str(summary.trim_start_matches([' ', ':']))
    }
}
