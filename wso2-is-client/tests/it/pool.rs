//! `ServerPool`: the clients of two tenants sharing one server's connections and its bound on
//! requests in flight, against the simulated IS of `wso2-testkit`, reached through a loopback
//! TCP relay that counts the connections opened.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use wso2_is_client::{AuthMode, Error, IsClient, RetryPolicy, ServerPool};
use wso2_testkit::Sandbox;

const TENANTS: [&str; 2] = ["a.example", "b.example"];

/// A TCP relay on loopback to `target`; counts the connections accepted.
struct Relay {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Relay {
    async fn start(target: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { port, accepted }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/", self.port)
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn sandbox() -> Sandbox {
    let sb = Sandbox::builder().tenants(TENANTS).start().await.unwrap();
    sb.set_latency(Duration::from_millis(20));
    sb
}

/// The IS client of tenant `t`, through `url`, with `pool` if given.
fn tenant_client(sb: &Sandbox, url: &str, t: &str, pool: Option<&ServerPool>) -> IsClient {
    let admin = sb.is().tenant_admin(t);
    let mut b = IsClient::builder(url)
        .credentials(admin.username, admin.password)
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .retry(RetryPolicy::none());
    if t == TENANTS[0] {
        // One tenant logs in (AuthenticationAdmin), the other sends Basic on each request.
        b = b.auth_mode(AuthMode::Session);
    }
    if let Some(pool) = pool {
        b = b.pool(pool);
    }
    b.build().unwrap()
}

/// Lets the client's connection task hand a finished connection back to its pool (on this
/// single-threaded runtime, the tasks woken before us run first).
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn two_tenants_sharing_a_pool_never_exceed_its_limit() {
    let sb = sandbox().await;
    let relay = Relay::start(sb.is().addr()).await;
    let pool = ServerPool::new(2).unwrap();
    let clients: Vec<IsClient> = TENANTS
        .iter()
        .map(|t| tenant_client(&sb, &relay.url(), t, Some(&pool)))
        .collect();
    sb.is().clear_requests();

    // 20 requests at once, SOAP and SCIM2, half per tenant.
    let calls = (0..20).map(|i| {
        let c = &clients[i % 2];
        async move {
            if i % 4 < 2 {
                c.applications().list().await.map(drop)
            } else {
                c.scim2().service_provider_config().await.map(drop)
            }
        }
    });
    for r in futures_util::future::join_all(calls).await {
        r.unwrap();
    }
    // The session login and logout go through the pool too.
    clients[0].core().logout().await.unwrap();

    let seen = sb.is().max_in_flight();
    println!(
        "pool: 2 tenants, limit 2: IS saw at most {seen} requests in flight (pool: {}), {} \
         requests over {} connections",
        pool.peak_in_flight(),
        sb.is().requests().len(),
        relay.connections()
    );
    assert!(
        seen <= 2,
        "IS saw {seen} requests in flight with a limit of 2"
    );
    assert_eq!(seen, 2, "the two permits were never used together");
    assert_eq!(pool.peak_in_flight(), 2);
    assert_eq!(pool.in_flight(), 0);
    // 20 requests, a login and a logout.
    assert_eq!(sb.is().requests().len(), 22);
}

#[tokio::test]
async fn tenants_sharing_a_pool_share_its_connections() {
    let sb = sandbox().await;
    // Alternating tenants, one request at a time: one connection when they share a pool, one
    // per tenant when they do not.
    let mut opened = Vec::new();
    for shared in [true, false] {
        let relay = Relay::start(sb.is().addr()).await;
        let pool = ServerPool::new(4).unwrap();
        let clients: Vec<IsClient> = TENANTS
            .iter()
            .map(|t| tenant_client(&sb, &relay.url(), t, shared.then_some(&pool)))
            .collect();
        for _ in 0..3 {
            for c in &clients {
                c.applications().list().await.unwrap();
                settle().await;
            }
        }
        opened.push(relay.connections());
    }
    println!(
        "pool: 2 tenants, 6 requests one at a time: {} connection(s) with a shared pool, {} without",
        opened[0], opened[1]
    );
    assert_eq!(opened, [1, 2]);
}

#[tokio::test]
async fn a_client_with_other_tls_settings_is_refused_by_the_pool() {
    let sb = sandbox().await;
    let other_ca = Sandbox::start().await.unwrap();
    let pool = ServerPool::new(2).unwrap();
    let url = sb.is().base_url();
    tenant_client(&sb, &url, TENANTS[0], Some(&pool));
    let admin = sb.is().tenant_admin(TENANTS[1]);
    let e = IsClient::builder(&url)
        .credentials(admin.username, admin.password)
        .ca_pem(other_ca.ca_pem().as_bytes().to_vec())
        .retry(RetryPolicy::none())
        .pool(&pool)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
    assert!(e.to_string().contains("trusted certificates"), "{e}");
    assert!(e.to_string().contains("pool of its own"), "{e}");
    // Nothing was sent by the refused client, and the pool still serves the first settings.
    assert_eq!(e.dispatch(), wso2_is_client::Dispatch::NotSent);
    tenant_client(&sb, &url, TENANTS[1], Some(&pool))
        .applications()
        .list()
        .await
        .unwrap();
}
