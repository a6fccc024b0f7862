//! The preflight doctor (reads only) and the post-apply verification.

use std::fmt;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use wso2_apim_client::portals::is_switched;
use wso2_is_client::carbon::{RestAuth, RestRequest, SecretBody};
use wso2_is_client::oidc::{ClientAuthMethod, ClientAuthProbe, ProbeOutcome};
use wso2_is_client::{OAuthAppName, RoleName};

use crate::error::FederationError;
use crate::{ClientAuthMode, Federation};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Fine.
    Pass,
    /// Works, but worth knowing.
    Warn,
    /// Broken: the federation will not (or does not) work.
    Fail,
    /// Not run.
    Skipped,
}

/// One check, with what to do when it is not a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked.
    pub check: String,
    /// How it came out.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl Finding {
    fn pass(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
        }
    }
    fn warn(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
    fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The findings of `doctor` or `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The findings, in the order checked.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether no check failed.
    pub fn is_ok(&self) -> bool {
        self.findings.iter().all(|f| f.status != Status::Fail)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for x in &self.findings {
            let sign = match x.status {
                Status::Pass => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
                Status::Skipped => "skip",
            };
            writeln!(f, "  [{sign}] {}: {}", x.check, x.detail)?;
            if let Some(fix) = &x.fix {
                writeln!(f, "         fix: {fix}")?;
            }
        }
        let failed = self
            .findings
            .iter()
            .filter(|x| x.status == Status::Fail)
            .count();
        write!(f, "{} checks, {} failed", self.findings.len(), failed)
    }
}

/// Options of [`Federation::verify`].
#[derive(Clone, Default)]
pub struct VerifyOptions {
    /// A user to log in with (password grant, which the OAuth application must allow) to check
    /// that the id_token carries a mapped role.
    pub test_login: Option<(String, SecretString)>,
    /// When IS refuses the client authentication as "more than one method", switch APIM's
    /// identity provider to send the credentials in the Basic header only (a change made outside
    /// the journal, reported in the findings).
    pub fix_client_auth: bool,
}

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("test_login", &self.test_login.as_ref().map(|(u, _)| u))
            .field("fix_client_auth", &self.fix_client_auth)
            .finish()
    }
}

const MTLS_FIX: &str = "send the client credentials in the Basic header only (identity provider property \
IsBasicAuthEnabled=true; `verify --fix-client-auth` or `client_auth = \"basic_header\"`), or turn IS's MutualTLS \
client authenticator off in deployment.toml: [event.default_listener.mutual_tls_authenticator] enable = false";

fn describe(e: &FederationError) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(c) = source {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        source = c.source();
    }
    s
}

fn connection_fix(e: &FederationError) -> String {
    let text = describe(e);
    if text.contains("TLS") {
        "trust the server's CA: give its PEM (ca_pem), or fix the certificate as the message says"
            .into()
    } else if text.contains("could not connect") {
        "check the URL, the port (offset IS runs on 9444) and that the server is up".into()
    } else if text.contains("Authentication failed")
        || text.contains("HTTP 401")
        || text.contains("refused")
    {
        "check the admin user name and password (tenant admins as admin@tenant.com)".into()
    } else {
        "see the message".into()
    }
}

