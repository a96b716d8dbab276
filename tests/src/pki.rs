//! A throw-away test PKI made with the `openssl` CLI (`openssl ca`, so CRLs come from a real CA
//! database).
//!
//! | name               | key      | issued by        | notes                                         |
//! |--------------------|----------|------------------|-----------------------------------------------|
//! | `root-ca`          | RSA-3072 | itself           | the trust anchor                              |
//! | `int-ca`           | P-256    | `root-ca`        | pathlen 0, issues every leaf below            |
//! | `signer-p256`      | P-256    | `int-ca`         | KU digitalSignature + nonRepudiation          |
//! | `signer-rsa`       | RSA-2048 | `int-ca`         | same key usage                                |
//! | `signer-expired`   | P-256    | `int-ca`         | valid 2020-01-01 .. 2021-01-01                |
//! | `signer-revoked`   | P-256    | `int-ca`         | revoked (keyCompromise) in `crl/int.crl`      |
//! | `tsa`              | RSA-2048 | `int-ca`         | EKU timeStamping, critical                    |
//! | `untrusted-root`   | P-256    | itself           | never given as a trust anchor                 |
//! | `signer-untrusted` | P-256    | `untrusted-root` |                                               |
//!
//! Files in the output directory: `NAME.pem` (certificate), `NAME.key` (PKCS#8 PEM, no
//! password), `crl/{root,int}.crl` (DER) and `.crl.pem`, `chain.pem` (int-ca + root-ca).
//! Certificates carry CRL distribution points under [`CRL_BASE`], where nothing listens: the
//! tests hand CRLs to the validators directly or embed them in the PDF (B-LT).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::tools::run;

/// Base URL of the CRL distribution points: port 9 (discard) on loopback, so a validator that
/// tries to fetch gets "connection refused" at once instead of waiting for a timeout.
pub const CRL_BASE: &str = "http://127.0.0.1:9/crl";

/// The trust anchor.
pub const ROOT: &str = "root-ca";
/// The issuing CA of every trusted leaf.
pub const INT: &str = "int-ca";
/// ECDSA P-256 signer.
pub const SIGNER_P256: &str = "signer-p256";
/// RSA-2048 signer.
pub const SIGNER_RSA: &str = "signer-rsa";
/// Signer whose certificate expired on 2021-01-01.
pub const SIGNER_EXPIRED: &str = "signer-expired";
/// Signer revoked in `crl/int.crl`.
pub const SIGNER_REVOKED: &str = "signer-revoked";
/// Time-stamping unit.
pub const TSA: &str = "tsa";
/// A root nobody trusts.
pub const UNTRUSTED_ROOT: &str = "untrusted-root";
/// A signer under [`UNTRUSTED_ROOT`].
pub const SIGNER_UNTRUSTED: &str = "signer-untrusted";

/// A generated PKI (see the module documentation for its contents).
#[derive(Clone, Debug)]
pub struct Pki {
    /// Directory holding every file.
    pub dir: PathBuf,
}

#[derive(Clone, Copy)]
enum KeyType {
    P256,
    Rsa(u32),
}

/// One certificate to issue: name, key, issuing CA section, extensions section, validity.
struct Leaf {
    name: &'static str,
    key: KeyType,
    ca: &'static str,
    subject: &'static str,
    ext: &'static str,
    start: &'static str,
    end: &'static str,
}

const START: &str = "20250101000000Z";
const END: &str = "20450101000000Z";

