//! TLS settings: verification on by default, private CAs and pinned server certificates from
//! PEM, optional client certificates, and an explicit, logged `danger_` escape hatch.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{BoxError, Error, TlsProblem};

/// TLS settings of a client.
#[derive(Clone, Default)]
pub(crate) struct TlsSettings {
    pub(crate) ca_pems: Vec<Vec<u8>>,
    pub(crate) identity: Option<(Vec<u8>, SecretString)>,
    pub(crate) danger_accept_invalid_certs: bool,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("ca_pems", &self.ca_pems.len())
            .field("client_identity", &self.identity.is_some())
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .finish()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn config_error(message: impl Into<String>, source: impl Into<BoxError>) -> Error {
    Error::Config {
        message: message.into(),
        source: Some(source.into()),
    }
}

impl TlsSettings {
    /// Builds the rustls configuration. Errors are configuration errors: nothing is sent.
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, Error> {
        let provider = provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("TLS protocol versions", e))?;

        let verifier: Arc<dyn ServerCertVerifier> = if self.danger_accept_invalid_certs {
            tracing::warn!(
                "TLS certificate verification is OFF (danger_accept_invalid_certs): any server, \
                 including an impostor, will be trusted with the admin credentials"
            );
            Arc::new(AcceptAnyCertificate {
                provider: provider.clone(),
            })
        } else if self.ca_pems.is_empty() {
            Arc::new(
                rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| {
                    config_error("cannot load the system's trusted certificates", e)
                })?,
            )
        } else {
            let mut pinned = Vec::new();
            let mut roots = RootCertStore::empty();
            for pem in &self.ca_pems {
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        config_error("the trusted certificate PEM could not be read", e)
                    })?;
                if certs.is_empty() {
                    return Err(Error::config(
                        "the trusted certificate PEM holds no certificate",
                    ));
                }
                let (_added, _ignored) = roots.add_parsable_certificates(certs.iter().cloned());
                pinned.extend(certs);
            }
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| {
                        config_error("the trusted certificates cannot be used as roots", e)
                    })?;
            Arc::new(PinnedOrWebPki { webpki, pinned })
        };

        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some((cert_pem, key_pem)) => {
                let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
                    .collect::<Result<_, _>>()
                    .map_err(|e| config_error("the client certificate PEM could not be read", e))?;
                if chain.is_empty() {
                    return Err(Error::config(
                        "the client certificate PEM holds no certificate",
                    ));
                }
                // The key error is not chained: its text could quote key material.
                let key = PrivateKeyDer::from_pem_slice(key_pem.expose_secret().as_bytes())
                    .map_err(|_| Error::config("the client private key PEM could not be read"))?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    config_error("the client certificate and key do not form an identity", e)
                })?
            }
        };
        Ok(config)
    }
}

/// Verifies with webpki against the given roots; a server certificate that is byte-for-byte one
/// of the given certificates (a pinned self-signed certificate, as WSO2 ships by default) is
/// accepted even where webpki refuses it as an end entity (e.g. it carries `CA:TRUE`), provided
/// it is valid for the host name. Expiry and name errors are never overridden.
#[derive(Debug)]
struct PinnedOrWebPki {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => Ok(v),
            Err(e) if is_time_or_name_error(&e) => Err(e),
            Err(e)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                let parsed = ParsedCertificate::try_from(end_entity).map_err(|_| e.clone())?;
                verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

fn is_time_or_name_error(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. }
                | CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. }
        )
    )
}

/// Accepts any certificate (but still checks handshake signatures). Only behind
/// `danger_accept_invalid_certs`.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Finds a TLS failure in an error's cause chain and names it.
pub(crate) fn tls_problem(err: &(dyn std::error::Error + 'static)) -> Option<TlsProblem> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(classify(t));
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(t) = inner.downcast_ref::<rustls::Error>() {
                return Some(classify(t));
            }
            if let Some(p) = tls_problem(inner) {
                return Some(p);
            }
        }
        current = e.source();
    }
    None
}

fn classify(e: &rustls::Error) -> TlsProblem {
    use CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature | C::UnhandledCriticalExtension => {
                TlsProblem::UnknownIssuer
            }
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => TlsProblem::Expired,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsProblem::HostnameMismatch,
            C::Other(o) if o.to_string().contains("CaUsedAsEndEntity") => TlsProblem::UnknownIssuer,
            other => TlsProblem::Other(format!("{other:?}")),
        },
        rustls::Error::AlertReceived(alert) => {
            use rustls::AlertDescription as A;
            match alert {
                // A server sends the certificate alerts (RFC 8446 section 6.2) about the
                // client's certificate: missing, untrusted, expired, refused. `decrypt_error`
                // is what it sends when that certificate's signature does not verify (e.g. it
                // was issued by another CA with the same name).
                A::CertificateRequired
                | A::BadCertificate
                | A::UnknownCA
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::AccessDenied
                | A::DecryptError => TlsProblem::ClientCertificate,
                other => TlsProblem::Other(format!("the server sent alert {other:?}")),
            }
        }
        other => TlsProblem::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_about_the_client_certificate_say_to_give_one() {
        use rustls::AlertDescription as A;
        for alert in [
            A::CertificateRequired,
            A::BadCertificate,
            A::UnknownCA,
            A::CertificateExpired,
            A::DecryptError,
        ] {
            assert_eq!(
                classify(&rustls::Error::AlertReceived(alert)),
                TlsProblem::ClientCertificate,
                "{alert:?}"
            );
        }
        assert!(matches!(
            classify(&rustls::Error::AlertReceived(A::HandshakeFailure)),
            TlsProblem::Other(_)
        ));
    }

    #[test]
    fn certificate_errors_are_named() {
        let c = |e| classify(&rustls::Error::InvalidCertificate(e));
        assert_eq!(
            c(CertificateError::UnknownIssuer),
            TlsProblem::UnknownIssuer
        );
        assert_eq!(c(CertificateError::Expired), TlsProblem::Expired);
        assert_eq!(
            c(CertificateError::NotValidForName),
            TlsProblem::HostnameMismatch
        );
    }
}
