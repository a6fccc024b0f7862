//! Validated names of server objects. Checked before anything is sent: not empty, no leading
//! or trailing white space, no characters XML cannot carry, and no longer than the server's
//! column. `& < > " '` and non-ASCII text are fine: they are escaped on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::carbon::xml::first_unrepresentable_char;
use crate::error::InvalidInput;

/// Checks a required name.
pub(crate) fn check_name(field: &str, value: &str, max_chars: usize) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if value.trim() != value {
        return Err(InvalidInput::new(
            field,
            format!(
                "{value:?} has leading or trailing white space, which the server would not keep consistently"
            ),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(InvalidInput::new(
            field,
            format!("contains the control character U+{:04X}", c as u32),
        ));
    }
    if let Some(c) = first_unrepresentable_char(value) {
        return Err(InvalidInput::new(
            field,
            format!("contains U+{:04X}, which XML cannot carry", c as u32),
        ));
    }
    let n = value.chars().count();
    if n > max_chars {
        return Err(InvalidInput::new(
            field,
            format!("is {n} characters long; the server allows at most {max_chars}"),
        ));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest accepted name, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Checks and wraps a name.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                check_name($field, &value, Self::MAX_CHARS)?;
                Ok(Self(value))
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(value: String) -> Result<Self, InvalidInput> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidInput;
            fn try_from(value: &str) -> Result<Self, InvalidInput> {
                Self::new(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(value: &str) -> Result<Self, InvalidInput> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

name_type!(
    /// The unique name of a service provider (`SP_APP.APP_NAME`, 255 characters).
    ApplicationName, "application name", 255
);
name_type!(
    /// The unique name of an identity provider (`IDP.NAME`, 254 characters).
    IdpName, "identity provider name", 254
);
name_type!(
    /// The name of an OAuth application (`IDN_OAUTH_CONSUMER_APPS.APP_NAME`, 255 characters).
    OAuthAppName, "OAuth application name", 255
);
name_type!(
    /// An OAuth consumer key (client id; `CONSUMER_KEY`, 255 characters).
    ConsumerKey, "consumer key", 255
);
name_type!(
    /// A user name (`UM_USER_NAME`, 255 characters); tenant users may be qualified.
    UserName, "user name", 255
);
name_type!(
    /// A role name, optionally with its domain: `publisher_role`, `Internal/subscriber`,
    /// `PRIMARY/admin` (`UM_ROLE_NAME`, 255 characters). Case-sensitive.
    RoleName, "role name", 255
);

impl RoleName {
    /// Splits `Internal/subscriber` into `("Internal", "subscriber")`; a name without a domain
    /// has none.
    pub fn split_domain(&self) -> (Option<&str>, &str) {
        match self.0.split_once('/') {
            Some((domain, name)) => (Some(domain), name),
            None => (None, &self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(ApplicationName::new("apim & <friends> \"q\" 'a' ünï").is_ok());
        assert!(ApplicationName::new("").is_err());
        assert!(ApplicationName::new(" padded").is_err());
        assert!(ApplicationName::new("padded ").is_err());
        assert!(ApplicationName::new("tab\tinside").is_err());
        assert!(ApplicationName::new("x".repeat(255)).is_ok());
        let long = ApplicationName::new("x".repeat(256)).unwrap_err();
        assert!(long.to_string().contains("at most 255"), "{long}");
        assert!(IdpName::new("é".repeat(254)).is_ok());
    }

    #[test]
    fn role_domains() {
        assert_eq!(
            RoleName::new("Internal/subscriber").unwrap().split_domain(),
            (Some("Internal"), "subscriber")
        );
        assert_eq!(
            RoleName::new("user_role").unwrap().split_domain(),
            (None, "user_role")
        );
    }

    #[test]
    fn serde_checks_too() {
        assert!(serde_json::from_str::<RoleName>("\" x\"").is_err());
        assert_eq!(
            serde_json::from_str::<RoleName>("\"x\"").unwrap().as_str(),
            "x"
        );
    }
}