impl Pki {
    /// Generate the whole PKI into `dir` (created; must be empty or absent). Takes 1-3 s,
    /// mostly the RSA-3072 key.
    pub fn generate(dir: &Path) -> Result<Pki> {
        fs::create_dir_all(dir.join("crl"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let pki = Pki { dir };
        for ca in ["ca_root", "ca_int", "ca_untrusted"] {
            let db = pki.dir.join("db").join(ca);
            fs::create_dir_all(db.join("new"))?;
            fs::write(db.join("index.txt"), "")?;
            fs::write(db.join("serial"), "1001\n")?;
            fs::write(db.join("crlnumber"), "01\n")?;
        }
        fs::write(pki.config(), config(&pki.dir))?;

        pki.self_signed(
            ROOT,
            KeyType::Rsa(3072),
            "ca_root",
            "/C=BE/O=Interop Test PKI/CN=Interop Test Root CA",
        )?;
        pki.self_signed(
            UNTRUSTED_ROOT,
            KeyType::P256,
            "ca_untrusted",
            "/C=BE/O=Mallory Ltd/CN=Untrusted Root CA",
        )?;
        let leaves = [
            Leaf { name: INT, key: KeyType::P256, ca: "ca_root", subject: "/C=BE/O=Interop Test PKI/CN=Interop Test Issuing CA P-256", ext: "ext_int", start: "20200101000000Z", end: "20440101000000Z" },
            Leaf { name: SIGNER_P256, key: KeyType::P256, ca: "ca_int", subject: "/C=BE/O=Interop Test PKI/CN=Alice Signer P-256/serialNumber=PNOBE-90010112345/GN=Alice/SN=Signer", ext: "ext_signer", start: START, end: END },
            Leaf { name: SIGNER_RSA, key: KeyType::Rsa(2048), ca: "ca_int", subject: "/C=BE/O=Interop Test PKI/CN=Bob Signer RSA/serialNumber=PNOBE-85050554321/GN=Bob/SN=Signer", ext: "ext_signer", start: START, end: END },
            Leaf { name: SIGNER_EXPIRED, key: KeyType::P256, ca: "ca_int", subject: "/C=BE/O=Interop Test PKI/CN=Eve Expired Signer", ext: "ext_signer", start: "20200101000000Z", end: "20210101000000Z" },
            Leaf { name: SIGNER_REVOKED, key: KeyType::P256, ca: "ca_int", subject: "/C=BE/O=Interop Test PKI/CN=Rita Revoked Signer", ext: "ext_signer", start: START, end: END },
            Leaf { name: TSA, key: KeyType::Rsa(2048), ca: "ca_int", subject: "/C=BE/O=Interop Test PKI/CN=Interop Test TSA", ext: "ext_tsa", start: START, end: END },
            Leaf { name: SIGNER_UNTRUSTED, key: KeyType::P256, ca: "ca_untrusted", subject: "/C=BE/O=Mallory Ltd/CN=Mallory Signer", ext: "ext_untrusted_signer", start: START, end: END },
        ];
        for leaf in &leaves {
            pki.issue(leaf)?;
        }

        // revoke one signer, then publish both CRLs (DER for validators, PEM beside)
        pki.openssl(&["ca", "-batch", "-name", "ca_int", "-revoke"])
            .arg(pki.cert(SIGNER_REVOKED))
            .args(["-crl_reason", "keyCompromise"])
            .output_checked()?;
        for (ca, crl) in [("ca_root", "root"), ("ca_int", "int")] {
            let pem = pki.dir.join(format!("crl/{crl}.crl.pem"));
            pki.openssl(&["ca", "-batch", "-gencrl", "-name", ca, "-out"])
                .arg(&pem)
                .output_checked()?;
            pki.openssl(&["crl", "-outform", "DER", "-in"])
                .arg(&pem)
                .arg("-out")
                .arg(pki.crl(crl))
                .output_checked()?;
        }
        let chain = [fs::read(pki.cert(INT))?, fs::read(pki.cert(ROOT))?].concat();
        fs::write(pki.chain(), chain)?;
        Ok(pki)
    }

    /// Certificate (PEM) of entity `name`.
    pub fn cert(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pem"))
    }

    /// Private key (PKCS#8 PEM) of entity `name`.
    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.key"))
    }

    /// The trust anchor's certificate.
    pub fn root(&self) -> PathBuf {
        self.cert(ROOT)
    }

    /// `int-ca` + `root-ca`, PEM.
    pub fn chain(&self) -> PathBuf {
        self.dir.join("chain.pem")
    }

    /// DER CRL `root` or `int`.
    pub fn crl(&self, which: &str) -> PathBuf {
        self.dir.join(format!("crl/{which}.crl"))
    }

    fn config(&self) -> PathBuf {
        self.dir.join("db/openssl.cnf")
    }

    fn openssl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("openssl");
        cmd.current_dir(&self.dir)
            .env("OPENSSL_CONF", self.config());
        match args.split_first() {
            // `openssl ca` takes its CA sections from our config, before any other option
            Some((&"ca", rest)) => cmd.arg("ca").arg("-config").arg(self.config()).args(rest),
            _ => cmd.args(args),
        };
        cmd
    }

    fn genkey(&self, name: &str, key: KeyType) -> Result<()> {
        let mut cmd = self.openssl(&["genpkey", "-quiet", "-out"]);
        cmd.arg(self.key(name));
        match key {
            KeyType::P256 => cmd.args([
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-pkeyopt",
                "ec_param_enc:named_curve",
            ]),
            KeyType::Rsa(bits) => cmd
                .args(["-algorithm", "RSA", "-pkeyopt"])
                .arg(format!("rsa_keygen_bits:{bits}")),
        };
        cmd.output_checked()
    }

    fn csr(&self, name: &str, subject: &str) -> Result<PathBuf> {
        let csr = self.dir.join(format!("db/{name}.csr"));
        self.openssl(&["req", "-new", "-subj", subject, "-key"])
            .arg(self.key(name))
            .arg("-out")
            .arg(&csr)
            .output_checked()?;
        Ok(csr)
    }

