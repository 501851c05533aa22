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

/// How `rtas keys` makes a project's keys.
#[derive(Debug, Clone)]
pub struct KeyOptions {
    /// Days the certificates are valid from now (they are valid from an hour ago, for clocks that differ).
    pub valid_days: u32,
    /// Replace existing files of the same names (otherwise they are refused).
    pub force: bool,
    /// Where to keep the CA's private key (mode 0600), to sign more certificates later; `None` discards it
    /// (the CA can then sign nothing more). Never inside the keys directory.
    pub ca_out: Option<PathBuf>,
}

impl Default for KeyOptions {
    fn default() -> Self {
        Self { valid_days: 7, force: false, ca_out: None }
    }
}

/// The longest validity `--valid-days` accepts (ten years).
pub const MAX_VALID_DAYS: u32 = 3660;

/// [`make_keys_with`] under the defaults: certificates valid for a week, the CA key discarded.
pub fn make_keys(dir: &Path, roles: &[Role]) -> Result<Vec<PathBuf>> {
    make_keys_with(dir, roles, &KeyOptions::default())
}

/// Writes `ca.pem` and `<role>.pem`, `<role>.key` for each of `roles` into `dir` (created with mode 0700;
/// an existing directory must be its owner's alone), every key created with mode 0600 and every file
/// refused if it exists unless `o.force`. The certificates are valid for `o.valid_days` and carry both
/// TLS extended key usages (each party is a client of some peers and a server to others). The CA key goes
/// to `o.ca_out` or nowhere. Returns the files written.
pub fn make_keys_with(dir: &Path, roles: &[Role], o: &KeyOptions) -> Result<Vec<PathBuf>> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    if roles.is_empty() {
        return Err(invalid("--parties names no role"));
    }
    if o.valid_days == 0 || o.valid_days > MAX_VALID_DAYS {
        return Err(invalid(format!("--valid-days must be from 1 to {MAX_VALID_DAYS}, got {}", o.valid_days)));
    }
    let mut names = vec!["ca.pem".to_string()];
    for &role in roles {
        names.push(format!("{}.pem", role_name(role)));
        names.push(format!("{}.key", role_name(role)));
    }
    if let Some(ca) = &o.ca_out {
        let parent = ca.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let same = match (std::fs::canonicalize(parent), std::fs::canonicalize(dir)) {
            (Ok(a), Ok(b)) => a == b,
            _ => parent == dir,
        };
        if same {
            return Err(invalid(format!(
                "--ca-out {} is inside the keys directory: keep the CA key apart from what the parties receive",
                ca.display()
            )));
        }
    }
    super::files::private_dir(dir)?;
    let mut paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    paths.extend(o.ca_out.clone());
    if !o.force
        && let Some(p) = paths.iter().find(|p| p.exists())
    {
        return Err(invalid(format!(
            "{} exists: refusing to overwrite keys (pass --force to replace them)",
            p.display()
        )));
    }
    let now = time::OffsetDateTime::now_utc();
    let (not_before, not_after) = (now - time::Duration::hours(1), now + time::Duration::days(o.valid_days.into()));
    let ca_key = KeyPair::generate().map_err(|e| tls("CA key", e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| tls("CA", e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.distinguished_name.push(DnType::CommonName, "rtas project CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    (ca_params.not_before, ca_params.not_after) = (not_before, not_after);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| tls("CA certificate", e))?;
    let mut files: Vec<(PathBuf, String, u32)> = vec![(dir.join("ca.pem"), ca_cert.pem(), 0o644)];
    if let Some(ca) = &o.ca_out {
        files.push((ca.clone(), ca_key.serialize_pem(), 0o600));
    }
    let issuer = Issuer::new(ca_params, ca_key);
    for &role in roles {
        let key = KeyPair::generate().map_err(|e| tls("party key", e))?;
        let mut params = CertificateParams::new(vec![dns_name(role)]).map_err(|e| tls("party certificate", e))?;
        params.distinguished_name.push(DnType::CommonName, format!("rtas {}", role_name(role)));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        (params.not_before, params.not_after) = (not_before, not_after);
        let cert = params.signed_by(&key, &issuer).map_err(|e| tls("party certificate", e))?;
        files.push((dir.join(format!("{}.pem", role_name(role))), cert.pem(), 0o644));
        files.push((dir.join(format!("{}.key", role_name(role))), key.serialize_pem(), 0o600));
    }
    for (path, text, mode) in &files {
        super::files::write_new(path, text.as_bytes(), *mode, o.force)?;
    }
    Ok(files.into_iter().map(|f| f.0).collect())
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

    /// This party's certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
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
    check_peer_at(roots, chain, role, rustls::pki_types::UnixTime::now(), webpki::KeyUsage::client_auth())
}

/// [`check_peer`] at time `now` for `usage` (client or server authentication).
pub fn check_peer_at(
    roots: &rustls::RootCertStore,
    chain: &[CertificateDer<'_>],
    role: Role,
    now: rustls::pki_types::UnixTime,
    usage: webpki::KeyUsage,
) -> Result<()> {
    let leaf = chain.first().ok_or_else(|| invalid("no certificate presented"))?;
    let cert = webpki::EndEntityCert::try_from(leaf).map_err(|e| invalid(format!("unreadable certificate: {e:?}")))?;
    let algs = rustls::crypto::ring::default_provider().signature_verification_algorithms;
    cert.verify_for_usage(algs.all, &roots.roots, &chain[1..], now, usage, None, None)
        .map_err(|e| invalid(format!("certificate not from the project CA: {e:?}")))?;
    let name = server_name(role)?;
    cert.verify_is_valid_for_subject_name(&name)
        .map_err(|_| invalid(format!("certificate is not valid for {} ({})", role, dns_name(role))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::UnixTime;
    use std::time::Duration;

    #[test]
    fn certificates_are_valid_for_the_stated_days_and_both_tls_uses_only() {
        let dir = std::env::temp_dir().join(format!("rtas-tls-validity-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = KeyOptions { valid_days: 7, ..KeyOptions::default() };
        make_keys_with(&dir, &[Role::P0], &o).unwrap();
        let id = Identity::from_dir(Role::P0, &dir).unwrap();
        let now = UnixTime::now().as_secs();
        let at = |secs: u64| UnixTime::since_unix_epoch(Duration::from_secs(secs));
        let day = 86_400;
        let check = |t: u64, usage| check_peer_at(id.roots(), id.chain(), Role::P0, at(t), usage);
        for usage in [webpki::KeyUsage::client_auth(), webpki::KeyUsage::server_auth()] {
            assert!(check(now, usage).is_ok(), "valid now for both uses");
            assert!(check(now + 6 * day, usage).is_ok(), "valid in six days");
            assert!(check(now + 8 * day, usage).is_err(), "expired after seven days");
            assert!(check(now - 2 * 3600, usage).is_err(), "not valid before it was made (an hour of slack)");
        }
        assert!(check_peer(id.roots(), id.chain(), Role::P1).is_err(), "P0's certificate is not P1's");
        // No CA key was kept, and every key is the owner's alone.
        use std::os::unix::fs::MetadataExt;
        assert!(!dir.join("ca.key").exists());
        assert_eq!(std::fs::metadata(dir.join("p0.key")).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        // A second run refuses to overwrite; --force replaces; --ca-out inside the directory is refused.
        let again = make_keys_with(&dir, &[Role::P0], &o).unwrap_err().to_string();
        assert!(again.contains("exists") && again.contains("--force"), "{again}");
        make_keys_with(&dir, &[Role::P0], &KeyOptions { force: true, ..o.clone() }).unwrap();
        let inside = KeyOptions { force: true, ca_out: Some(dir.join("ca.key")), ..o.clone() };
        assert!(make_keys_with(&dir, &[Role::P0], &inside).unwrap_err().to_string().contains("inside the keys"));
        let ca = dir.with_extension("ca.key");
        let _ = std::fs::remove_file(&ca);
        make_keys_with(&dir, &[Role::P0], &KeyOptions { force: true, ca_out: Some(ca.clone()), ..o }).unwrap();
        assert_eq!(std::fs::metadata(&ca).unwrap().mode() & 0o777, 0o600);
        let _ = std::fs::remove_file(&ca);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
