//! Comparing sandbox states, numbering request logs, and running matrix cases in a pool.

use wso2_testkit::Sandbox;

/// A snapshot of `sb` as comparable lines, without what differs between two equal runs on two
/// sandboxes: SCIM ids, creation and change times, the numeric ids the servers assign
/// (`applicationID`, `id`), the sandbox's own addresses (written `{IS}` and `{APIM}`), and the
/// journal instance in ownership tags (written `{INSTANCE}`).
pub fn state_lines(sb: &Sandbox, snapshot: &wso2_testkit::SandboxSnapshot) -> Vec<String> {
    let urls = [
        (sb.is().base_url().trim_end_matches('/').to_owned(), "{IS}"),
        (
            sb.apim().base_url().trim_end_matches('/').to_owned(),
            "{APIM}",
        ),
    ];
    let mut out = Vec::new();
    for s in [&snapshot.is, &snapshot.apim] {
        for (tenant, t) in &s.tenants {
            let at = format!("{}:{tenant}", s.server);
            for (name, u) in &t.users {
                out.push(format!(
                    "{at} user {name}: password {} claims {:?} scim {:?}",
                    u.password_sha256, u.claims, u.scim
                ));
            }
            for (name, r) in &t.roles {
                out.push(format!(
                    "{at} role {name}: users {:?} permissions {:?}",
                    r.users, r.permissions
                ));
            }
            let trees = [
                ("application", &t.applications),
                ("identity provider", &t.identity_providers),
                ("oauth app", &t.oauth_apps),
            ];
            for (kind, map) in trees {
                for (name, el) in map {
                    for line in el.flatten() {
                        let volatile = ["/applicationID[0] = ", "/id[0] = "]
                            .iter()
                            .any(|v| line.contains(v));
                        let line = if volatile {
                            line.split(" = ").next().unwrap_or_default().to_owned() + " = (id)"
                        } else {
                            line
                        };
                        out.push(format!("{at} {kind} {name}: {line}"));
                    }
                }
            }
            for (client, key) in &t.system_apps {
                out.push(format!("{at} system app {client}: {key}"));
            }
        }
    }
    for line in &mut out {
        for (url, name) in &urls {
            if line.contains(url.as_str()) {
                *line = line.replace(url.as_str(), name);
            }
        }
        // The ownership tag holds the journal's instance id, drawn per journal.
        if let Some(at) = line.find("[managed-by:")
            && let Some(end) = line[at..].find(']')
        {
            let tag = line[at..at + end].to_owned();
            if let Some(colon) = tag.rfind(':').filter(|c| *c > "[managed-by:".len()) {
                let replaced = format!("{}:{{INSTANCE}}", &tag[..colon]);
                *line = line.replacen(&tag, &replaced, 1);
            }
        }
    }
    out
}

/// What changed from `before` to `after`, as comparable lines (see [`state_lines`]), sorted.
pub fn state_delta(
    sb: &Sandbox,
    before: &wso2_testkit::SandboxSnapshot,
    after: &wso2_testkit::SandboxSnapshot,
) -> Vec<String> {
    line_diff(
        &state_lines(sb, before),
        &state_lines(sb, after),
        usize::MAX,
    )
}

/// The lines only in `a` (`-`) or only in `b` (`+`), at most `max` of them; empty when equal.
pub fn line_diff(a: &[String], b: &[String], max: usize) -> Vec<String> {
    let sa: std::collections::BTreeSet<&String> = a.iter().collect();
    let sb: std::collections::BTreeSet<&String> = b.iter().collect();
    sa.difference(&sb)
        .map(|l| format!("- {l}"))
        .chain(sb.difference(&sa).map(|l| format!("+ {l}")))
        .take(max)
        .collect()
}

