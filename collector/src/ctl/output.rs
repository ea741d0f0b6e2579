//! Rendering answers for people (tables with readable sizes and ages) and for scripts:
//! JSON is the wire message as it is (times stay integer Unix seconds), CSV one row per
//! item with a header row.
//!
//! Renderers return the text instead of printing it, and take the current time and the
//! terminal width as inputs, so that what they print is a pure function of the answer.
//!
//! Most strings in an answer (hostnames, package names, DMI text) are what an enrolled
//! host reported, and none is trusted to be harmless where it lands:
//! - Tables show each control character (C0, DEL, C1) as its Rust escape (`\u{1b}`, `\n`,
//!   `\t`, see [`char::escape_default`]): an ESC would otherwise start an ANSI or OSC
//!   sequence in the admin's terminal (retitle it, rewrite what is on screen, hide a
//!   line), and a newline would fake a table row.
//! - CSV prefixes `'` to a field that starts with `=`, `+`, `-`, `@`, tab or CR and is not
//!   an integer, so that a spreadsheet shows it as text instead of running it as a
//!   formula (OWASP's advice on CSV injection).
//! - JSON is exact: serde escapes control characters, and scripts get what hosts sent.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat};
use comfy_table::{Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width};
use serde::Serialize;
use ward_proto::v1 as pb;

/// How answers are printed (`--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// The collector's answer as JSON, for scripts.
    Json,
    /// Comma-separated values with a header row, for spreadsheets.
    Csv,
}

/// Why an answer could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to encode the answer as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("failed to encode the answer as CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// What to render for and when: the format, the current time (for ages) and the width of
/// the terminal tables must fit (none when printing to a pipe or file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub format: Format,
    /// Seconds since the Unix epoch.
    pub now: i64,
    pub width: Option<u16>,
}

/// The query `wardctl software` answered, to say what found nothing.
#[derive(Debug, Clone, Copy)]
pub struct SoftwareQuery<'a> {
    pub name: &'a str,
    pub below: Option<&'a str>,
}

/// How an agent uses a new token, printed under it in table output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollHint {
    /// The collector address agents should use.
    pub collector: String,
    /// `SHA256:<hex>` of the collector's CA certificate.
    pub ca_fingerprint: String,
    /// Whether the address is loopback, so agents elsewhere need another one.
    pub loopback: bool,
}

/// The widest a free-text column (OS name, CPU model, addresses) grows in a terminal...
const TEXT_COLUMN_MAX: u16 = 40;
/// ...and the narrowest it shrinks to: below that, a line wider than the terminal reads
/// better than a column wrapped a few characters at a time.
const TEXT_COLUMN_MIN: u16 = 16;
/// Host ids are shown by their first characters, more when needed to tell them apart.
const SHORT_ID_LEN: usize = 8;

impl View {
    /// A view of the current time, sized to stdout when it is a terminal.
    pub fn now(format: Format) -> Self {
        let now = chrono::Utc::now().timestamp();
        // comfy-table knows whether stdout is a terminal and how wide it is.
        let width = Table::new().width();
        Self { format, now, width }
    }

    fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        table
            .load_style(comfy_table::presets::NOTHING)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(header.iter().map(Cell::new));
        if let Some(width) = self.width {
            table.set_width(width);
        }
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
        table
    }
}

