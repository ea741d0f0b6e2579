//! Packet filtering: the loaded nftables ruleset (`nft -j list ruleset`) or iptables rules
//! (`iptables-save`). No file tells what the kernel has loaded, so on the live system
//! (root `/`) this runs the tool, bounded in time and output; the parsing is pure
//! functions of the tools' output. Without either tool, `/proc/net/ip_tables_names` tells
//! at least that iptables tables are loaded.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use ward_proto::v1 as pb;

use crate::inventory::root::Root;

/// Longest a firewall tool may run.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// Most output read of a firewall tool.
pub const MAX_OUTPUT: u64 = 4 << 20;
/// Where the tools are looked for (a fixed list, not `$PATH`: the service's environment
/// is not the machine's).
const SBIN: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Hooks whose drops do not filter incoming traffic.
const OUTGOING_HOOKS: [&str; 2] = ["output", "postrouting"];

/// Reads the firewall of the system under `root`.
pub(crate) fn read(root: &Root) -> pb::Firewall {
    if !root.is_live() {
        return pb::Firewall {
            backend: "unknown".to_owned(),
            source: "not read: the loaded ruleset is only known for the running system \
                     (root /), not for a mounted image"
                .to_owned(),
            ..Default::default()
        };
    }
    let mut tried = Vec::new();
    if let Some(nft) = find_tool("nft") {
        match run(&nft, &["-j", "list", "ruleset"]) {
            Ok(out) => {
                if let Some(fw) = parse_nft_json(&out) {
                    return fw;
                }
                tried.push("nft printed no ruleset JSON".to_owned());
            }
            Err(e) => tried.push(format!("nft: {e}")),
        }
    }
    if let Some(save) = find_tool("iptables-save") {
        match run(&save, &[]) {
            Ok(out) => return parse_iptables_save(&out),
            Err(e) => tried.push(format!("iptables-save: {e}")),
        }
    }
    let mut fw = from_table_names(root.read_string("proc/net/ip_tables_names").as_deref());
    if !tried.is_empty() {
        fw.source = format!("{} ({})", fw.source, tried.join("; "));
    }
    fw
}

/// Returns the facts of `/proc/net/ip_tables_names` (`None`: not present): tables loaded
/// means iptables with rules unknown, so not known to enforce.
pub fn from_table_names(text: Option<&str>) -> pb::Firewall {
    match text {
        Some(t) if t.lines().any(|l| !l.trim().is_empty()) => pb::Firewall {
            backend: "iptables".to_owned(),
            enforcing: false,
            source: "/proc/net/ip_tables_names: tables loaded, rules unknown (neither nft \
                     nor iptables-save could be run)"
                .to_owned(),
            ..Default::default()
        },
        _ => pb::Firewall {
            backend: "unknown".to_owned(),
            source: "neither nft nor iptables-save could be run, and no iptables tables \
                     are loaded"
                .to_owned(),
            ..Default::default()
        },
    }
}

