#!/usr/bin/env bash
# make.sh — regenerates the small test PKI used by formats::x509 tests.
# Run from anywhere: `bash formats/tests/data/x509/make.sh`. Needs the openssl CLI (3.x).
# Keys and CA databases stay in a temporary directory; only certificates, CRLs and OCSP
# responses are written here. Never hand-edit the outputs: re-run this script.
#
#   root-ca.pem         RSA-3072, self-signed, 2019..2045 (the trust anchor)
#   int-ca.pem          P-256, issued by root-ca, CA pathlen:0, KU keyCertSign,cRLSign
#   leaf.pem            P-256, issued by int-ca, 2025..2045, KU critical nonRepudiation,
#                       certificatePolicies QCP-n-qscd, qcStatements (QcCompliance, QcSSCD,
#                       QcType esign, QcPDS, QcCClegislation BE), CRL DP, AIA (OCSP, caIssuers)
#   leaf-expired.pem    like leaf, valid 2020-01-01..2021-01-01
#   leaf-revoked.pem    like leaf, revoked (keyCompromise) on 2025-06-01 in int.crl and OCSP
#   leaf-critext.pem    like leaf plus an unknown critical extension 1.3.6.1.4.1.55555.1
#   ocsp-responder.pem  issued by int-ca, EKU critical OCSPSigning, ocsp-nocheck
#   ocsp-noeku.pem      issued by int-ca, no EKU (not an authorised responder)
#   int-nobc.pem        issued by root-ca without basicConstraints; leaf-nobc.pem under it
#   sub-ca.pem          CA issued by int-ca (violates int-ca's pathlen:0); leaf-subca.pem under it
#   nc-ca.pem           issued by root-ca, nameConstraints permitted dirName C=BE,O=Chain Test,
#                       excluded email .blocked.example; leaf-nc-ok.pem (inside),
#                       leaf-nc-bad.pem (O=Elsewhere), leaf-nc-excluded.pem (excluded email SAN)
#   impostor-int.pem    self-signed, same subject and subject key identifier as int-ca, other key
#   untrusted-root.pem  separate hierarchy; untrusted-leaf.pem under it
#   int-ca-cross.pem    cross-certificate: int-ca's subject and key, issued by untrusted-root
#   int.crl root.crl impostor.crl   DER CRLs (impostor.crl names int-ca as issuer)
#   ocsp-good.der            OCSPResponse for leaf: good, signed by ocsp-responder (cert included)
#   ocsp-good-nocerts.der    same without the responder certificate (-resp_no_certs)
#   ocsp-revoked.der         for leaf-revoked: revoked, signed by int-ca itself
#   ocsp-noeku.der           for leaf: good, signed by ocsp-noeku (unauthorised)
#   ocsp-unknown.der         for serial 0x9999 under int-ca (no such certificate): unknown
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export OPENSSL_CONF=/dev/null
BASE=http://127.0.0.1:18080

