//! The one error type of this crate: the identity client's errors, plus what is specific to
//! APIM's side.

use std::time::Duration;

pub use wso2_is_client::Dispatch;

use crate::portals::Portal;

/// A mapped local role that does not exist on APIM, with the roles that do and look alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingRole {
    /// The role as given, e.g. `Internal/Subscriber`.
    pub role: String,
    /// Existing roles with a similar name (same name ignoring case, or a small edit away).
    pub similar: Vec<String>,
}

impl std::fmt::Display for MissingRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.role)?;
        if !self.similar.is_empty() {
            let list: Vec<String> = self.similar.iter().map(|s| format!("{s:?}")).collect();
            write!(
                f,
                " (did you mean {}? role names are case-sensitive)",
                list.join(" or ")
            )?;
        }
        Ok(())
    }
}

fn missing_list(missing: &[MissingRole]) -> String {
    missing
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Errors of the APIM client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the shared identity client (transport, faults, decoding, bad input).
    #[error(transparent)]
    Client(#[from] wso2_is_client::Error),

    /// Role mappings point to local roles that do not exist on APIM. The server would silently
    /// drop those mappings, so nothing was written.
    #[error("local roles missing on APIM: {}; nothing was written", missing_list(.missing))]
    MissingLocalRoles {
        /// The missing roles.
        missing: Vec<MissingRole>,
    },

    /// The portal's service provider did not appear after its login endpoints were called.
    #[error(
        "the service provider of the {portal} portal did not appear (looked for {}) after calling its login endpoints and reading {attempts} times over {waited:?}; log in to the portal once in a browser, or check that the portal web app is deployed (APIM 3.0 has no admin portal service provider)", tried.join(", ")
    )]
    PortalUnavailable {
        /// The portal.
        portal: Portal,
        /// The service provider names looked for.
        tried: Vec<String>,
        /// Reads made.
        attempts: u32,
        /// Time waited.
        waited: Duration,
    },

    /// The portal's service provider does not exist (it appears after the portal's first login;
    /// see `Portals::ensure`).
    #[error(
        "the service provider of the {portal} portal does not exist (it is created at the portal's first login)"
    )]
    PortalMissing {
        /// The portal.
        portal: Portal,
    },

    /// The release has no service provider for this portal (the Admin portal has one from
    /// APIM 3.2). Nothing was sent.
    #[error(
        "{version} has no service provider for the {portal} portal (the admin portal has one from APIM 3.2)"
    )]
    PortalNotInRelease {
        /// The portal.
        portal: Portal,
        /// The release.
        version: wso2_is_client::version::ServerVersion,
    },

    /// A snapshot cannot be restored as it is.
    #[error("cannot restore the {portal} portal: {reason}")]
    RestoreImpossible {
        /// The portal.
        portal: Portal,
        /// Why.
        reason: String,
    },

    /// The identity provider was not found when reading it back after `addIdP`.
    #[error("identity provider {name:?} is not on the server after addIdP{}", .add_error.as_ref().map(|e| format!(" (addIdP failed: {e})")).unwrap_or_default())]
    IdpNotCreated {
        /// The identity provider.
        name: String,
        /// The error `addIdP` answered, if any.
        add_error: Option<Box<wso2_is_client::Error>>,
    },

    /// The identity provider on the server differs from what was sent (e.g. role mappings
    /// dropped by the server).
    #[error("identity provider {name:?} on the server differs from what was sent: {difference}")]
    IdpMismatch {
        /// The identity provider.
        name: String,
        /// What differs.
        difference: String,
    },
}

impl Error {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Client(
            wso2_is_client::InvalidInput {
                field: field.to_owned(),
                reason: reason.into(),
            }
            .into(),
        )
    }

    /// How far the failed request got (errors found before sending are `NotSent`).
    pub fn dispatch(&self) -> Dispatch {
        match self {
            Self::Client(e) => e.dispatch(),
            Self::MissingLocalRoles { .. }
            | Self::RestoreImpossible { .. }
            | Self::PortalNotInRelease { .. } => Dispatch::NotSent,
            _ => Dispatch::Answered,
        }
    }

    /// Whether the server says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Client(e) => e.is_not_found(),
            Self::PortalMissing { .. } | Self::IdpNotCreated { .. } => true,
            _ => false,
        }
    }

    /// Whether the server says the object already exists.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Self::Client(e) if e.is_already_exists())
    }

    /// Whether the credentials were refused.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, Self::Client(e) if e.is_auth_failure())
    }

    /// Whether the failure is transient.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Client(e) if e.is_retryable())
    }

    /// Whether a write that failed this way may have taken effect.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Client(e) if e.outcome_unknown())
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Client(e) => e.status(),
            _ => None,
        }
    }

    /// The SOAP fault, when the server sent one.
    pub fn fault(&self) -> Option<&wso2_is_client::SoapFault> {
        match self {
            Self::Client(e) => e.fault(),
            _ => None,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<wso2_is_client::InvalidInput> for Error {
    fn from(value: wso2_is_client::InvalidInput) -> Self {
        Self::Client(value.into())
    }
}