/// Parses `nft -j list ruleset`: counts rules, finds base chains on the input hook and
/// their policy, and whether a rule drops or rejects (anywhere but output hooks).
/// `None` when the bytes are not nft's JSON.
pub fn parse_nft_json(bytes: &[u8]) -> Option<pb::Firewall> {
    let json: Value = serde_json::from_slice(bytes).ok()?;
    let items = json.get("nftables")?.as_array()?;
    let mut tables = 0u32;
    let mut rules = 0u32;
    let mut input_policy = String::new();
    let mut enforcing = false;
    // (family, table, chain) of chains on outgoing hooks.
    let mut outgoing: Vec<(&str, &str, &str)> = Vec::new();
    for item in items {
        if let Some(chain) = item.get("chain") {
            let hook = chain.get("hook").and_then(Value::as_str).unwrap_or("");
            let policy = chain.get("policy").and_then(Value::as_str).unwrap_or("");
            if hook == "input" {
                if matches!(policy, "drop" | "reject") {
                    enforcing = true;
                }
                // The strictest input policy is the one a packet meets.
                if input_policy.is_empty() || policy == "drop" {
                    input_policy = policy.to_owned();
                }
            }
            if OUTGOING_HOOKS.contains(&hook) {
                outgoing.push((
                    str_of(chain, "family"),
                    str_of(chain, "table"),
                    str_of(chain, "name"),
                ));
            }
        } else if item.get("table").is_some() {
            tables = tables.saturating_add(1);
        }
    }
    for item in items {
        let Some(rule) = item.get("rule") else {
            continue;
        };
        rules = rules.saturating_add(1);
        let chain = (
            str_of(rule, "family"),
            str_of(rule, "table"),
            str_of(rule, "chain"),
        );
        if !outgoing.contains(&chain) && rule.get("expr").is_some_and(|e| drops(e, 0)) {
            enforcing = true;
        }
    }
    Some(pb::Firewall {
        backend: if tables == 0 { "none" } else { "nftables" }.to_owned(),
        enforcing,
        rules,
        input_policy,
        source: "nft".to_owned(),
    })
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Whether an expression holds a drop or reject verdict (also inside verdict maps).
fn drops(v: &Value, depth: usize) -> bool {
    // serde_json already bounds nesting at 128; this keeps the walk's own stack small.
    if depth > 64 {
        return false;
    }
    match v {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k == "drop" || k == "reject" || drops(v, depth + 1)),
        Value::Array(items) => items.iter().any(|v| drops(v, depth + 1)),
        _ => false,
    }
}

/// Parses `iptables-save` output: `*table` headers, `:CHAIN POLICY [packets:bytes]`
/// chain lines, `-A CHAIN ... -j TARGET` rules.
pub fn parse_iptables_save(bytes: &[u8]) -> pb::Firewall {
    let text = String::from_utf8_lossy(bytes);
    let mut table = "";
    let mut tables = 0u32;
    let mut rules = 0u32;
    let mut input_policy = String::new();
    let mut enforcing = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(t) = line.strip_prefix('*') {
            table = t;
            tables = tables.saturating_add(1);
        } else if let Some(chain) = line.strip_prefix(':')
            // iptables-save writes the name right after the colon; anything else is not
            // a chain line.
            && !chain.starts_with(|c: char| c.is_ascii_whitespace())
        {
            let mut f = chain.split_ascii_whitespace();
            if let (Some("INPUT"), Some(policy), "filter") = (f.next(), f.next(), table) {
                input_policy = policy.to_ascii_lowercase();
                if matches!(policy, "DROP" | "REJECT") {
                    enforcing = true;
                }
            }
        } else if let Some(rule) = line.strip_prefix("-A ") {
            rules = rules.saturating_add(1);
            let mut f = rule.split_ascii_whitespace();
            let chain = f.next().unwrap_or("");
            let target = rule
                .split_ascii_whitespace()
                .skip_while(|w| *w != "-j" && *w != "--jump")
                .nth(1)
                .unwrap_or("");
            if matches!(target, "DROP" | "REJECT") && !matches!(chain, "OUTPUT" | "POSTROUTING") {
                enforcing = true;
            }
        }
    }
    pb::Firewall {
        backend: if tables == 0 { "none" } else { "iptables" }.to_owned(),
        enforcing,
        rules,
        input_policy,
        source: "iptables-save".to_owned(),
    }
}

fn find_tool(name: &str) -> Option<PathBuf> {
    SBIN.iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// Runs a tool with no input, killing it after [`TIMEOUT`]; its stdout, at most
/// [`MAX_OUTPUT`] bytes.
fn run(program: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env("LC_ALL", "C")
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("no stdout".to_owned());
    };
    // Read on a thread so that a tool that prints without end is still stopped on time.
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let result = stdout.take(MAX_OUTPUT + 1).read_to_end(&mut out);
        result.map(|_| out)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < TIMEOUT => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("stopped after {} s", TIMEOUT.as_secs()));
            }
            Err(e) => return Err(format!("lost it: {e}")),
        }
    };
    let out = reader
        .join()
        .map_err(|_| "its output reader failed".to_owned())?
        .map_err(|e| format!("cannot read its output: {e}"))?;
    if out.len() as u64 > MAX_OUTPUT {
        return Err(format!("printed more than {MAX_OUTPUT} bytes"));
    }
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
