//! Putting the checks together for one file: PDF facts, CMS checks, and the verdict.

use std::path::Path;

use formats::cms::{parse_signed_cms, MdCheck, SignedCms};
use formats::crypto::DigestAlgorithm;
use formats::pdf::{FileSource, Object, PdfError, PdfReader, Source};
use formats::x509::path::PathStatus;
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::checks::chain::{check_chain, describe_status, RevocationState};
use crate::checks::timestamp::{check_timestamp, TimestampFindings};
use crate::checks::{rfc3339, Context, Material};
use crate::pdf::byte_range::{self, ByteRange};
use crate::pdf::modifications;
use crate::pdf::signatures::{find_signatures, pdf_date_to_rfc3339, EmbeddedSignature};
use crate::status::{
    Coverage, FileReport, Indication, ModificationLevel, PadesLevel, SignatureKind,
    SignatureReport, SubIndication, TimeSource,
};

/// What the caller trusts and how strict validation is.
#[derive(Clone, Debug)]
pub struct Options {
    /// Trust anchors.
    pub trust: Vec<Certificate>,
    /// Missing revocation information makes a signature INDETERMINATE (default: warning).
    pub require_revocation: bool,
    /// The validation time ("now"); injectable for tests.
    pub now: OffsetDateTime,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            trust: Vec::new(),
            require_revocation: false,
            now: OffsetDateTime::now_utc(),
        }
    }
}

/// Validates the file at `path`. Never fails: unreadable files get a report with `error`.
pub fn verify_path(path: &Path, opts: &Options) -> FileReport {
    let shown = path.display().to_string();
    let source = match FileSource::open(path) {
        Ok(s) => s,
        Err(e) => return error_report(shown, format!("cannot open the file: {e}")),
    };
    match PdfReader::open(source) {
        Ok(reader) => verify_reader(&reader, &shown, opts),
        Err(e) => error_report(shown, e.to_string()),
    }
}

fn error_report(path: String, error: String) -> FileReport {
    FileReport {
        path,
        signatures: Vec::new(),
        error: Some(error),
        warnings: Vec::new(),
    }
}

/// Validates every signature of an opened PDF.
pub fn verify_reader<S: Source>(reader: &PdfReader<S>, path: &str, opts: &Options) -> FileReport {
    if reader.is_encrypted() {
        return error_report(path.to_string(), PdfError::Encrypted.to_string());
    }
    let sigs = match find_signatures(reader) {
        Ok(s) => s,
        Err(e) => return error_report(path.to_string(), e.to_string()),
    };
    let ctx = Context {
        anchors: &opts.trust,
        now: opts.now,
        require_revocation: opts.require_revocation,
    };
    let dss = dss_material(reader);
    let dss_revisions = dss_revisions(reader);

    // Document timestamps first: they are proofs of existence for what they cover.
    let mut prepared: Vec<Prepared> = sigs.into_iter().map(|s| prepare(reader, s)).collect();
    let mut doc_ts: Vec<(usize, OffsetDateTime)> = Vec::new();
    let mut reports: Vec<Option<SignatureReport>> = vec![None; prepared.len()];
    for (i, p) in prepared.iter_mut().enumerate() {
        if p.sig.kind == SignatureKind::DocumentTimestamp {
            let r = judge_doc_timestamp(reader, p, &dss, &ctx);
            if r.indication == Indication::TotalPassed {
                if let Some(t) = r.signing_time.as_deref().and_then(parse_rfc3339) {
                    doc_ts.push((p.revision, t));
                }
            }
            reports[i] = Some(r);
        }
    }
    for (i, p) in prepared.iter_mut().enumerate() {
        if p.sig.kind == SignatureKind::Signature {
            reports[i] = Some(judge_signature(
                reader,
                p,
                &dss,
                &dss_revisions,
                &doc_ts,
                &ctx,
            ));
        }
    }
    FileReport {
        path: path.to_string(),
        signatures: reports.into_iter().flatten().collect(),
        error: None,
        warnings: reader.warnings(),
    }
}

fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// PDF-level facts about one signature.
struct Prepared {
    sig: EmbeddedSignature,
    byte_range: Result<ByteRange, byte_range::ByteRangeError>,
    coverage: Coverage,
    revision: usize,
    diff: Option<modifications::DiffResult>,
}

