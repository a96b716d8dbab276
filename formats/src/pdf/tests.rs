use super::*;

/// Builds a classic PDF from object bodies (numbered from 1) with a correct xref table.
pub(crate) fn build_pdf(objects: &[&str], root: u32) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, body).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {} /Root {root} 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Appends an incremental update redefining `objects` (number, body).
pub(crate) fn append_update(pdf: &mut Vec<u8>, objects: &[(u32, &str)], size: u32, root: u32) {
    let prev = {
        let r = PdfReader::open(pdf.clone()).unwrap();
        r.revisions().last().unwrap().xref_offset
    };
    let mut offsets = Vec::new();
    for (num, body) in objects {
        offsets.push((*num, pdf.len()));
        pdf.extend_from_slice(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n");
    for (num, off) in offsets {
        pdf.extend_from_slice(format!("{num} 1\n{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<</Size {size} /Root {root} 0 R /Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
}

fn simple() -> Vec<u8> {
    build_pdf(
        &[
            "<</Type/Catalog/Pages 2 0 R>>",
            "<</Type/Pages/Kids[3 0 R]/Count 1>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>",
            "<</Length 10>>\nstream\nBT ET q Q \nendstream",
        ],
        1,
    )
}

#[test]
fn reads_classic_file() {
    let r = PdfReader::open(simple()).unwrap();
    assert_eq!(r.revisions().len(), 1);
    assert!(!r.recovered());
    let cat = r.catalog().unwrap();
    assert_eq!(cat.get_name("Type"), Some(&b"Catalog"[..]));
    let page = r.get(ObjRef::new(3, 0)).unwrap();
    assert_eq!(page.as_dict().unwrap().get_name("Type"), Some(&b"Page"[..]));
    let content = r.get(ObjRef::new(4, 0)).unwrap();
    let s = content.as_stream().unwrap();
    assert_eq!(r.decode_stream(s).unwrap(), b"BT ET q Q ");
    assert_eq!(r.revisions()[0].end, r.len());
}

#[test]
fn incremental_updates_are_revisions() {
    let mut pdf = simple();
    let first_end = pdf.len() as u64;
    append_update(
        &mut pdf,
        &[(3, "<</Type/Page/Parent 2 0 R/Rotate 90>>")],
        5,
        1,
    );
    let r = PdfReader::open(pdf).unwrap();
    assert_eq!(r.revisions().len(), 2);
    assert_eq!(r.revisions()[0].end, first_end);
    let old = r.get_at(ObjRef::new(3, 0), 0).unwrap();
    let new = r.get(ObjRef::new(3, 0)).unwrap();
    assert!(old.as_dict().unwrap().get("Rotate").is_none());
    assert_eq!(new.as_dict().unwrap().get_int("Rotate"), Some(90));
    assert_eq!(r.revision_ending_at_or_before(first_end), Some(0));
    assert_eq!(r.revision_ending_at_or_before(first_end - 1), None);
}

#[test]
fn reads_xref_stream_and_object_stream() {
    // object stream holding objects 2 and 3, xref stream as object 5
    let objs = "<</Type/Pages/Kids[3 0 R]/Count 1>> <</Type/Page/Parent 2 0 R>>";
    let header = format!("2 0 3 {} ", "<</Type/Pages/Kids[3 0 R]/Count 1>> ".len());
    let first = header.len();
    let body = format!("{header}{objs}");
    let z = deflate(body.as_bytes());
    let mut out = b"%PDF-1.5\n".to_vec();
    let o1 = out.len();
    out.extend_from_slice(b"1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n");
    let o4 = out.len();
    out.extend_from_slice(
        format!(
            "4 0 obj\n<</Type/ObjStm/N 2/First {first}/Filter/FlateDecode/Length {}>>\nstream\n",
            z.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&z);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let o5 = out.len();
    // rows: type(1) field2(4) field3(2)
    let mut rows = Vec::new();
    let mut push = |t: u8, a: u32, b: u16| {
        rows.push(t);
        rows.extend_from_slice(&a.to_be_bytes());
        rows.extend_from_slice(&b.to_be_bytes());
    };
    push(0, 0, 65535);
    push(1, o1 as u32, 0);
    push(2, 4, 0);
    push(2, 4, 1);
    push(1, o4 as u32, 0);
    push(1, o5 as u32, 0);
    out.extend_from_slice(
        format!(
            "5 0 obj\n<</Type/XRef/Size 6/W[1 4 2]/Root 1 0 R/Length {}>>\nstream\n",
            rows.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&rows);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{o5}\n%%EOF\n").as_bytes());
    let r = PdfReader::open(out).unwrap();
    assert!(r.revisions()[0].xref_stream);
    let page = r.get(ObjRef::new(3, 0)).unwrap();
    assert_eq!(page.as_dict().unwrap().get_name("Type"), Some(&b"Page"[..]));
    let pages = r.get(ObjRef::new(2, 0)).unwrap();
    assert_eq!(pages.as_dict().unwrap().get_int("Count"), Some(1));
}

#[test]
fn broken_startxref_is_recovered_with_a_warning() {
    let mut pdf = simple();
    let n = pdf.len();
    // corrupt the startxref offset
    let pos = reader::rfind(&pdf, b"startxref").unwrap() + 10;
    pdf[pos] = b'9';
    pdf[pos + 1] = b'9';
    assert_eq!(pdf.len(), n);
    let r = PdfReader::open(pdf).unwrap();
    assert!(r.recovered());
    assert!(!r.warnings().is_empty());
    assert!(r.catalog().is_ok());
    assert!(r.get(ObjRef::new(3, 0)).unwrap().as_dict().is_some());
}

#[test]
fn wrong_stream_length_is_repaired() {
    let pdf = build_pdf(
        &[
            "<</Type/Catalog>>",
            "<</Length 999>>\nstream\nhello\nendstream",
        ],
        1,
    );
    let r = PdfReader::open(pdf).unwrap();
    let s = r.get(ObjRef::new(2, 0)).unwrap();
    assert_eq!(r.raw_stream_data(s.as_stream().unwrap()).unwrap(), b"hello");
}

#[test]
fn not_a_pdf_and_garbage() {
    assert_eq!(
        PdfReader::open(b"hello world".to_vec()).unwrap_err(),
        PdfError::NotPdf
    );
    assert_eq!(PdfReader::open(Vec::new()).unwrap_err(), PdfError::NotPdf);
    assert!(PdfReader::open(b"%PDF-1.4\n garbage".to_vec()).is_err());
    let mut truncated = simple();
    truncated.truncate(truncated.len() / 2);
    let _ = PdfReader::open(truncated); // recovered or error, never a panic
}

#[test]
fn reference_loops_do_not_hang() {
    let pdf = build_pdf(&["<</Type/Catalog/X 2 0 R>>", "3 0 R", "2 0 R"], 1);
    let r = PdfReader::open(pdf).unwrap();
    assert!(r.resolve(&Object::Ref(ObjRef::new(2, 0))).is_err());
}

#[test]
fn prev_loop_is_cut() {
    let mut pdf = simple();
    let xref = reader::rfind(&pdf, b"xref\n0 5").unwrap();
    let trailer = b"trailer\n<</Size 5 /Root 1 0 R>>";
    let pos = reader::find(&pdf, trailer).unwrap();
    let replacement = format!("trailer\n<</Size 5 /Root 1 0 R/Prev {xref}>>");
    pdf.splice(pos..pos + trailer.len(), replacement.bytes());
    // offsets after the trailer moved; startxref still points at the table
    let r = PdfReader::open(pdf).unwrap();
    assert!(r.catalog().is_ok());
}

#[test]
fn corpus_files_open_if_present() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: no corpus at {}", dir.display());
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "pdf") {
            let r = PdfReader::open(FileSource::open(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            r.catalog().unwrap();
            assert!(!r.recovered(), "{}", p.display());
        }
    }
}
