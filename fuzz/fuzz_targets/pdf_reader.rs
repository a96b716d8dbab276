//! The PDF reader on arbitrary bytes: open, walk the catalog and every object it lists.
#![no_main]
use formats::pdf::{ObjRef, PdfReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = PdfReader::open(data.to_vec()) else { return };
    let _ = r.catalog();
    for rev in 0..r.revisions().len() {
        let nums: Vec<u32> = r.revisions()[rev].entries.keys().copied().take(200).collect();
        for n in nums {
            if let Ok(obj) = r.get_at(ObjRef::new(n, 0), rev) {
                if let Some(s) = obj.as_stream() {
                    let _ = r.decode_stream(s);
                }
            }
        }
    }
});