impl Federation {
    /// Preflight checks, reads only: both servers answer over TLS with the given trust and
    /// credentials, the mapped local roles exist exactly, the portals' service providers exist
    /// (or will be brought into being), IS's discovery matches the configured endpoints, and a
    /// plan can be made (no name conflicts).
    pub async fn doctor(&self) -> Report {
        let mut findings = Vec::new();
        let everyone =
            RoleName::new("Internal/everyone").unwrap_or_else(|_| unreachable!("valid role name"));
        let versions = self.version_findings(&mut findings).await;
        let rest = versions
            .as_ref()
            .is_some_and(|v| v.is.management == wso2_is_client::version::ManagementApi::Rest);
        let apim = versions
            .as_ref()
            .map_or_else(|| self.apim.clone(), |v| self.apim_for(v));
        let is_answer = if rest {
            wso2_is_client::rest::RestApplications::new(self.is.core())
                .list(0, 1)
                .await
                .map(|_| ())
        } else {
            self.is.users().role_exists(&everyone).await.map(|_| ())
        };
        match is_answer {
            Ok(_) => findings.push(Finding::pass(
                "IS connection",
                format!(
                    "{} answers, admin credentials accepted",
                    self.is.core().endpoint()
                ),
            )),
            Err(e) => {
                let e = FederationError::from(e);
                findings.push(Finding::fail(
                    "IS connection",
                    describe(&e),
                    connection_fix(&e),
                ));
            }
        }
        let apim_ok = match self.apim.users().role_exists(&everyone).await {
            Ok(_) => {
                findings.push(Finding::pass(
                    "APIM connection",
                    format!(
                        "{} answers, admin credentials accepted",
                        self.apim.core().endpoint()
                    ),
                ));
                true
            }
            Err(e) => {
                let e = FederationError::from(e);
                findings.push(Finding::fail(
                    "APIM connection",
                    describe(&e),
                    connection_fix(&e),
                ));
                false
            }
        };
        if apim_ok {
            match self.apim.roles().require(&self.spec.mapped_local_roles()).await {
                Ok(()) => findings.push(Finding::pass("mapped local roles", "every mapped role exists on APIM, exactly")),
                Err(e) => findings.push(Finding::fail(
                    "mapped local roles",
                    e.to_string(),
                    "map to roles that exist (names are case-sensitive), or create them on APIM first",
                )),
            }
            for &portal in &self.spec.portals {
                let check = format!("{portal} portal");
                match apim.portals().get(portal).await {
                    Ok(Some(sp)) if is_switched(&sp, &self.spec.identity_provider, &self.spec.switch) => {
                        findings.push(Finding::pass(check, "already switched to this federation's identity provider"))
                    }
                    Ok(Some(sp)) => findings.push(Finding::pass(
                        check,
                        format!("service provider {} present", sp.application_name.unwrap_or_default()),
                    )),
                    Ok(None) => findings.push(Finding::warn(
                        check,
                        "its service provider does not exist yet (the portal was never logged into)",
                        "nothing to do: apply calls the portal's login endpoint to bring it into being (APIM 3.0 has no admin portal service provider)",
                    )),
                    Err(e) => findings.push(Finding::fail(check, e.to_string(), "see the message")),
                }
            }
        }
        match self.is.oidc().discovery(self.spec.discovery_url().as_str()).await {
            Ok(meta) => {
                let mut problems = Vec::new();
                if meta.authorization_endpoint.path() != self.spec.authorize_url().path() {
                    problems.push(format!("authorization endpoint is {}", meta.authorization_endpoint));
                }
                if meta.token_endpoint.as_ref().map(|u| u.path()) != Some(self.spec.token_url().path()) {
                    problems.push(format!("token endpoint is {:?}", meta.token_endpoint.as_ref().map(|u| u.as_str())));
                }
                let method = match self.spec.client_auth {
                    ClientAuthMode::BasicHeader => ClientAuthMethod::Basic,
                    ClientAuthMode::RequestBody => ClientAuthMethod::Post,
                };
                if !meta.supports_client_auth(method) {
                    problems.push(format!("client authentication {method:?} is not advertised"));
                }
                if problems.is_empty() {
                    findings.push(Finding::pass("IS discovery", format!("issuer {}; endpoints as configured", meta.issuer)));
                } else {
                    findings.push(Finding::warn(
                        "IS discovery",
                        problems.join("; "),
                        "check is_browser_url / is_backend_url against the IS hostname and port",
                    ));
                }
            }
            Err(e) => findings.push(Finding::warn(
                "IS discovery",
                e.to_string(),
                "check is_backend_url (the discovery document is at /oauth2/token/.well-known/openid-configuration)",
            )),
        }
        match self.make_plan(None, None, false).await {
            Ok(planned) => {
                let n = planned.plan.counts();
                findings.push(Finding::pass(
                    "plan",
                    format!(
                        "{} to create, {} to update, {} to adopt, {} unchanged",
                        n.create, n.update, n.adopt, n.unchanged
                    ),
                ));
            }
            Err(e) => findings.push(Finding::fail("plan", describe(&e), "see the message")),
        }
        Report { findings }
    }

