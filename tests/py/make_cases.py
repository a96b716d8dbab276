#!/usr/bin/env python3
"""make_cases.py PKI_DIR SAMPLES_DIR OUT_DIR — sign the verifier's test cases.

Signs the sample PDFs (tests/py/samples.py, plus contract-objstm.pdf made by qpdf) under the
test PKI (tests/src/pki.rs) with pyHanko's Python API, mutates some afterwards, and makes a
few signatures whose CMS comes from another producer (openssl cms, hand-built asn1crypto).
Everything is offline: timestamps come from pyHanko's in-process DummyTimeStamper or from
`openssl ts -reply`; B-LT/B-LTA revocation data are the PKI's CRLs handed to pyHanko.

Writes OUT_DIR/NAME.pdf and OUT_DIR/cases.json, a list of
  {"file": NAME.pdf, "intent": {FIELD: INDICATION}, "what": description}
where INDICATION is what the case is built to be: TOTAL-PASSED, TOTAL-FAILED or
INDETERMINATE (pyhanko_verdicts.py then asks pyHanko what it thinks; the harness checks that
both agree before using pyHanko's verdict as the expectation for `verify`). Document
timestamps are listed under their field name like signatures.

pyHanko behaviour relied on (0.38): PdfSigner.sign_pdf signs in an incremental update;
DummyTimeStamper is RSA-only and puts ESS signing-certificate (v1) + signing-time into the
token; async_digest_doc_for_signing + PdfTBSDocument.finish_signing embed an external CMS.
"""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile

from asn1crypto import algos, cms, tsp
from asn1crypto import crl as asn1_crl
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

PASS, FAIL, INDET = "TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE"
PADES = fields.SigSeedSubFilter.PADES
PKCS7 = fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED
SELLER_BOX = (60, 200, 280, 280)
BUYER_BOX = (320, 200, 540, 280)

pki, samples, out = sys.argv[1:4]
P = lambda name: os.path.join(pki, name)  # noqa: E731
CONTRACT = os.path.join(samples, "contract.pdf")
TERMS = os.path.join(samples, "terms-3p.pdf")
CONTRACT_OBJSTM = os.path.join(samples, "contract-objstm.pdf")
cases = []


def case(name, what, intent):
    """Register a generated file and what each of its signatures should get."""
    cases.append({"file": name, "intent": intent, "what": what})
    return os.path.join(out, name)


def signer(name):
    chain = [P("untrusted-root.pem")] if name == "signer-untrusted" else [P("int-ca.pem"), P("root-ca.pem")]
    return signers.SimpleSigner.load(P(f"{name}.key"), P(f"{name}.pem"), ca_chain_files=chain)


def validation_context():
    """Offline: trust the root only, know the CRLs, never fetch."""
    crls = [open(P(f"crl/{c}.crl"), "rb").read() for c in ("root", "int")]
    return ValidationContext(
        trust_roots=[load_cert_from_pemder(P("root-ca.pem"))],
        other_certs=[load_cert_from_pemder(P("int-ca.pem"))],
        crls=crls,
        allow_fetching=False,
        revocation_mode="hard-fail",
    )


def dummy_tsa():
    return timestamps.DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(P("tsa.pem")),
        tsa_key=load_private_key_from_pemder(P("tsa.key"), passphrase=None),
        certs_to_embed=SimpleCertificateStore.from_certs([load_cert_from_pemder(P("int-ca.pem"))]),
    )


