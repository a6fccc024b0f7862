//! The builder of a [`Federation`]: settings in, every problem out at once, nothing sent.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use wso2_apim_client::ApimClient;
use wso2_apim_client::portals::{Portal, SwitchOptions};
use wso2_is_client::IsClient;
use wso2_is_client::version::Product;

use super::validate::Validator;
use super::{ClientAuthMode, JitSpec, RoleClaim, Spec, SpecError, default_journal_path};
use crate::Federation;
use crate::engine::Server;

/// Builds a [`Federation`]; see [`Federation::builder`].
#[derive(Clone, Default)]
pub struct FederationBuilder {
    is: Option<IsClient>,
    apim: Option<ApimClient>,
    service_provider: Option<String>,
    identity_provider: Option<String>,
    idp_display_name: Option<String>,
    apim_public_url: Option<String>,
    is_browser_url: Option<String>,
    is_backend_url: Option<String>,
    allow_http_is: bool,
    allow_http_apim: bool,
    adopt: bool,
    journal: Option<PathBuf>,
    grant_types: Option<Vec<String>>,
    requested_claims: Vec<String>,
    role_claim: Option<RoleClaim>,
    is_version: Option<String>,
    apim_version: Option<String>,
    roles: Vec<String>,
    users: Vec<(String, SecretString, Vec<String>)>,
    mappings: Vec<(String, String)>,
    jit: JitSpec,
    portals: Option<Vec<Portal>>,
    switch: SwitchOptions,
    client_auth: ClientAuthMode,
    tenant: Option<String>,
    marker: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    concurrency: Option<usize>,
}

impl fmt::Debug for FederationBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederationBuilder")
            .field("service_provider", &self.service_provider)
            .field("identity_provider", &self.identity_provider)
            .field(
                "users",
                &self.users.iter().map(|u| &u.0).collect::<Vec<_>>(),
            )
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

impl FederationBuilder {
    /// The IS client (admin credentials for IS).
    pub fn is(mut self, client: IsClient) -> Self {
        self.is = Some(client);
        self
    }

    /// The APIM client (admin credentials for APIM).
    pub fn apim(mut self, client: ApimClient) -> Self {
        self.apim = Some(client);
        self
    }

    /// Name of the service provider and OAuth application on IS (default `apim-federation`).
    pub fn service_provider(mut self, name: impl Into<String>) -> Self {
        self.service_provider = Some(name.into());
        self
    }

    /// Name of the identity provider on APIM (default `wso2-is`).
    pub fn identity_provider(mut self, name: impl Into<String>) -> Self {
        self.identity_provider = Some(name.into());
        self
    }

    /// Display name of the identity provider (default: its name).
    pub fn idp_display_name(mut self, name: impl Into<String>) -> Self {
        self.idp_display_name = Some(name.into());
        self
    }

    /// APIM's address as browsers reach it; the callback is its `/commonauth`. Default: the APIM
    /// client's base URL.
    pub fn apim_public_url(mut self, url: impl Into<String>) -> Self {
        self.apim_public_url = Some(url.into());
        self
    }

    /// IS's address as browsers reach it (authorize, logout). Default: the IS client's base URL.
    pub fn is_browser_url(mut self, url: impl Into<String>) -> Self {
        self.is_browser_url = Some(url.into());
        self
    }

    /// IS's address as APIM reaches it (token, userinfo; the id_token issuer). Default: the IS
    /// client's base URL.
    pub fn is_backend_url(mut self, url: impl Into<String>) -> Self {
        self.is_backend_url = Some(url.into());
        self
    }

    /// Allows plain `http://` addresses of `server` (test servers only): IS's browser and
    /// backend addresses, or APIM's public address. The plan warns whenever plain http is used
    /// (APIM would then send the client secret to IS's token endpoint in clear).
    pub fn allow_http(mut self, server: Server, allow: bool) -> Self {
        match server {
            Server::Is => self.allow_http_is = allow,
            Server::Apim => self.allow_http_apim = allow,
        }
        self
    }

    /// Uses existing roles, users and identity providers of someone else's that are as desired
    /// (they are adopted: used as they are, given missing roles, and never deleted). Without
    /// it (the default), an existing object this federation did not make is a conflict.
    pub fn adopt(mut self, adopt: bool) -> Self {
        self.adopt = adopt;
        self
    }

    /// The journal (default: one per pair of servers and marker, see
    /// [`default_journal_path`](super::default_journal_path)).
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// Grant types of the OAuth application (default `authorization_code refresh_token`).
    pub fn grant_types<I, S>(mut self, grants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grant_types = Some(grants.into_iter().map(Into::into).collect());
        self
    }

    /// Another local claim for the service provider to request.
    pub fn request_claim(mut self, claim_uri: impl Into<String>) -> Self {
        self.requested_claims.push(claim_uri.into());
        self
    }

    /// Which claim carries roles (default: what the Identity Server release needs,
    /// [`RoleClaim::Wso2Role`] up to IS 5.11, [`RoleClaim::Groups`] from 6.0).
    pub fn role_claim(mut self, claim: RoleClaim) -> Self {
        self.role_claim = Some(claim);
        self
    }

    /// Pins the Identity Server's release (e.g. `"7.1"`): `plan` and `apply` then send no
    /// version probe, and `doctor` reports a server that says otherwise. Default: detected.
    pub fn is_version(mut self, version: impl Into<String>) -> Self {
        self.is_version = Some(version.into());
        self
    }

