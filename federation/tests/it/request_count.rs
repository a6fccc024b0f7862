//! The number of requests is a contract: exact counts for apply, a no-op re-apply and destroy
//! of the seed setup, the same on empty servers and on servers holding 10,000 unrelated objects
//! each (every read is by natural key; nothing lists everything and filters).

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
];

/// Apply, re-apply and destroy of the seed setup on a new sandbox, after `unrelated` objects
/// were seeded on each server.
async fn apply_reapply_destroy(unrelated: usize) -> (Sent, Sent, Sent) {
    let sb = Sandbox::start().await.unwrap();
    if unrelated > 0 {
        sb.is().seed(SUPER_TENANT, SeedCounts::spread(unrelated));
        sb.apim().seed(SUPER_TENANT, SeedCounts::spread(unrelated));
    }
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    sb.clear_requests();
    fed.apply(&journal.options()).await.unwrap();
    let apply = Sent::take(&sb);
    fed.apply(&journal.options()).await.unwrap();
    let reapply = Sent::take(&sb);
    fed.destroy(&journal.options()).await.unwrap();
    let destroy = Sent::take(&sb);
    for sent in [&apply, &reapply, &destroy] {
        for action in sent.actions.0.iter().chain(&sent.actions.1) {
            assert!(
                !LISTING.contains(&action.as_str()),
                "{action} lists a whole collection"
            );
        }
    }
    (apply, reapply, destroy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_reapply_and_destroy_send_exact_request_counts_however_full_the_servers() {
    let (apply, reapply, destroy) = apply_reapply_destroy(0).await;
    println!(
        "request counts [IS, IS mutating, APIM, APIM mutating]: apply {:?}, re-apply {:?}, destroy {:?}",
        apply.counts(),
        reapply.counts(),
        destroy.counts()
    );
    // Fresh sandbox: the portals' service providers are brought into being by the apply. The
    // apply reads once to plan; with changes to make, it takes the run lease on APIM (a create,
    // and a read and a delete to give it back) and reads again under it. The identity provider
    // step does not re-read the mapped roles the plan has just read, and the portal steps switch
    // the service provider they have just read. The releases are detected once per
    // `Federation` (five probes on IS, one on APIM; none when the settings pin them). A
    // re-apply with nothing to change reads once and writes nothing, not even the lease.
    assert_eq!(apply.counts(), [25, 7, 35, 7], "apply: {:?}", apply.actions);
    assert_eq!(
        reapply.counts(),
        [8, 0, 6, 0],
        "re-apply: {:?}",
        reapply.actions
    );
    assert_eq!(
        destroy.counts(),
        [8, 6, 11, 5],
        "destroy: {:?}",
        destroy.actions
    );

    let (apply_full, reapply_full, destroy_full) = apply_reapply_destroy(10_000).await;
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
