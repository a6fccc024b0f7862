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
    /// The browser logins run ([`VerifyOptions::browser_logins`]), every hop of each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logins: Vec<crate::login::LoginReport>,
}

impl Report {
    /// Whether no check failed.
    pub fn is_ok(&self) -> bool {
        self.findings.iter().all(|f| f.status != Status::Fail)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for login in &self.logins {
            for line in login.to_string().lines() {
                writeln!(f, "  {line}")?;
            }
        }
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
    /// Users to log in with as a browser does, through every hop from the portal to IS and
    /// back ([`LoginProof`](crate::login::LoginProof)), proving the portal rights each gets;
    /// see [`Federation::browser_logins`].
    pub browser_logins: Vec<BrowserLogin>,
}

/// A browser login to prove: a user of the settings on a portal.
#[derive(Clone)]
pub struct BrowserLogin {
    /// The portal.
    pub portal: wso2_apim_client::portals::Portal,
    /// The user, as IS knows it.
    pub user: String,
    /// Its password.
    pub password: SecretString,
}

impl fmt::Debug for BrowserLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserLogin")
            .field("portal", &self.portal)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("test_login", &self.test_login.as_ref().map(|(u, _)| u))
            .field("fix_client_auth", &self.fix_client_auth)
            .field("browser_logins", &self.browser_logins)
            .finish()
    }
}

const MTLS_FIX: &str = "send the client credentials in the Basic header only (identity provider property \
IsBasicAuthEnabled=true; `verify --fix-client-auth`, or `identity_provider.client_auth = \"basic_header\"` in the settings), or turn IS's MutualTLS \
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

/// What to do about a failed request to `server` (`"is"` or `"apim"`, the settings' table),
/// by the kind of failure. Settings are named as in `federation.toml`, then as in code.
fn connection_fix(server: &str, e: &FederationError) -> String {
    use wso2_is_client::Error as E;
    let (name, port) = if server == "is" {
        ("IS", "IS with WSO2's port offset 1 listens on 9444")
    } else {
        ("APIM", "APIM listens on 9443 by default")
    };
    let client = e.client_error();
    if matches!(client, Some(E::Tls { .. })) {
        format!(
            "trust {name}'s certificate: give its CA or certificate as PEM (`{server}.ca_pem`; \
             `ClientBuilder::ca_pem` in code), or fix the certificate as the message says"
        )
    } else if matches!(client, Some(E::Connect { .. } | E::Timeout { .. })) {
        format!("check `{server}.url` ({port}) and that {name} is up and reachable from here")
    } else if e.is_auth_failure() || matches!(client, Some(E::LoginRefused { .. })) {
        format!(
            "check {name}'s admin user and password (`{server}.username`, `{server}.password_env` \
             or `{server}.password_file`; a tenant admin is admin@tenant.com)"
        )
    } else {
        format!(
            "{name} answered, but not as a WSO2 {name} admin service would: check that `{server}.url` \
             is {name}'s address (not a proxy or another product), and {name}'s logs \
             (repository/logs/wso2carbon.log)"
        )
    }
}

/// What to do when the plan cannot be made, by the kind of failure.
fn plan_fix(e: &FederationError) -> String {
    match e {
        FederationError::Is(_) => connection_fix("is", e),
        FederationError::Apim(_) => connection_fix("apim", e),
        FederationError::Conflict { .. } => "the objects named are someone else's (or were changed \
            since this federation wrote them): choose other names in the settings, remove them by hand, \
            or set `adopt = true` to use them as they are (`FederationBuilder::adopt`)"
            .into(),
        FederationError::Unfinished { .. } => {
            "run `wso2-federate recover` (rolls the unfinished run back) or `recover --finish` \
             (`Federation::recover`) before applying"
                .into()
        }
        FederationError::JournalMismatch { .. } => "use the journal of these servers and settings \
            (`--journal`, or the default per pair of servers), or `--ignore-journal-binding` if you \
            are sure"
            .into(),
        FederationError::Journal(_) => "check the journal file (`wso2-federate journal` lists what \
            its intact part records); restore it from a backup if it was damaged"
            .into(),
        _ => "the message names what failed; fix it and run doctor again".into(),
    }
}

