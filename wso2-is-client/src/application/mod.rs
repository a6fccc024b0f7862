//! `IdentityApplicationManagementService`: service providers (applications).
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::{ApplicationName, IsClient};
//! use wso2_is_client::model::ServiceProvider;
//!
//! let is = IsClient::builder("https://is.example.com:9443")
//!     .credentials("admin", "admin-password")
//!     .ca_pem(std::fs::read("is-ca.pem").unwrap())
//!     .build()?;
//! let name = ApplicationName::new("apim-federation")?;
//! if is.applications().get(&name).await?.is_none() {
//!     let sp = ServiceProvider::named(&name).with_description("APIM login through IS");
//!     let created = is.applications().create(&sp).await?;
//!     println!("created with id {:?}", created.application_id);
//! }
//! # Ok(()) }
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::carbon::CarbonClient;
use crate::carbon::soap::soap_operation;
use crate::carbon::xml::ns;
use crate::error::{Error, Result};
use crate::model::{
    ApplicationBasicInfo, InboundAuthenticationRequestConfig, LocalAndOutboundAuthenticationConfig,
    ServiceProvider,
};
use crate::names::ApplicationName;

soap_operation! {
    /// `createApplication(serviceProvider)`: registers a service provider. Returns nothing (not
    /// even the id).
    pub struct CreateApplication {
        service: "IdentityApplicationManagementService",
        operation: "createApplication",
        wrapper: ns::AXIS2,
        read_only: false,
        output: () => void,
    } {
        /// The service provider.
        pub service_provider: ServiceProvider = "serviceProvider",
    }
}

soap_operation! {
    /// `getApplication(applicationName)`: the whole service provider, or `None`.
    pub struct GetApplication {
        service: "IdentityApplicationManagementService",
        operation: "getApplication",
        wrapper: ns::AXIS2,
        read_only: true,
        output: Option<ServiceProvider> => single,
    } {
        /// The name.
        pub application_name: String = "applicationName",
    }
}

soap_operation! {
    /// `updateApplication(serviceProvider)`: replaces the service provider identified by its
    /// `applicationID` and name.
    pub struct UpdateApplication {
        service: "IdentityApplicationManagementService",
        operation: "updateApplication",
        wrapper: ns::AXIS2,
        read_only: false,
        output: () => void,
    } {
        /// The complete service provider.
        pub service_provider: ServiceProvider = "serviceProvider",
    }
}

soap_operation! {
    /// `deleteApplication(applicationName)`.
    pub struct DeleteApplication {
        service: "IdentityApplicationManagementService",
        operation: "deleteApplication",
        wrapper: ns::AXIS2,
        read_only: false,
        output: () => void,
    } {
        /// The name.
        pub application_name: String = "applicationName",
    }
}

soap_operation! {
    /// `getAllApplicationBasicInfo()`: id, name and description of every service provider.
    pub struct GetAllApplicationBasicInfo {
        service: "IdentityApplicationManagementService",
        operation: "getAllApplicationBasicInfo",
        wrapper: ns::AXIS2,
        read_only: true,
        output: Vec<ApplicationBasicInfo> => many,
    } {}
}

impl CreateApplication {
    /// The operation for `sp`.
    pub fn new(sp: ServiceProvider) -> Self {
        Self {
            service_provider: sp,
        }
    }
}

impl GetApplication {
    /// The operation for `name`.
    pub fn new(name: &ApplicationName) -> Self {
        Self {
            application_name: name.as_str().to_owned(),
        }
    }
}

impl UpdateApplication {
    /// The operation for `sp`.
    pub fn new(sp: ServiceProvider) -> Self {
        Self {
            service_provider: sp,
        }
    }
}

impl DeleteApplication {
    /// The operation for `name`.
    pub fn new(name: &ApplicationName) -> Self {
        Self {
            application_name: name.as_str().to_owned(),
        }
    }
}

impl GetAllApplicationBasicInfo {
    /// The operation.
    pub fn new() -> Self {
        Self {}
    }
}

impl Default for GetAllApplicationBasicInfo {
    fn default() -> Self {
        Self::new()
    }
}

/// How users of a service provider authenticate (`authenticationType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthenticationType {
    /// The server's default sequence.
    Default,
    /// A local authenticator.
    Local,
    /// Exactly one federated identity provider, in exactly one step.
    Federated,
    /// Advanced configuration: explicit steps (multi-option, multi-step).
    Flow,
    /// A value this crate does not know.
    Other(String),
}