/// Renders `wardctl hosts`: JSON is an array of `HostSummary` objects.
pub fn hosts(view: &View, hosts: &[pb::HostSummary]) -> Result<String, Error> {
    match view.format {
        Format::Json => json(&hosts),
        Format::Csv => csv(
            &[
                "id",
                "hostname",
                "os_id",
                "os_pretty_name",
                "kernel_release",
                "architecture",
                "logical_cores",
                "memory_bytes",
                "software_count",
                "agent_version",
                "enrolled_at",
                "last_seen",
                "last_report",
            ],
            hosts.iter().map(|h| {
                vec![
                    h.id.clone(),
                    h.hostname.clone(),
                    h.os_id.clone(),
                    h.os_pretty_name.clone(),
                    h.kernel_release.clone(),
                    h.architecture.clone(),
                    h.logical_cores.to_string(),
                    h.memory_bytes.to_string(),
                    h.software_count.to_string(),
                    h.agent_version.clone(),
                    h.enrolled_at.to_string(),
                    h.last_seen.to_string(),
                    h.last_report.to_string(),
                ]
            }),
        ),
        Format::Table => {
            if hosts.is_empty() {
                return Ok("no hosts match\n".into());
            }
            let ids = short_ids(hosts.iter().map(|h| h.id.as_str()));
            let mut table = view.table(&[
                "HOSTNAME",
                "ID",
                "OS",
                "KERNEL",
                "CORES",
                "MEMORY",
                "PACKAGES",
                "LAST SEEN",
            ]);
            for (host, id) in hosts.iter().zip(ids) {
                table.add_row(vec![
                    text(&host.hostname),
                    text(&id),
                    text(os_name(&host.os_pretty_name, &host.os_id)),
                    text(&host.kernel_release),
                    Cell::new(count(host.logical_cores)),
                    Cell::new(bytes(host.memory_bytes)),
                    Cell::new(count(host.software_count)),
                    Cell::new(age(host.last_seen, view.now)),
                ]);
            }
            fit(&mut table, &[2]);
            align_right(&mut table, &[4, 5, 6]);
            Ok(finish(&table))
        }
    }
}

/// Renders `wardctl host`: JSON is the whole `GetHostResponse`, CSV its package list.
pub fn host(view: &View, host: &pb::GetHostResponse) -> Result<String, Error> {
    let packages = host
        .software
        .as_ref()
        .map_or(&[][..], |s| s.packages.as_slice());
    match view.format {
        Format::Json => json(host),
        Format::Csv => csv(
            &["name", "version", "arch", "source", "state"],
            packages.iter().map(|p| {
                vec![
                    p.name.clone(),
                    p.version.clone(),
                    p.arch.clone(),
                    p.source.clone(),
                    p.state.clone(),
                ]
            }),
        ),
        Format::Table => {
            let mut sections = vec![host_overview(view, host)];
            if let Some(hardware) = &host.hardware {
                sections.extend(hardware_sections(view, hardware));
            } else {
                sections.push("Hardware\nnot reported yet".into());
            }
            let id = host.summary.as_ref().map_or("ID", |s| s.id.as_str());
            sections.push(package_counts(host.software.as_ref(), id));
            Ok(sections.join("\n\n") + "\n")
        }
    }
}

/// Renders `wardctl software`; an empty answer says which query found nothing.
pub fn software(
    view: &View,
    query: SoftwareQuery<'_>,
    matches: &[pb::SoftwareMatch],
) -> Result<String, Error> {
    match view.format {
        Format::Json => json(&matches),
        Format::Csv => csv(
            &[
                "host_id",
                "hostname",
                "name",
                "version",
                "arch",
                "source",
                "state",
                "last_seen",
            ],
            matches.iter().map(|m| {
                vec![
                    m.host_id.clone(),
                    m.hostname.clone(),
                    m.name.clone(),
                    m.version.clone(),
                    m.arch.clone(),
                    m.source.clone(),
                    m.state.clone(),
                    m.last_seen.to_string(),
                ]
            }),
        ),
        Format::Table => {
            if matches.is_empty() {
                return Ok(match query.below {
                    Some(below) => format!("no host has {} below {below}\n", query.name),
                    None => format!("no host has {}\n", query.name),
                });
            }
            let ids = short_ids(matches.iter().map(|m| m.host_id.as_str()));
            let mut table =
                view.table(&["HOSTNAME", "HOST ID", "PACKAGE", "VERSION", "ARCH", "STATE"]);
            for (m, id) in matches.iter().zip(ids) {
                table.add_row(vec![
                    text(&m.hostname),
                    text(&id),
                    text(&m.name),
                    text(&m.version),
                    text(&m.arch),
                    text(&m.state),
                ]);
            }
            fit(&mut table, &[]);
            Ok(finish(&table))
        }
    }
}

