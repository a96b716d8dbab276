#!/usr/bin/env python3
"""pyhanko_verdicts.py --root ROOT.pem [--cert CA.pem]... [--crl X.crl]... FILE.pdf...

pyHanko's own judgement of every signature and document timestamp in each FILE, offline:
ROOT is the only trust anchor, the CRLs are handed over directly (allow_fetching=False,
soft-fail revocation like `verify` without --require-revocation). Prints JSON:
  {"FILE-BASENAME": [{"field", "kind", "indication", "subIndication", "summary"}...], ...}
kind is "signature" or "document-timestamp"; on a pyHanko exception indication is "ERROR".

pyHanko's words are mapped to ETSI EN 319 102-1 indications:
  integrity broken (not intact / not valid), non-standard coverage, or changes after signing
  that the DocMDP/diff policy forbids                         -> TOTAL-FAILED
  pyHanko's own trust sub-indication when it has one          -> its category (AdESFailure ->
                                                                  TOTAL-FAILED, else INDETERMINATE)
  untrusted / revoked / expired signer, or a signature timestamp that is not
  INTACT+TRUSTED                                              -> INDETERMINATE
  otherwise                                                   -> TOTAL-PASSED
(the same rules as /work/shared/peers/validate.sh applies to `pyhanko sign validate` output).
"""
import argparse
import json
import os

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

PASS, FAIL, INDET = "TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE"


def indication(status, is_doc_ts):
    """(indication, sub-indication or None) from a pyHanko status object."""
    if not status.intact:
        return FAIL, "HASH_FAILURE"
    if not status.valid:
        return FAIL, "SIG_CRYPTO_FAILURE"
    coverage = getattr(status, "coverage", None)
    if coverage is not None and coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return FAIL, "FORMAT_FAILURE"
    if getattr(status, "docmdp_ok", True) is False:
        return FAIL, None  # ETSI has no sub-indication for forbidden incremental updates
    trust = status.trust_problem_indic
    if trust is not None:
        return (FAIL if isinstance(trust, AdESFailure) else INDET), trust.name
    if status.revoked:
        return INDET, "REVOKED_NO_POE"
    if not status.trusted:
        return INDET, "NO_CERTIFICATE_CHAIN_FOUND"
    ts = None if is_doc_ts else status.timestamp_validity
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        return INDET, "TIMESTAMP_ORDER_FAILURE" if ts.intact and ts.valid else "NO_POE"
    return PASS, None


def judge(path, vc_args):
    results = []
    with open(path, "rb") as f:
        reader = PdfFileReader(f, strict=False)
        for es in reader.embedded_signatures:
            is_doc_ts = es.sig_object_type == "/DocTimeStamp"
            entry = {"field": es.field_name, "kind": "document-timestamp" if is_doc_ts else "signature"}
            try:
                if is_doc_ts:
                    status = validate_pdf_timestamp(es, validation_context=ValidationContext(**vc_args))
                else:
                    status = validate_pdf_signature(
                        es,
                        signer_validation_context=ValidationContext(**vc_args),
                        ts_validation_context=ValidationContext(**vc_args),
                    )
                entry["indication"], entry["subIndication"] = indication(status, is_doc_ts)
                entry["summary"] = status.summary()
            except Exception as e:  # noqa: BLE001 — a pyHanko failure is a harness failure, reported as such
                entry.update(indication="ERROR", subIndication=None, summary=f"{type(e).__name__}: {e}")
            results.append(entry)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--cert", action="append", default=[])
    ap.add_argument("--crl", action="append", default=[])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    vc_args = dict(
        trust_roots=[load_cert_from_pemder(a.root)],
        other_certs=[load_cert_from_pemder(c) for c in a.cert],
        crls=[open(c, "rb").read() for c in a.crl],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    print(json.dumps({os.path.basename(p): judge(p, vc_args) for p in a.files}, indent=1))


if __name__ == "__main__":
    main()