class OpensslTsa(timestamps.TimeStamper):
    """A TSA answering through `openssl ts -reply` (ESS signing-certificate-v2, accuracy, TSA name)."""

    async def async_request_tsa_response(self, req):
        with tempfile.TemporaryDirectory() as tmp:
            cnf = os.path.join(tmp, "tsa.cnf")
            with open(cnf, "w") as f:
                f.write(f"""[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {tmp}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
            with open(os.path.join(tmp, "serial"), "w") as f:
                f.write("01\n")
            with open(os.path.join(tmp, "req.tsq"), "wb") as f:
                f.write(req.dump())
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", cnf, "-queryfile", f"{tmp}/req.tsq",
                 "-signer", P("tsa.pem"), "-inkey", P("tsa.key"), "-chain", P("chain.pem"),
                 "-out", f"{tmp}/resp.tsr"],
                check=True, capture_output=True, env={**os.environ, "OPENSSL_CONF": cnf})
            with open(f"{tmp}/resp.tsr", "rb") as f:
                return tsp.TimeStampResp.load(f.read())


def sign(src, dst, field, who, box=None, timestamper=None, **meta):
    """Sign `src` into `dst` (an incremental update) with pyHanko's PdfSigner."""
    meta.setdefault("subfilter", PADES)
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256", **meta)
    spec = fields.SigFieldSpec(field, box=box) if box else None
    with open(src, "rb") as inf:
        w = IncrementalPdfFileWriter(inf, strict=False)
        pdf_signer = signers.PdfSigner(meta, signer(who), timestamper=timestamper, new_field_spec=spec)
        with open(dst, "wb") as outf:
            pdf_signer.sign_pdf(w, output=outf)
    return dst


def fill_field(src, dst, name, value):
    """Incremental update that only sets the value of text field `name` (form filling)."""
    with open(src, "rb") as inf:
        w = IncrementalPdfFileWriter(inf, strict=False)
        for ref in w.root["/AcroForm"]["/Fields"]:
            fld = ref.get_object()
            if fld.get("/T") == name:
                fld["/V"] = generic.TextStringObject(value)
                w.mark_update(ref)
                break
        else:
            raise SystemExit(f"no field {name} in {src}")
        with open(dst, "wb") as outf:
            w.write(outf)


def add_page_content(src, dst):
    """Incremental update that draws a red box on page 1 (not allowed after any signature)."""
    with open(src, "rb") as inf:
        w = IncrementalPdfFileWriter(inf, strict=False)
        stream = generic.StreamObject(stream_data=b"q 1 0 0 RG 4 w 320 500 200 60 re S Q")
        w.add_stream_to_page(0, w.add_object(stream))
        with open(dst, "wb") as outf:
            w.write(outf)


def add_dss(path):
    """Incremental update adding a DSS with the PKI's CRLs and CA certificates, validating nothing
    (pyHanko's own B-LT path refuses to embed data for a revoked signer)."""
    crls = [asn1_crl.CertificateList.load(open(P(f"crl/{c}.crl"), "rb").read()) for c in ("root", "int")]
    certs = [load_cert_from_pemder(P(f"{c}.pem")) for c in ("int-ca", "root-ca", "tsa")]
    with open(path, "r+b") as f:
        DocumentSecurityStore.add_dss(f, None, certs=certs, crls=crls)


def replace_once(path, old, new):
    """Same-length in-place edit of bytes that occur exactly once."""
    assert len(old) == len(new)
    data = open(path, "rb").read()
    assert data.count(old) == 1, (path, old, data.count(old))
    open(path, "wb").write(data.replace(old, new))


def flip_signature_value(path):
    """Alter one hex digit of the CMS signature value inside /Contents (the signed range is untouched)."""
    with open(path, "rb") as f:
        es = PdfFileReader(f, strict=False).embedded_signatures[0]
        value = es.signer_info["signature"].native
    data = open(path, "rb").read()
    for hexed in (value.hex().encode(), value.hex().upper().encode()):
        at = data.find(hexed)
        if at >= 0:
            break
    else:
        raise SystemExit(f"signature value not found in {path}")
    pos = at + len(hexed) // 2
    digit = b"0" if data[pos:pos + 1] != b"0" else b"1"
    open(path, "wb").write(data[:pos] + digit + data[pos + 1:])


def external_cms(src, dst, field, subfilter, make_cms):
    """Sign with a CMS made outside pyHanko: pyHanko writes the placeholder, `make_cms(data)` gets
    the bytes of the two byte ranges and returns DER, which is spliced into /Contents."""
    cert = load_cert_from_pemder(P("signer-p256.pem"))
    placeholder = signers.ExternalSigner(signing_cert=cert, cert_registry=SimpleCertificateStore(), signature_value=bytes(256))
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256", subfilter=subfilter)
    with open(src, "rb") as inf:
        w = IncrementalPdfFileWriter(inf, strict=False)
        pdf_signer = signers.PdfSigner(meta, placeholder, new_field_spec=fields.SigFieldSpec(field, box=SELLER_BOX))
        prep, _tbs, output = asyncio.run(pdf_signer.async_digest_doc_for_signing(w, bytes_reserved=16384))
        buf = output.getvalue()
        data = buf[:prep.reserved_region_start] + buf[prep.reserved_region_end:]
        PdfTBSDocument.finish_signing(output, prep, make_cms(data))
    with open(dst, "wb") as f:
        f.write(output.getvalue())


def openssl_cms(*extra, who="signer-p256"):
    """`openssl cms -sign` detached over the byte ranges; `extra` adds options (-cades, -noattr, -keyopt)."""
    def make(data):
        with tempfile.TemporaryDirectory() as tmp:
            with open(f"{tmp}/data", "wb") as f:
                f.write(data)
            subprocess.run(
                ["openssl", "cms", "-sign", "-binary", "-md", "sha256", "-in", f"{tmp}/data",
                 "-signer", P(f"{who}.pem"), "-inkey", P(f"{who}.key"), "-certfile", P("int-ca.pem"),
                 "-outform", "DER", "-out", f"{tmp}/sig.p7s", *extra],
                check=True, capture_output=True, env={**os.environ, "OPENSSL_CONF": "/dev/null"})
            return open(f"{tmp}/sig.p7s", "rb").read()
    return make


def unsorted_attrs_cms(data):
    """CMS built by hand whose signed attributes are NOT in DER (sorted) SET OF order:
    message-digest, signing-certificate-v2, content-type. The signature covers these bytes as they
    are, as CMS implementations that hash the received encoding expect."""
    cert = load_cert_from_pemder(P("signer-p256.pem"))
    key = serialization.load_pem_private_key(open(P("signer-p256.key"), "rb").read(), None)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    ess = tsp.SigningCertificateV2({"certs": [{"cert_hash": cert.sha256}]})  # default hash: sha256
    attrs = [
        cms.CMSAttribute({"type": "message_digest", "values": [digest.finalize()]}),
        cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
    ]
    body = b"".join(a.dump() for a in attrs)
    set_der = _der_tlv(0x31, body)  # SET OF, in our order
    signed_attrs = cms.CMSAttributes.load(set_der)
    signature = key.sign(set_der, ec.ECDSA(hashes.SHA256()))
    sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}},
        "digest_algorithm": sha256,
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [sha256],
        "encap_content_info": {"content_type": "data"},
        "certificates": [cert, load_cert_from_pemder(P("int-ca.pem"))],
        "signer_infos": [signer_info],
    })
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    # pin: asn1crypto keeps the order of a parsed SET OF (it would sort one it builds itself)
    again = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signed_attrs"]
    assert [a["type"].native for a in again] == ["message_digest", "signing_certificate_v2", "content_type"]
    return der