    fn self_signed(&self, name: &str, key: KeyType, ca: &str, subject: &str) -> Result<()> {
        self.genkey(name, key)?;
        let csr = self.csr(name, subject)?;
        self.openssl(&[
            "ca",
            "-batch",
            "-notext",
            "-selfsign",
            "-name",
            ca,
            "-extensions",
            "ext_root",
        ])
        .args([
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20500101000000Z",
        ])
        .arg("-keyfile")
        .arg(self.key(name))
        .arg("-in")
        .arg(csr)
        .arg("-out")
        .arg(self.cert(name))
        .output_checked()
    }

    fn issue(&self, leaf: &Leaf) -> Result<()> {
        self.genkey(leaf.name, leaf.key)?;
        let csr = self.csr(leaf.name, leaf.subject)?;
        let issuer = match leaf.ca {
            "ca_root" => ROOT,
            "ca_untrusted" => UNTRUSTED_ROOT,
            _ => INT,
        };
        self.openssl(&[
            "ca",
            "-batch",
            "-notext",
            "-name",
            leaf.ca,
            "-extensions",
            leaf.ext,
        ])
        .args(["-startdate", leaf.start, "-enddate", leaf.end])
        .arg("-cert")
        .arg(self.cert(issuer))
        .arg("-keyfile")
        .arg(self.key(issuer))
        .arg("-in")
        .arg(csr)
        .arg("-out")
        .arg(self.cert(leaf.name))
        .output_checked()
    }
}

/// `Command::output` that fails with the command's stderr unless it exits 0.
trait OutputChecked {
    fn output_checked(&mut self) -> Result<()>;
}

impl OutputChecked for Command {
    fn output_checked(&mut self) -> Result<()> {
        run(self).map(drop)
    }
}

/// The `openssl ca` configuration: one CA section per issuer, one extension section per profile.
fn config(dir: &Path) -> String {
    let ca = |name: &str, cert: &str| {
        format!(
            "[ {name} ]\n\
             dir = {dir}/db/{name}\n\
             database = $dir/index.txt\n\
             new_certs_dir = $dir/new\n\
             serial = $dir/serial\n\
             crlnumber = $dir/crlnumber\n\
             certificate = {dir}/{cert}.pem\n\
             private_key = {dir}/{cert}.key\n\
             default_md = sha256\n\
             default_crl_days = 3650\n\
             policy = policy_any\n\
             unique_subject = no\n\
             copy_extensions = none\n\
             email_in_dn = no\n\
             crl_extensions = ext_crl\n\n",
            dir = dir.display()
        )
    };
    let mut cfg = String::from("[ ca ]\ndefault_ca = ca_int\n\n");
    cfg += &ca("ca_root", ROOT);
    cfg += &ca("ca_int", INT);
    cfg += &ca("ca_untrusted", UNTRUSTED_ROOT);
    cfg += &format!(
        "[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
serialNumber = optional
givenName = optional
surname = optional

[ req ]
distinguished_name = req_dn
[ req_dn ]

[ ext_crl ]
authorityKeyIdentifier = keyid:always

[ ext_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[ ext_int ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:{CRL_BASE}/root.crl

[ ext_signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:{CRL_BASE}/int.crl

[ ext_tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:{CRL_BASE}/int.crl

[ ext_untrusted_signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"
    );
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::require_tool;

    #[test]
    fn pki_chains_verify_with_openssl() {
        crate::require!(require_tool("openssl"));
        let tmp = tempfile::tempdir().unwrap();
        let pki = Pki::generate(tmp.path()).unwrap();
        let verify = |leaf: &str, ca: &Path| {
            Command::new("openssl")
                .args(["verify", "-x509_strict", "-CAfile"])
                .arg(ca)
                .arg("-untrusted")
                .arg(pki.cert(INT))
                .arg(pki.cert(leaf))
                .output()
                .unwrap()
        };
        for leaf in [SIGNER_P256, SIGNER_RSA, TSA] {
            let out = verify(leaf, &pki.root());
            assert!(
                out.status.success(),
                "{leaf}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let expired = verify(SIGNER_EXPIRED, &pki.root());
        assert!(
            String::from_utf8_lossy(&expired.stdout).contains("expired")
                || String::from_utf8_lossy(&expired.stderr).contains("expired")
        );
        let untrusted = verify(SIGNER_UNTRUSTED, &pki.root());
        assert!(!untrusted.status.success());
        let crl = Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
            .arg(pki.crl("int"))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&crl.stdout).contains("Key Compromise"));
    }
}