    /// Pins the API Manager's release (e.g. `"4.2"`); see [`is_version`](Self::is_version).
    pub fn apim_version(mut self, version: impl Into<String>) -> Self {
        self.apim_version = Some(version.into());
        self
    }

    /// A role to create on IS.
    pub fn role(mut self, name: impl Into<String>) -> Self {
        self.roles.push(name.into());
        self
    }

    /// A user to create on IS, with its roles.
    pub fn user<I, S>(
        mut self,
        name: impl Into<String>,
        password: impl Into<SecretString>,
        roles: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.users.push((
            name.into(),
            password.into(),
            roles.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Maps the role IS emits (`remote`) to an APIM local role (`local`, exact case).
    pub fn map_role(mut self, remote: impl Into<String>, local: impl Into<String>) -> Self {
        self.mappings.push((remote.into(), local.into()));
        self
    }

    /// Just-in-time provisioning (default: provision silently into `PRIMARY`).
    pub fn jit(mut self, jit: JitSpec) -> Self {
        self.jit = jit;
        self
    }

    /// The portals to switch (default: Publisher and Developer Portal).
    pub fn portals<I: IntoIterator<Item = Portal>>(mut self, portals: I) -> Self {
        self.portals = Some(portals.into_iter().collect());
        self
    }

    /// Options of the portal switch.
    pub fn switch_options(mut self, options: SwitchOptions) -> Self {
        self.switch = options;
        self
    }

    /// How APIM authenticates to IS's token endpoint (default Basic header only).
    pub fn client_auth(mut self, mode: ClientAuthMode) -> Self {
        self.client_auth = mode;
        self
    }

    /// Tenant domain (callback `/t/{tenant}/commonauth`).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The ownership marker (default `wso2-federation`): objects created carry
    /// `[managed-by:{marker}:{instance}]` in their description (the instance is drawn once per
    /// journal), and only those are ever deleted.
    pub fn marker(mut self, marker: impl Into<String>) -> Self {
        self.marker = Some(marker.into());
        self
    }

    /// A fixed OAuth client id (default: generated).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// A fixed OAuth client secret (default: generated with a CSPRNG).
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// At most `n` requests in flight per server (default 8; 1 runs everything in sequence).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Checks every setting and builds the federation. Reports every problem at once; sends
    /// nothing.
    pub fn build(self) -> Result<Federation, SpecError> {
        let mut v = Validator::default();
        if self.is.is_none() {
            v.problem("is", "an IS client is required (`.is(IsClient)`)");
        }
        if self.apim.is_none() {
            v.problem("apim", "an APIM client is required (`.apim(ApimClient)`)");
        }
        let names = v.object_names(
            self.service_provider.as_deref(),
            self.identity_provider.as_deref(),
            self.idp_display_name.as_deref(),
        );
        let tenant = v.tenant(self.tenant.as_deref());
        let addresses = v.addresses(
            self.is.as_ref().map(|c| c.core().base_url().to_string()),
            self.apim.as_ref().map(|c| c.core().base_url().to_string()),
            self.is_browser_url.as_deref(),
            self.is_backend_url.as_deref(),
            self.apim_public_url.as_deref(),
            (self.allow_http_is, self.allow_http_apim),
            tenant.as_deref(),
        );
        let grant_types = v.grant_types(self.grant_types.clone());
        v.requested_claims(&self.requested_claims);
        let (roles, users, role_mappings) = v.identities(&self.roles, &self.users, &self.mappings);
        v.jit(&self.jit);
        let portals = v.portals(self.portals.clone());
        let marker = v.marker(self.marker.clone());
        v.client(self.client_id.as_deref(), self.client_secret.as_ref());
        let concurrency = v.concurrency(self.concurrency);
        let is_version = v.version(
            "is.version",
            Product::IdentityServer,
            self.is_version.as_deref(),
        );
        let apim_version = v.version(
            "apim.version",
            Product::ApiManager,
            self.apim_version.as_deref(),
        );

        let (problems, warnings) = v.finish();
        if !problems.is_empty() {
            return Err(SpecError { problems });
        }
        let (
            Some(is),
            Some(apim),
            Some((service_provider, identity_provider, idp_display_name)),
            Some(addresses),
        ) = (self.is, self.apim, names, addresses)
        else {
            unreachable!("every missing value was reported as a problem")
        };
        let journal = self.journal.unwrap_or_else(|| {
            default_journal_path(
                &addresses.is_client,
                &addresses.apim_client,
                tenant.as_deref(),
                &marker,
            )
        });
        let spec = Spec {
            service_provider,
            identity_provider,
            idp_display_name,
            callback_url: addresses.callback,
            is_browser_url: addresses.is_browser,
            is_backend_url: addresses.is_backend,
            grant_types,
            requested_claims: self.requested_claims,
            role_claim: self.role_claim,
            is_version,
            apim_version,
            roles,
            users,
            role_mappings,
            jit: self.jit,
            portals,
            switch: self.switch,
            client_auth: self.client_auth,
            tenant,
            marker,
            client_id: self.client_id,
            client_secret: self.client_secret,
            concurrency,
            adopt: self.adopt,
            journal,
            warnings,
        };
        Ok(Federation::from_parts(spec, is, apim))
    }
}
