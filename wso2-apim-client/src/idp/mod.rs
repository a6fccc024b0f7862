//! Identity providers on APIM: the OIDC identity provider that points at IS, built from IS's
//! endpoints, written only after its mapped local roles were checked, and confirmed by reading
//! it back (APIM has been seen answering `addIdP` with HTTP 500 after storing the identity
//! provider).
//!
//! How the identity provider asks IS for scopes differs per APIM release
//! ([`OidcIdp::release`] with [`OidcIdp::request_scopes`]): the `Scopes` property from APIM 4.3,
//! `commonAuthQueryParams` before, encoded as that release's authenticator needs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_apim_client::Error> {
//! use wso2_apim_client::ApimClient;
//! use wso2_apim_client::idp::{OidcIdp, commonauth_url};
//! use wso2_apim_client::version::{ApimCapabilities, ServerVersion};
//! use wso2_is_client::version::IsCapabilities;
//! use wso2_is_client::{IdpName, RoleName};
//!
//! let apim: ApimClient = ApimClient::builder("https://apim.example.com:9443")
//!     .credentials("admin", "admin")
//!     .build()?;
//! let is = url::Url::parse("https://is.example.com:9444/").unwrap();
//! let is_release = IsCapabilities::of(ServerVersion::is(7, 1));
//! let idp = OidcIdp::new(IdpName::new("wso2-is")?, "client-id", "client-secret")
//!     .release(&ApimCapabilities::of(ServerVersion::apim(4, 2)))
//!     // `scope=openid groups` in commonAuthQueryParams, as APIM 4.2 needs it
//!     .request_scopes(is_release.role_scope.requested_scopes())
//!     .endpoints_of_is(&is, &is)
//!     .callback_url(commonauth_url(apim.core().base_url(), None))
//!     .map_role("publisher_role", RoleName::new("Internal/publisher")?)
//!     .build()?;
//! apim.identity_providers().add_confirmed(&idp).await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;

use secrecy::SecretString;
use url::Url;
use wso2_is_client::carbon::CarbonClient;
use wso2_is_client::idp::{IdentityProviders, OIDC_GROUPS_CLAIM, OidcAuthenticator, oidc_keys};
use wso2_is_client::model::{IdentityProvider, JustInTimeProvisioningConfig};
use wso2_is_client::{Dispatch, IdpName, RoleName, Secret};

use crate::error::{Error, Result};
use crate::roles::LocalRoles;
use crate::version::{ApimCapabilities, KnownDefect};

// The local claim APIM maps roles to.
pub use wso2_is_client::idp::LOCAL_ROLE_CLAIM;

/// APIM's `/commonauth` callback under `apim_base`; the tenant form is `/t/{tenant}/commonauth`.
pub fn commonauth_url(apim_base: &Url, tenant: Option<&str>) -> Url {
    let path = match tenant.filter(|t| *t != "carbon.super") {
        Some(t) => format!(
            "{}/t/{t}/commonauth",
            apim_base.path().trim_end_matches('/')
        ),
        None => format!("{}/commonauth", apim_base.path().trim_end_matches('/')),
    };
    let mut url = apim_base.clone();
    url.set_path(&path);
    url
}

fn endpoint(base: &Url, path: &str) -> String {
    let mut url = base.clone();
    url.set_path(&format!("{}/{path}", base.path().trim_end_matches('/')));
    url.to_string()
}

/// Builds the OIDC identity provider that makes IS the login of APIM.
#[derive(Debug, Clone)]
pub struct OidcIdp {
    name: IdpName,
    display_name: Option<String>,
    description: Option<String>,
    client_id: String,
    client_secret: Secret,
    authorize_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
    logout_url: Option<String>,
    callback_url: Option<String>,
    basic_auth: bool,
    user_id_in_claims: bool,
    jit_user_store: Option<String>,
    role_claim: String,
    query_params: Option<String>,
    scopes: Option<String>,
    release: Option<ApimCapabilities>,
    request_scopes: Option<String>,
    mappings: Vec<(String, RoleName)>,
}

