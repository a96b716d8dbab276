"""Sign a small PDF at PAdES B-T with pyHanko, time-stamped by our TSA, then validate it
with pyHanko trusting the signer's test root and the TSA's root.

usage: pyhanko_bt.py TSA_URL TSA_ROOT_PEM WORKDIR
Prints one line per finding and exits 0 only when the signature and its time-stamp are
intact, valid and trusted. Driven by tsa/tests/pyhanko.rs.
"""
import datetime
import io
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def minimal_pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = b"BT /F1 12 Tf 20 100 Td (tsa test) Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def signer_pki(workdir):
    """A throw-away root and signer certificate (P-256) for the document signature."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyHanko test signer root")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyHanko test signer")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = {}
    for name, data in (
        ("signer-root.pem", ca.public_bytes(serialization.Encoding.PEM)),
        ("signer.pem", cert.public_bytes(serialization.Encoding.PEM)),
        (
            "signer-key.pem",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        ),
    ):
        paths[name] = os.path.join(workdir, name)
        with open(paths[name], "wb") as f:
            f.write(data)
    return paths


def main():
    url, tsa_root_path, workdir = sys.argv[1:4]
    pki = signer_pki(workdir)
    signer = signers.SimpleSigner.load(
        pki["signer-key.pem"], pki["signer.pem"], ca_chain_files=(pki["signer-root.pem"],)
    )
    timestamper = timestamps.HTTPTimeStamper(url)
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(minimal_pdf()))
    signed = signers.PdfSigner(meta, signer=signer, timestamper=timestamper).sign_pdf(writer)
    out_path = os.path.join(workdir, "signed-bt.pdf")
    with open(out_path, "wb") as f:
        f.write(signed.getvalue())
    print(f"signed {out_path}")

    roots = [load_cert_from_pemder(pki["signer-root.pem"]), load_cert_from_pemder(tsa_root_path)]
    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(signed.getvalue()))
    sig = reader.embedded_signatures[0]
    status = validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)
    ts = status.timestamp_validity
    print(f"signature intact={status.intact} valid={status.valid} trusted={status.trusted}")
    if ts is None:
        print("timestamp MISSING")
        return 1
    print(f"timestamp intact={ts.intact} valid={ts.valid} trusted={ts.trusted} at={ts.timestamp}")
    ok = status.bottom_line and ts.intact and ts.valid and ts.trusted
    if not ok:
        print(status.pretty_print_details())
    print("PYHANKO_BT " + ("VALID" if ok else "INVALID"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
