//! Secret-bearing values of the wire models.
//!
//! A [`Secret`] holds its text in a [`SecretString`]: `Debug` prints `[REDACTED]`, and serialising
//! it (to JSON snapshots, plans or journals) writes the marker `"<redacted>"`, never the value.
//! Deserialising gives back a *redacted* secret, which cannot be sent: the caller fills it from the
//! live object first (see [`Secret::is_redacted`]).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::xml::{Child, DecodeError, EncodeProblem, Ns, XmlReader, XmlValue, XmlWriter};

/// The text written in place of a secret when it is serialised.
pub const REDACTED: &str = "<redacted>";

/// A secret string inside a wire model (a client secret, a password).
#[derive(Clone)]
pub struct Secret(Option<SecretString>);

impl Secret {
    /// A secret with a known value.
    pub fn new(value: impl Into<SecretString>) -> Self {
        Self(Some(value.into()))
    }

    /// A secret whose value was withheld when it was serialised.
    pub fn redacted() -> Self {
        Self(None)
    }

    /// Whether the value was withheld (the secret came from a serialised snapshot).
    pub fn is_redacted(&self) -> bool {
        self.0.is_none()
    }

    /// The secret value, if known. Exposing it is an explicit act.
    pub fn expose(&self) -> Option<&str> {
        self.0.as_ref().map(ExposeSecret::expose_secret)
    }

    /// The value as a `SecretString`, if known.
    pub fn secret_string(&self) -> Option<&SecretString> {
        self.0.as_ref()
    }
}

impl From<SecretString> for Secret {
    fn from(value: SecretString) -> Self {
        Self(Some(value))
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(Some(SecretString::from(value)))
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(Some(SecretString::from(value)))
    }
}

impl PartialEq for Secret {
    /// Two known secrets are equal when their values are; redacted secrets equal each other only.
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// Whatever was stored, a deserialised secret is redacted: secrets are never persisted.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer)?;
        Ok(Self::redacted())
    }
}

impl XmlValue for Secret {
    fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        match self.expose() {
            Some(v) => w.leaf(ns, name, v),
            None => w.fail(EncodeProblem::RedactedSecret { element: name }),
        }
    }
    fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        r.read_text().map(Self::from)
    }
}

/// The value of a [`Property`](crate::model::Property): plain text, or a secret when the property
/// is confidential or its name says it holds a secret (`ClientSecret`, `oauthConsumerSecret`,
/// any name containing "secret" or "password").
#[derive(Clone, PartialEq)]
pub enum PropertyValue {
    /// Ordinary text.
    Plain(String),
    /// A secret.
    Secret(Secret),
}

impl PropertyValue {
    /// Whether a property of this name, with this `confidential` flag, holds a secret.
    pub fn is_secret_property(name: Option<&str>, confidential: Option<bool>) -> bool {
        if confidential == Some(true) {
            return true;
        }
        let Some(name) = name else { return false };
        let lower = name.to_ascii_lowercase();
        lower.contains("secret") || lower.contains("password")
    }

    /// The plain text, or the secret's value if known. Exposing a secret this way is explicit.
    pub fn expose(&self) -> Option<&str> {
        match self {
            Self::Plain(s) => Some(s),
            Self::Secret(s) => s.expose(),
        }
    }

    /// Whether this is a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret(_))
    }

    /// Whether this is a secret whose value was withheld.
    pub fn is_redacted(&self) -> bool {
        matches!(self, Self::Secret(s) if s.is_redacted())
    }

    /// The same value, held as a secret.
    pub fn into_secret(self) -> Self {
        match self {
            Self::Plain(s) => Self::Secret(Secret::from(s)),
            s => s,
        }
    }

    pub(crate) fn read_as(r: &mut XmlReader<'_>, secret: bool) -> Result<Self, DecodeError> {
        let text = r.read_text()?;
        Ok(if secret {
            Self::Secret(Secret::from(text))
        } else {
            Self::Plain(text)
        })
    }

    pub(crate) fn read_field_as(
        slot: &mut Option<Self>,
        r: &mut XmlReader<'_>,
        child: &Child,
        secret: bool,
    ) -> Result<(), DecodeError> {
        if child.nil {
            r.skip()?;
            *slot = None;
        } else {
            *slot = Some(Self::read_as(r, secret)?);
        }
        Ok(())
    }
}

impl From<&str> for PropertyValue {
    fn from(value: &str) -> Self {
        Self::Plain(value.to_owned())
    }
}

impl From<String> for PropertyValue {
    fn from(value: String) -> Self {
        Self::Plain(value)
    }
}

impl From<Secret> for PropertyValue {
    fn from(value: Secret) -> Self {
        Self::Secret(value)
    }
}

impl From<SecretString> for PropertyValue {
    fn from(value: SecretString) -> Self {
        Self::Secret(Secret::from(value))
    }
}

impl fmt::Debug for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(s) => fmt::Debug::fmt(s, f),
            Self::Secret(s) => fmt::Debug::fmt(s, f),
        }
    }
}

impl Serialize for PropertyValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Plain(s) => serializer.serialize_str(s),
            Self::Secret(s) => s.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PropertyValue {
    /// The redaction marker reads back as a redacted secret; any other string as plain text.
    /// (The owning property also re-classifies by name and `confidential` after reading.)
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(if s == REDACTED {
            Self::Secret(Secret::redacted())
        } else {
            Self::Plain(s)
        })
    }
}

impl XmlValue for PropertyValue {
    fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        match self {
            Self::Plain(s) => w.leaf(ns, name, s),
            Self::Secret(s) => s.write_element(w, ns, name),
        }
    }
    fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        Self::read_as(r, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_or_json() {
        let s = Secret::from("canary-s3cr3t");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("canary"));
        let back: Secret = serde_json::from_str(&json).unwrap();
        assert!(back.is_redacted());
        let v = PropertyValue::from(s);
        assert!(!format!("{v:?}").contains("canary"));
        assert!(!serde_json::to_string(&v).unwrap().contains("canary"));
    }

    #[test]
    fn redacted_secrets_cannot_be_sent() {
        let mut w = XmlWriter::new();
        Secret::redacted().write_element(&mut w, super::super::xml::ns::MODEL, "value");
        assert!(matches!(
            w.finish(),
            Err(EncodeProblem::RedactedSecret { element: "value" })
        ));
    }

    #[test]
    fn secret_property_names() {
        assert!(PropertyValue::is_secret_property(
            Some("ClientSecret"),
            None
        ));
        assert!(PropertyValue::is_secret_property(
            Some("oauthConsumerSecret"),
            Some(false)
        ));
        assert!(PropertyValue::is_secret_property(
            Some("anything"),
            Some(true)
        ));
        assert!(!PropertyValue::is_secret_property(
            Some("ClientId"),
            Some(false)
        ));
    }
}