impl AuthenticationType {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Default => "default",
            Self::Local => "local",
            Self::Federated => "federated",
            Self::Flow => "flow",
            Self::Other(s) => s,
        }
    }

    /// Parses a wire value.
    pub fn parse(value: &str) -> Self {
        match value {
            "default" => Self::Default,
            "local" => Self::Local,
            "federated" => Self::Federated,
            "flow" => Self::Flow,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for AuthenticationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inbound protocol type of OAuth2/OIDC configurations.
pub const OAUTH2_INBOUND_TYPE: &str = "oauth2";
/// The inbound property that holds the OAuth consumer secret.
pub const OAUTH_CONSUMER_SECRET_PROPERTY: &str = "oauthConsumerSecret";

impl ServiceProvider {
    /// A service provider with only its name set.
    pub fn named(name: &ApplicationName) -> Self {
        Self {
            application_name: Some(name.as_str().to_owned()),
            ..Self::default()
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The authentication type, if set.
    pub fn authentication_type(&self) -> Option<AuthenticationType> {
        self.local_and_out_bound_authentication_config
            .as_ref()
            .and_then(|c| c.authentication_type.as_deref())
            .map(AuthenticationType::parse)
    }

    /// The OAuth2/OIDC inbound configuration, if any.
    pub fn oauth_inbound(&self) -> Option<&InboundAuthenticationRequestConfig> {
        self.inbound_authentication_config
            .as_ref()?
            .inbound_authentication_request_configs
            .iter()
            .find(|c| c.inbound_auth_type.as_deref() == Some(OAUTH2_INBOUND_TYPE))
    }

    /// The authentication configuration, created empty if absent.
    pub fn auth_config_mut(&mut self) -> &mut LocalAndOutboundAuthenticationConfig {
        self.local_and_out_bound_authentication_config
            .get_or_insert_with(Default::default)
    }

    fn checked_name(&self, field: &str) -> Result<ApplicationName> {
        let name = self
            .application_name
            .as_deref()
            .ok_or_else(|| Error::invalid(field, "applicationName is required"))?;
        ApplicationName::new(name).map_err(Error::from)
    }
}

/// Handler for service providers; get one with `IsClient::applications()`.
#[derive(Debug, Clone, Copy)]
pub struct Applications<'c> {
    client: &'c CarbonClient,
}

impl<'c> Applications<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// Creates `sp` and reads it back (the server assigns the id and owner; `createApplication`
    /// returns neither). Creates are never retried after their outcome became unknown.
    ///
    /// Note: IS 5.x stores only the basic fields on create; when `sp` carries inbound,
    /// claim or authentication configuration, follow with [`update`](Self::update) using the id
    /// read back (or use [`create_full`](Self::create_full)).
    pub async fn create(&self, sp: &ServiceProvider) -> Result<ServiceProvider> {
        let name = sp.checked_name("serviceProvider.applicationName")?;
        self.client
            .call(&CreateApplication::new(sp.clone()))
            .await?;
        self.get(&name).await?.ok_or_else(|| Error::NotFound {
            operation: "getApplication",
            what: format!("service provider {name:?} right after it was created"),
        })
    }

    /// Creates `sp` with its whole configuration: create, read the id, update with every field of
    /// `sp`, read back.
    pub async fn create_full(&self, sp: &ServiceProvider) -> Result<ServiceProvider> {
        let created = self.create(sp).await?;
        let mut full = sp.clone();
        full.application_id = created.application_id;
        if full.owner.is_none() {
            full.owner = created.owner.clone();
        }
        if full == created {
            return Ok(created);
        }
        self.update(&full).await?;
        let name = sp.checked_name("serviceProvider.applicationName")?;
        self.get(&name).await?.ok_or_else(|| Error::NotFound {
            operation: "getApplication",
            what: format!("service provider {name:?} right after it was updated"),
        })
    }

    /// The service provider named `name`, or `None` when there is none.
    ///
    /// IS 5.x answers a name that does not exist with the fault `User not authorized` (it checks
    /// the caller's `Application/{name}` role before reading), which also is the answer for an
    /// application the caller may not see. Both read as `None` here: to this caller, the
    /// application is not there.
    pub async fn get(&self, name: &ApplicationName) -> Result<Option<ServiceProvider>> {
        match self.client.call(&GetApplication::new(name)).await {
            Ok(Some(sp)) if sp.application_name.is_some() => Ok(Some(sp)),
            Ok(_) => Ok(None),
            Err(e)
                if e.is_not_found()
                    || e.fault()
                        .is_some_and(|f| f.message.raw().trim() == "User not authorized") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Replaces the service provider with `sp`, which must carry its `applicationID` and name
    /// (read it first: every field not sent is lost).
    pub async fn update(&self, sp: &ServiceProvider) -> Result<()> {
        sp.checked_name("serviceProvider.applicationName")?;
        if sp.application_id.is_none() {
            return Err(Error::invalid(
                "serviceProvider.applicationID",
                "is required for an update; read the service provider first",
            ));
        }
        self.client.call(&UpdateApplication::new(sp.clone())).await
    }

    /// Reads the service provider, applies `change`, and writes back every field that was read.
    /// Returns the value written. Fails with [`Error::NotFound`] when it does not exist.
    pub async fn modify(
        &self,
        name: &ApplicationName,
        change: impl FnOnce(&mut ServiceProvider),
    ) -> Result<ServiceProvider> {
        let mut sp = self.get(name).await?.ok_or_else(|| Error::NotFound {
            operation: "getApplication",
            what: format!("service provider {name:?}"),
        })?;
        change(&mut sp);
        if sp.application_name.as_deref() != Some(name.as_str()) {
            return Err(Error::invalid(
                "serviceProvider.applicationName",
                "must not be changed by `modify`",
            ));
        }
        self.update(&sp).await?;
        Ok(sp)
    }

    /// Deletes the service provider named `name`. On IS 5.x this also deletes the OAuth
    /// application linked by its `oauth2` inbound configuration. A name that does not exist
    /// faults with `User not authorized` (see [`get`](Self::get)).
    pub async fn delete(&self, name: &ApplicationName) -> Result<()> {
        self.client.call(&DeleteApplication::new(name)).await
    }

    /// Id, name and description of every service provider.
    pub async fn list(&self) -> Result<Vec<ApplicationBasicInfo>> {
        self.client.call(&GetAllApplicationBasicInfo::new()).await
    }
}
