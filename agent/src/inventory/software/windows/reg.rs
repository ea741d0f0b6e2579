//! The `.reg` file format that `reg export` and regedit write: a header line, `[key]`
//! sections and `"Name"=value` lines, in UTF-16LE with a byte order mark (version 5.00)
//! or in the ANSI code page (`REGEDIT4`).

/// One `[key]` section of a `.reg` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The full key path as written (`HKEY_LOCAL_MACHINE\SOFTWARE\...`).
    pub path: String,
    /// The section deletes the key (`[-HKEY_...]`) rather than setting it.
    pub deleted: bool,
    /// The values in file order; the default value has the empty name.
    pub values: Vec<(String, Value)>,
}

/// A registry value as a `.reg` file writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `"text"`: REG_SZ.
    String(String),
    /// `hex(2):`: REG_EXPAND_SZ, unexpanded.
    ExpandString(String),
    /// `hex(7):`: REG_MULTI_SZ.
    MultiString(Vec<String>),
    /// `dword:`, `hex(4):` or `hex(5):`: REG_DWORD.
    Dword(u32),
    /// `hex(b):`: REG_QWORD.
    Qword(u64),
    /// `hex:` (REG_BINARY) or `hex(n):` of another type `n`, as raw bytes.
    Binary {
        /// The registry type number (3 for `hex:`).
        kind: u32,
        /// The data.
        bytes: Vec<u8>,
    },
    /// `-`: the value is deleted.
    Delete,
}

impl Key {
    /// Returns the value called `name` (registry names are case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl Value {
    /// Returns the value as text: strings as they are, numbers in decimal, the first
    /// string of a multi-string; `None` for binary data and deletions.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::String(s) | Value::ExpandString(s) => Some(s.clone()),
            Value::MultiString(v) => v.first().cloned(),
            Value::Dword(n) => Some(n.to_string()),
            Value::Qword(n) => Some(n.to_string()),
            Value::Binary { .. } | Value::Delete => None,
        }
    }

    /// Returns the value as a number: DWORD and QWORD values, and strings holding a
    /// decimal number (some installers write `"SystemComponent"="1"`).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Dword(n) => Some(u64::from(*n)),
            Value::Qword(n) => Some(*n),
            Value::String(s) | Value::ExpandString(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Decodes the text of a file that Windows tools may write in UTF-16 or UTF-8: a UTF-16LE
/// or UTF-16BE byte order mark selects UTF-16 (an odd last byte is dropped), a UTF-8 one
/// is skipped, and anything else is read as UTF-8. Invalid sequences become U+FFFD.
pub fn decode_text(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units = rest.chunks_exact(2).map(|c| from([c[0], c[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        utf16(rest, u16::from_be_bytes)
    } else {
        let rest = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
        String::from_utf8_lossy(rest).into_owned()
    }
}

/// Parses a `.reg` file (any encoding [`decode_text`] reads) into its key sections, in
/// file order.
///
/// Header lines (`Windows Registry Editor Version 5.00`, `REGEDIT4`), blank lines and
/// `;` comments are skipped, so several exports appended to one another parse as one.
/// A line ending in `\` continues on the next (regedit wraps `hex` data at 80 columns),
/// and value lines before the first section or that cannot be read are skipped. Never
/// panics, whatever the input.
pub fn parse(bytes: &[u8]) -> Vec<Key> {
    let text = decode_text(bytes);
    let mut keys: Vec<Key> = Vec::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let mut line = first.trim().to_owned();
        while line.ends_with('\\') {
            line.pop();
            match lines.next() {
                Some(next) => line.push_str(next.trim()),
                None => break,
            }
        }
        if line.starts_with('[') && line.ends_with(']') && line.len() >= 2 {
            let inner = line[1..line.len() - 1].trim();
            let (deleted, path) = match inner.strip_prefix('-') {
                Some(p) => (true, p),
                None => (false, inner),
            };
            keys.push(Key {
                path: path.trim().to_owned(),
                deleted,
                values: Vec::new(),
            });
        } else if let Some(key) = keys.last_mut()
            && let Some(value) = parse_value_line(&line)
        {
            key.values.push(value);
        }
    }
    keys
}

/// Parses `"Name"=data` or `@=data`.
fn parse_value_line(line: &str) -> Option<(String, Value)> {
    let (name, rest) = if let Some(rest) = line.strip_prefix('@') {
        (String::new(), rest)
    } else {
        let (name, rest) = quoted(line.strip_prefix('"')?)?;
        (name, rest)
    };
    let data = rest.trim_start().strip_prefix('=')?.trim();
    Some((name, parse_data(data)?))
}

/// Reads a quoted string whose opening quote was stripped, undoing `\\` and `\"`;
/// returns it and what follows the closing quote, or `None` when it is not closed.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => out.push(chars.next().map_or('\\', |(_, c)| c)),
            c => out.push(c),
        }
    }
    None
}

fn parse_data(data: &str) -> Option<Value> {
    if data == "-" {
        return Some(Value::Delete);
    }
    if let Some(rest) = data.strip_prefix('"') {
        // A string not closed on its line (regedit writes line breaks inside REG_SZ
        // data as they are) keeps what the line holds.
        return Some(Value::String(match quoted(rest) {
            Some((s, _)) => s,
            None => rest.replace("\\\\", "\\").replace("\\\"", "\""),
        }));
    }
    let lower = data.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("dword:") {
        return u32::from_str_radix(hex.trim(), 16).ok().map(Value::Dword);
    }
    let (kind, bytes) = if let Some(rest) = lower.strip_prefix("hex:") {
        (3, rest)
    } else {
        let rest = lower.strip_prefix("hex(")?;
        let (kind, rest) = rest.split_once("):")?;
        (u32::from_str_radix(kind, 16).ok()?, rest)
    };
    let bytes = hex_bytes(bytes)?;
    Some(match kind {
        1 | 2 => {
            let s = utf16le_strings(&bytes)
                .into_iter()
                .next()
                .unwrap_or_default();
            if kind == 2 {
                Value::ExpandString(s)
            } else {
                Value::String(s)
            }
        }
        7 => Value::MultiString(utf16le_strings(&bytes)),
        4 if bytes.len() == 4 => Value::Dword(u32::from_le_bytes(fixed(&bytes)?)),
        5 if bytes.len() == 4 => Value::Dword(u32::from_be_bytes(fixed(&bytes)?)),
        0xb if bytes.len() == 8 => Value::Qword(u64::from_le_bytes(fixed(&bytes)?)),
        kind => Value::Binary { kind, bytes },
    })
}

fn fixed<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

/// Parses `4d,00,73,00` (spaces allowed, an empty list is no bytes).
fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    s.split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect()
}

/// Splits UTF-16LE data at NULs into strings, dropping the empty ones the terminators
/// leave.
fn utf16le_strings(bytes: &[u8]) -> Vec<String> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    units
        .split(|u| *u == 0)
        .filter(|s| !s.is_empty())
        .map(String::from_utf16_lossy)
        .collect()
}
