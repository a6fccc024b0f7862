//! Former action names, still accepted as fault targets.
//!
//! The browser login through IS named its hops after the servers (`is.authorize`,
//! `apim.commonauth`, `portal.login`, ...); before, IS's OAuth2 endpoints were `oidc.*` and the
//! portals' login endpoints `portal.publisher`, `portal.devportal`, `portal.admin`. A fault rule
//! naming the old action still hits the same requests.

/// The former name of `action` for a request to `path`, if it had one.
pub(crate) fn legacy(action: &str, path: &str) -> Option<&'static str> {
    Some(match action {
        "is.discovery" => "oidc.discovery",
        "is.discovery_invalid" => "oidc.discovery_invalid",
        "is.authorize" => "oidc.authorize",
        "is.commonauth" => "oidc.commonauth",
        "is.login_page" => "oidc.login_page",
        "is.error_page" => "oidc.error_page",
        "is.token" => "oidc.token",
        "is.userinfo" => "oidc.userinfo",
        "is.jwks" => "oidc.jwks",
        "is.logout" => "oidc.logout",
        "portal.login" | "portal.configs" => {
            if path.starts_with("/publisher/") {
                "portal.publisher"
            } else if path.starts_with("/devportal/") {
                "portal.devportal"
            } else if path.starts_with("/admin/") {
                "portal.admin"
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_names() {
        assert_eq!(legacy("is.token", "/oauth2/token"), Some("oidc.token"));
        assert_eq!(
            legacy("portal.login", "/publisher/services/auth/login"),
            Some("portal.publisher")
        );
        assert_eq!(
            legacy("portal.configs", "/devportal/services/configs"),
            Some("portal.devportal")
        );
        assert_eq!(legacy("apim.token", "/oauth2/token"), None);
    }
}
