//! The number of requests is a contract: exact counts for apply, a no-op re-apply and destroy
//! of the seed setup, on the seed pair (IS 5.9 + APIM 3.0) and on the newest pair (IS 7.3 +
//! APIM 4.7), the same on empty servers and on servers holding 10,000 unrelated objects each
//! (every read is by natural key; nothing lists everything and filters: a SCIM2 or REST list
//! appears only with a filter on the name).

use wso2_testkit::{RequestRecord, SUPER_TENANT, Sandbox, SeedCounts};

use crate::support::*;

/// Requests one operation sent to each server: (IS, IS mutating, APIM, APIM mutating), and the
/// actions in arrival order per server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    is: usize,
    is_mutating: usize,
    apim: usize,
    apim_mutating: usize,
    actions: (Vec<String>, Vec<String>),
}

impl Sent {
    fn take(sb: &Sandbox) -> Self {
        let is = sb.is().requests();
        let apim = sb.apim().requests();
        sb.clear_requests();
        for r in is.iter().chain(&apim) {
            // By name, or one item (the release probe): bounded whatever the server holds.
            let by_name = r.query.contains("filter=") || r.query.split('&').any(|q| q == "limit=1");
            assert!(
                !LISTING.contains(&r.action.as_str()) || by_name,
                "{} lists a whole collection ({} {}?{})",
                r.action,
                r.method,
                r.path,
                r.query
            );
        }
        let mutating = |log: &[RequestRecord]| log.iter().filter(|r| r.mutating).count();
        let names = |log: &[RequestRecord]| {
            let mut v: Vec<String> = log.iter().map(|r| r.action.clone()).collect();
            // Concurrent requests arrive in any order.
            v.sort();
            v
        };
        Self {
            is: is.len(),
            is_mutating: mutating(&is),
            apim: apim.len(),
            apim_mutating: mutating(&apim),
            actions: (names(&is), names(&apim)),
        }
    }

    fn counts(&self) -> [usize; 4] {
        [self.is, self.is_mutating, self.apim, self.apim_mutating]
    }
}

/// Operations that read a whole collection: none of them may appear.
const LISTING: &[&str] = &[
    "getAllApplicationBasicInfo",
    "getAllIdPs",
    "getAllOAuthApplicationData",
    "getRoleNames",
    "scim2.listUsers",
    "scim2.listGroups",
    "scim2.searchUsers",
    "scim2.searchGroups",
    "rest.listApplications",
];

/// Apply, re-apply and destroy of the seed setup on a new sandbox, after `unrelated` objects
/// were seeded on each server.
async fn apply_reapply_destroy(pair: Option<(&str, &str)>, unrelated: usize) -> (Sent, Sent, Sent) {
    let b = Sandbox::builder();
    let b = match pair {
        Some((is, apim)) => b.is_version(is).apim_version(apim),
        None => b,
    };
    let sb = b.start().await.unwrap();
    if unrelated > 0 {
        sb.is().seed(SUPER_TENANT, SeedCounts::spread(unrelated));
        sb.apim().seed(SUPER_TENANT, SeedCounts::spread(unrelated));
    }
    let journal = TempJournal::new();
    // No faults here: a timeout well above what a server with 10,000 objects needs to answer
    // in a debug build beside other tests on two cores.
    let timeout = std::time::Duration::from_secs(15);
    let fed = seed_builder(&sb)
        .is(client_builder(&sb, sb.is(), sb.is().admin(), timeout)
            .build()
            .unwrap())
        .apim(
            client_builder(&sb, sb.apim(), sb.apim().admin(), timeout)
                .build()
                .unwrap(),
        )
        .journal(journal.path())
        .build()
        .unwrap();
    sb.clear_requests();
    fed.apply(&journal.options()).await.unwrap();
    let apply = Sent::take(&sb);
    fed.apply(&journal.options()).await.unwrap();
    let reapply = Sent::take(&sb);
    fed.destroy(&journal.options()).await.unwrap();
    let destroy = Sent::take(&sb);
    (apply, reapply, destroy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_reapply_and_destroy_send_exact_request_counts_however_full_the_servers() {
    let (apply, reapply, destroy) = apply_reapply_destroy(None, 0).await;
    println!(
        "request counts [IS, IS mutating, APIM, APIM mutating]: apply {:?}, re-apply {:?}, destroy {:?}",
        apply.counts(),
        reapply.counts(),
        destroy.counts()
    );
    // Fresh sandbox: the portals' service providers are brought into being by the apply (their
    // registration endpoints, then a read; no read first, the plan found them absent). A first
    // apply (the journal records no run) takes the run lease on APIM first (one create, no
    // read-back; a read with the last steps and a delete to give it back), then reads once to
    // plan, under it (each portal's service provider under the release's name only). The
    // identity provider step does not
    // re-read the mapped roles the plan has just read, and the portal steps switch the service
    // provider they have just read. The releases are detected once per `Federation` (five
    // probes on IS, one on APIM; none when the settings pin them). A re-apply with nothing to
    // change reads once and writes nothing, not even the lease.
    assert_eq!(apply.counts(), [19, 7, 17, 7], "apply: {:?}", apply.actions);
    assert_eq!(
        reapply.counts(),
        [8, 0, 6, 0],
        "re-apply: {:?}",
        reapply.actions
    );
    assert_eq!(
        destroy.counts(),
        [8, 6, 9, 5],
        "destroy: {:?}",
        destroy.actions
    );

    let (apply_full, reapply_full, destroy_full) = apply_reapply_destroy(None, 10_000).await;
    assert_eq!(apply_full, apply, "apply with 10,000 unrelated objects");
    assert_eq!(
        reapply_full, reapply,
        "re-apply with 10,000 unrelated objects"
    );
    assert_eq!(
        destroy_full, destroy,
        "destroy with 10,000 unrelated objects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_newest_pair_the_request_counts_are_exact_however_full_the_servers() {
    let pair = Some(("7.3", "4.7"));
    let (apply, reapply, destroy) = apply_reapply_destroy(pair, 0).await;
    println!(
        "newest pair, request counts [IS, IS mutating, APIM, APIM mutating]: apply {:?}, re-apply {:?}, destroy {:?}",
        apply.counts(),
        reapply.counts(),
        destroy.counts()
    );
    // IS through REST and SCIM2: each user and group found by a filter on its name (a group
    // under both spellings at once, plain and `PRIMARY/`), the application by a filter on its
    // name; users, then groups holding them, and the application in one create each. The
    // probes: Carbon's server version, the REST applications API (one item), the three SCIM2
    // roles endpoints. APIM as on the seed pair.
    assert_eq!(apply.counts(), [17, 5, 17, 7], "apply: {:?}", apply.actions);
    assert_eq!(
        reapply.counts(),
        [9, 0, 6, 0],
        "re-apply: {:?}",
        reapply.actions
    );
    assert_eq!(
        destroy.counts(),
        [14, 5, 9, 5],
        "destroy: {:?}",
        destroy.actions
    );
    let (apply_full, reapply_full, destroy_full) = apply_reapply_destroy(pair, 10_000).await;
    assert_eq!(apply_full, apply, "apply with 10,000 unrelated objects");
    assert_eq!(
        reapply_full, reapply,
        "re-apply with 10,000 unrelated objects"
    );
    assert_eq!(
        destroy_full, destroy,
        "destroy with 10,000 unrelated objects"
    );
}