fn prepare<S: Source>(reader: &PdfReader<S>, sig: EmbeddedSignature) -> Prepared {
    let br = byte_range::check(reader, &sig.byte_range, &sig.contents);
    let last = reader.revisions().len().saturating_sub(1);
    let (coverage, revision) = match &br {
        Err(_) => (Coverage::Unclear, last),
        Ok(br) => coverage_of(reader, br),
    };
    let diff = if coverage >= Coverage::EntireRevision {
        modifications::review(reader, revision, sig.docmdp.is_some()).ok()
    } else {
        None
    };
    Prepared {
        sig,
        byte_range: br,
        coverage,
        revision,
        diff,
    }
}

fn coverage_of<S: Source>(reader: &PdfReader<S>, br: &ByteRange) -> (Coverage, usize) {
    let end = br.end();
    let revs = reader.revisions();
    let last = revs.len().saturating_sub(1);
    if end == reader.len() {
        return (Coverage::EntireFile, last);
    }
    // The revision whose end (after %%EOF and its end-of-line) is at or just after the
    // signed range's end, with only end-of-line bytes between.
    for (i, r) in revs.iter().enumerate() {
        if r.end >= end {
            let gap = r.end - end;
            let ok = gap == 0
                || (gap <= 2
                    && reader
                        .read_range(end, gap as usize)
                        .is_ok_and(|b| b.iter().all(|c| matches!(c, b'\r' | b'\n'))));
            return if ok {
                (Coverage::EntireRevision, i)
            } else {
                (Coverage::ContiguousBlockFromStart, i.saturating_sub(1))
            };
        }
    }
    (Coverage::ContiguousBlockFromStart, last)
}

