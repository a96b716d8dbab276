#!/usr/bin/env python3
"""reference_verify.py [--trust PEM]... [--json] [--require-revocation] FILE...

The `verify` CLI contract (options, JSON schema, exit codes) implemented on top of pyHanko.
It is not the product: it exists to test the test harness. Running the interop tests with
VERIFY_BIN pointing at a wrapper around this script must pass them all, which shows the
tests ask for something a correct verifier can deliver (see tests/README.md).

Verdicts are pyhanko_verdicts.indication(); revocation: CRLs from the file's DSS, no fetching;
soft-fail unless --require-revocation. Exit: 0 all TOTAL-PASSED, 1 any TOTAL-FAILED, 2 any
INDETERMINATE and none failed, 3 a file without signatures, 4 a file unreadable.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pyhanko_verdicts import FAIL, INDET, indication  # noqa: E402

from pyhanko.keys import load_cert_from_pemder  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402


def dss_revisions_and_crls(reader):
    """Revisions whose DSS holds revocation data, and every CRL in the final DSS."""
    revs = []
    for rev in range(reader.xrefs.total_revisions):
        dss = reader.get_historical_root(rev).get("/DSS")
        dss = dss.get_object() if dss is not None else None
        if dss is not None and ("/CRLs" in dss or "/OCSPs" in dss):
            revs.append(rev)
    crls = []
    dss = reader.root.get("/DSS")
    if dss is not None:
        crls = [c.get_object().data for c in dss.get_object().get("/CRLs", [])]
    return revs, crls


def level(es, reader, dss_revs):
    sub = str(es.sig_object.get("/SubFilter", ""))
    if sub != "/ETSI.CAdES.detached":
        return "not baseline"
    if not any(a["type"].native == "signature_time_stamp_token" for a in (es.signer_info["unsigned_attrs"] or [])):
        return "PAdES-BASELINE-B"
    lt = [r for r in dss_revs if r > es.signed_revision]
    if not lt:
        return "PAdES-BASELINE-T"
    if any(t.signed_revision >= min(lt) for t in reader.embedded_timestamp_signatures):
        return "PAdES-BASELINE-LTA"
    return "PAdES-BASELINE-LT"


def check_file(path, roots, require_rev):
    reader = PdfFileReader(open(path, "rb"), strict=False)
    sigs = reader.embedded_signatures
    dss_revs, crls = dss_revisions_and_crls(reader)
    vc_args = dict(trust_roots=roots, crls=crls, allow_fetching=False,
                   revocation_mode="hard-fail" if require_rev else "soft-fail")
    out = []
    for es in sigs:
        is_ts = es.sig_object_type == "/DocTimeStamp"
        if is_ts:
            st = validate_pdf_timestamp(es, validation_context=ValidationContext(**vc_args))
        else:
            st = validate_pdf_signature(es, signer_validation_context=ValidationContext(**vc_args),
                                        ts_validation_context=ValidationContext(**vc_args))
        ind, sub = indication(st, is_ts)
        mod = getattr(st, "modification_level", None)
        out.append({
            "field": es.field_name,
            "kind": "document-timestamp" if is_ts else "signature",
            "indication": ind,
            "subIndication": sub,
            "level": None if is_ts else level(es, reader, dss_revs),
            "signer": st.signing_cert.subject.human_friendly,
            "signingTime": st.signer_reported_dt.isoformat() if getattr(st, "signer_reported_dt", None) else None,
            "modifications": mod.name if mod is not None else None,
            "errors": [],
            "warnings": [],
        })
    return out


def main():
    ap = argparse.ArgumentParser(prog="verify")
    ap.add_argument("--trust", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--require-revocation", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    roots = [load_cert_from_pemder(t) for t in a.trust]
    files, codes = [], []
    for path in a.files:
        try:
            sigs = check_file(path, roots, a.require_revocation)
        except Exception as e:  # noqa: BLE001
            print(f"verify: {path}: cannot read: {e}", file=sys.stderr)
            files.append({"path": path, "signatures": [], "error": str(e)})
            codes.append(4)
            continue
        files.append({"path": path, "signatures": sigs})
        inds = [s["indication"] for s in sigs]
        codes.append(3 if not inds else 1 if FAIL in inds else 2 if INDET in inds else 0)
        if not a.json:
            for s in sigs:
                print(f"{path}: {s['field']}: {s['indication']} {s['subIndication'] or ''}")
    if a.json:
        print(json.dumps({"files": files}, indent=1))
    # documented order: unreadable > no signature > failed > indeterminate > passed
    for c in (4, 3, 1, 2):
        if c in codes:
            sys.exit(c)
    sys.exit(0)


if __name__ == "__main__":
    main()
