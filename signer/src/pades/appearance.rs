//! The visible signature box: a form XObject (ISO 32000-2 §8.10) with a frame and a few
//! lines of text in the standard Helvetica font, which every viewer has (§9.6.2.2).

use formats::pdf::{Dict, Object};

/// Helvetica advance widths (thousandths of an em) for the codes 32..=126 (Adobe AFM).
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32..47
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48..63
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 64..79
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80..95
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 96..111
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 112..126
];

/// Largest and smallest font size used, in points.
const MAX_FONT_SIZE: f64 = 10.0;
const MIN_FONT_SIZE: f64 = 3.0;
/// Inner margin, in points.
const PADDING: f64 = 4.0;

/// Text in WinAnsiEncoding (ISO 32000-2 Annex D.2): Latin-1 and the common punctuation of
/// 0x80–0x9F; anything else becomes `?`.
pub(crate) fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            'Š' => 0x8a,
            'š' => 0x9a,
            'Ž' => 0x8e,
            'ž' => 0x9e,
            'Œ' => 0x8c,
            'œ' => 0x9c,
            'Ÿ' => 0x9f,
            _ => b'?',
        })
        .collect()
}

fn width_of(code: u8) -> f64 {
    let w = match code {
        32..=126 => HELVETICA_WIDTHS[usize::from(code - 32)],
        // accented capitals and lower case letters: close to their base letters
        0xc0..=0xdf => 700,
        _ => 556,
    };
    f64::from(w) / 1000.0
}

/// A PDF literal string with `(`, `)`, `\` escaped and bytes outside ASCII in octal.
fn literal(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\{b:03o}")),
        }
    }
    s.push(')');
    s
}

fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The content stream of a `width` × `height` box showing `lines`, using the font
/// resource `/Helv`.
pub(crate) fn content_stream(width: f64, height: f64, lines: &[String]) -> Vec<u8> {
    let encoded: Vec<Vec<u8>> = lines.iter().map(|l| win_ansi(l)).collect();
    let n = encoded.len().max(1) as f64;
    let widest = encoded
        .iter()
        .map(|l| l.iter().map(|&c| width_of(c)).sum::<f64>())
        .fold(0.0, f64::max);
    let inner_w = (width - 2.0 * PADDING).max(1.0);
    let inner_h = (height - 2.0 * PADDING).max(1.0);
    let mut size = (inner_h / (n * 1.25)).min(MAX_FONT_SIZE);
    if widest > 0.0 {
        size = size.min(inner_w / widest);
    }
    let size = size.max(MIN_FONT_SIZE);
    let leading = size * 1.25;

    let mut s = String::new();
    s.push_str("q\n0.95 0.96 1 rg\n");
    s.push_str(&format!("0 0 {} {} re f\n", num(width), num(height)));
    s.push_str("0.15 0.25 0.55 RG 0.8 w\n");
    s.push_str(&format!(
        "0.4 0.4 {} {} re S\nQ\n",
        num((width - 0.8).max(0.0)),
        num((height - 0.8).max(0.0))
    ));
    // clip to the box so over-long names never draw outside it
    s.push_str(&format!(
        "q\n0 0 {} {} re W n\nBT\n0 0 0 rg\n/Helv {} Tf\n",
        num(width),
        num(height),
        num(size)
    ));
    // the text block is centred vertically
    let block = leading * (n - 1.0) + size;
    let mut y = (height + block) / 2.0 - size * 0.8;
    for line in &encoded {
        s.push_str(&format!(
            "1 0 0 1 {} {} Tm {} Tj\n",
            num(PADDING),
            num(y),
            literal(line)
        ));
        y -= leading;
    }
    s.push_str("ET\nQ\n");
    s.into_bytes()
}

/// The font dictionary the appearance uses: standard Helvetica, WinAnsiEncoding.
pub(crate) fn helvetica() -> Object {
    let mut d = Dict::new();
    d.set("Type", Object::name("Font"));
    d.set("Subtype", Object::name("Type1"));
    d.set("BaseFont", Object::name("Helvetica"));
    d.set("Encoding", Object::name("WinAnsiEncoding"));
    Object::Dict(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_encoded() {
        assert_eq!(literal(b"a(b)\\c"), "(a\\(b\\)\\\\c)");
        assert_eq!(win_ansi("Zoë €"), vec![b'Z', b'o', 0xeb, b' ', 0x80]);
        assert_eq!(literal(&win_ansi("ë")), "(\\353)");
        assert_eq!(win_ansi("日"), b"?");
    }

    #[test]
    fn stream_shows_every_line_and_fits() {
        let lines = vec![
            "Digitally signed by A Very Long Name Indeed (Test)".to_string(),
            "Date: 2026-11-22".into(),
        ];
        let s = String::from_utf8(content_stream(200.0, 50.0, &lines)).unwrap();
        assert!(s.contains("(Digitally signed by A Very Long Name Indeed \\(Test\\)) Tj"));
        assert!(s.contains("(Date: 2026-11-22) Tj"));
        let size: f64 = s
            .split("/Helv ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((MIN_FONT_SIZE..=MAX_FONT_SIZE).contains(&size));
        assert_eq!(num(3.0), "3");
        assert_eq!(num(2.126), "2.13");
        assert_eq!(num(-0.001), "0");
    }
}