/// Renders `wardctl patches`: JSON is the `ListPatchesResponse` object (hosts riskiest
/// first, and how many hosts have not reported patch state).
pub fn patches(view: &View, fleet: &pb::ListPatchesResponse) -> Result<String, Error> {
    let hosts = &fleet.hosts;
    match view.format {
        Format::Json => json(fleet),
        Format::Csv => csv(
            &[
                "host_id",
                "hostname",
                "os_id",
                "pending",
                "security",
                "held_back",
                "security_since",
                "pending_since",
                "reboot_required",
                "reboot_required_since",
                "restart_units",
                "running_kernel",
                "newest_kernel",
                "patches_reported_at",
                "last_seen",
            ],
            hosts.iter().map(|h| {
                vec![
                    h.host_id.clone(),
                    h.hostname.clone(),
                    h.os_id.clone(),
                    h.pending.to_string(),
                    h.security.to_string(),
                    h.held_back.to_string(),
                    h.security_since.to_string(),
                    h.pending_since.to_string(),
                    h.reboot_required.to_string(),
                    h.reboot_required_since.to_string(),
                    h.restart_units.to_string(),
                    h.running_kernel.clone(),
                    h.newest_kernel.clone(),
                    h.patches_reported_at.to_string(),
                    h.last_seen.to_string(),
                ]
            }),
        ),
        Format::Table => {
            let mut out = if hosts.is_empty() {
                "no host matches: nothing pending, no reboot needed\n".to_string()
            } else {
                let ids = short_ids(hosts.iter().map(|h| h.host_id.as_str()));
                let mut table = view.table(&[
                    "HOSTNAME",
                    "HOST ID",
                    "OS",
                    "PENDING",
                    "SECURITY",
                    "SECURITY FOR",
                    "REBOOT",
                    "RESTART",
                    "REPORTED",
                ]);
                for (h, id) in hosts.iter().zip(ids) {
                    table.add_row(vec![
                        text(&h.hostname),
                        text(&id),
                        text(os_name(&h.os_pretty_name, &h.os_id)),
                        Cell::new(count(h.pending)),
                        Cell::new(count(h.security)),
                        Cell::new(exposure(h.security > 0, h.security_since, view.now)),
                        Cell::new(reboot(h.reboot_required, h.reboot_required_since, view.now)),
                        Cell::new(count(h.restart_units)),
                        Cell::new(age(h.patches_reported_at, view.now)),
                    ]);
                }
                fit(&mut table, &[2]);
                align_right(&mut table, &[3, 4, 7]);
                finish(&table)
            };
            if fleet.hosts_without_patch_state > 0 {
                out.push_str(&format!(
                    "\n{} host(s) have not reported patch state yet (agents that have not \
                     reported since they were enrolled or upgraded)\n",
                    fleet.hosts_without_patch_state
                ));
            }
            Ok(out)
        }
    }
}

