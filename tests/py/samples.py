#!/usr/bin/env python3
"""samples.py OUTDIR — unsigned sample PDFs for the tests (reportlab, deterministic bytes).

  contract.pdf   1 page, AcroForm text fields buyer_name and buyer_date (empty), page content
                 left uncompressed so a test can edit the visible price in place
  terms-3p.pdf   3 pages of text (a multi-page document)
The xref-stream/object-stream copy is made by the Rust harness with qpdf.
"""
import os
import sys

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

rl_config.useA85 = 0  # binary streams, no ASCII85 wrapping
W, H = A4
PRICE = "EUR 250,000.00"  # make_cases.py edits this text after signing


def contract(path):
    c = canvas.Canvas(path, pagesize=A4, invariant=1, pageCompression=0)
    c.setTitle("Sale agreement #2026-0042")
    c.setFont("Helvetica-Bold", 16)
    c.drawString(60, H - 70, "SALE AGREEMENT #2026-0042")
    c.setFont("Helvetica", 10)
    lines = [
        "Between: Example Notary Office, Brussels (the Seller)",
        "And: the Buyer named below",
        "Article 1. The Seller sells to the Buyer the apartment at Rue de la Loi 16, 1000 Brussels.",
        f"Article 2. The price is {PRICE}, payable on the day of the deed.",
        "Article 3. This agreement is governed by Belgian law.",
    ]
    for i, ln in enumerate(lines):
        c.drawString(60, H - 100 - 14 * i, ln)
    c.drawString(60, 420, "Buyer name:")
    c.acroForm.textfield(name="buyer_name", x=140, y=412, width=250, height=20, borderWidth=1, value="")
    c.drawString(60, 390, "Date:")
    c.acroForm.textfield(name="buyer_date", x=140, y=382, width=120, height=20, borderWidth=1, value="")
    c.drawString(65, 285, "Seller signature")
    c.drawString(325, 285, "Buyer signature")
    c.showPage()
    c.save()


def terms(path, pages=3):
    c = canvas.Canvas(path, pagesize=A4, invariant=1)
    c.setTitle("General terms")
    for p in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 14)
        c.drawString(60, H - 70, f"GENERAL TERMS - section {p}")
        c.setFont("Helvetica", 10)
        for i in range(1, 40):
            c.drawString(60, H - 100 - 14 * i, f"{p}.{i} The parties agree to the terms of this section.")
        c.drawString(W / 2 - 20, 30, f"page {p} of {pages}")
        c.showPage()
    c.save()


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    contract(os.path.join(out, "contract.pdf"))
    terms(os.path.join(out, "terms-3p.pdf"))
