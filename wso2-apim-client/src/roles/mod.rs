//! APIM's local roles, which role mappings point to. WSO2 silently drops a mapping whose local
//! role does not exist, and role names are case-sensitive (`Internal/subscriber` is not
//! `Internal/Subscriber`), so every mapped role is checked, exactly, before anything is written.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_apim_client::Error> {
//! use wso2_apim_client::ApimClient;
//! use wso2_is_client::RoleName;
//!
//! let apim: ApimClient = ApimClient::builder("https://apim.example.com:9443")
//!     .credentials("admin", "admin")
//!     .build()?;
//! let wanted = [RoleName::new("Internal/subscriber")?, RoleName::new("Internal/publisher")?];
//! apim.roles().require(&wanted).await?; // Err(MissingLocalRoles) names each missing role
//! # Ok(()) }
//! ```

use wso2_is_client::RoleName;
use wso2_is_client::carbon::CarbonClient;
use wso2_is_client::users::Users;

use crate::error::{Error, MissingRole, Result};

/// Handler for APIM's local roles; get one with `ApimClient::roles()`.
#[derive(Debug, Clone, Copy)]
pub struct LocalRoles<'c> {
    client: &'c CarbonClient,
}

impl<'c> LocalRoles<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// Whether the role exists, exactly as written.
    pub async fn exists(&self, role: &RoleName) -> Result<bool> {
        Ok(Users::new(self.client).role_exists(role).await?)
    }

    /// Checks that every role exists, exactly. One read per role (`isExistingRole`, one after
    /// the other), so the cost
    /// does not grow with the number of roles on the server; only when some are missing are all
    /// role names read, to suggest the ones with a similar name.
    pub async fn require(&self, roles: &[RoleName]) -> Result<()> {
        // One at a time: a caller holding one slot of a concurrency limit (the federation
        // engine) must not see this fan out. Callers that want one round trip check the roles
        // themselves, concurrently, with `exists`.
        let mut missing = Vec::new();
        for role in roles {
            if !self.exists(role).await? {
                missing.push(role.clone());
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let existing = Users::new(self.client).role_names().await?;
        Err(Error::MissingLocalRoles {
            missing: missing
                .into_iter()
                .map(|r| MissingRole {
                    similar: similar_names(r.as_str(), &existing),
                    role: r.into(),
                })
                .collect(),
        })
    }
}

/// Existing names that look like `wanted`: equal ignoring case, or at most two edits away.
pub fn similar_names(wanted: &str, existing: &[String]) -> Vec<String> {
    let lower = wanted.to_lowercase();
    let mut out: Vec<(usize, String)> = existing
        .iter()
        .filter(|e| e.as_str() != wanted)
        .filter_map(|e| {
            let d = edit_distance(&lower, &e.to_lowercase());
            (d <= 2).then(|| (d, e.clone()))
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, e)| e).take(3).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_names_catch_case_and_typos() {
        let existing: Vec<String> = [
            "Internal/subscriber",
            "Internal/publisher",
            "Internal/creator",
            "admin",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            similar_names("Internal/Subscriber", &existing),
            vec!["Internal/subscriber"]
        );
        assert_eq!(
            similar_names("Internal/publsher", &existing),
            vec!["Internal/publisher"]
        );
        assert!(similar_names("Application/x", &existing).is_empty());
    }
}