    /// The releases: what each server says it runs, against what the settings pin; and the
    /// known defects of the pair. The releases to check the rest with, when they are known.
    async fn version_findings(
        &self,
        findings: &mut Vec<Finding>,
    ) -> Option<crate::versions::Versions> {
        let (is, apim) = self.detect_versions().await;
        for (server, detection, pinned, key) in [
            ("IS release", &is, self.spec.is_version, "is.version"),
            (
                "APIM release",
                &apim,
                self.spec.apim_version,
                "apim.version",
            ),
        ] {
            let told = detection.version;
            match (told, pinned) {
                (Some(d), Some(p)) if detection.exact && !d.same_release(p) => {
                    findings.push(Finding::fail(
                        server,
                        format!("the settings pin {p}, the server says {detection}"),
                        format!(
                            "set `{key}` to \"{}.{}\" (or remove it to detect)",
                            d.major(),
                            d.minor()
                        ),
                    ))
                }
                (Some(d), Some(p))
                    if !detection.exact
                        && (p < d
                            || detection.up_to.is_some_and(|u| p > u && !p.same_release(u))) =>
                {
                    findings.push(Finding::fail(
                        server,
                        format!("the settings pin {p}, the server's APIs say {detection}"),
                        format!("check `{key}`"),
                    ))
                }
                (_, Some(p)) => findings.push(Finding::pass(
                    server,
                    format!("{p}, pinned by the settings (the server says {detection})"),
                )),
                (Some(d), None) if !d.is_supported() => findings.push(Finding::fail(
                    server,
                    format!("{detection} is not supported"),
                    "supported: IS 5.9-7.3 with APIM 3.0-4.7",
                )),
                (Some(_), None) => findings.push(Finding::pass(server, detection.to_string())),
                (None, None) => findings.push(Finding::fail(
                    server,
                    format!("could not be told: {detection}"),
                    format!("check the connection and credentials, or pin `{key}`"),
                )),
            }
        }
        let versions = match self.versions().await {
            Ok(v) => v,
            Err(e) => {
                findings.push(Finding::fail("releases", describe(&e), "see the message"));
                return None;
            }
        };
        for defect in versions.apim.known_defects {
            findings.push(Finding::warn(
                "known defect",
                format!("{}: {}", versions.apim.version, defect.describe()),
                "nothing to do: the identity provider this tool writes keeps UserInfoUrl set",
            ));
        }
        if versions.is.soap_admin_services
            == wso2_is_client::version::SoapAdminServices::OffByDefault
        {
            findings.push(Finding::pass(
                "IS admin services",
                format!("{} turns its SOAP admin services off by default: this tool uses its REST and SCIM2 APIs only", versions.is.version),
            ));
        }
        Some(versions)
    }

