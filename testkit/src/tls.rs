//! A private CA made fresh for each sandbox, server leaf certificates (good, expired, wrong host)
//! and client certificates for mutual TLS.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Which leaf certificate a server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeafKind {
    /// Valid now, for `localhost`, `127.0.0.1` and `::1`.
    #[default]
    Good,
    /// Valid names, but expired in 2001.
    Expired,
    /// Valid now, but only for `wrong.example.invalid`.
    WrongHost,
}

/// Whether a server asks TLS clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No client certificate requested.
    #[default]
    None,
    /// Requested but optional (as WSO2's connector "wants" one): a client signed by the CA may
    /// present one; IS's MutualTLS client authenticator then engages on a body `client_id`.
    Optional,
    /// Required: handshakes without a certificate signed by the CA fail.
    Required,
}

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct CertifiedKey {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key, PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("cert_pem", &"<pem>")
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl CertifiedKey {
    /// Certificate followed by key, PEM (the identity format most clients take).
    pub fn identity_pem(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }
}

/// The sandbox's certificate authority.
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
    der: CertificateDer<'static>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// Why a certificate could not be made.
#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "test TLS setup failed: {}", self.0)
    }
}

impl std::error::Error for TlsError {}

fn err(e: impl std::fmt::Display) -> TlsError {
    TlsError(e.to_string())
}

impl TestCa {
    /// A new CA (ECDSA P-256, valid from yesterday for ten years).
    pub fn new() -> Result<Self, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "wso2-testkit CA");
        dn.push(DnType::OrganizationName, "wso2-testkit");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = rcgen::date_time_ymd(2024, 1, 1);
        params.not_before = now;
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.self_signed(&key).map_err(err)?;
        Ok(Self {
            pem: cert.pem(),
            der: cert.der().clone(),
            params,
            key,
        })
    }

    /// The CA certificate, PEM: what clients must trust.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// A server leaf certificate of the given kind.
    pub fn server_leaf(&self, kind: LeafKind) -> Result<CertifiedKey, TlsError> {
        let names: Vec<String> = match kind {
            LeafKind::WrongHost => vec!["wrong.example.invalid".into()],
            _ => vec!["localhost".into()],
        };
        let mut params = CertificateParams::new(names).map_err(err)?;
        if kind != LeafKind::WrongHost {
            params
                .subject_alt_names
                .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
            params
                .subject_alt_names
                .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        }
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            if kind == LeafKind::WrongHost {
                "wrong.example.invalid"
            } else {
                "localhost"
            },
        );
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if kind == LeafKind::Expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        } else {
            params.not_before = rcgen::date_time_ymd(2024, 1, 1);
            params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        }
        self.sign(params)
    }

    /// A client certificate for mutual TLS, signed by this CA, with `common_name` as subject.
    pub fn client_cert(&self, common_name: &str) -> Result<CertifiedKey, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Result<CertifiedKey, TlsError> {
        let key = KeyPair::generate().map_err(err)?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).map_err(err)?;
        Ok(CertifiedKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// A rustls server configuration presenting `leaf`, optionally demanding a client
    /// certificate signed by this CA.
    pub(crate) fn server_config(
        &self,
        leaf: &CertifiedKey,
        client_auth: ClientAuth,
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(err)?;
        let builder = if client_auth == ClientAuth::None {
            builder.with_no_client_auth()
        } else {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.der.clone()).map_err(err)?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            );
            let verifier = if client_auth == ClientAuth::Optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(verifier.build().map_err(err)?)
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone()));
        let mut cfg = builder
            .with_single_cert(vec![leaf.cert_der.clone(), self.der.clone()], key)
            .map_err(err)?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}
