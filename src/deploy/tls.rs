//! Keys and mutual TLS: a project CA, one certificate per role, and rustls configurations that refuse any
//! peer without a certificate from that CA for the role it claims.
//!
//! A role's certificate names it as the DNS name `<role>.rtas` (`p0.rtas`, `dealer.rtas`, ...). The party
//! that dials checks the listener's name like any TLS client; the listener checks that the dialer's
//! certificate is valid for the role the dialer announces in its first byte.

use crate::error::{Error, Result, invalid};
use crate::net::Role;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The role's name on the command line, in file names and in certificates.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::P0 => "p0",
        Role::P1 => "p1",
        Role::Dealer => "dealer",
        Role::ThirdParty => "third",
        Role::Owner => "owner",
    }
}

/// The role named `s` (`p0`, `p1`, `dealer`, `third`, `owner`).
pub fn parse_role(s: &str) -> Result<Role> {
    let t = s.trim().to_ascii_lowercase();
    Role::ALL
        .into_iter()
        .find(|&r| role_name(r) == t)
        .ok_or_else(|| invalid(format!("unknown role '{s}' (known: p0, p1, dealer, third, owner)")))
}

/// The DNS name a role's certificate carries.
pub fn dns_name(role: Role) -> String {
    format!("{}.rtas", role_name(role))
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source: e }
}

fn tls(what: &str, e: impl std::fmt::Display) -> Error {
    invalid(format!("{what}: {e}"))
}

/// Writes `ca.pem`, `ca.key` and `<role>.pem`, `<role>.key` for each of `roles` into `dir` (created if
/// missing; keys readable by the owner only). Returns the files written.
pub fn make_keys(dir: &Path, roles: &[Role]) -> Result<Vec<PathBuf>> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    if roles.is_empty() {
        return Err(invalid("--parties names no role"));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    let mut write = |name: String, text: String, secret: bool| -> Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        if secret {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(|e| io(&path, e))?;
        }
        written.push(path);
        Ok(())
    };
    let ca_key = KeyPair::generate().map_err(|e| tls("CA key", e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| tls("CA", e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.distinguished_name.push(DnType::CommonName, "rtas project CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| tls("CA certificate", e))?;
    write("ca.pem".into(), ca_cert.pem(), false)?;
    write("ca.key".into(), ca_key.serialize_pem(), true)?;
    let issuer = Issuer::new(ca_params, ca_key);
    for &role in roles {
        let key = KeyPair::generate().map_err(|e| tls("party key", e))?;
        let mut params = CertificateParams::new(vec![dns_name(role)]).map_err(|e| tls("party certificate", e))?;
        params.distinguished_name.push(DnType::CommonName, format!("rtas {}", role_name(role)));
        let cert = params.signed_by(&key, &issuer).map_err(|e| tls("party certificate", e))?;
        write(format!("{}.pem", role_name(role)), cert.pem(), false)?;
        write(format!("{}.key", role_name(role)), key.serialize_pem(), true)?;
    }
    Ok(written)
}

/// What one party presents and trusts.
#[derive(Debug)]
pub struct Identity {
    /// Its role.
    pub role: Role,
    roots: Arc<rustls::RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self { role: self.role, roots: Arc::clone(&self.roots), chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Identity {
    /// Loads the CA certificate `ca`, this party's certificate `cert` and its key `key` (PEM files),
    /// refusing a certificate that is not from the CA or not `role`'s.
    pub fn load(role: Role, ca: &Path, cert: &Path, key: &Path) -> Result<Self> {
        let id = Self::read(role, ca, cert, key)?;
        // Refuse at start-up a certificate that is not this role's (rather than at the first peer).
        id.check_own_certificate().map_err(|e| invalid(format!("{}: {e}", cert.display())))?;
        Ok(id)
    }

    fn read(role: Role, ca: &Path, cert: &Path, key: &Path) -> Result<Self> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| io(p, e));
        let certs = |p: &Path| -> Result<Vec<CertificateDer<'static>>> {
            let bytes = read(p)?;
            let v: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| tls(&p.display().to_string(), e))?;
            if v.is_empty() {
                return Err(invalid(format!("{}: no certificate in it", p.display())));
            }
            Ok(v)
        };
        let mut roots = rustls::RootCertStore::empty();
        for c in certs(ca)? {
            roots.add(c).map_err(|e| tls(&ca.display().to_string(), e))?;
        }
        let key_bytes = read(key)?;
        let key_der = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| tls(&key.display().to_string(), e))?;
        Ok(Self { role, roots: Arc::new(roots), chain: certs(cert)?, key: key_der })
    }

    /// [`Identity::load`] without the start-up check that the certificate is `role`'s: for testing that a
    /// listener refuses such a peer on its own. A party never uses it.
    #[doc(hidden)]
    pub fn load_unchecked(role: Role, ca: &Path, cert: &Path, key: &Path) -> Result<Self> {
        Self::read(role, ca, cert, key)
    }

    /// Loads `<dir>/ca.pem`, `<dir>/<role>.pem`, `<dir>/<role>.key` as `rtas keys` writes them.
    pub fn from_dir(role: Role, dir: &Path) -> Result<Self> {
        let n = role_name(role);
        Self::load(role, &dir.join("ca.pem"), &dir.join(format!("{n}.pem")), &dir.join(format!("{n}.key")))
    }

    fn check_own_certificate(&self) -> Result<()> {
        check_peer(&self.roots, &self.chain, self.role).map_err(|e| invalid(e.to_string()))
    }

    /// The configuration for accepting peers: a client certificate from the CA is required.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>> {
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::clone(&self.roots), provider())
            .build()
            .map_err(|e| tls("client verifier", e))?;
        let cfg = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| tls("TLS", e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| tls("certificate", e))?;
        Ok(Arc::new(cfg))
    }

    /// The configuration for dialing peers, presenting this party's certificate.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        let cfg = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| tls("TLS", e))?
            .with_root_certificates(Arc::clone(&self.roots))
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| tls("certificate", e))?;
        Ok(Arc::new(cfg))
    }

    /// The CA store, for checking a dialer's certificate against the role it claims.
    pub fn roots(&self) -> &rustls::RootCertStore {
        &self.roots
    }
}

/// The server name a dialer expects of `role`.
pub fn server_name(role: Role) -> Result<ServerName<'static>> {
    ServerName::try_from(dns_name(role)).map_err(|e| tls("server name", e))
}

/// Whether `chain` (leaf first) is a certificate from the CA in `roots` valid now for `role`.
pub fn check_peer(roots: &rustls::RootCertStore, chain: &[CertificateDer<'_>], role: Role) -> Result<()> {
    let leaf = chain.first().ok_or_else(|| invalid("no certificate presented"))?;
    let cert = webpki::EndEntityCert::try_from(leaf).map_err(|e| invalid(format!("unreadable certificate: {e:?}")))?;
    let now = rustls::pki_types::UnixTime::now();
    let algs = rustls::crypto::ring::default_provider().signature_verification_algorithms;
    cert.verify_for_usage(algs.all, &roots.roots, &chain[1..], now, webpki::KeyUsage::client_auth(), None, None)
        .map_err(|e| invalid(format!("certificate not from the project CA: {e:?}")))?;
    let name = server_name(role)?;
    cert.verify_is_valid_for_subject_name(&name)
        .map_err(|_| invalid(format!("certificate is not valid for {} ({})", role, dns_name(role))))
}