    /// After an apply: the client authentication APIM will use is accepted by IS's token
    /// endpoint (on the MutualTLS conflict the two fixes are reported, and with
    /// `fix_client_auth` the first is applied), IS's authorize endpoint accepts APIM's callback,
    /// and optionally a test user logs in and its id_token carries a mapped role.
    pub async fn verify(&self, options: &VerifyOptions) -> Result<Report, FederationError> {
        let mut findings = Vec::new();
        let versions = self.versions().await?;
        let Some((client_id, secret, grants)) = self.client_of_is(&versions).await? else {
            findings.push(Finding::fail(
                "OAuth client",
                format!(
                    "no application {} with an OAuth client on IS",
                    self.spec.service_provider
                ),
                "run apply",
            ));
            return Ok(Report { findings });
        };
        let token_url = self.spec.token_url().to_string();
        let callback = self.spec.callback_url.to_string();

        let method = match self.spec.client_auth {
            ClientAuthMode::BasicHeader => ClientAuthMethod::Basic,
            ClientAuthMode::RequestBody => ClientAuthMethod::Post,
        };
        let outcome = ClientAuthProbe::new(&token_url, &client_id, secret.clone(), method)
            .redirect_uri(&callback)
            .send(&self.is)
            .await?;
        match outcome {
            ProbeOutcome::CredentialsAccepted { .. } => {
                findings.push(Finding::pass("client authentication", format!("IS accepts the client as APIM sends it ({method:?})")))
            }
            ProbeOutcome::MultipleAuthMethods { description, .. } => {
                let detail = format!("IS refuses: {}", description.unwrap_or_default());
                if options.fix_client_auth && method == ClientAuthMethod::Post {
                    self.apim
                        .identity_providers()
                        .update_confirmed(&self.spec.identity_provider, &{
                            let mut idp = self
                                .apim
                                .identity_providers()
                                .get(&self.spec.identity_provider)
                                .await?
                                .ok_or_else(|| FederationError::Internal("the identity provider disappeared".into()))?;
                            if let Some(oidc) = idp.oidc_authenticator() {
                                idp.set_oidc_authenticator(oidc.with_basic_auth(true), true);
                            }
                            idp
                        })
                        .await?;
                    let again = ClientAuthProbe::new(&token_url, &client_id, secret.clone(), ClientAuthMethod::Basic)
                        .redirect_uri(&callback)
                        .send(&self.is)
                        .await?;
                    if again.is_accepted() {
                        findings.push(Finding::warn(
                            "client authentication",
                            format!("{detail}; fixed: the identity provider now sends the Basic header only (IsBasicAuthEnabled=true)"),
                            "set client_auth = \"basic_header\" in the settings so the next apply keeps it",
                        ));
                    } else {
                        findings.push(Finding::fail("client authentication", format!("{detail}; Basic header only: {again:?}"), MTLS_FIX));
                    }
                } else {
                    findings.push(Finding::fail("client authentication", detail, MTLS_FIX));
                }
            }
            ProbeOutcome::InvalidClient { description, .. } => findings.push(Finding::fail(
                "client authentication",
                format!("IS does not accept the client: {}", description.unwrap_or_default()),
                "the OAuth application and APIM's identity provider disagree on the client id or secret: run apply again",
            )),
            other => findings.push(Finding::fail("client authentication", format!("unexpected answer: {other:?}"), "see IS's logs")),
        }

        findings.push(
            self.check_authorize(&versions, &client_id, &callback)
                .await?,
        );

        let password_grant = grants.iter().any(|g| g == "password");
        match &options.test_login {
            None => findings.push(Finding {
                check: "test login".into(),
                status: Status::Skipped,
                detail: "no test user given".into(),
                fix: None,
            }),
            Some((user, _)) if !password_grant => findings.push(Finding {
                check: format!("test login as {user}"),
                status: Status::Skipped,
                detail: "the application does not allow the password grant (the settings' grant types), so no login without a browser is possible".into(),
                fix: None,
            }),
            Some((user, password)) => findings.push(
                self.check_login(&versions, &token_url, &client_id, &secret, user, password)
                    .await?,
            ),
        }
        Ok(Report { findings })
    }

    /// The OAuth client of the application on IS: its id, secret and grant types, through the
    /// API of the release (`None` when there is no such application).
    async fn client_of_is(
        &self,
        versions: &crate::versions::Versions,
    ) -> Result<Option<(String, SecretString, Vec<String>)>, FederationError> {
        if versions.is.management == wso2_is_client::version::ManagementApi::Rest {
            let live =
                crate::steps::rest_application::read(&self.is, &self.spec.service_provider).await?;
            return Ok(live.app.map(|app| {
                let grants = app
                    .oidc
                    .grant_types
                    .iter()
                    .map(|g| g.as_str().to_owned())
                    .collect();
                (
                    app.oidc.client_id.clone().unwrap_or_default(),
                    app.oidc
                        .client_secret()
                        .cloned()
                        .unwrap_or_else(|| SecretString::from(String::new())),
                    grants,
                )
            }));
        }
        let name = OAuthAppName::new(self.spec.service_provider.as_str())?;
        let Some(app) = self.is.oauth_apps().get_by_name(&name).await? else {
            return Ok(None);
        };
        let secret = SecretString::from(
            app.oauth_consumer_secret
                .as_ref()
                .and_then(|s| s.expose())
                .unwrap_or_default()
                .to_owned(),
        );
        let grants = app
            .grant_type_list()
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect();
        Ok(Some((
            app.oauth_consumer_key.clone().unwrap_or_default(),
            secret,
            grants,
        )))
    }