impl Federation {
    /// Preflight checks, reads only: both servers answer over TLS with the given trust and
    /// credentials, the mapped local roles exist exactly, the portals' service providers exist
    /// (or will be brought into being), IS's discovery matches the configured endpoints, and a
    /// plan can be made (no name conflicts), and the journal records no unfinished run. Each
    /// finding names its server (or the journal) and, unless it passed, what to do.
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
                    connection_fix("is", &e),
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
                let e = FederationError::Apim(e.into());
                findings.push(Finding::fail(
                    "APIM connection",
                    describe(&e),
                    connection_fix("apim", &e),
                ));
                false
            }
        };
        if apim_ok {
            match self.apim.roles().require(&self.spec.mapped_local_roles()).await {
                Ok(()) => findings.push(Finding::pass("APIM mapped local roles", "every mapped role exists on APIM, exactly")),
                Err(e) => findings.push(Finding::fail(
                    "APIM mapped local roles",
                    e.to_string(),
                    "map to roles that exist on APIM (`role_mappings[].local`, case-sensitive, e.g. Internal/subscriber), or create them on APIM first",
                )),
            }
            for &portal in &self.spec.portals {
                let check = format!("APIM {portal} portal");
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
                        "nothing to do: apply calls the portal's login endpoint to bring it into being",
                    )),
                    Err(e) => {
                        let e = FederationError::Apim(e);
                        findings.push(Finding::fail(check, describe(&e), connection_fix("apim", &e)))
                    }
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
                        "check `is.browser_url` / `is.backend_url` against IS's host name and port",
                    ));
                }
            }
            Err(e) => findings.push(Finding::warn(
                "IS discovery",
                e.to_string(),
                "check `is.backend_url` (the discovery document is at /oauth2/token/.well-known/openid-configuration)",
            )),
        }
        if let Err(e) = self.refuse_unfinished() {
            findings.push(Finding::fail("journal", describe(&e), plan_fix(&e)));
        }
        match self.make_plan(None, None, false).await {
            Ok(planned) => {
                let n = planned.plan.counts();
                let counts = format!(
                    "{} to create, {} to update, {} to adopt, {} unchanged",
                    n.create, n.update, n.adopt, n.unchanged
                );
                match planned.plan.warnings.as_slice() {
                    [] => findings.push(Finding::pass("IS and APIM plan", counts)),
                    warnings => findings.push(Finding::warn(
                        "IS and APIM plan",
                        format!("{counts}; {}", warnings.join("; ")),
                        "read the plan's warnings: an unfinished run needs `wso2-federate recover` \
                         before apply; plain http sends the admin password in clear",
                    )),
                }
            }
            Err(e) => findings.push(Finding::fail(
                "IS and APIM plan",
                describe(&e),
                plan_fix(&e),
            )),
        }
        Report {
            findings,
            logins: Vec::new(),
        }
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
                "IS OAuth client",
                format!(
                    "no application {} with an OAuth client on IS",
                    self.spec.service_provider
                ),
                "run apply first (`wso2-federate apply`, `Federation::apply`)",
            ));
            return Ok(Report {
                findings,
                logins: Vec::new(),
            });
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
                findings.push(Finding::pass("IS client authentication", format!("IS accepts the client as APIM sends it ({method:?})")))
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
                            "IS client authentication",
                            format!("{detail}; fixed: the identity provider now sends the Basic header only (IsBasicAuthEnabled=true)"),
                            "set `identity_provider.client_auth = \"basic_header\"` in the settings so the next apply keeps it",
                        ));
                    } else {
                        findings.push(Finding::fail("IS client authentication", format!("{detail}; Basic header only: {again:?}"), MTLS_FIX));
                    }
                } else {
                    findings.push(Finding::fail("IS client authentication", detail, MTLS_FIX));
                }
            }
            ProbeOutcome::InvalidClient { description, .. } => findings.push(Finding::fail(
                "IS client authentication",
                format!("IS does not accept the client: {}", description.unwrap_or_default()),
                "the OAuth application and APIM's identity provider disagree on the client id or secret: run apply again",
            )),
            other => findings.push(Finding::fail("IS client authentication", format!("unexpected answer: {other:?}"), "check `is.backend_url` (the token endpoint APIM calls) and IS's logs (repository/logs/wso2carbon.log)")),
        }

        findings.push(
            self.check_authorize(&versions, &client_id, &callback)
                .await?,
        );

        let password_grant = grants.iter().any(|g| g == "password");
        let browser = !options.browser_logins.is_empty();
        match &options.test_login {
            // The browser logins prove more than a password-grant login would.
            None if browser => {}
            Some(_) if browser && !password_grant => {}
            None => findings.push(Finding {
                check: "IS test login".into(),
                status: Status::Skipped,
                detail: "no test user given".into(),
                fix: Some("to test a login, give a user: `verify --test-user USER --test-password-env VAR` (`VerifyOptions::test_login`)".into()),
            }),
            Some((user, _)) if !password_grant => findings.push(Finding {
                check: format!("IS test login as {user}"),
                status: Status::Skipped,
                detail: "the application does not allow the password grant (the settings' grant types), so no login without a browser is possible".into(),
                fix: Some("log in through an APIM portal in a browser; or, to test without a browser, add \"password\" to `service_provider.grant_types` and apply".into()),
            }),
            Some((user, password)) => findings.push(
                self.check_login(&versions, &token_url, &client_id, &secret, user, password)
                    .await?,
            ),
        }
        let mut logins = Vec::new();
        for login in &options.browser_logins {
            let report = crate::login::LoginProof::for_federation(
                self,
                login.portal,
                login.user.clone(),
                login.password.clone(),
            )
            .await?
            .run()
            .await;
            findings.extend(report.findings());
            logins.push(report);
        }
        Ok(Report { findings, logins })
    }

    /// The browser logins that prove each user of the settings gets its portal rights: a user
    /// mapped to `Internal/publisher`, `Internal/creator` or `admin` on the Publisher, every
    /// other user on the Developer Portal.
    pub fn browser_logins(&self) -> Vec<BrowserLogin> {
        self.spec
            .users
            .iter()
            .map(|u| {
                let publishing = self.spec.role_mappings.iter().any(|m| {
                    u.roles.contains(&m.remote)
                        && matches!(
                            m.local.as_str(),
                            "Internal/publisher" | "Internal/creator" | "admin"
                        )
                });
                BrowserLogin {
                    portal: if publishing {
                        wso2_apim_client::portals::Portal::Publisher
                    } else {
                        wso2_apim_client::portals::Portal::DevPortal
                    },
                    user: u.name.to_string(),
                    password: u.password.clone(),
                }
            })
            .collect()
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
                "IS callback",
                format!("IS refuses APIM's callback {callback}"),
                "the OAuth application's callback must be APIM's /commonauth exactly (or a regexp= that matches it): run apply",
            )
        } else if location.contains("oauthErrorCode=") {
            Finding::fail(
                "IS callback",
                format!("IS's authorize endpoint answered with an error: {location}"),
                "the error code names the problem; IS's logs (repository/logs/wso2carbon.log) say more",
            )
        } else if (300..400).contains(&answer.status) && !location.is_empty() {
            Finding::pass(
                "IS callback",
                "IS's authorize endpoint accepts APIM's callback (redirects to its login page)",
            )
        } else {
            Finding::warn(
                "IS callback",
                format!(
                    "IS's authorize endpoint answered HTTP {} without a redirect",
                    answer.status
                ),
                "check `is.browser_url` (the authorize endpoint browsers reach)",
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
        let check = format!("IS test login as {user}");
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        if answer.status != 200 {
            return Ok(Finding::fail(
                check,
                format!(
                    "the token endpoint answered HTTP {} {}",
                    answer.status,
                    json["error"].as_str().unwrap_or("")
                ),
                "the password grant must be allowed on the OAuth application (`service_provider.grant_types`), and the user's password right",
            ));
        }
        let Some(id_token) = json["id_token"].as_str() else {
            return Ok(Finding::fail(
                check,
                "no id_token in the answer",
                "IS must answer the password grant with an id_token: the openid scope must be allowed on the OAuth application",
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