/// Renders `wardctl patches HOST`: JSON is the `GetHostPatchesResponse` object; CSV one
/// row per pending update.
pub fn host_patches(view: &View, answer: &pb::GetHostPatchesResponse) -> Result<String, Error> {
    let summary = answer.summary.clone().unwrap_or_default();
    let pending = answer
        .patches
        .as_ref()
        .map_or(&[][..], |p| p.pending.as_slice());
    match view.format {
        Format::Json => json(answer),
        Format::Csv => csv(
            &[
                "name",
                "arch",
                "source",
                "installed_version",
                "candidate_version",
                "security",
                "origin",
                "suite",
                "held_back",
                "advisories",
                "cves",
                "first_seen",
                "security_since",
                "replaced_by",
            ],
            pending.iter().map(|u| {
                vec![
                    u.name.clone(),
                    u.arch.clone(),
                    u.source.clone(),
                    u.installed_version.clone(),
                    u.candidate_version.clone(),
                    u.security.to_string(),
                    u.origin.clone(),
                    u.suite.clone(),
                    u.held_back.to_string(),
                    advisory_ids(u).join(" "),
                    cves(u).join(" "),
                    u.first_seen.to_string(),
                    u.security_since.to_string(),
                    u.replaced_by.clone(),
                ]
            }),
        ),
        Format::Table => {
            let Some(patches) = &answer.patches else {
                return Ok(format!(
                    "{} has not reported patch state yet\n",
                    printable(&summary.hostname)
                ));
            };
            let mut rows = vec![
                ("hostname", summary.hostname.clone()),
                ("id", summary.host_id.clone()),
                (
                    "os",
                    os_name(&summary.os_pretty_name, &summary.os_id).to_string(),
                ),
                (
                    "pending",
                    format!(
                        "{} ({} security, {} held back)",
                        summary.pending, summary.security, summary.held_back
                    ),
                ),
                (
                    "security for",
                    exposure(summary.security > 0, summary.security_since, view.now),
                ),
                (
                    "reboot",
                    reboot(
                        summary.reboot_required,
                        summary.reboot_required_since,
                        view.now,
                    ),
                ),
            ];
            if !patches.reboot_required_packages.is_empty() {
                rows.push(("reboot for", patches.reboot_required_packages.join(" ")));
            }
            rows.push((
                "running kernel",
                or_dash(&patches.running_kernel).to_string(),
            ));
            rows.push(("newest kernel", or_dash(&patches.newest_kernel).to_string()));
            rows.push((
                "package managers",
                or_dash(&patches.managers.join(", ")).to_string(),
            ));
            rows.push(("reported", when(summary.patches_reported_at, view.now)));
            let mut sections = vec![pairs(view, &rows)];
            if !pending.is_empty() {
                let mut table = view.table(&[
                    "PACKAGE",
                    "ARCH",
                    "INSTALLED",
                    "CANDIDATE",
                    "FROM",
                    "SECURITY",
                    "PENDING FOR",
                    "NOTE",
                ]);
                for u in pending {
                    let mut security: Vec<String> = Vec::new();
                    if u.security {
                        security.push("yes".into());
                    }
                    security.extend(u.advisories.iter().map(|a| {
                        if a.severity.is_empty() {
                            a.id.clone()
                        } else {
                            format!("{} ({})", a.id, a.severity)
                        }
                    }));
                    table.add_row(vec![
                        text(&u.name),
                        text(&u.arch),
                        text(&u.installed_version),
                        text(&u.candidate_version),
                        text(or_dash(&u.suite)),
                        lines(&security),
                        Cell::new(exposure(true, u.first_seen, view.now)),
                        Cell::new(notes(u).join(", ")),
                    ]);
                }
                fit(&mut table, &[4, 5]);
                sections.push(section("Pending updates", finish(&table)));
            }
            if !patches.restart_needed.is_empty() {
                let mut table = view.table(&["UNIT", "PROCESSES", "REPLACED FILES"]);
                for r in &patches.restart_needed {
                    let files = r.files.len();
                    table.add_row(vec![
                        text(&r.unit),
                        Cell::new(r.pids.len()),
                        lines(
                            &r.files
                                .iter()
                                .take(3)
                                .cloned()
                                .chain((files > 3).then(|| format!("... {} more", files - 3)))
                                .collect::<Vec<_>>(),
                        ),
                    ]);
                }
                fit(&mut table, &[2]);
                sections.push(section("Needs restart", finish(&table)));
            }
            Ok(sections.join("\n\n") + "\n")
        }
    }
}

/// How long a condition has held: "12d"; "-" when it does not hold, "yes" when its start
/// is unknown.
fn exposure(active: bool, since: i64, now: i64) -> String {
    match (active, since) {
        (false, _) => "-".into(),
        (true, 0) => "yes".into(),
        (true, since) => span(now.saturating_sub(since).unsigned_abs()),
    }
}

/// "yes, 3d" / "yes" / "-".
fn reboot(required: bool, since: i64, now: i64) -> String {
    match (required, since) {
        (false, _) => "-".into(),
        (true, 0) => "yes".into(),
        (true, since) => format!("yes, {}", span(now.saturating_sub(since).unsigned_abs())),
    }
}

