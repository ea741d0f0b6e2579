//! Fuzzes the Windows parsers: `.reg` files (`reg::parse`, `parse_reg_export`), PowerShell's
//! JSON of the Uninstall keys and of `Get-HotFix`, and the Windows Update search script's
//! JSON (`patches::windows::parse`, then `pending` and `reboot_required`).
//!
//! The first byte picks the parser (modulo 4): 0 `.reg`, 1 Uninstall JSON, 2 hotfix JSON,
//! 3 update search JSON; the rest is the file, as bytes (the parsers sniff UTF-16 byte
//! order marks themselves).
//!
//! Checks: writing the parsed `.reg` keys back in `.reg` syntax parses to the same keys;
//! every name and version is one trimmed line; packages come sorted and unique with the
//! sources and architectures the module documents, sizes in whole KiB; hotfix ids are
//! `KB<digits>`; pending updates are unique by (name, arch), never nameless, with at most
//! one advisory named by the candidate, CVE ids sorted; key normalisation is idempotent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::software::windows::{
    self, normalize_key, parse_hotfix_json, parse_reg_export, parse_uninstall_json, reg,
};
use ward_agent::patches::windows as wu;
use ward_proto::v1 as pb;

fn is_one_trimmed_line(s: &str) -> bool {
    !s.contains(|c: char| c.is_control()) && s.trim() == s
}

/// Writes keys back as a `.reg` file (UTF-8, no header).
fn write_reg(keys: &[reg::Key]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let hex = |kind: Option<u32>, bytes: &[u8]| {
        let list: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        match kind {
            None => format!("hex:{}", list.join(",")),
            Some(k) => format!("hex({k:x}):{}", list.join(",")),
        }
    };
    let utf16 = |strings: &[&str]| -> Vec<u8> {
        let mut out = Vec::new();
        for s in strings {
            out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            out.extend([0, 0]);
        }
        out.extend([0, 0]);
        out
    };
    let mut text = String::new();
    for k in keys {
        text.push_str(&format!(
            "[{}{}]\n",
            if k.deleted { "-" } else { "" },
            k.path
        ));
        for (name, value) in &k.values {
            let name = if name.is_empty() {
                "@".to_owned()
            } else {
                quote(name)
            };
            let data = match value {
                // A line break (from `hex(1):` data) cannot be written inside quotes.
                reg::Value::String(s) if s.contains('\n') => {
                    let mut bytes: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
                    bytes.extend([0, 0]);
                    hex(Some(1), &bytes)
                }
                reg::Value::String(s) => quote(s),
                reg::Value::ExpandString(s) => hex(Some(2), &utf16(&[s])),
                reg::Value::MultiString(v) => {
                    let v: Vec<&str> = v.iter().map(String::as_str).collect();
                    hex(Some(7), &utf16(&v))
                }
                reg::Value::Dword(n) => format!("dword:{n:08x}"),
                reg::Value::Qword(n) => hex(Some(0xb), &n.to_le_bytes()),
                reg::Value::Binary { kind: 3, bytes } => hex(None, bytes),
                reg::Value::Binary { kind, bytes } => hex(Some(*kind), bytes),
                reg::Value::Delete => "-".to_owned(),
            };
            text.push_str(&format!("{name}={data}\n"));
        }
        text.push('\n');
    }
    text
}

fn check_packages(packages: &[pb::Package], sources: &[&str], archs: &[&str]) {
    let key = |p: &pb::Package| {
        (
            p.name.clone(),
            p.arch.clone(),
            p.version.clone(),
            p.source.clone(),
        )
    };
    for w in packages.windows(2) {
        assert!(key(&w[0]) < key(&w[1]), "not sorted and unique: {w:?}");
    }
    for p in packages {
        assert!(!p.name.is_empty() && is_one_trimmed_line(&p.name), "{p:?}");
        assert!(is_one_trimmed_line(&p.version), "{p:?}");
        assert!(sources.contains(&p.source.as_str()), "{p:?}");
        assert!(archs.contains(&p.arch.as_str()), "{p:?}");
        assert!(
            p.installed_size % 1024 == 0 || p.installed_size == u64::MAX,
            "{p:?}"
        );
        assert_eq!(p.state, "installed");
        assert!(is_one_trimmed_line(&p.vendor), "{p:?}");
        // Windows records install days only.
        assert_eq!(p.install_time % 86_400, 0, "{p:?}");
    }
}

fn fuzz_reg(bytes: &[u8]) {
    let keys = reg::parse(bytes);
    let text = write_reg(&keys);
    assert_eq!(reg::parse(text.as_bytes()), keys, "{text:?}");
    let entries = parse_reg_export(bytes);
    assert!(entries.len() <= keys.len());
    check_packages(
        &windows::packages(&entries, "x64"),
        &["msi", "exe"],
        &["x64", "x86", ""],
    );
    let _ = wu::reboot_required(keys.iter().map(|k| k.path.as_str()));
    for k in &keys {
        let n = normalize_key(&k.path);
        assert_eq!(normalize_key(&n), n, "{:?}", k.path);
    }
}

fn fuzz_uninstall_json(bytes: &[u8]) {
    let Ok(entries) = parse_uninstall_json(bytes) else {
        return;
    };
    for e in &entries {
        for s in [&e.display_name, &e.display_version, &e.publisher, &e.key] {
            assert!(is_one_trimmed_line(s), "{e:?}");
        }
        if let Some(d) = &e.install_date {
            assert_eq!(d.len(), 10, "{e:?}");
        }
    }
    check_packages(
        &windows::packages(&entries, "arm64"),
        &["msi", "exe"],
        &["arm64", "x86", ""],
    );
}

fn fuzz_hotfix_json(bytes: &[u8]) {
    let Ok(fixes) = parse_hotfix_json(bytes) else {
        return;
    };
    for f in &fixes {
        let digits = f.id.strip_prefix("KB").expect("KB id");
        assert!(
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
            "{f:?}"
        );
        assert!(is_one_trimmed_line(&f.description), "{f:?}");
    }
    check_packages(&windows::hotfix_packages(&fixes), &["msu"], &[""]);
}

fn fuzz_search(bytes: &[u8]) {
    let Ok(scan) = wu::parse(bytes) else {
        return;
    };
    let pending = wu::pending(&scan);
    for w in pending.windows(2) {
        assert!((&w[0].name, &w[0].arch) < (&w[1].name, &w[1].arch), "{w:?}");
    }
    for p in &pending {
        assert!(!p.name.is_empty() && is_one_trimmed_line(&p.name), "{p:?}");
        assert_eq!(p.source, "msu");
        assert!(
            ["", "x64", "x86", "arm64"].contains(&p.arch.as_str()),
            "{p:?}"
        );
        assert!(p.advisories.len() <= 1, "{p:?}");
        for a in &p.advisories {
            assert_eq!(a.id, p.candidate_version, "{p:?}");
            assert!(a.cves.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        }
        if !p.candidate_version.is_empty() {
            assert_eq!(p.name, p.candidate_version, "{p:?}");
        }
    }
    let _ = wu::reboot_required(scan.reboot_pending_keys.iter().map(String::as_str));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => fuzz_reg(rest),
        1 => fuzz_uninstall_json(rest),
        2 => fuzz_hotfix_json(rest),
        _ => fuzz_search(rest),
    }
});