/// Runs `f` over `items` with at most `parallel` at a time, each as its own task (so that they
/// spread over the runtime's worker threads), results in input order.
pub async fn run_pool<T, R, F, Fut>(items: Vec<T>, parallel: usize, f: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    use futures_util::StreamExt;
    let mut out: Vec<(usize, R)> = futures_util::stream::iter(items.into_iter().enumerate())
        .map(|(i, t)| {
            let task = tokio::spawn(f(t));
            async move { (i, task.await.expect("test utility")) }
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// One request of a recorded run: which server, which action, which occurrence of that action
/// on that server (from 1), and whether it changed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `"is"` or `"apim"`.
    pub server: &'static str,
    /// The action (SOAP operation or testkit action name).
    pub action: String,
    /// Which occurrence of the action on that server, from 1.
    pub nth: u32,
    /// Whether it changed state.
    pub mutating: bool,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}#{}", self.server, self.action, self.nth)
    }
}

/// The calls in a server's request log, numbered per action.
pub fn calls(server: &'static str, log: &[wso2_testkit::RequestRecord]) -> Vec<Call> {
    let mut seen: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    log.iter()
        .map(|r| {
            let n = seen.entry(r.action.as_str()).or_insert(0);
            *n += 1;
            Call {
                server,
                action: r.action.clone(),
                nth: *n,
                mutating: r.mutating,
            }
        })
        .collect()
}

/// The server named `name` (`"is"` or `"apim"`).
pub fn server<'s>(sb: &'s Sandbox, name: &str) -> &'s wso2_testkit::SimServer {
    if name == "is" { sb.is() } else { sb.apim() }
}

/// A short name of a fault kind, for tables.
pub fn kind_name(kind: &wso2_testkit::FaultKind) -> String {
    let debug = format!("{kind:?}");
    debug
        .split([' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Whether a matrix case runs: all of them, or those whose label contains the text of the
/// environment variable `MATRIX_ONLY` (to reproduce one case: `MATRIX_ONLY="apim addIdP#1 (write)
/// TimeoutAfterCommit"`; several, separated by `|`). A filtered run says so in its printed count.
pub fn selected(label: &str) -> bool {
    match std::env::var("MATRIX_ONLY") {
        Ok(only) if !only.is_empty() => only.split('|').any(|o| label.contains(o)),
        _ => true,
    }
}

/// Whether the environment variable `MATRIX_ONLY` filters the matrices.
pub fn filtered() -> bool {
    std::env::var("MATRIX_ONLY").is_ok_and(|s| !s.is_empty())
}

/// [`state_lines`] as the servers answer them rather than as the simulator stores them: a
/// boolean or number field holding its default (`false`, `0`) is left out, since Axis2 answers an
/// absent primitive bean property with that default. (The simulator stores what was sent, so an
/// object written without `saasApp` and written back as read, with `saasApp=false`, differs in
/// storage but in no answer.)
pub fn as_answered(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .filter(|l| !(l.ends_with(" = \"false\"") || l.ends_with(" = \"0\"")))
        .collect()
}

/// How two states are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Equality {
    /// Equal snapshots (`SandboxSnapshot == `, as `assert_same` checks).
    Exact,
    /// Equal as the servers answer (see [`as_answered`]).
    AsAnswered,
}

/// `None` when `a` and `b` are equal in the sense of `eq`, else a readable difference.
pub fn difference(
    sb: &Sandbox,
    a: &wso2_testkit::SandboxSnapshot,
    b: &wso2_testkit::SandboxSnapshot,
    eq: Equality,
) -> Option<String> {
    match eq {
        Equality::Exact => (a != b).then(|| a.diff(b).to_string()),
        Equality::AsAnswered => {
            let d = line_diff(
                &as_answered(state_lines(sb, a)),
                &as_answered(state_lines(sb, b)),
                20,
            );
            (!d.is_empty()).then(|| d.join("\n"))
        }
    }
}

/// What changed from `before` to `after` in the sense of `eq`, as comparable lines.
pub fn delta(
    sb: &Sandbox,
    before: &wso2_testkit::SandboxSnapshot,
    after: &wso2_testkit::SandboxSnapshot,
    eq: Equality,
) -> Vec<String> {
    match eq {
        Equality::Exact => state_delta(sb, before, after),
        Equality::AsAnswered => line_diff(
            &as_answered(state_lines(sb, before)),
            &as_answered(state_lines(sb, after)),
            usize::MAX,
        ),
    }
}

/// An error and every cause, as one text (to look for a message anywhere in the chain).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        out.push_str(" <- ");
        out.push_str(&c.to_string());
        source = c.source();
    }
    out
}