fn advisory_ids(u: &pb::PendingUpdate) -> Vec<String> {
    u.advisories.iter().map(|a| a.id.clone()).collect()
}

fn cves(u: &pb::PendingUpdate) -> Vec<String> {
    let mut cves: Vec<String> = u
        .advisories
        .iter()
        .flat_map(|a| a.cves.iter().cloned())
        .collect();
    cves.sort();
    cves.dedup();
    cves
}

/// What else an admin should know about a pending update.
fn notes(u: &pb::PendingUpdate) -> Vec<String> {
    let mut notes = Vec::new();
    if !u.replaced_by.is_empty() {
        notes.push(format!("replaced by {}", u.replaced_by));
    }
    if u.held_back {
        notes.push("held back".to_string());
    }
    if let Some(pct) = u.phased_percentage {
        notes.push(if u.phased_excluded {
            format!("phased {pct}%, not yet here")
        } else {
            format!("phased {pct}%")
        });
    }
    if u.downgrade {
        notes.push("downgrade (pinned)".to_string());
    }
    notes
}

/// Renders `wardctl token create`: JSON is the `CreateEnrollmentTokenResponse` object;
/// the table adds the `ward-agent enroll` command that uses the token.
pub fn token(
    view: &View,
    token: &pb::CreateEnrollmentTokenResponse,
    hint: &EnrollHint,
) -> Result<String, Error> {
    match view.format {
        Format::Json => json(token),
        Format::Csv => csv(
            &["token", "id", "expires_at", "uses"],
            [vec![
                token.token.clone(),
                token.id.clone(),
                token.expires_at.to_string(),
                token.uses.to_string(),
            ]],
        ),
        Format::Table => {
            let mut text = pairs(
                view,
                &[
                    ("token", token.token.clone()),
                    ("id", token.id.clone()),
                    ("expires", when(token.expires_at, view.now)),
                    ("uses", token.uses.to_string()),
                ],
            );
            text.push_str(
                "\n\nThe token is a secret: put it in a file on the machine to enrol (not on \
                 a command line, where other users can see it), then run there:\n\n",
            );
            text.push_str(&format!(
                "  ward-agent enroll --collector {} --ca-fingerprint {} --token-file FILE\n",
                hint.collector, hint.ca_fingerprint
            ));
            if hint.loopback {
                text.push_str(&format!(
                    "\n{} is this machine only: give agents on other machines an address \
                     they can reach, which the collector's certificate names.\n",
                    hint.collector
                ));
            }
            Ok(text)
        }
    }
}