    async fn check_authorize(
        &self,
        versions: &crate::versions::Versions,
        client_id: &str,
        callback: &str,
    ) -> Result<Finding, FederationError> {
        let mut url = self.spec.authorize_url();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", callback)
            .append_pair("scope", versions.is.role_scope.requested_scopes())
            .append_pair("state", "wso2-federation-verify");
        let answer = self
            .is
            .core()
            .rest(&RestRequest {
                operation: "authorize",
                method: http::Method::GET,
                path: url.to_string(),
                auth: RestAuth::None,
                content_type: None,
                accept: None,
                body: None,
                read_only: true,
            })
            .await?;
        let location = answer.header("location").unwrap_or_default().to_owned();
        Ok(if location.contains("oauthErrorCode=invalid_callback") {
            Finding::fail(
                "callback",
                format!("IS refuses APIM's callback {callback}"),
                "the OAuth application's callback must be APIM's /commonauth exactly (or a regexp= that matches it): run apply",
            )
        } else if location.contains("oauthErrorCode=") {
            Finding::fail(
                "callback",
                format!("IS's authorize endpoint answered with an error: {location}"),
                "see IS's logs",
            )
        } else if (300..400).contains(&answer.status) && !location.is_empty() {
            Finding::pass(
                "callback",
                "IS's authorize endpoint accepts APIM's callback (redirects to its login page)",
            )
        } else {
            Finding::warn(
                "callback",
                format!(
                    "IS's authorize endpoint answered HTTP {} without a redirect",
                    answer.status
                ),
                "check is_browser_url",
            )
        })
    }

    async fn check_login(
        &self,
        versions: &crate::versions::Versions,
        token_url: &str,
        client_id: &str,
        secret: &SecretString,
        user: &str,
        password: &SecretString,
    ) -> Result<Finding, FederationError> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "password")
            .append_pair("username", user)
            .append_pair("password", password.expose_secret())
            .append_pair("scope", versions.is.role_scope.requested_scopes());
        let answer = self
            .is
            .core()
            .rest(&RestRequest {
                operation: "test login",
                method: http::Method::POST,
                path: token_url.to_owned(),
                auth: RestAuth::Basic {
                    user: client_id.to_owned(),
                    password: secret.clone(),
                },
                content_type: Some("application/x-www-form-urlencoded"),
                accept: Some("application/json"),
                body: Some(SecretBody(form.finish().into_bytes())),
                read_only: false,
            })
            .await?;
        let check = format!("test login as {user}");
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        if answer.status != 200 {
            return Ok(Finding::fail(
                check,
                format!(
                    "the token endpoint answered HTTP {} {}",
                    answer.status,
                    json["error"].as_str().unwrap_or("")
                ),
                "the password grant must be allowed on the OAuth application (grant_types), and the password right",
            ));
        }
        let Some(id_token) = json["id_token"].as_str() else {
            return Ok(Finding::fail(
                check,
                "no id_token in the answer",
                "request the openid scope",
            ));
        };
        let claims: serde_json::Value = id_token
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p.trim_end_matches('='))
                    .ok()
            })
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let claim = self.spec.role_claim_for(&versions.is).token_claim();
        let roles: Vec<String> = match &claims[claim] {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            serde_json::Value::String(s) => s.split(',').map(|r| r.trim().to_owned()).collect(),
            _ => Vec::new(),
        };
        let mapped: Vec<String> = self
            .spec
            .role_mappings
            .iter()
            .filter(|m| roles.iter().any(|r| r == m.remote.as_str()))
            .map(|m| format!("{} -> {}", m.remote, m.local))
            .collect();
        Ok(if mapped.is_empty() {
            Finding::fail(
                check,
                format!("the id_token's {claim:?} claim holds {roles:?}, none of them mapped"),
                "give the user a mapped role on IS, and request the role claim on the service provider",
            )
        } else {
            Finding::pass(check, format!("the id_token carries {}", mapped.join(", ")))
        })
    }
}
