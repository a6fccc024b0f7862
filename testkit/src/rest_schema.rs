//! The request-body facts of the simulated IS REST API (generated per spec version into
//! `rest_table.rs`) and a binder that reads a JSON body the way the real server's JAX-RS stack
//! does.
//!
//! identity-api-server's `/api/server/v1` runs on CXF with a plain Jackson `ObjectMapper`
//! (identity-rest-dispatcher `WEB-INF/beans.xml`): `FAIL_ON_UNKNOWN_PROPERTIES` keeps its default
//! (true), so a property the release's model lacks is refused, and `JsonProcessingExceptionMapper`
//! answers it with HTTP 400 `UE-10000` "Invalid Request." / "Provided request body content is not in
//! the expected format."; bean validation (`@NotNull` on required properties, `@Valid` on nested
//! models) answers 400 `UE-10000` "Invalid Request" with the constraint message; an unparsable body
//! is a bare 400 (`JsonMappingExceptionMapper`). Jackson also coerces scalars (`"true"` for a
//! boolean, `"5"` for an integer), so those pass.

use serde_json::Value;

/// A JSON type of a property.
#[derive(Debug)]
pub(crate) enum Ty {
    Str,
    Bool,
    Int,
    /// No property of the vendored specs is a plain `number` yet; kept so the generator's
    /// output always compiles.
    #[allow(dead_code)]
    Num,
    Enum(&'static [&'static str]),
    Ref(&'static str),
    Array(&'static Ty),
    Any,
}

/// A property of a model.
#[derive(Debug)]
pub(crate) struct Prop {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
}

/// A model (an OpenAPI object schema).
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) name: &'static str,
    pub(crate) required: &'static [&'static str],
    /// A free-form map (`additionalProperties`): any keys.
    pub(crate) open: bool,
    pub(crate) props: &'static [Prop],
}

/// One spec file's request models.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The contract file the table was generated from (provenance; shown in Debug).
    #[allow(dead_code)]
    pub(crate) file: &'static str,
    pub(crate) schemas: &'static [Schema],
}

impl Spec {
    pub(crate) fn schema(&self, name: &str) -> Option<&'static Schema> {
        self.schemas.iter().find(|s| s.name == name)
    }

    /// Whether `schema` has the property `prop` in this release.
    pub(crate) fn has(&self, schema: &str, prop: &str) -> bool {
        self.schema(schema)
            .is_some_and(|s| s.props.iter().any(|p| p.name == prop))
    }
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BindError {
    /// Unknown property, wrong JSON type, bad enum value (Jackson): `UE-10000`, "Invalid Request.".
    Format(String),
    /// A required property missing (bean validation): `UE-10000`, "Invalid Request".
    Constraint(String),
}

/// Checks `v` against the model `schema` of `spec`.
pub(crate) fn bind(spec: &Spec, schema: &str, v: &Value) -> Result<(), BindError> {
    let Some(s) = spec.schema(schema) else {
        return Ok(());
    };
    let Value::Object(m) = v else {
        return Err(BindError::Format(format!("{schema}: not an object")));
    };
    if !s.open {
        for (k, val) in m {
            let Some(p) = s.props.iter().find(|p| p.name == k) else {
                return Err(BindError::Format(format!(
                    "Unrecognized field \"{k}\" (class {schema}), not marked as ignorable"
                )));
            };
            check(spec, &p.ty, val, k)?;
        }
    }
    for r in s.required {
        if m.get(*r).is_none_or(Value::is_null) {
            return Err(BindError::Constraint(format!("{r} must not be null")));
        }
    }
    Ok(())
}

fn check(spec: &Spec, ty: &Ty, v: &Value, at: &str) -> Result<(), BindError> {
    if v.is_null() {
        return Ok(());
    }
    let bad = || BindError::Format(format!("{at}: unexpected JSON value {v}"));
    match ty {
        Ty::Any => Ok(()),
        Ty::Str => match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
            _ => Err(bad()),
        },
        Ty::Bool => match v {
            Value::Bool(_) => Ok(()),
            Value::String(s) if s == "true" || s == "false" => Ok(()),
            _ => Err(bad()),
        },
        Ty::Int => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => Ok(()),
            _ => Err(bad()),
        },
        Ty::Num => match v {
            Value::Number(_) => Ok(()),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(()),
            _ => Err(bad()),
        },
        Ty::Enum(vals) => match v {
            Value::String(s) if vals.contains(&s.as_str()) => Ok(()),
            _ => Err(bad()),
        },
        Ty::Ref(name) => bind(spec, name, v),
        Ty::Array(item) => match v {
            Value::Array(items) => items.iter().try_for_each(|i| check(spec, item, i, at)),
            // Jackson's ACCEPT_SINGLE_VALUE_AS_ARRAY is off by default.
            _ => Err(bad()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest_table::{APPS_1_0_82, APPS_1_0_190, APPS_1_2_176};
    use serde_json::json;

    #[test]
    fn consent_fields_follow_the_release() {
        let v510 = json!({"name": "a", "advancedConfigurations": {"skipConsent": true}});
        let v511 = json!({"name": "a", "advancedConfigurations": {"skipLoginConsent": true}});
        assert_eq!(bind(&APPS_1_0_82, "ApplicationModel", &v510), Ok(()));
        assert!(matches!(
            bind(&APPS_1_0_82, "ApplicationModel", &v511),
            Err(BindError::Format(_))
        ));
        assert_eq!(bind(&APPS_1_0_190, "ApplicationModel", &v511), Ok(()));
        assert!(bind(&APPS_1_0_190, "ApplicationModel", &v510).is_err());
    }

    #[test]
    fn required_and_nested_fields() {
        assert!(matches!(
            bind(&APPS_1_2_176, "ApplicationModel", &json!({})),
            Err(BindError::Constraint(_))
        ));
        let oidc = json!({"grantTypes": ["authorization_code"], "clientAuthentication": {"tokenEndpointAuthMethod": "client_secret_basic"}});
        assert_eq!(
            bind(&APPS_1_2_176, "OpenIDConnectConfiguration", &oidc),
            Ok(())
        );
        assert!(bind(&APPS_1_0_190, "OpenIDConnectConfiguration", &oidc).is_err());
        assert!(matches!(
            bind(&APPS_1_2_176, "OpenIDConnectConfiguration", &json!({})),
            Err(BindError::Constraint(_))
        ));
    }
}