/// Formats Unix seconds as RFC 3339 UTC ("2026-11-23T10:04:05Z"); 0 means never.
pub fn timestamp(seconds: i64) -> String {
    if seconds == 0 {
        return "never".into();
    }
    DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// Formats how long ago (or how far ahead) `seconds` is from `now`: "3m ago", "in 1h";
/// 0 means never.
pub fn age(seconds: i64, now: i64) -> String {
    if seconds == 0 {
        return "never".into();
    }
    let delta = now.saturating_sub(seconds);
    let span = span(delta.unsigned_abs());
    if delta >= 0 {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}

/// Formats a byte count with binary units ("7.8 GiB"); 0 means unknown.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n == 0 {
        return "-".into();
    }
    if n < 1024 {
        return format!("{n} B");
    }
    // Precision loss above 2^53 bytes does not show at one decimal.
    #[allow(clippy::cast_precision_loss)]
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn span(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m", seconds / 60),
        3_600..172_800 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// "2026-11-23T10:04:05Z (3m ago)".
fn when(seconds: i64, now: i64) -> String {
    if seconds == 0 {
        return "never".into();
    }
    format!("{} ({})", timestamp(seconds), age(seconds, now))
}

fn count(n: u32) -> String {
    if n == 0 { "-".into() } else { n.to_string() }
}

fn os_name<'a>(pretty: &'a str, id: &'a str) -> &'a str {
    if pretty.is_empty() { id } else { pretty }
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// Returns each id cut to its first characters: at least [`SHORT_ID_LEN`], and as many
/// more as it takes to differ from every other id listed (time-ordered ids share long
/// prefixes).
fn short_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let ids: Vec<&str> = ids.collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let mut needed: HashMap<&str, usize> = HashMap::new();
    for (i, id) in sorted.iter().enumerate() {
        let mut len = SHORT_ID_LEN;
        // In sorted order the longest shared prefix is with a neighbour.
        for other in [i.checked_sub(1), i.checked_add(1)].into_iter().flatten() {
            if let Some(other) = sorted.get(other) {
                let common = id
                    .bytes()
                    .zip(other.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                len = len.max(common + 1);
            }
        }
        needed.insert(id, len);
    }
    ids.iter()
        .map(|id| {
            let len = needed.get(id).copied().unwrap_or(id.len());
            match id.get(..len) {
                Some(prefix) if len < id.len() => prefix.to_string(),
                _ => id.to_string(),
            }
        })
        .collect()
}

/// Lets only the free-text `wrap` columns wrap in a narrow terminal; names, ids, sizes
/// and ages keep their width, because a wrapped hostname or id is worse than a wide line.
fn fit(table: &mut Table, wrap: &[usize]) {
    let content = table.column_max_content_widths();
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_constraint(if wrap.contains(&i) {
            // A lower bound wider than the content would pad the column.
            let lower = content
                .get(i)
                .map_or(TEXT_COLUMN_MIN, |&w| w.min(TEXT_COLUMN_MIN));
            ColumnConstraint::Boundaries {
                lower: Width::Fixed(lower),
                upper: Width::Fixed(TEXT_COLUMN_MAX),
            }
        } else {
            ColumnConstraint::ContentWidth
        });
    }
}

fn align_right(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn finish(table: &Table) -> String {
    table.trim_fmt() + "\n"
}

/// A two-column "key  value" block.
fn pairs(view: &View, rows: &[(&str, String)]) -> String {
    let mut table = Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = view.width {
        table.set_width(width);
    }
    for (key, value) in rows {
        table.add_row(vec![Cell::new(key), text(value)]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    if let Some(key) = table.column_mut(0) {
        key.set_constraint(ColumnConstraint::ContentWidth);
    }
    table.trim_fmt()
}

fn section(title: &str, body: String) -> String {
    format!("{title}\n{body}")
}

fn host_overview(view: &View, host: &pb::GetHostResponse) -> String {
    let summary = host.summary.clone().unwrap_or_default();
    let os = host.os.clone().unwrap_or_default();
    let mut rows = vec![
        ("hostname", summary.hostname.clone()),
        ("id", summary.id.clone()),
        (
            "os",
            os_name(&summary.os_pretty_name, &summary.os_id).to_string(),
        ),
    ];
    if !os.os_version_id.is_empty() || !os.os_codename.is_empty() {
        let version = [os.os_id.as_str(), &os.os_version_id, &os.os_codename]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        rows.push(("os release", version));
    }
    rows.extend([
        ("kernel", summary.kernel_release.clone()),
        ("architecture", summary.architecture.clone()),
    ]);
    if !os.virtualization.is_empty() {
        rows.push(("virtualization", os.virtualization.clone()));
    }
    if !os.container.is_empty() {
        rows.push(("container", os.container.clone()));
    }
    rows.extend([
        ("machine id", summary.machine_id.clone()),
        ("agent", summary.agent_version.clone()),
        ("booted", when(os.boot_time, view.now)),
        ("enrolled", when(summary.enrolled_at, view.now)),
        ("last seen", when(summary.last_seen, view.now)),
        ("last report", when(summary.last_report, view.now)),
    ]);
    let rows: Vec<(&str, String)> = rows
        .into_iter()
        .map(|(k, v)| (k, if v.is_empty() { "-".into() } else { v }))
        .collect();
    pairs(view, &rows)
}

fn hardware_sections(view: &View, hardware: &pb::Hardware) -> Vec<String> {
    let mut sections = Vec::new();

    let cpu = hardware.cpu.clone().unwrap_or_default();
    let memory = hardware.memory.unwrap_or_default();
    let mut cores = format!(
        "{} physical, {} logical",
        cpu.physical_cores, cpu.logical_cores
    );
    if cpu.sockets > 0 {
        cores.push_str(&format!(", {} socket(s)", cpu.sockets));
    }
    let mut rows = vec![
        ("cpu", or_dash(&cpu.model).to_string()),
        ("cores", cores),
        ("memory", bytes(memory.total_bytes)),
        ("swap", bytes(memory.swap_total_bytes)),
    ];
    if cpu.max_mhz > 0 {
        rows.insert(2, ("max frequency", format!("{} MHz", cpu.max_mhz)));
    }
    sections.push(section("Hardware", pairs(view, &rows)));

    if !hardware.filesystems.is_empty() {
        let mut table = view.table(&["MOUNT", "DEVICE", "TYPE", "SIZE", "FREE", "USED"]);
        for fs in &hardware.filesystems {
            let used = if fs.total_bytes == 0 {
                "-".to_string()
            } else {
                let used = fs.total_bytes.saturating_sub(fs.free_bytes);
                format!("{}%", u128::from(used) * 100 / u128::from(fs.total_bytes))
            };
            table.add_row(vec![
                text(&fs.mount_point),
                text(&fs.device),
                text(&fs.fs_type),
                Cell::new(bytes(fs.total_bytes)),
                Cell::new(bytes(fs.free_bytes)),
                Cell::new(used),
            ]);
        }
        fit(&mut table, &[0, 1]);
        align_right(&mut table, &[3, 4, 5]);
        sections.push(section("Filesystems", table.trim_fmt()));
    }

    if !hardware.block_devices.is_empty() {
        let mut table = view.table(&["NAME", "MODEL", "SERIAL", "SIZE", "TYPE", "REMOVABLE"]);
        for disk in &hardware.block_devices {
            let kind = match disk.rotational {
                Some(true) => "hdd",
                Some(false) => "ssd",
                None => "-",
            };
            table.add_row(vec![
                text(&disk.name),
                text(or_dash(&disk.model)),
                text(or_dash(&disk.serial)),
                Cell::new(bytes(disk.size_bytes)),
                Cell::new(kind),
                Cell::new(if disk.removable { "yes" } else { "no" }),
            ]);
        }
        fit(&mut table, &[1, 2]);
        align_right(&mut table, &[3]);
        sections.push(section("Disks", table.trim_fmt()));
    }

    if !hardware.interfaces.is_empty() {
        let mut table = view.table(&["NAME", "STATE", "MAC", "MTU", "ADDRESSES"]);
        for nic in &hardware.interfaces {
            let state = match (nic.up, nic.r#virtual) {
                (true, false) => "up",
                (true, true) => "up (virtual)",
                (false, false) => "down",
                (false, true) => "down (virtual)",
            };
            table.add_row(vec![
                text(&nic.name),
                Cell::new(state),
                text(or_dash(&nic.mac)),
                Cell::new(count(nic.mtu)),
                if nic.addresses.is_empty() {
                    Cell::new("-")
                } else {
                    lines(&nic.addresses)
                },
            ]);
        }
        fit(&mut table, &[4]);
        align_right(&mut table, &[3]);
        sections.push(section("Interfaces", table.trim_fmt()));
    }

    if !hardware.gpus.is_empty() {
        let mut table = view.table(&["CARD", "VENDOR", "DEVICE", "DRIVER", "PCI SLOT"]);
        for gpu in &hardware.gpus {
            table.add_row(vec![
                text(&gpu.card),
                text(or_dash(&gpu.vendor_id)),
                text(or_dash(&gpu.device_id)),
                text(or_dash(&gpu.driver)),
                text(or_dash(&gpu.pci_slot)),
            ]);
        }
        fit(&mut table, &[]);
        sections.push(section("GPUs", table.trim_fmt()));
    }

    let dmi = match &hardware.dmi {
        None => "absent (the machine exposes no SMBIOS/DMI data)".to_string(),
        Some(dmi) => {
            let join = |parts: &[&str]| {
                let text = parts
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>();
                if text.is_empty() {
                    "-".to_string()
                } else {
                    text.join(" ")
                }
            };
            pairs(
                view,
                &[
                    (
                        "system",
                        join(&[&dmi.system_vendor, &dmi.product_name, &dmi.product_version]),
                    ),
                    ("serial", or_dash(&dmi.product_serial).to_string()),
                    ("uuid", or_dash(&dmi.product_uuid).to_string()),
                    ("board", join(&[&dmi.board_vendor, &dmi.board_name])),
                    ("chassis", or_dash(&dmi.chassis_type).to_string()),
                    (
                        "bios",
                        join(&[&dmi.bios_vendor, &dmi.bios_version, &dmi.bios_date]),
                    ),
                ],
            )
        }
    };
    sections.push(section("DMI", dmi));
    sections
}

fn package_counts(software: Option<&pb::Software>, host_id: &str) -> String {
    let Some(software) = software else {
        return "Packages\nnot reported yet".into();
    };
    let packages = &software.packages;
    let installed = packages.iter().filter(|p| p.state == "installed").count();
    let mut other_states: BTreeMap<Cow<'_, str>, usize> = BTreeMap::new();
    let mut sources: BTreeMap<Cow<'_, str>, usize> = BTreeMap::new();
    for p in packages {
        if p.state != "installed" {
            *other_states
                .entry(printable(or_dash(&p.state)))
                .or_default() += 1;
        }
        *sources.entry(printable(or_dash(&p.source))).or_default() += 1;
    }
    let list = |counts: &BTreeMap<Cow<'_, str>, usize>| {
        counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!("Packages\n{} total, {installed} installed", packages.len());
    if !other_states.is_empty() {
        text.push_str(&format!(" (other states: {})", list(&other_states)));
    }
    if !sources.is_empty() {
        text.push_str(&format!("\nby format: {}", list(&sources)));
    }
    text.push_str(&format!(
        "\nlist them with: wardctl host {} --output csv",
        printable(host_id)
    ));
    text
}

/// A table cell showing host-supplied text, with its control characters escaped.
fn text(value: &str) -> Cell {
    Cell::new(printable(value))
}

/// A table cell showing one host-supplied item per line: the newlines are wardctl's, the
/// items' own control characters are escaped.
fn lines(items: &[String]) -> Cell {
    let lines: Vec<Cow<'_, str>> = items.iter().map(|item| printable(item)).collect();
    Cell::new(lines.join("\n"))
}

/// Returns `value` with each control character (C0, DEL, C1) replaced by its Rust escape
/// (`\u{1b}`, `\n`, `\t`), so that a terminal shows it instead of acting on it.
fn printable(value: &str) -> Cow<'_, str> {
    if !value.chars().any(char::is_control) {
        return Cow::Borrowed(value);
    }
    let mut escaped = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// Returns a CSV field a spreadsheet will not run as a formula: a leading `'` when it
/// starts with `=`, `+`, `-`, `@`, tab or CR. Integers (times, counts, sizes) are left
/// alone: a number is not a formula, and scripts reading the CSV keep a plain `-1`.
fn spreadsheet_text(field: &str) -> Cow<'_, str> {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && field.parse::<i128>().is_err() {
        Cow::Owned(format!("'{field}"))
    } else {
        Cow::Borrowed(field)
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

fn csv<R>(header: &[&str], rows: impl IntoIterator<Item = R>) -> Result<String, Error>
where
    R: IntoIterator,
    R::Item: AsRef<str>,
{
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        for field in row {
            writer.write_field(spreadsheet_text(field.as_ref()).as_bytes())?;
        }
        // An empty record ends the one the fields started.
        writer.write_record(None::<&[u8]>)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    // Every field was a String, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub mod alerts;

#[cfg(test)]
mod tests;