impl OidcIdp {
    /// An identity provider named `name` using the OAuth client `client_id`/`client_secret`
    /// registered on IS. Defaults: credentials sent in the Basic header only
    /// (`IsBasicAuthEnabled=true`: IS's MutualTLS client authenticator then does not engage, so
    /// no "more than one authentication method" refusal), subject from `sub`, provision
    /// silently into `PRIMARY` (without a provisioning user store the login fails after
    /// authentication), roles from the `groups` claim mapped to
    /// `http://wso2.org/claims/role` with role claim URI `groups`.
    pub fn new(
        name: IdpName,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Self {
        Self {
            name,
            display_name: None,
            description: None,
            client_id: client_id.into(),
            client_secret: Secret::from(client_secret.into()),
            authorize_url: None,
            token_url: None,
            userinfo_url: None,
            logout_url: None,
            callback_url: None,
            basic_auth: true,
            user_id_in_claims: false,
            jit_user_store: Some("PRIMARY".to_owned()),
            role_claim: OIDC_GROUPS_CLAIM.to_owned(),
            query_params: None,
            scopes: None,
            release: None,
            request_scopes: None,
            mappings: Vec::new(),
        }
    }

    /// IS's endpoints: authorize and logout on the address browsers use, token and userinfo on
    /// the address APIM uses server to server (the id_token issuer).
    pub fn endpoints_of_is(mut self, browser: &Url, backend: &Url) -> Self {
        self.authorize_url = Some(endpoint(browser, "oauth2/authorize"));
        self.logout_url = Some(endpoint(browser, "oidc/logout"));
        self.token_url = Some(endpoint(backend, "oauth2/token"));
        self.userinfo_url = Some(endpoint(backend, "oauth2/userinfo"));
        self
    }

    /// The authorize endpoint (browser-facing).
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The token endpoint (server to server).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The userinfo endpoint (server to server). Set by
    /// [`endpoints_of_is`](Self::endpoints_of_is); required on releases with
    /// [`KnownDefect::RolesAsOneString`] (userinfo claims override the id_token's mis-rendered
    /// roles there).
    pub fn userinfo_url(mut self, url: impl Into<String>) -> Self {
        self.userinfo_url = Some(url.into());
        self
    }

    /// The logout endpoint (browser-facing); stored, read by authenticator 5.3.5 and later.
    pub fn logout_url(mut self, url: impl Into<String>) -> Self {
        self.logout_url = Some(url.into());
        self
    }

    /// APIM's callback, see [`commonauth_url`].
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Description (where ownership markers go).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Credentials in the Basic header only (`true`, the default: avoids IS's "more than one
    /// authentication method" error) or in the request body (`false`).
    pub fn basic_auth(mut self, on: bool) -> Self {
        self.basic_auth = on;
        self
    }

    /// Take the user id from the claims rather than `sub`.
    pub fn user_id_in_claims(mut self, on: bool) -> Self {
        self.user_id_in_claims = on;
        self
    }

    /// Provision federated users silently into `user_store` (`Some("PRIMARY")` by default), or
    /// not at all (`None`).
    pub fn jit(mut self, user_store: Option<String>) -> Self {
        self.jit_user_store = user_store;
        self
    }

    /// The id_token claim that carries roles (default `groups`, what IS emits).
    pub fn role_claim(mut self, claim: impl Into<String>) -> Self {
        self.role_claim = claim.into();
        self
    }

    /// Extra query parameters of the authorize request (`commonAuthQueryParams`), stored as
    /// given, e.g. `prompt=login`. For the scopes, prefer [`request_scopes`](Self::request_scopes),
    /// which encodes them as the release needs.
    pub fn query_params(mut self, params: impl Into<String>) -> Self {
        self.query_params = Some(params.into());
        self
    }

    /// The `Scopes` property as given (read by outbound OIDC 5.11.1 and later: APIM 4.3+).
    /// Prefer [`request_scopes`](Self::request_scopes).
    pub fn scopes(mut self, scopes: impl Into<String>) -> Self {
        self.scopes = Some(scopes.into());
        self
    }

    /// The APIM release the identity provider is for: decides how
    /// [`request_scopes`](Self::request_scopes) is written
    /// ([`ApimCapabilities::scope_property`]), and refuses settings a known defect of the
    /// release breaks ([`ApimCapabilities::known_defects`]).
    pub fn release(mut self, caps: &ApimCapabilities) -> Self {
        self.release = Some(*caps);
        self
    }

    /// The scopes APIM requests from IS, space-separated: what the IS release needs for the
    /// role claim (`IsCapabilities::role_scope.requested_scopes()`: `openid` up to IS 6.0,
    /// `openid groups` from 6.1). Written as the release says (needs
    /// [`release`](Self::release)): `Scopes = openid groups` on APIM 4.3+,
    /// `commonAuthQueryParams = scope=openid groups` on 4.0-4.2 and `scope=openid%20groups` on
    /// 3.0-3.2, joined to [`query_params`](Self::query_params) with `&`.
    pub fn request_scopes(mut self, scopes: impl Into<String>) -> Self {
        self.request_scopes = Some(scopes.into());
        self
    }

    /// Maps the role IS emits (`remote`) to the APIM local role `local`.
    pub fn map_role(mut self, remote: impl Into<String>, local: RoleName) -> Self {
        self.mappings.push((remote.into(), local));
        self
    }

    /// Checks the settings and builds the identity provider. Nothing is sent.
    pub fn build(self) -> Result<IdentityProvider> {
        let need = |field: &str, v: &Option<String>| -> Result<String> {
            let v = v
                .clone()
                .ok_or_else(|| Error::invalid(field, "is required"))?;
            let u = Url::parse(&v)
                .map_err(|e| Error::invalid(field, format!("{v:?} is not an absolute URL: {e}")))?;
            if !matches!(u.scheme(), "https" | "http") {
                return Err(Error::invalid(
                    field,
                    format!("{v:?} is not an http(s) URL"),
                ));
            }
            Ok(v)
        };
        let authorize = need("authorize_url", &self.authorize_url)?;
        let token = need("token_url", &self.token_url)?;
        let callback = need("callback_url", &self.callback_url)?;
        if self.client_id.trim().is_empty() {
            return Err(Error::invalid("client_id", "must not be empty"));
        }
        if self.client_secret.expose().is_none_or(str::is_empty) {
            return Err(Error::invalid("client_secret", "must not be empty"));
        }
        let mut remotes = BTreeSet::new();
        for (remote, _) in &self.mappings {
            if remote.trim().is_empty() {
                return Err(Error::invalid("role_mappings", "a remote role is empty"));
            }
            if !remotes.insert(remote.as_str()) {
                return Err(Error::invalid(
                    "role_mappings",
                    format!("remote role {remote:?} is mapped twice"),
                ));
            }
        }

        if let Some(caps) = &self.release {
            for defect in caps.known_defects {
                match defect {
                    KnownDefect::RolesAsOneString if self.userinfo_url.is_none() => {
                        return Err(Error::invalid(
                            "userinfo_url",
                            format!("is required on {}: {}", caps.version, defect.describe()),
                        ));
                    }
                    KnownDefect::RolesAsOneString => {}
                }
            }
        }
        if let Some(u) = &self.userinfo_url {
            need("userinfo_url", &Some(u.clone()))?;
        }
        let (query_params, scopes) = self.scope_settings()?;

        let mut oidc = OidcAuthenticator::new()
            .with_client_id(&self.client_id)
            .with_client_secret(self.client_secret.clone())
            .with_authorize_url(authorize)
            .with_token_url(token)
            .with_callback_url(callback)
            .with_basic_auth(self.basic_auth)
            .with_user_id_in_claims(self.user_id_in_claims);
        if let Some(u) = &self.userinfo_url {
            oidc = oidc.with_user_info_url(u);
        }
        if let Some(u) = &self.logout_url {
            oidc = oidc.with_logout_url(u);
        }
        if let Some(q) = query_params {
            oidc = oidc.with_common_auth_query_params(q);
        }
        if let Some(s) = scopes {
            oidc = oidc.with_scopes(s);
        }
        let mut idp = IdentityProvider::named(&self.name);
        idp.display_name = Some(
            self.display_name
                .clone()
                .unwrap_or_else(|| self.name.to_string()),
        );
        idp.identity_provider_description = self.description.clone();
        idp.set_oidc_authenticator(oidc, true);
        idp.set_role_claim_uri(&self.role_claim);
        idp.map_claim(&self.role_claim, LOCAL_ROLE_CLAIM);
        if let Some(store) = &self.jit_user_store {
            idp.just_in_time_provisioning_config = Some(
                JustInTimeProvisioningConfig::provision_silently(store.clone()),
            );
        } else {
            let mut off = JustInTimeProvisioningConfig::default();
            off.provisioning_enabled = Some(false);
            idp.just_in_time_provisioning_config = Some(off);
        }
        idp.set_role_mappings(self.mappings.iter().map(|(r, l)| (r.clone(), l.clone())));
        Ok(idp)
    }
}

impl OidcIdp {
    /// `commonAuthQueryParams` and `Scopes` as they will be written: the ones given, with the
    /// [`request_scopes`](Self::request_scopes) put where the release reads them.
    fn scope_settings(&self) -> Result<(Option<String>, Option<String>)> {
        let mut query = self.query_params.clone().filter(|q| !q.trim().is_empty());
        let mut scopes = self.scopes.clone().filter(|s| !s.trim().is_empty());
        let Some(wanted) = &self.request_scopes else {
            return Ok((query, scopes));
        };
        let caps = self.release.ok_or_else(|| {
            Error::invalid(
                "request_scopes",
                "needs the APIM release (OidcIdp::release): the scopes go into Scopes on APIM \
                 4.3 and later and into commonAuthQueryParams before, encoded differently",
            )
        })?;
        let tokens: Vec<&str> = wanted.split_whitespace().collect();
        if tokens.is_empty() {
            return Err(Error::invalid("request_scopes", "is empty"));
        }
        // RFC 6749 scope tokens, less what would break the query string the authenticator
        // builds (`&`, `=`, `%`, `+`, `#`).
        if let Some(bad) = tokens.iter().find(|t| {
            !t.bytes().all(|b| {
                b.is_ascii_graphic()
                    && !matches!(b, b'"' | b'\\' | b'&' | b'=' | b'%' | b'+' | b'#')
            })
        }) {
            return Err(Error::invalid(
                "request_scopes",
                format!("{bad:?} is not a scope token"),
            ));
        }
        let property = caps.scope_property(&tokens.join(" "));
        if property.key == oidc_keys::SCOPES {
            if scopes.is_some() {
                return Err(Error::invalid(
                    "request_scopes",
                    "the Scopes property is also given (scopes); give one of them",
                ));
            }
            scopes = Some(property.value);
        } else {
            let given_scope = query.as_deref().is_some_and(|q| {
                q.split('&')
                    .any(|p| p.split('=').next().is_some_and(|k| k.trim() == "scope"))
            });
            if given_scope {
                return Err(Error::invalid(
                    "request_scopes",
                    "query_params also has a scope parameter; give one of them",
                ));
            }
            query = Some(match query {
                Some(q) => format!("{}&{}", q.trim_end_matches('&'), property.value),
                None => property.value,
            });
        }
        Ok((query, scopes))
    }
}

/// What differs between the identity provider sent and the one read back, if anything that
/// matters: enablement, every OIDC authenticator property sent (the scope property included),
/// the client secret, role mappings, the role claim URI, the claim mappings sent (`groups` ->
/// `http://wso2.org/claims/role`) and just-in-time provisioning (enabled, user store).
pub fn difference(sent: &IdentityProvider, read: &IdentityProvider) -> Option<String> {
    if read.enable != Some(true) && sent.enable == Some(true) {
        return Some("it is disabled".into());
    }
    match (sent.oidc_authenticator(), read.oidc_authenticator()) {
        (Some(s), Some(r)) => {
            for p in s.config().properties.iter() {
                let key = p.name.as_deref().unwrap_or("");
                if r.property(key) != p.value_str() && !p.is_secret() {
                    return Some(format!("the OIDC property {key} differs"));
                }
            }
            if s.client_secret().and_then(Secret::expose)
                != r.client_secret().and_then(Secret::expose)
            {
                return Some("the client secret differs".into());
            }
        }
        (Some(_), None) => return Some("it has no OIDC authenticator".into()),
        _ => {}
    }
    let sent_maps: BTreeSet<_> = sent.role_mappings().into_iter().collect();
    let read_maps: BTreeSet<_> = read.role_mappings().into_iter().collect();
    if sent_maps != read_maps {
        let dropped: Vec<String> = sent_maps
            .difference(&read_maps)
            .map(|(r, l)| format!("{r} -> {l}"))
            .collect();
        return Some(format!(
            "role mappings dropped by the server: {}",
            dropped.join(", ")
        ));
    }
    if sent.role_claim_uri() != read.role_claim_uri() {
        return Some("the role claim URI differs".into());
    }
    let claim_pairs = |idp: &IdentityProvider| -> BTreeSet<(Option<String>, Option<String>)> {
        idp.claim_config
            .iter()
            .flat_map(|c| c.claim_mappings.iter())
            .map(|m| {
                let uri = |c: &Option<wso2_is_client::model::Claim>| {
                    c.as_ref().and_then(|c| c.claim_uri.clone())
                };
                (uri(&m.remote_claim), uri(&m.local_claim))
            })
            .collect()
    };
    let read_claims = claim_pairs(read);
    if let Some((remote, local)) = claim_pairs(sent)
        .into_iter()
        .find(|pair| !read_claims.contains(pair))
    {
        return Some(format!(
            "the claim mapping {} -> {} is missing",
            remote.unwrap_or_default(),
            local.unwrap_or_default()
        ));
    }
    if let Some(jit) = &sent.just_in_time_provisioning_config {
        let read_jit = read.just_in_time_provisioning_config.as_ref();
        let enabled = |j: Option<&JustInTimeProvisioningConfig>| {
            j.and_then(|j| j.provisioning_enabled).unwrap_or(false)
        };
        if enabled(Some(jit)) != enabled(read_jit) {
            return Some("just-in-time provisioning differs".into());
        }
        if enabled(Some(jit))
            && jit.provisioning_user_store.as_deref()
                != read_jit.and_then(|j| j.provisioning_user_store.as_deref())
        {
            return Some("the provisioning user store differs".into());
        }
    }
    None
}

/// Handler for APIM's identity providers; get one with `ApimClient::identity_providers()`.
#[derive(Debug, Clone, Copy)]
pub struct ApimIdentityProviders<'c> {
    client: &'c CarbonClient,
    check_roles: bool,
}

impl<'c> ApimIdentityProviders<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self {
            client,
            check_roles: true,
        }
    }

    /// Leaves out the check of the mapped local roles before writing, for a caller that has just
    /// made it (e.g. while planning). The read-back still reports mappings the server dropped
    /// ([`Error::IdpMismatch`]).
    pub fn roles_already_checked(mut self) -> Self {
        self.check_roles = false;
        self
    }

    fn inner(&self) -> IdentityProviders<'c> {
        IdentityProviders::new(self.client)
    }

    /// The identity provider named `name`, if any.
    pub async fn get(&self, name: &IdpName) -> Result<Option<IdentityProvider>> {
        Ok(self.inner().get(name).await?)
    }

    /// Deletes the identity provider (silent when absent; refused while a service provider
    /// uses it).
    pub async fn delete(&self, name: &IdpName) -> Result<()> {
        Ok(self.inner().delete(name).await?)
    }

    /// Adds `idp` after checking that every mapped local role exists exactly (a missing one is
    /// [`Error::MissingLocalRoles`] and nothing is written), then reads it back. An `addIdP`
    /// failure whose outcome may still be a success (a 500 after storing, a timeout) is judged
    /// by the read: an identity provider as sent counts as added.
    pub async fn add_confirmed(&self, idp: &IdentityProvider) -> Result<IdentityProvider> {
        let name = self.checked(idp).await?;
        let added = match self.inner().add(idp).await {
            Err(e)
                if e.dispatch() == Dispatch::NotSent
                    || e.is_already_exists()
                    || e.is_auth_failure() =>
            {
                return Err(e.into());
            }
            Err(e) => {
                tracing::info!(%name, error = %e, "addIdP failed; reading back to see whether it was stored");
                Err(e)
            }
            Ok(()) => Ok(()),
        };
        let read = self.inner().get(&name).await?;
        match (added, read) {
            (_, Some(read)) => match difference(idp, &read) {
                None => Ok(read),
                Some(d) => Err(Error::IdpMismatch {
                    name: name.to_string(),
                    difference: d,
                }),
            },
            (Ok(()), None) => Err(Error::IdpNotCreated {
                name: name.to_string(),
                add_error: None,
            }),
            (Err(e), None) => Err(Error::IdpNotCreated {
                name: name.to_string(),
                add_error: Some(Box::new(e)),
            }),
        }
    }

    /// Replaces the identity provider `old_name` with `idp` after the same role check, then
    /// reads it back and checks it.
    pub async fn update_confirmed(
        &self,
        old_name: &IdpName,
        idp: &IdentityProvider,
    ) -> Result<IdentityProvider> {
        let name = self.checked(idp).await?;
        self.inner().update(old_name, idp).await?;
        let read = self
            .inner()
            .get(&name)
            .await?
            .ok_or_else(|| Error::IdpNotCreated {
                name: name.to_string(),
                add_error: None,
            })?;
        match difference(idp, &read) {
            None => Ok(read),
            Some(d) => Err(Error::IdpMismatch {
                name: name.to_string(),
                difference: d,
            }),
        }
    }

    async fn checked(&self, idp: &IdentityProvider) -> Result<IdpName> {
        let name = idp.identity_provider_name.as_deref().ok_or_else(|| {
            Error::invalid("identityProvider.identityProviderName", "is required")
        })?;
        let name = IdpName::new(name)?;
        if self.check_roles {
            LocalRoles::new(self.client)
                .require(&idp.mapped_local_roles())
                .await?;
        }
        Ok(name)
    }
}