ca_conf() { # name
  local n="$1"; mkdir -p "db/$n/new"; : > "db/$n/index.txt"; echo 1000 > "db/$n/serial"; echo 01 > "db/$n/crlnumber"
  cat > "db/$n/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir              = $work/db/$n
database         = \$dir/index.txt
new_certs_dir    = \$dir/new
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
default_md       = sha256
default_days     = 3650
default_crl_days = 7300
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
crl_extensions   = crl_ext
[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
serialNumber = optional
givenName = optional
surname = optional
[ crl_ext ]
authorityKeyIdentifier = keyid:always
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ root_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ int_ext ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$BASE/crl/root.crl
[ nobc_ext ]
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ subca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = 0.4.0.194112.1.2
crlDistributionPoints = URI:$BASE/crl/int.crl
authorityInfoAccess = OCSP;URI:$BASE/ocsp,caIssuers;URI:$BASE/int-ca.crt
1.3.6.1.5.5.7.1.3 = ASN1:SEQUENCE:qcs
[ critext_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.4.1.55555.1 = critical,ASN1:NULL
[ plain_leaf_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ocsp_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ocsp_noeku_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ nc_ext ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = critical,permitted;dirName:nc_permitted,excluded;email:.blocked.example
[ nc_permitted ]
C = BE
O = Chain Test
[ nc_ok_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = email:ivy@chain.example
[ nc_excluded_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = email:bea@mail.blocked.example
[ qcs ]
compliance = SEQUENCE:qc_compliance
sscd = SEQUENCE:qc_sscd
type = SEQUENCE:qc_type
pds = SEQUENCE:qc_pds
cc = SEQUENCE:qc_cc
[ qc_compliance ]
id = OID:0.4.0.1862.1.1
[ qc_sscd ]
id = OID:0.4.0.1862.1.4
[ qc_type ]
id = OID:0.4.0.1862.1.6
types = SEQUENCE:qc_types
[ qc_types ]
esign = OID:0.4.0.1862.1.6.1
[ qc_pds ]
id = OID:0.4.0.1862.1.5
locations = SEQUENCE:pds_locations
[ pds_locations ]
en = SEQUENCE:pds_en
[ pds_en ]
url = IA5STRING:https://pds.example.test/en.pdf
language = PRINTABLESTRING:en
[ qc_cc ]
id = OID:0.4.0.1862.1.7
countries = SEQUENCE:qc_countries
[ qc_countries ]
be = PRINTABLESTRING:BE
CNF
}

key() { # file type
  case "$2" in
    rsa3072) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$1" ;;
    p256)    openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
  esac
}

# issue CA NAME KEYTYPE SUBJECT EXT START END  (CA cert/key are CA.pem / CA.key)
issue() {
  local ca="$1" n="$2" kt="$3" subj="$4" ext="$5" start="$6" end="$7"
  key "$n.key" "$kt"
  openssl req -new -key "$n.key" -subj "$subj" -config "db/$ca/ca.cnf" -out "db/$n.csr"
  openssl ca -batch -notext -config "db/$ca/ca.cnf" -cert "$ca.pem" -keyfile "$ca.key" \
    -extensions "$ext" -startdate "$start" -enddate "$end" -in "db/$n.csr" -out "$n.pem" 2>/dev/null
}

# self_signed CADB NAME KEYTYPE SUBJECT EXT
self_signed() {
  local ca="$1" n="$2" kt="$3" subj="$4" ext="$5"
  key "$n.key" "$kt"
  openssl req -new -key "$n.key" -subj "$subj" -config "db/$ca/ca.cnf" -out "db/$n.csr"
  openssl ca -batch -notext -selfsign -config "db/$ca/ca.cnf" -keyfile "$n.key" -extensions "$ext" \
    -startdate 20190101000000Z -enddate 20450101000000Z -in "db/$n.csr" -out "$n.pem" 2>/dev/null
}

ca_conf root-ca; ca_conf int-ca; ca_conf int-nobc; ca_conf nc-ca; ca_conf sub-ca; ca_conf untrusted-root; ca_conf impostor-int
L1=20250101000000Z; L2=20450101000000Z

self_signed root-ca root-ca rsa3072 "/C=BE/O=Chain Test/CN=Chain Test Root CA" root_ext
issue root-ca int-ca p256 "/C=BE/O=Chain Test/CN=Chain Test Issuing CA" int_ext 20190101000000Z 20440101000000Z
issue int-ca leaf p256 "/C=BE/O=Chain Test/CN=Alice Leaf/serialNumber=PNOBE-90010112345/givenName=Alice/SN=Leaf" leaf_ext $L1 $L2
issue int-ca leaf-expired p256 "/C=BE/O=Chain Test/CN=Eve Expired" leaf_ext 20200101000000Z 20210101000000Z
issue int-ca leaf-revoked p256 "/C=BE/O=Chain Test/CN=Rita Revoked" leaf_ext $L1 $L2
issue int-ca leaf-critext p256 "/C=BE/O=Chain Test/CN=Carl Critical" critext_ext $L1 $L2
issue int-ca ocsp-responder p256 "/C=BE/O=Chain Test/CN=Chain Test OCSP Responder" ocsp_ext $L1 $L2
issue int-ca ocsp-noeku p256 "/C=BE/O=Chain Test/CN=Chain Test Not A Responder" ocsp_noeku_ext $L1 $L2
issue root-ca int-nobc p256 "/C=BE/O=Chain Test/CN=Chain Test No BasicConstraints CA" nobc_ext 20190101000000Z 20440101000000Z
issue int-nobc leaf-nobc p256 "/C=BE/O=Chain Test/CN=Nora NoBC" plain_leaf_ext $L1 $L2
issue int-ca sub-ca p256 "/C=BE/O=Chain Test/CN=Chain Test Sub CA" subca_ext $L1 $L2
issue sub-ca leaf-subca p256 "/C=BE/O=Chain Test/CN=Sam SubCA" plain_leaf_ext $L1 $L2
issue root-ca nc-ca p256 "/C=BE/O=Chain Test/CN=Chain Test Constrained CA" nc_ext 20190101000000Z 20440101000000Z
issue nc-ca leaf-nc-ok p256 "/C=BE/O=Chain Test/CN=Ivy Inside" nc_ok_ext $L1 $L2
issue nc-ca leaf-nc-bad p256 "/C=BE/O=Elsewhere/CN=Oscar Outside" plain_leaf_ext $L1 $L2
issue nc-ca leaf-nc-excluded p256 "/C=BE/O=Chain Test/CN=Bea Blocked" nc_excluded_ext $L1 $L2
self_signed untrusted-root untrusted-root p256 "/C=BE/O=Mallory Ltd/CN=Untrusted Root CA" root_ext
issue untrusted-root untrusted-leaf p256 "/C=BE/O=Mallory Ltd/CN=Mallory Signer" plain_leaf_ext $L1 $L2

# cross-certificate for int-ca's key from the untrusted root
openssl req -new -key int-ca.key -subj "/C=BE/O=Chain Test/CN=Chain Test Issuing CA" -config db/untrusted-root/ca.cnf -out db/int-ca-cross.csr
openssl ca -batch -notext -config db/untrusted-root/ca.cnf -cert untrusted-root.pem -keyfile untrusted-root.key \
  -extensions int_ext -startdate 20190101000000Z -enddate 20440101000000Z -in db/int-ca-cross.csr -out int-ca-cross.pem 2>/dev/null

# impostor: int-ca's subject and subject key identifier on another key
int_ski=$(openssl x509 -in int-ca.pem -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :')
sed -i "s/^\[ root_ext \]/[ impostor_ext ]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = $int_ski\n\n[ root_ext ]/" db/impostor-int/ca.cnf
self_signed impostor-int impostor-int p256 "/C=BE/O=Chain Test/CN=Chain Test Issuing CA" impostor_ext

# revoke leaf-revoked at a fixed date (2025-06-01) so tests do not depend on when this ran
openssl ca -batch -config db/int-ca/ca.cnf -cert int-ca.pem -keyfile int-ca.key \
  -revoke leaf-revoked.pem -crl_reason keyCompromise 2>/dev/null
sed -i -E 's/^(R\t[^\t]*\t)[0-9]{12}Z/\1250601000000Z/' db/int-ca/index.txt

for ca in root-ca int-ca impostor-int; do
  openssl ca -batch -gencrl -config "db/$ca/ca.cnf" -cert "$ca.pem" -keyfile "$ca.key" -out "db/$ca.crl.pem" 2>/dev/null
done
openssl crl -in db/root-ca.crl.pem -outform DER -out root.crl
openssl crl -in db/int-ca.crl.pem -outform DER -out int.crl
openssl crl -in db/impostor-int.crl.pem -outform DER -out impostor.crl

# ocsp OUT CERT SIGNER [extra responder options]
ocsp() {
  local out="$1" cert="$2" signer="$3"; shift 3
  openssl ocsp -issuer int-ca.pem -cert "$cert.pem" -no_nonce -reqout "db/$out.req" 2>/dev/null
  openssl ocsp -index db/int-ca/index.txt -CA int-ca.pem -rsigner "$signer.pem" -rkey "$signer.key" \
    -reqin "db/$out.req" -respout "$out.der" -ndays 7300 "$@" 2>/dev/null
}
ocsp ocsp-good leaf ocsp-responder
ocsp ocsp-good-nocerts leaf ocsp-responder -resp_no_certs
ocsp ocsp-revoked leaf-revoked int-ca
ocsp ocsp-noeku leaf ocsp-noeku
openssl ocsp -issuer int-ca.pem -serial 0x9999 -no_nonce -reqout db/ocsp-unknown.req 2>/dev/null
openssl ocsp -index db/int-ca/index.txt -CA int-ca.pem -rsigner ocsp-responder.pem -rkey ocsp-responder.key \
  -reqin db/ocsp-unknown.req -respout ocsp-unknown.der -ndays 7300 2>/dev/null

rm -f "$here"/*.pem "$here"/*.crl "$here"/*.der
cp ./*.pem ./*.crl ./*.der "$here/"
echo "x509 test PKI written to $here"