def _der_tlv(tag, body):
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def main():
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=out, prefix="work-")

    # --- valid signatures, one property each ---
    sign(CONTRACT, case("b-b-p256.pdf", "PAdES B-B, ECDSA P-256, visible field", {"Seller": PASS}),
         "Seller", "signer-p256", box=SELLER_BOX)
    sign(CONTRACT, case("b-b-rsa.pdf", "PAdES B-B, RSA-2048 PKCS#1 v1.5", {"Seller": PASS}),
         "Seller", "signer-rsa", box=SELLER_BOX)
    sign(CONTRACT, case("b-t-p256.pdf", "PAdES B-T, timestamp from pyHanko's DummyTimeStamper (ESS v1)", {"Seller": PASS}),
         "Seller", "signer-p256", box=SELLER_BOX, timestamper=dummy_tsa())
    sign(CONTRACT, case("b-t-openssl-tsa.pdf", "PAdES B-T, timestamp from `openssl ts -reply` (ESS v2)", {"Seller": PASS}),
         "Seller", "signer-rsa", box=SELLER_BOX, timestamper=OpensslTsa())
    sign(TERMS, case("b-lt-p256.pdf", "PAdES B-LT on a 3-page document: DSS with certificates and CRLs", {"Signature1": PASS}),
         "Signature1", "signer-p256", timestamper=dummy_tsa(),
         embed_validation_info=True, validation_context=validation_context())
    sign(CONTRACT, case("b-lta-p256.pdf", "PAdES B-LTA: DSS + document timestamp", {"Seller": PASS, "DocTimeStamp1": PASS}),
         "Seller", "signer-p256", box=SELLER_BOX, timestamper=dummy_tsa(),
         embed_validation_info=True, use_pades_lta=True, timestamp_field_name="DocTimeStamp1",
         validation_context=validation_context())
    sign(CONTRACT, case("adbe-pkcs7-detached.pdf", "legacy SubFilter adbe.pkcs7.detached, P-256", {"Seller": PASS}),
         "Seller", "signer-p256", box=SELLER_BOX, subfilter=PKCS7)
    sign(CONTRACT_OBJSTM, case("xref-stream-b-b.pdf", "B-B on an input with a cross-reference stream and object streams (qpdf)", {"Seller": PASS}),
         "Seller", "signer-p256", box=SELLER_BOX)

    # --- two signers, certification, changes after signing ---
    first = sign(CONTRACT, f"{tmp}/seller.pdf", "Seller", "signer-p256", box=SELLER_BOX)
    sign(first, case("two-signers.pdf", "Seller (P-256) then Buyer (RSA) in a second incremental update", {"Seller": PASS, "Buyer": PASS}),
         "Buyer", "signer-rsa", box=BUYER_BOX)
    fill_field(first, case("approval-then-form-fill.pdf", "approval signature, then buyer_name filled in (allowed)", {"Seller": PASS}),
               "buyer_name", "Bob Buyer")
    add_page_content(first, case("approval-then-page-content.pdf", "approval signature, then page content added (not allowed)", {"Seller": FAIL}))
    cert_ff = sign(CONTRACT, case("certified-fill-forms.pdf", "certification signature, DocMDP P=2 (form filling allowed)", {"Seller": PASS}),
                   "Seller", "signer-p256", box=SELLER_BOX, certify=True, docmdp_permissions=fields.MDPPerm.FILL_FORMS)
    fill_field(cert_ff, case("certified-then-form-fill.pdf", "certification P=2, then buyer_name filled in (allowed)", {"Seller": PASS}),
               "buyer_name", "Bob Buyer")
    cert_nc = sign(CONTRACT, f"{tmp}/certified-no-changes.pdf", "Seller", "signer-p256", box=SELLER_BOX,
                   certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    fill_field(cert_nc, case("certified-no-changes-then-form-fill.pdf", "certification P=1, then a field filled in (DocMDP violation)", {"Seller": FAIL}),
               "buyer_name", "Bob Buyer")

    # --- broken signatures ---
    tampered = case("tampered-signed-range.pdf", "price text edited inside the signed byte range", {"Seller": FAIL})
    sign(CONTRACT, tampered, "Seller", "signer-p256", box=SELLER_BOX)
    replace_once(tampered, b"EUR 250,000.00", b"EUR 950,000.00")
    altered = case("tampered-contents.pdf", "one hex digit of the CMS signature value in /Contents altered", {"Seller": FAIL})
    sign(CONTRACT, altered, "Seller", "signer-p256", box=SELLER_BOX)
    flip_signature_value(altered)

    # --- trust problems ---
    sign(CONTRACT, case("expired-signer.pdf", "signer certificate expired 2021-01-01, no proof of existence", {"Seller": INDET}),
         "Seller", "signer-expired", box=SELLER_BOX)
    sign(CONTRACT, case("untrusted-root.pdf", "signer chains to a root that is not trusted", {"Seller": INDET}),
         "Seller", "signer-untrusted", box=SELLER_BOX)
    revoked = case("revoked-signer.pdf", "B-T by a signer revoked before signing; the CRL saying so is in the DSS", {"Seller": INDET})
    sign(CONTRACT, revoked, "Seller", "signer-revoked", box=SELLER_BOX, timestamper=dummy_tsa())
    add_dss(revoked)

    # --- CMS from other producers ---
    external_cms(CONTRACT, case("openssl-cades.pdf", "CMS by `openssl cms -sign -cades` (signing-time, S/MIME caps, ESS v2), ETSI.CAdES.detached", {"Seller": PASS}),
                 "Seller", PADES, openssl_cms("-cades"))
    external_cms(CONTRACT, case("openssl-pkcs7.pdf", "CMS by `openssl cms -sign` (signing-time, S/MIME caps, no ESS), adbe.pkcs7.detached", {"Seller": PASS}),
                 "Seller", PKCS7, openssl_cms())
    external_cms(CONTRACT, case("openssl-rsa-pss.pdf", "CMS by `openssl cms -sign` with RSASSA-PSS (RSA-2048), adbe.pkcs7.detached", {"Seller": PASS}),
                 "Seller", PKCS7, openssl_cms("-keyopt", "rsa_padding_mode:pss", who="signer-rsa"))
    external_cms(CONTRACT, case("openssl-noattr.pdf", "CMS by `openssl cms -sign -noattr`: no signed attributes, adbe.pkcs7.detached", {"Seller": PASS}),
                 "Seller", PKCS7, openssl_cms("-noattr"))
    external_cms(CONTRACT, case("unsorted-signed-attrs.pdf", "hand-built CMS, signed attributes not in DER order (hash them as found)", {"Seller": PASS}),
                 "Seller", PADES, unsorted_attrs_cms)

    shutil.rmtree(tmp)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
