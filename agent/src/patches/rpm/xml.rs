//! What the repository metadata readers share about XML: attribute values and element
//! text with entities resolved, capped in length.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart};

/// Longest text or attribute value kept. Names, versions and advisory ids are short; a
/// crafted file must not make one field hold megabytes.
pub const MAX_FIELD: usize = 4096;

/// Returns the value of attribute `name` (no namespace prefix) of `e`, entities
/// resolved; `None` when absent or malformed.
pub fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .filter_map(Result::ok)
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
        .map(|v| cap(v.into_owned()))
}

/// Appends `text` to `out`, up to [`MAX_FIELD`] bytes.
pub fn push(out: &mut String, text: &str) {
    let room = MAX_FIELD.saturating_sub(out.len());
    if room == 0 {
        return;
    }
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(&text[..end]);
}

/// Appends what an entity or character reference stands for: the five predefined
/// entities and character references; anything else is dropped.
pub fn push_ref(out: &mut String, r: &BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        push(out, c.encode_utf8(&mut [0; 4]));
    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(r) {
        push(out, s);
    }
}

fn cap(mut s: String) -> String {
    if s.len() > MAX_FIELD {
        let mut end = MAX_FIELD;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