fn dss_material<S: Source>(reader: &PdfReader<S>) -> Material {
    let mut m = Material::default();
    let Ok(cat) = reader.catalog() else { return m };
    let Some(Ok(Object::Dict(dss))) = cat.get("DSS").map(|d| reader.resolve(d)) else {
        return m;
    };
    let streams = |key: &str| -> Vec<Vec<u8>> {
        dss.get(key)
            .and_then(|a| reader.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
            .iter()
            .filter_map(|o| reader.resolve(o).ok())
            .filter_map(|o| o.as_stream().and_then(|s| reader.decode_stream(s).ok()))
            .collect()
    };
    for der in streams("Certs") {
        if let Ok(c) = <Certificate as der::Decode>::from_der(&der) {
            if !m.certs.contains(&c) {
                m.certs.push(c);
            }
        }
    }
    m.crls = streams("CRLs");
    m.ocsps = streams("OCSPs");
    m
}

/// Revisions whose catalog carries a DSS with revocation data (for the B-LT level).
fn dss_revisions<S: Source>(reader: &PdfReader<S>) -> Vec<usize> {
    (0..reader.revisions().len())
        .filter(|&rev| {
            let Ok(cat) = reader.catalog_at(rev) else {
                return false;
            };
            match cat.get("DSS").map(|d| reader.resolve_at(d, rev)) {
                Some(Ok(Object::Dict(d))) => d.contains("CRLs") || d.contains("OCSPs"),
                _ => false,
            }
        })
        .collect()
}

/// A report skeleton with the PDF-level facts filled in.
fn base_report(p: &Prepared) -> SignatureReport {
    SignatureReport {
        field: p.sig.field_name.clone(),
        kind: p.sig.kind,
        indication: Indication::TotalPassed,
        sub_indication: None,
        level: None,
        signer: None,
        signing_time: None,
        signing_time_source: None,
        sub_filter: p.sig.sub_filter.clone(),
        algorithm: None,
        coverage: p.coverage,
        revision: p.revision,
        modifications: p
            .diff
            .as_ref()
            .map(|d| d.level)
            .unwrap_or(ModificationLevel::Other),
        docmdp: p.sig.docmdp,
        certification: p.sig.docmdp.is_some(),
        intact: false,
        crypto_valid: false,
        trusted: false,
        revocation: "not checked".into(),
        timestamp: None,
        qualified: None,
        errors: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Sets the verdict unless a worse one is already set.
fn verdict(r: &mut SignatureReport, ind: Indication, sub: SubIndication, why: impl Into<String>) {
    let why = why.into();
    if !r.errors.contains(&why) {
        r.errors.push(why);
    }
    if ind > r.indication || (ind == r.indication && r.sub_indication.is_none()) {
        r.indication = ind;
        r.sub_indication = Some(sub);
    }
}

/// Checks shared by signatures and document timestamps: byte range, coverage, changes.
fn structural_checks(p: &Prepared, r: &mut SignatureReport) -> Option<ByteRange> {
    let br = match &p.byte_range {
        Ok(br) => *br,
        Err(e) => {
            verdict(
                r,
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                e.to_string(),
            );
            return None;
        }
    };
    if p.coverage < Coverage::EntireRevision {
        verdict(
            r,
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "the signed byte range does not end at the end of a revision (nonstandard coverage)",
        );
    }
    if let Some(d) = &p.diff {
        let allowed = p
            .sig
            .docmdp
            .map(|m| m.allows())
            .unwrap_or(ModificationLevel::Annotations);
        let allowed = if p.sig.docmdp.is_none() {
            // Without DocMDP every permitted change but annotations is allowed (as pyHanko,
            // which has no rule admitting annotations).
            ModificationLevel::FormFilling
        } else {
            allowed
        };
        if d.level == ModificationLevel::Other || d.level > allowed {
            let mut why = format!(
                "the document was changed after signing in a way this signature does not permit ({})",
                serde_json::to_value(d.level)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            );
            if let Some(first) = d.reasons.first() {
                why.push_str(": ");
                why.push_str(first);
            }
            verdict(
                r,
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                why,
            );
        } else if d.level > ModificationLevel::None {
            r.warnings.push(format!(
                "later revisions add permitted changes ({})",
                serde_json::to_value(d.level)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ));
        }
    }
    Some(br)
}

fn digest_ranges<S: Source>(
    reader: &PdfReader<S>,
    br: &ByteRange,
    alg: DigestAlgorithm,
) -> Option<Vec<u8>> {
    byte_range::digest(reader, br, &[alg])
        .ok()
        .and_then(|v| v.into_iter().next().map(|(_, d)| d))
}

fn judge_doc_timestamp<S: Source>(
    reader: &PdfReader<S>,
    p: &Prepared,
    dss: &Material,
    ctx: &Context<'_>,
) -> SignatureReport {
    let mut r = base_report(p);
    let Some(br) = structural_checks(p, &mut r) else {
        return r;
    };
    let ts = check_timestamp(
        &p.sig.contents,
        |alg| digest_ranges(reader, &br, alg),
        dss,
        ctx,
    );
    apply_timestamp_as_main(&mut r, &ts);
    r
}

fn apply_timestamp_as_main(r: &mut SignatureReport, ts: &TimestampFindings) {
    r.signer = ts.report.tsa.clone();
    r.signing_time = Some(ts.report.time.clone());
    r.signing_time_source = Some(TimeSource::TokenGenTime);
    r.intact = ts.report.imprint_ok;
    r.crypto_valid = ts.report.signature_ok;
    r.trusted = ts.report.trusted;
    r.algorithm = ts.algorithm.clone();
    r.revocation = ts.revocation.clone();
    r.warnings.extend(ts.warnings.iter().cloned());
    if let Some((ind, sub, why)) = ts.verdict() {
        verdict(r, ind, sub, why);
    }
    r.timestamp = Some(ts.report.clone());
}

fn judge_signature<S: Source>(
    reader: &PdfReader<S>,
    p: &Prepared,
    dss: &Material,
    dss_revisions: &[usize],
    doc_ts: &[(usize, OffsetDateTime)],
    ctx: &Context<'_>,
) -> SignatureReport {
    let mut r = base_report(p);
    match p.sig.sub_filter.as_str() {
        "ETSI.CAdES.detached" | "adbe.pkcs7.detached" => {}
        "adbe.pkcs7.sha1" | "adbe.x509.rsa_sha1" => {
            verdict(
                &mut r,
                Indication::Indeterminate,
                SubIndication::FormatFailure,
                format!(
                    "/SubFilter /{} is a legacy format (SHA-1 or PKCS#1 without CMS) that this verifier does not validate; ask for a PAdES (ETSI.CAdES.detached) signature",
                    p.sig.sub_filter
                ),
            );
            let _ = structural_checks(p, &mut r);
            return r;
        }
        other => {
            verdict(
                &mut r,
                Indication::Indeterminate,
                SubIndication::FormatFailure,
                format!("unsupported /SubFilter /{other}"),
            );
            return r;
        }
    }
    let br = structural_checks(p, &mut r);
    let cms = match parse_signed_cms(&p.sig.contents) {
        Ok(c) => c,
        Err(e) => {
            verdict(
                &mut r,
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                format!("the CMS signature in /Contents cannot be read: {e}"),
            );
            return r;
        }
    };
    let Some(br) = br else { return r };
    let Some(signer) = cms.signers.first() else {
        verdict(
            &mut r,
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "the CMS holds no SignerInfo",
        );
        return r;
    };
    if cms.signers.len() > 1 {
        r.warnings.push(format!(
            "the CMS holds {} signers; only the first is validated",
            cms.signers.len()
        ));
    }
    for n in &cms.notes {
        r.warnings.push(n.clone());
    }
    let mut material = dss.clone();
    material.extend_from_cms(&cms);

    // 1. integrity
    let digest_alg = match signer.digest_algorithm() {
        Ok(a) => a,
        Err(e) => {
            verdict(
                &mut r,
                Indication::Indeterminate,
                SubIndication::CryptoConstraintsFailureNoPoe,
                format!("digest algorithm: {e}"),
            );
            return r;
        }
    };
    let Some(content_digest) = digest_ranges(reader, &br, digest_alg) else {
        verdict(
            &mut r,
            Indication::Indeterminate,
            SubIndication::SignedDataNotFound,
            "the signed byte ranges could not be read",
        );
        return r;
    };
    let Some(cert) = cms.find_signer_certificate(signer, &dss.certs) else {
        verdict(
            &mut r,
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
            "the signer's certificate is not in the CMS or the DSS",
        );
        return r;
    };
    r.signer = Some(formats::x509::subject_string(&cert));
    r.qualified = crate::checks::qualified::qualified_info(&cert);
    let check = signer.verify(&cert, Some(&content_digest));
    match &check.message_digest {
        MdCheck::Match | MdCheck::NotApplicable => r.intact = true,
        MdCheck::Mismatch { .. } => verdict(
            &mut r,
            Indication::TotalFailed,
            SubIndication::HashFailure,
            "the document's signed bytes do not match the signed digest: the document was altered",
        ),
        other => verdict(
            &mut r,
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("message-digest attribute: {other:?}"),
        ),
    }
    match &check.signature {
        Ok(scheme) => {
            r.crypto_valid = true;
            r.algorithm = Some(scheme.name());
            if scheme.digest() == DigestAlgorithm::Sha1 || digest_alg == DigestAlgorithm::Sha1 {
                verdict(
                    &mut r,
                    Indication::Indeterminate,
                    SubIndication::CryptoConstraintsFailureNoPoe,
                    "the signature uses SHA-1, which is no longer acceptable",
                );
            }
        }
        Err(e) => verdict(
            &mut r,
            Indication::TotalFailed,
            SubIndication::SigCryptoFailure,
            format!("the signature value does not verify: {e}"),
        ),
    }
    if !check.is_valid() && r.indication == Indication::TotalPassed {
        let why = if !check.ess.is_acceptable() {
            format!("ESS signing-certificate attribute: {:?}", check.ess)
        } else {
            format!(
                "signed attributes: content-type {:?}, algorithm protection {:?}",
                check.content_type, check.algorithm_protection
            )
        };
        let sub = if !check.ess.is_acceptable() {
            SubIndication::NoSigningCertificateFound
        } else {
            SubIndication::FormatFailure
        };
        verdict(&mut r, Indication::Indeterminate, sub, why);
    }
    r.warnings.extend(check.problems.iter().cloned());
    if p.sig.sub_filter == "ETSI.CAdES.detached"
        && matches!(check.ess, formats::cms::ess::EssCheck::Absent)
    {
        r.warnings
            .push("PAdES requires the ESS signing-certificate-v2 attribute; it is absent".into());
    }

    // 2. signature timestamp (B-T)
    let tokens = signer.signature_time_stamp_tokens();
    let mut poe: Option<(OffsetDateTime, TimeSource)> = None;
    if let Some(token) = tokens.first() {
        let sig_value = signer.signature_value().to_vec();
        let ts = check_timestamp(token, |alg| Some(alg.digest(&sig_value)), &material, ctx);
        if ts.ok() {
            poe = ts.gen_time.map(|t| (t, TimeSource::SignatureTimestamp));
        } else if let Some((_, _, why)) = ts.verdict() {
            verdict(
                &mut r,
                Indication::Indeterminate,
                SubIndication::TimestampOrderFailure,
                format!("signature timestamp: {why}"),
            );
        }
        r.timestamp = Some(ts.report.clone());
    }
    // A later document timestamp covering this revision is a proof of existence too.
    if poe.is_none() {
        if let Some((_, t)) = doc_ts
            .iter()
            .filter(|(rev, _)| *rev > p.revision)
            .min_by_key(|(_, t)| *t)
        {
            poe = Some((*t, TimeSource::DocumentTimestamp));
        }
    }
    let claimed = signer
        .signing_time()
        .ok()
        .flatten()
        .map(|t| (t, TimeSource::SigningTimeAttribute))
        .or_else(|| {
            p.sig
                .m
                .as_deref()
                .and_then(pdf_date_to_rfc3339)
                .map(|t| (t, TimeSource::SignatureDictionary))
        });
    let (shown_time, source) = poe
        .or(claimed)
        .unwrap_or((ctx.now, TimeSource::ValidationTime));
    r.signing_time = Some(rfc3339(shown_time));
    r.signing_time_source = Some(source);
    if let (Some((t, _)), Some((c, _))) = (poe, claimed) {
        if c > t + time::Duration::minutes(10) {
            r.warnings.push(format!(
                "the claimed signing time {} is later than the timestamp {}",
                rfc3339(c),
                rfc3339(t)
            ));
        }
    }

    // 3. certificate path, validity, revocation
    let extra: Vec<Certificate> = cms.certificates.clone();
    let chain = check_chain(&cert, &extra, &material, ctx, poe.map(|(t, _)| t));
    r.warnings.extend(chain.notes.iter().cloned());
    match &chain.outcome.status {
        PathStatus::Valid => r.trusted = true,
        s @ PathStatus::NoChainFound => verdict(
            &mut r,
            Indication::Indeterminate,
            SubIndication::NoCertificateChainFound,
            describe_status(s),
        ),
        s @ (PathStatus::Expired { .. } | PathStatus::NotYetValid { .. }) => verdict(
            &mut r,
            Indication::Indeterminate,
            SubIndication::OutOfBoundsNoPoe,
            describe_status(s),
        ),
        s => verdict(
            &mut r,
            Indication::Indeterminate,
            SubIndication::CertificateChainGeneralFailure,
            describe_status(s),
        ),
    }
    r.revocation = match &chain.revocation {
        RevocationState::Good => "good".into(),
        RevocationState::Missing => {
            let msg = "no revocation information (CRL or OCSP) is embedded for the signer's chain";
            if ctx.require_revocation && r.trusted {
                verdict(
                    &mut r,
                    Indication::Indeterminate,
                    SubIndication::TryLater,
                    msg,
                );
            } else {
                r.warnings.push(msg.to_string());
            }
            "missing".into()
        }
        RevocationState::Revoked { subject, at } => {
            // ETSI EN 319 102-1 §5.6.2.4: without a proof of existence before the revocation
            // the result stays INDETERMINATE/REVOKED_NO_POE (pyHanko agrees); a timestamp
            // after the revocation proves nothing more.
            let when = if poe.is_some() {
                "before the proven signing time"
            } else {
                "and nothing proves the signature existed before"
            };
            verdict(
                &mut r,
                Indication::Indeterminate,
                SubIndication::RevokedNoPoe,
                format!(
                    "certificate {subject} was revoked on {} {when}",
                    rfc3339(*at)
                ),
            );
            "revoked".into()
        }
        RevocationState::RevokedLater { subject, at } => {
            r.warnings.push(format!(
                "certificate {subject} was revoked on {}, after the proven signing time",
                rfc3339(*at)
            ));
            "revoked after signing".into()
        }
        RevocationState::Unusable(why) => {
            if ctx.require_revocation && r.trusted {
                verdict(
                    &mut r,
                    Indication::Indeterminate,
                    SubIndication::TryLater,
                    why.clone(),
                );
            } else {
                r.warnings.push(why.clone());
            }
            "unusable".into()
        }
        RevocationState::NotChecked => "not checked".into(),
    };

    // 4. key usage of the signer certificate
    if !formats::x509::ext::signer_key_usage_ok(&cert).allows_signing() {
        verdict(
            &mut r,
            Indication::Indeterminate,
            SubIndication::SigConstraintsFailure,
            "the signer certificate's key usage allows neither digitalSignature nor nonRepudiation",
        );
    }

    // 5. level
    r.level = Some(level(p, !tokens.is_empty(), dss_revisions, doc_ts));
    r
}

fn level(
    p: &Prepared,
    has_ts: bool,
    dss_revisions: &[usize],
    doc_ts: &[(usize, OffsetDateTime)],
) -> PadesLevel {
    if p.sig.sub_filter != "ETSI.CAdES.detached" {
        return PadesLevel::NotBaseline;
    }
    if !has_ts {
        return PadesLevel::B;
    }
    let lt: Vec<usize> = dss_revisions
        .iter()
        .copied()
        .filter(|d| *d > p.revision)
        .collect();
    let Some(first_lt) = lt.iter().min() else {
        return PadesLevel::T;
    };
    if doc_ts.iter().any(|(rev, _)| rev >= first_lt) {
        PadesLevel::Lta
    } else {
        PadesLevel::Lt
    }
}

#[allow(dead_code)]
fn _assert_types(_: &SignedCms) {}
