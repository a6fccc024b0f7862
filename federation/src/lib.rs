//! Make WSO2 Identity Server the external OpenID Connect identity provider of WSO2 API Manager,
//! as one transaction: plan, apply with undo and a crash-safe journal, verify, destroy.

pub mod engine;
