//! The backend-independent store suite: every function takes `&dyn Store` and every
//! backend runs all of them through [`conformance_tests!`].

use std::collections::BTreeSet;

use ward_proto::digest::{self, Hash};
use ward_proto::{delta, v1 as pb};

use super::*;

/// A fixed "now" so that times in assertions are readable.
pub(crate) const NOW: i64 = 1_700_000_000;

/// Expands to one `#[tokio::test]` per suite function, each on a fresh store made by
/// `$open`, an expression giving a future of `(guard, Arc<dyn Store>)`; the guard (a
/// temporary directory, a scratch database) lives until the test ends.
macro_rules! conformance_tests {
    ($open:expr) => {
        $crate::store::tests::conformance_tests!(@each $open;
            tokens_count_uses,
            tokens_expire,
            tokens_unknown,
            double_enrolment_fails_and_keeps_the_use,
            host_status_reports_serial_and_not_revoked,
            full_then_unchanged_then_delta,
            delta_against_another_base_changes_nothing,
            delta_with_nothing_held_asks_for_full,
            replayed_sequence_changes_nothing,
            unchanged_with_a_hash_not_held_asks_for_full,
            full_report_replaces_the_software_rows,
            concurrent_replays_apply_once,
            report_for_unknown_host_fails,
            heartbeat_updates_and_returns_held_hashes,
            list_hosts_pages_return_every_host_once,
            list_hosts_filters,
            find_software_by_name_and_glob,
            get_host_by_id_or_hostname,
            patches_full_delta_unchanged_and_summary,
            patches_bad_delta_changes_nothing,
            list_patches_filters_and_counts_silent_hosts,
            alerts_dedup_by_fingerprint_across_reports,
            alerts_ack_resolve_and_reopen_keep_one_history,
            silences_mark_alerts_and_expire,
            timed_rules_offline_clone_and_certificates,
            a_sequence_that_goes_back_raises_host_restored,
            alert_events_stream_in_order_and_list_filters_page,
        );
    };
    (@each $open:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_guard, store) = $open.await;
                $crate::store::tests::$name(&store).await;
            }
        )*
    };
}
pub(crate) use conformance_tests;

mod alerts;
pub(crate) use alerts::*;

// ---- fixtures ----

fn token(id: &str, hash: u8, uses: u32, expires_at: i64) -> NewToken {
    NewToken {
        id: id.into(),
        hash: [hash; 32],
        uses,
        expires_at,
        label: format!("test token {id}"),
        created_at: NOW - 60,
    }
}

fn new_host(id: &str, hostname: &str) -> NewHost {
    NewHost {
        id: id.into(),
        hostname: hostname.into(),
        cert_serial: format!("serial-{id}"),
        cert_not_after: NOW + 86_400,
        agent_version: "1.0.0".into(),
        enrolled_at: NOW,
    }
}

/// Enrols hosts (id, hostname) with a token of their own.
async fn enrol(store: &Arc<dyn Store>, hosts: &[(&str, &str)]) {
    let hash = [0xee; 32];
    let uses = u32::try_from(hosts.len()).unwrap();
    let id = format!("tok-{}", hosts.first().map_or("none", |h| h.0));
    store
        .create_token(NewToken {
            hash,
            ..token(&id, 0, uses, NOW + 3600)
        })
        .await
        .unwrap();
    for (id, hostname) in hosts {
        store.enroll(&hash, new_host(id, hostname)).await.unwrap();
    }
}

fn os_info(hostname: &str, os_id: &str) -> pb::OsInfo {
    pb::OsInfo {
        hostname: hostname.into(),
        os_id: os_id.into(),
        os_version_id: "12".into(),
        os_pretty_name: format!("{os_id} pretty"),
        kernel_release: "6.1.0-18-amd64".into(),
        architecture: "x86_64".into(),
        machine_id: format!("machine-{hostname}"),
        ..Default::default()
    }
}

fn hardware(memory: u64, cores: u32) -> pb::Hardware {
    let iface = |name: &str| pb::NetworkInterface {
        name: name.into(),
        addresses: vec!["192.0.2.4/24".into()],
        ..Default::default()
    };
    pb::Hardware {
        cpu: Some(pb::Cpu {
            logical_cores: cores,
            ..Default::default()
        }),
        memory: Some(pb::Memory {
            total_bytes: memory,
            swap_total_bytes: 0,
        }),
        // Out of canonical order on purpose.
        interfaces: vec![iface("eth1"), iface("eth0")],
        ..Default::default()
    }
}

fn canonical_hardware(mut hw: pb::Hardware) -> pb::Hardware {
    digest::canonicalize_hardware(&mut hw);
    hw
}

fn pkg(name: &str, version: &str, state: &str) -> pb::Package {
    pb::Package {
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        source: "deb".into(),
        state: state.into(),
        installed_size: 1024,
        ..Default::default()
    }
}

fn software(packages: Vec<pb::Package>) -> pb::Software {
    let mut sw = pb::Software { packages };
    digest::canonicalize_software(&mut sw);
    sw
}

fn report(sequence: u64) -> Report {
    Report::empty(sequence, "1.0.0")
}

/// Applies a report through the pipeline, as the agent service does.
pub(crate) async fn apply_report(
    store: &Arc<dyn Store>,
    host_id: &str,
    report: Report,
    now: i64,
) -> Result<ReportOutcome, crate::pipeline::Error> {
    crate::pipeline::Pipeline::new(store.clone(), crate::rules::Settings::default())
        .report(host_id, report, now)
        .await
}

/// Records a heartbeat through the pipeline.
pub(crate) async fn heartbeat(
    store: &Arc<dyn Store>,
    host_id: &str,
    agent_version: &str,
    now: i64,
) -> Result<Vec<(pb::Section, Hash)>, crate::pipeline::Error> {
    crate::pipeline::Pipeline::new(store.clone(), crate::rules::Settings::default())
        .heartbeat(host_id, agent_version, now)
        .await
}

fn pending(name: &str, security: bool, since: i64) -> pb::PendingUpdate {
    pb::PendingUpdate {
        name: name.into(),
        arch: "amd64".into(),
        source: "deb".into(),
        installed_version: "1.0-1".into(),
        candidate_version: "1.0-2".into(),
        security,
        origin: "Debian".into(),
        suite: if security {
            "bookworm-security"
        } else {
            "bookworm"
        }
        .into(),
        first_seen: since,
        security_since: if security { since } else { 0 },
        ..Default::default()
    }
}

fn patch_state(pending: Vec<pb::PendingUpdate>, reboot_since: Option<i64>) -> pb::Patches {
    let mut p = pb::Patches {
        pending,
        reboot_required: reboot_since.is_some(),
        reboot_required_since: reboot_since.unwrap_or(0),
        running_kernel: "6.1.0-9-amd64".into(),
        newest_kernel: "6.1.0-40-amd64".into(),
        managers: vec!["apt".into()],
        restart_needed: vec![pb::Restart {
            unit: "ssh.service".into(),
            pids: vec![42],
            files: vec!["/usr/lib/x86_64-linux-gnu/libssl.so.3".into()],
        }],
        ..Default::default()
    };
    digest::canonicalize_patches(&mut p);
    p
}

fn ack(outcome: &ReportOutcome, section: pb::Section) -> &SectionAck {
    outcome
        .sections
        .iter()
        .find(|a| a.section == section)
        .unwrap()
}

/// All package rows, as (host, name, version, state), for before/after comparisons.
async fn all_rows(store: &Arc<dyn Store>) -> Vec<(String, String, String, String)> {
    store
        .find_software("*", true)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.host_id, m.name, m.version, m.state))
        .collect()
}

fn expect_send_full(outcome: &ReportOutcome, section: pb::Section, held: Option<Hash>) {
    let a = ack(outcome, section);
    assert!(
        a.send_full,
        "{section:?} should ask for a full section: {outcome:?}"
    );
    assert_eq!(a.hash, held, "{section:?} should still hold what it held");
}

// ---- enrolment ----

pub(crate) async fn tokens_count_uses(store: &Arc<dyn Store>) {
    store
        .create_token(token("t1", 1, 2, NOW + 3600))
        .await
        .unwrap();
    store.enroll(&[1; 32], new_host("h1", "a")).await.unwrap();
    // Checking does not consume a use.
    store.check_token(&[1; 32], NOW).await.unwrap();
    store.check_token(&[1; 32], NOW).await.unwrap();
    store.enroll(&[1; 32], new_host("h2", "b")).await.unwrap();
    let checked = store.check_token(&[1; 32], NOW).await.unwrap_err();
    assert!(matches!(checked, Error::TokenUsedUp), "{checked}");
    let err = store
        .enroll(&[1; 32], new_host("h3", "c"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TokenUsedUp), "{err}");
    assert!(err.to_string().contains("wardctl token create"), "{err}");
    assert!(store.host_status("h3").await.unwrap().is_none());
    assert!(store.host_status("h2").await.unwrap().is_some());
}

pub(crate) async fn tokens_expire(store: &Arc<dyn Store>) {
    store.create_token(token("t1", 1, 5, NOW)).await.unwrap();
    let err = store
        .enroll(&[1; 32], new_host("late", "a"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TokenExpired { at } if at == NOW),
        "{err}"
    );
    assert!(store.host_status("late").await.unwrap().is_none());
    let checked = store.check_token(&[1; 32], NOW).await.unwrap_err();
    assert!(matches!(checked, Error::TokenExpired { .. }), "{checked}");
    store.check_token(&[1; 32], NOW - 1).await.unwrap();
    assert!(matches!(
        store.check_token(&[9; 32], NOW - 1).await,
        Err(Error::TokenUnknown)
    ));
    let early = NewHost {
        enrolled_at: NOW - 1,
        ..new_host("early", "b")
    };
    store.enroll(&[1; 32], early).await.unwrap();
}

pub(crate) async fn tokens_unknown(store: &Arc<dyn Store>) {
    let err = store
        .enroll(&[9; 32], new_host("h1", "a"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TokenUnknown), "{err}");
    store
        .create_token(token("t1", 1, 1, NOW + 60))
        .await
        .unwrap();
    let err = store
        .enroll(&[2; 32], new_host("h1", "a"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TokenUnknown), "{err}");
    assert!(store.host_status("h1").await.unwrap().is_none());
}

pub(crate) async fn double_enrolment_fails_and_keeps_the_use(store: &Arc<dyn Store>) {
    store
        .create_token(token("t1", 1, 2, NOW + 3600))
        .await
        .unwrap();
    store.enroll(&[1; 32], new_host("h1", "a")).await.unwrap();
    let err = store
        .enroll(&[1; 32], new_host("h1", "other"))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::HostExists(id) if id == "h1"), "{err}");
    // The failed attempt rolled back: the token still has its second use.
    store.enroll(&[1; 32], new_host("h2", "b")).await.unwrap();
    let err = store
        .enroll(&[1; 32], new_host("h3", "c"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TokenUsedUp), "{err}");
    // And the first host is untouched.
    let h1 = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(h1.summary.hostname, "a");
}

pub(crate) async fn host_status_reports_serial_and_not_revoked(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a")]).await;
    let status = store.host_status("h1").await.unwrap().unwrap();
    assert_eq!(
        status,
        HostStatus {
            revoked: false,
            cert_serial: "serial-h1".into()
        }
    );
    assert_eq!(store.host_status("nope").await.unwrap(), None);
    let fresh = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(fresh.summary.enrolled_at, NOW);
    assert_eq!(fresh.summary.last_seen, NOW);
    assert_eq!(fresh.summary.last_report, 0);
    assert_eq!(fresh.summary.agent_version, "1.0.0");
    assert_eq!(
        (fresh.os, fresh.hardware, fresh.software),
        (None, None, None)
    );
}

// ---- reports ----

pub(crate) async fn full_then_unchanged_then_delta(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "boot-name")]).await;
    let os = os_info("web-1", "debian");
    let hw = hardware(8 << 30, 4);
    let sw0 = software(vec![
        pkg("openssl", "3.0.1", "installed"),
        pkg("bash", "5.2", "installed"),
        pkg("vim", "9.0", "config-files"),
    ]);
    // Sent out of canonical order: the store canonicalizes.
    let mut unsorted = sw0.clone();
    unsorted.packages.reverse();

    let out = apply_report(
        store,
        "h1",
        Report {
            os: Some(Update::Full(os.clone())),
            hardware: Some(Update::Full(hw.clone())),
            software: Some(Update::Full(unsorted)),
            ..report(1)
        },
        NOW + 1,
    )
    .await
    .unwrap();
    let (os_h, hw_h, sw0_h) = (
        digest::os(&os),
        digest::hardware(&canonical_hardware(hw.clone())),
        digest::software(&sw0),
    );
    assert_eq!(
        out,
        ReportOutcome {
            applied_sequence: 1,
            duplicate: false,
            sections: vec![
                SectionAck {
                    section: pb::Section::Os,
                    hash: Some(os_h),
                    send_full: false
                },
                SectionAck {
                    section: pb::Section::Hardware,
                    hash: Some(hw_h),
                    send_full: false
                },
                SectionAck {
                    section: pb::Section::Software,
                    hash: Some(sw0_h),
                    send_full: false
                },
                SectionAck {
                    section: pb::Section::Patches,
                    hash: None,
                    send_full: false
                },
                SectionAck {
                    section: pb::Section::Posture,
                    hash: None,
                    send_full: false
                },
            ],
        }
    );
    let d = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(d.os.as_ref(), Some(&os));
    assert_eq!(d.hardware, Some(canonical_hardware(hw)));
    assert_eq!(d.software.as_ref(), Some(&sw0));
    let s = &d.summary;
    assert_eq!(s.hostname, "web-1");
    assert_eq!(
        (
            s.os_id.as_str(),
            s.os_pretty_name.as_str(),
            s.kernel_release.as_str()
        ),
        ("debian", "debian pretty", "6.1.0-18-amd64")
    );
    assert_eq!(
        (s.architecture.as_str(), s.machine_id.as_str()),
        ("x86_64", "machine-web-1")
    );
    assert_eq!(
        (s.memory_bytes, s.logical_cores, s.software_count),
        (8 << 30, 4, 2)
    );
    assert_eq!(
        (s.last_report, s.last_seen, s.enrolled_at),
        (NOW + 1, NOW + 1, NOW)
    );

    let openssl = store.find_software("openssl", false).await.unwrap();
    assert_eq!(
        openssl,
        vec![pb::SoftwareMatch {
            host_id: "h1".into(),
            hostname: "web-1".into(),
            name: "openssl".into(),
            version: "3.0.1".into(),
            arch: "amd64".into(),
            source: "deb".into(),
            state: "installed".into(),
            last_seen: NOW + 1,
        }]
    );
    assert!(store.find_software("vim", false).await.unwrap().is_empty());
    assert_eq!(store.find_software("vim", true).await.unwrap().len(), 1);

    // Steady state: everything unchanged.
    let out = apply_report(
        store,
        "h1",
        Report {
            agent_version: "1.0.1".into(),
            os: Some(Update::Unchanged(os_h)),
            hardware: Some(Update::Unchanged(hw_h)),
            software: Some(Update::Unchanged(sw0_h)),
            ..report(2)
        },
        NOW + 2,
    )
    .await
    .unwrap();
    assert!(!out.duplicate);
    assert_eq!(out.applied_sequence, 2);
    assert_eq!(
        out.sections
            .iter()
            .map(|a| (a.hash, a.send_full))
            .collect::<Vec<_>>(),
        vec![
            (Some(os_h), false),
            (Some(hw_h), false),
            (Some(sw0_h), false),
            (None, false),
            (None, false)
        ]
    );
    let d2 = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(
        (d2.os.as_ref(), d2.software.as_ref()),
        (Some(&os), Some(&sw0))
    );
    assert_eq!(
        (d2.summary.last_report, d2.summary.agent_version.as_str()),
        (NOW + 2, "1.0.1")
    );

    // A delta: add curl, remove vim, upgrade openssl.
    let sw1 = software(vec![
        pkg("openssl", "3.0.2", "installed"),
        pkg("bash", "5.2", "installed"),
        pkg("curl", "8.0", "installed"),
    ]);
    let delta = delta::software(&sw0, &sw1);
    let out = apply_report(
        store,
        "h1",
        Report {
            software: Some(Update::Delta(delta)),
            ..report(3)
        },
        NOW + 3,
    )
    .await
    .unwrap();
    let sw1_h = digest::software(&sw1);
    assert_eq!(
        out.sections
            .iter()
            .map(|a| (a.hash, a.send_full))
            .collect::<Vec<_>>(),
        vec![
            (Some(os_h), false),
            (Some(hw_h), false),
            (Some(sw1_h), false),
            (None, false),
            (None, false)
        ]
    );
    let d3 = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(d3.software.as_ref(), Some(&sw1));
    assert_eq!(d3.os.as_ref(), Some(&os));
    assert_eq!(d3.summary.software_count, 3);
    let rows = all_rows(store).await;
    let want: Vec<(String, String, String, String)> =
        [("bash", "5.2"), ("curl", "8.0"), ("openssl", "3.0.2")]
            .iter()
            .map(|(n, v)| ("h1".into(), (*n).into(), (*v).into(), "installed".into()))
            .collect();
    assert_eq!(rows, want);
    assert!(store.find_software("vim", true).await.unwrap().is_empty());
}

pub(crate) async fn delta_against_another_base_changes_nothing(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a")]).await;
    let sw0 = software(vec![pkg("a", "1", "installed"), pkg("b", "1", "installed")]);
    apply_report(
        store,
        "h1",
        Report {
            software: Some(Update::Full(sw0.clone())),
            ..report(1)
        },
        NOW + 1,
    )
    .await
    .unwrap();
    let before = store.get_host("h1").await.unwrap().unwrap();
    let rows_before = all_rows(store).await;

    let other = software(vec![pkg("z", "1", "installed")]);
    let target = software(vec![pkg("z", "2", "installed"), pkg("y", "1", "installed")]);
    let wrong_base = delta::software(&other, &target);
    let out = apply_report(
        store,
        "h1",
        Report {
            software: Some(Update::Delta(wrong_base)),
            ..report(2)
        },
        NOW + 2,
    )
    .await
    .unwrap();
    assert!(!out.duplicate);
    assert_eq!(out.applied_sequence, 2);
    expect_send_full(&out, pb::Section::Software, Some(digest::software(&sw0)));

    // A delta whose result hash lies is refused too.
    let mut tampered = delta::software(&sw0, &target);
    tampered.upsert.push(pkg("extra", "1", "installed"));
    let out = apply_report(
        store,
        "h1",
        Report {
            software: Some(Update::Delta(tampered)),
            ..report(3)
        },
        NOW + 3,
    )
    .await
    .unwrap();
    expect_send_full(&out, pb::Section::Software, Some(digest::software(&sw0)));

    let after = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(after.software, before.software);
    assert_eq!(after.summary.software_count, before.summary.software_count);
    assert_eq!(all_rows(store).await, rows_before);
}

pub(crate) async fn delta_with_nothing_held_asks_for_full(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a")]).await;
    let old = software(vec![pkg("a", "1", "installed")]);
    let new = software(vec![pkg("a", "2", "installed")]);
    let out = apply_report(
        store,
        "h1",
        Report {
            software: Some(Update::Delta(delta::software(&old, &new))),
            ..report(1)
        },
        NOW + 1,
    )
    .await
    .unwrap();
    expect_send_full(&out, pb::Section::Software, None);
    assert!(
        store
            .get_host("h1")
            .await
            .unwrap()
            .unwrap()
            .software
            .is_none()
    );
    assert!(all_rows(store).await.is_empty());
}

pub(crate) async fn replayed_sequence_changes_nothing(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a")]).await;
    let first = apply_report(
        store,
        "h1",
        Report {
            os: Some(Update::Full(os_info("web-1", "debian"))),
            hardware: Some(Update::Full(hardware(1 << 30, 2))),
            software: Some(Update::Full(software(vec![pkg("a", "1", "installed")]))),
            ..report(5)
        },
        NOW + 5,
    )
    .await
    .unwrap();
    let before = store.get_host("h1").await.unwrap().unwrap();
    let rows_before = all_rows(store).await;

    // The same sequence again, with different content and a later clock, then an older one.
    for sequence in [5, 4, 0] {
        let out = apply_report(
            store,
            "h1",
            Report {
                agent_version: "9.9.9".into(),
                os: Some(Update::Full(os_info("renamed", "ubuntu"))),
                hardware: Some(Update::Unchanged([7; 32])),
                software: Some(Update::Full(software(vec![pkg("b", "2", "installed")]))),
                ..report(sequence)
            },
            NOW + 100,
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            ReportOutcome {
                applied_sequence: 5,
                duplicate: true,
                sections: first.sections.clone()
            }
        );
    }
    assert_eq!(store.get_host("h1").await.unwrap().unwrap(), before);
    assert_eq!(all_rows(store).await, rows_before);

    // The next sequence applies.
    let out = apply_report(store, "h1", report(6), NOW + 6).await.unwrap();
    assert!(!out.duplicate);
    assert_eq!(out.applied_sequence, 6);
    assert_eq!(out.sections, first.sections);
}

pub(crate) async fn unchanged_with_a_hash_not_held_asks_for_full(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a")]).await;
    let os = os_info("web-1", "debian");
    let os_h = digest::os(&os);
    // Nothing held yet.
    let out = apply_report(
        store,
        "h1",
        Report {
            os: Some(Update::Unchanged(os_h)),
            ..report(1)
        },
        NOW + 1,
    )
    .await
    .unwrap();
    expect_send_full(&out, pb::Section::Os, None);
    // Sections absent from the report are listed all the same, asking for nothing.
    assert_eq!(out.sections.len(), SECTIONS.len());
    for section in [
        pb::Section::Hardware,
        pb::Section::Software,
        pb::Section::Patches,
    ] {
        assert_eq!(
            ack(&out, section),
            &SectionAck {
                section,
                hash: None,
                send_full: false
            }
        );
    }
    assert_eq!(
        store
            .get_host("h1")
            .await
            .unwrap()
            .unwrap()
            .summary
            .last_report,
        NOW + 1
    );

    // Something else held.
    apply_report(
        store,
        "h1",
        Report {
            os: Some(Update::Full(os.clone())),
            ..report(2)
        },
        NOW + 2,
    )
    .await
    .unwrap();
    let other = digest::os(&os_info("web-2", "debian"));
    let out = apply_report(
        store,
        "h1",
        Report {
            os: Some(Update::Unchanged(other)),
            hardware: Some(Update::Unchanged(other)),
            software: Some(Update::Unchanged(other)),
            ..report(3)
        },
        NOW + 3,
    )
    .await
    .unwrap();
    expect_send_full(&out, pb::Section::Os, Some(os_h));
    expect_send_full(&out, pb::Section::Hardware, None);
    expect_send_full(&out, pb::Section::Software, None);
    let d = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(d.os, Some(os));
    assert_eq!(d.summary.hostname, "web-1");
}

pub(crate) async fn full_report_replaces_the_software_rows(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a"), ("h2", "b")]).await;
    let full = |sw: pb::Software| Report {
        software: Some(Update::Full(sw)),
        ..report(0)
    };
    let sw_a = software(vec![pkg("a", "1", "installed"), pkg("b", "1", "installed")]);
    let sw_b = software(vec![
        pkg("b", "2", "installed"),
        pkg("c", "1", "half-installed"),
    ]);
    apply_report(
        store,
        "h1",
        Report {
            sequence: 1,
            ..full(sw_a.clone())
        },
        NOW,
    )
    .await
    .unwrap();
    apply_report(
        store,
        "h2",
        Report {
            sequence: 1,
            ..full(sw_a)
        },
        NOW,
    )
    .await
    .unwrap();
    let out = apply_report(
        store,
        "h1",
        Report {
            sequence: 2,
            ..full(sw_b.clone())
        },
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(
        ack(&out, pb::Section::Software).hash,
        Some(digest::software(&sw_b))
    );
    let h1_rows: Vec<_> = all_rows(store)
        .await
        .into_iter()
        .filter(|r| r.0 == "h1")
        .collect();
    assert_eq!(
        h1_rows,
        vec![
            ("h1".into(), "b".into(), "2".into(), "installed".into()),
            ("h1".into(), "c".into(), "1".into(), "half-installed".into()),
        ]
    );
    // The other host's rows are its own.
    assert_eq!(
        all_rows(store).await.iter().filter(|r| r.0 == "h2").count(),
        2
    );
    assert_eq!(
        store
            .get_host("h1")
            .await
            .unwrap()
            .unwrap()
            .summary
            .software_count,
        1
    );
    // An empty software section is a valid one.
    apply_report(
        store,
        "h1",
        Report {
            sequence: 3,
            ..full(pb::Software::default())
        },
        NOW,
    )
    .await
    .unwrap();
    let d = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(d.software, Some(pb::Software::default()));
    assert_eq!(d.summary.software_count, 0);
    assert!(all_rows(store).await.iter().all(|r| r.0 == "h2"));
}

pub(crate) async fn concurrent_replays_apply_once(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a")]).await;
    let r = || Report {
        software: Some(Update::Full(software(vec![pkg("a", "1", "installed")]))),
        ..report(1)
    };
    let (a, b, c) = tokio::join!(
        apply_report(store, "h1", r(), NOW),
        apply_report(store, "h1", r(), NOW),
        apply_report(store, "h1", r(), NOW),
    );
    let outcomes = [a.unwrap(), b.unwrap(), c.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| !o.duplicate).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes.iter().all(|o| o.applied_sequence == 1));
}

pub(crate) async fn report_for_unknown_host_fails(store: &Arc<dyn Store>) {
    let err = apply_report(store, "ghost", report(1), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, crate::pipeline::Error::Store(Error::UnknownHost(id)) if id == "ghost"),
        "{err}"
    );
    let err = heartbeat(store, "ghost", "1.0.0", NOW).await.unwrap_err();
    assert!(
        matches!(&err, crate::pipeline::Error::Store(Error::UnknownHost(id)) if id == "ghost"),
        "{err}"
    );
}

pub(crate) async fn heartbeat_updates_and_returns_held_hashes(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "a")]).await;
    assert!(
        heartbeat(store, "h1", "1.0.0", NOW + 10)
            .await
            .unwrap()
            .is_empty()
    );
    let os = os_info("web-1", "debian");
    let sw = software(vec![pkg("a", "1", "installed")]);
    apply_report(
        store,
        "h1",
        Report {
            os: Some(Update::Full(os.clone())),
            software: Some(Update::Full(sw.clone())),
            ..report(1)
        },
        NOW + 20,
    )
    .await
    .unwrap();
    let held = heartbeat(store, "h1", "1.1.0", NOW + 30).await.unwrap();
    assert_eq!(
        held,
        vec![
            (pb::Section::Os, digest::os(&os)),
            (pb::Section::Software, digest::software(&sw))
        ]
    );
    let s = store.get_host("h1").await.unwrap().unwrap().summary;
    assert_eq!(
        (s.last_seen, s.last_report, s.agent_version.as_str()),
        (NOW + 30, NOW + 20, "1.1.0")
    );
    // An empty version keeps the known one.
    heartbeat(store, "h1", "", NOW + 40).await.unwrap();
    let s = store.get_host("h1").await.unwrap().unwrap().summary;
    assert_eq!((s.last_seen, s.agent_version.as_str()), (NOW + 40, "1.1.0"));
}

// ---- queries ----

pub(crate) async fn list_hosts_pages_return_every_host_once(store: &Arc<dyn Store>) {
    // Shared hostnames make the id the tie-breaker at page edges.
    let hosts = [
        ("h1", "web-1"),
        ("h2", "web-2"),
        ("h3", "web-2"),
        ("h4", "db-1"),
        ("h5", "db-2"),
        ("h6", "cache"),
        ("h7", "web-2"),
    ];
    enrol(store, &hosts).await;
    let mut filter = HostFilter {
        page_size: 3,
        ..HostFilter::default()
    };
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = store.list_hosts(&filter, NOW).await.unwrap();
        sizes.push(page.hosts.len());
        seen.extend(page.hosts.into_iter().map(|h| (h.hostname, h.id)));
        match page.next_page_token {
            Some(token) => filter.page_token = Some(token),
            None => break,
        }
        assert!(sizes.len() < 10, "paging does not end");
    }
    assert_eq!(sizes, [3, 3, 1]);
    let mut want: Vec<(String, String)> = hosts
        .iter()
        .map(|(id, name)| ((*name).into(), (*id).into()))
        .collect();
    want.sort();
    assert_eq!(seen, want, "every host once, in (hostname, id) order");

    // A page size of 0 means the default, which holds them all.
    let all = store.list_hosts(&HostFilter::default(), NOW).await.unwrap();
    assert_eq!((all.hosts.len(), all.next_page_token), (7, None));
    // Exactly a page's worth: no token pointing at an empty page.
    let exact = store
        .list_hosts(
            &HostFilter {
                page_size: 7,
                ..HostFilter::default()
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!((exact.hosts.len(), exact.next_page_token), (7, None));

    let bad = HostFilter {
        page_token: Some("not a token!".into()),
        ..HostFilter::default()
    };
    let err = store.list_hosts(&bad, NOW).await.unwrap_err();
    assert!(matches!(err, Error::InvalidPageToken), "{err}");
}

pub(crate) async fn list_hosts_filters(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "x"), ("h2", "x"), ("h3", "x"), ("h4", "x")]).await;
    for (id, hostname, os, seen) in [
        ("h1", "web-1", "debian", NOW),
        ("h2", "WEB-2", "ubuntu", NOW - 100),
        ("h3", "db_1", "debian", NOW - 1000),
        ("h4", "dbx1", "rhel", NOW - 5000),
    ] {
        let r = Report {
            os: Some(Update::Full(os_info(hostname, os))),
            ..report(1)
        };
        apply_report(store, id, r, seen).await.unwrap();
    }
    let ids = |page: HostPage| {
        page.hosts
            .into_iter()
            .map(|h| h.id)
            .collect::<BTreeSet<_>>()
    };
    let list = async |f: HostFilter| ids(store.list_hosts(&f, NOW).await.unwrap());
    let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    let glob = |g: &str| HostFilter {
        hostname_glob: Some(g.into()),
        ..HostFilter::default()
    };
    let os = |o: &str| HostFilter {
        os: Some(o.into()),
        ..HostFilter::default()
    };

    assert_eq!(
        list(glob("web-*")).await,
        set(&["h1", "h2"]),
        "globs ignore case"
    );
    assert_eq!(
        list(glob("WEB-1")).await,
        set(&["h1"]),
        "an exact name ignores case"
    );
    assert_eq!(list(glob("db_1")).await, set(&["h3"]), "_ is literal");
    assert_eq!(list(glob("db?1")).await, set(&["h3", "h4"]));
    assert_eq!(list(glob("*1")).await, set(&["h1", "h3", "h4"]));
    assert_eq!(
        list(glob("")).await,
        set(&["h1", "h2", "h3", "h4"]),
        "empty matches all"
    );
    assert_eq!(list(glob("nothing*")).await, set(&[]));
    assert_eq!(list(os("debian")).await, set(&["h1", "h3"]));
    assert_eq!(list(os("DEBIAN")).await, set(&["h1", "h3"]));
    assert_eq!(list(os("")).await, set(&["h1", "h2", "h3", "h4"]));

    let seen = |s: u64| HostFilter {
        seen_within_secs: Some(s),
        ..HostFilter::default()
    };
    let not_seen = |s: u64| HostFilter {
        not_seen_within_secs: Some(s),
        ..HostFilter::default()
    };
    assert_eq!(
        list(seen(100)).await,
        set(&["h1", "h2"]),
        "the bound is inclusive"
    );
    assert_eq!(list(seen(99)).await, set(&["h1"]));
    assert_eq!(list(not_seen(100)).await, set(&["h3", "h4"]));
    assert_eq!(list(not_seen(1000)).await, set(&["h4"]));
    assert_eq!(
        list(seen(0)).await,
        set(&["h1", "h2", "h3", "h4"]),
        "0 is no bound"
    );
    assert_eq!(list(not_seen(u64::MAX)).await, set(&[]));
    assert_eq!(
        list(HostFilter {
            os: Some("debian".into()),
            ..not_seen(500)
        })
        .await,
        set(&["h3"])
    );
    // Filters and paging together.
    let page = store
        .list_hosts(
            &HostFilter {
                page_size: 1,
                ..os("debian")
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(page.hosts.len(), 1);
    let next = HostFilter {
        page_size: 1,
        page_token: page.next_page_token,
        ..os("debian")
    };
    let page2 = store.list_hosts(&next, NOW).await.unwrap();
    assert_eq!((page2.hosts.len(), page2.next_page_token), (1, None));
    assert_ne!(page.hosts[0].id, page2.hosts[0].id);
}

pub(crate) async fn find_software_by_name_and_glob(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "x"), ("h2", "x")]).await;
    let sw1 = software(vec![
        pkg("openssl", "3.0.1", "installed"),
        pkg("openssl-dev", "3.0.1", "installed"),
        pkg("libssl3", "3.0.1", "installed"),
        pkg("OpenSSL-Tools", "1.0", "installed"),
        pkg("lib_x", "1", "installed"),
        pkg("libax", "1", "installed"),
    ]);
    let sw2 = software(vec![
        pkg("openssl", "1.1.1", "installed"),
        pkg("openssl", "3.0.0", "config-files"),
    ]);
    for (id, name, sw, seen) in [("h1", "alpha", sw1, NOW), ("h2", "beta", sw2, NOW - 7)] {
        let r = Report {
            os: Some(Update::Full(os_info(name, "debian"))),
            software: Some(Update::Full(sw)),
            ..report(1)
        };
        apply_report(store, id, r, seen).await.unwrap();
    }
    let find = async |name: &str, all: bool| {
        store
            .find_software(name, all)
            .await
            .unwrap()
            .into_iter()
            .map(|m| format!("{}/{}/{}", m.hostname, m.name, m.version))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find("openssl", false).await,
        ["alpha/openssl/3.0.1", "beta/openssl/1.1.1"]
    );
    assert_eq!(
        find("openssl", true).await,
        [
            "alpha/openssl/3.0.1",
            "beta/openssl/1.1.1",
            "beta/openssl/3.0.0"
        ]
    );
    assert_eq!(
        find("openssl*", false).await,
        [
            "alpha/openssl/3.0.1",
            "beta/openssl/1.1.1",
            "alpha/openssl-dev/3.0.1"
        ],
        "globs are case-sensitive"
    );
    assert_eq!(
        find("OpenSSL-Tools", false).await,
        ["alpha/OpenSSL-Tools/1.0"]
    );
    assert!(
        find("OPENSSL", true).await.is_empty(),
        "exact names are case-sensitive"
    );
    assert_eq!(find("*ssl3", false).await, ["alpha/libssl3/3.0.1"]);
    assert_eq!(find("lib_x", false).await, ["alpha/lib_x/1"]);
    assert_eq!(
        find("lib?x", false).await,
        ["alpha/lib_x/1", "alpha/libax/1"]
    );
    assert!(find("nothing*", true).await.is_empty());
    assert!(find("", true).await.is_empty());

    let m = store.find_software("openssl", false).await.unwrap();
    let beta = m.iter().find(|m| m.host_id == "h2").unwrap();
    assert_eq!(
        (beta.hostname.as_str(), beta.last_seen, beta.state.as_str()),
        ("beta", NOW - 7, "installed")
    );
    assert_eq!((beta.arch.as_str(), beta.source.as_str()), ("amd64", "deb"));
}

pub(crate) async fn get_host_by_id_or_hostname(store: &Arc<dyn Store>) {
    // h4's hostname is h1's id: an exact id wins.
    enrol(
        store,
        &[
            ("h1", "alpha"),
            ("h2", "beta"),
            ("h3", "beta"),
            ("h4", "h1"),
        ],
    )
    .await;
    let by = async |q: &str| store.get_host(q).await.unwrap().map(|d| d.summary.id);
    assert_eq!(by("h1").await.as_deref(), Some("h1"));
    assert_eq!(by("alpha").await.as_deref(), Some("h1"));
    assert_eq!(by("h2").await.as_deref(), Some("h2"));
    assert_eq!(by("nope").await, None);
    assert_eq!(by("ALPHA").await, None, "hostnames match exactly");
    let err = store.get_host("beta").await.unwrap_err();
    match err {
        Error::AmbiguousHost { name, ids } => {
            assert_eq!(name, "beta");
            assert_eq!(ids, ["h2", "h3"]);
        }
        other => panic!("expected ambiguity, got {other}"),
    }
    // A report renames the host: the new name finds it, the old does not.
    let r = Report {
        os: Some(Update::Full(os_info("gamma", "debian"))),
        ..report(1)
    };
    apply_report(store, "h3", r, NOW).await.unwrap();
    assert_eq!(by("beta").await.as_deref(), Some("h2"));
    assert_eq!(by("gamma").await.as_deref(), Some("h3"));
}

// ---- patches ----

pub(crate) async fn patches_full_delta_unchanged_and_summary(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1")]).await;
    let v1 = patch_state(
        vec![
            pending("openssl", true, NOW - 10 * 86400),
            pending("curl", false, NOW - 20 * 86400),
        ],
        None,
    );
    let out = apply_report(
        store,
        "h1",
        Report {
            patches: Some(Update::Full(v1.clone())),
            ..report(1)
        },
        NOW,
    )
    .await
    .unwrap();
    let a = ack(&out, pb::Section::Patches);
    assert_eq!((a.hash, a.send_full), (Some(digest::patches(&v1)), false));
    let (summary, held) = store.get_patches("web-1").await.unwrap().unwrap();
    assert_eq!(held.as_ref(), Some(&v1));
    assert_eq!(
        (
            summary.pending,
            summary.security,
            summary.security_since,
            summary.pending_since
        ),
        (2, 1, NOW - 10 * 86400, NOW - 20 * 86400)
    );
    assert_eq!(summary.restart_units, 1);
    assert_eq!(summary.managers, vec!["apt"]);
    assert_eq!(summary.patches_reported_at, NOW);
    assert_eq!(
        store
            .get_host("h1")
            .await
            .unwrap()
            .unwrap()
            .patches
            .as_ref(),
        Some(&v1)
    );

    // Unchanged: nothing moves but the time it was last reported.
    apply_report(
        store,
        "h1",
        Report {
            patches: Some(Update::Unchanged(digest::patches(&v1))),
            ..report(2)
        },
        NOW + 60,
    )
    .await
    .unwrap();
    let (summary, _) = store.get_patches("h1").await.unwrap().unwrap();
    assert_eq!(
        (summary.pending, summary.patches_reported_at),
        (2, NOW + 60)
    );

    // A delta: openssl installed, a reboot now required.
    let v2 = patch_state(
        vec![pending("curl", false, NOW - 20 * 86400)],
        Some(NOW + 100),
    );
    let out = apply_report(
        store,
        "h1",
        Report {
            patches: Some(Update::Delta(delta::patches(&v1, &v2))),
            ..report(3)
        },
        NOW + 120,
    )
    .await
    .unwrap();
    assert_eq!(
        ack(&out, pb::Section::Patches).hash,
        Some(digest::patches(&v2))
    );
    let (summary, held) = store.get_patches("h1").await.unwrap().unwrap();
    assert_eq!(held, Some(v2.clone()));
    assert_eq!(
        (summary.pending, summary.security, summary.security_since),
        (1, 0, 0)
    );
    assert_eq!(
        (summary.reboot_required, summary.reboot_required_since),
        (true, NOW + 100)
    );
    let held_hashes = heartbeat(store, "h1", "1.0.0", NOW + 130).await.unwrap();
    assert!(held_hashes.contains(&(pb::Section::Patches, digest::patches(&v2))));
}

pub(crate) async fn patches_bad_delta_changes_nothing(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1")]).await;
    let v1 = patch_state(vec![pending("openssl", true, NOW)], None);
    let other = patch_state(vec![pending("zlib", true, NOW)], None);
    let v2 = patch_state(vec![], None);
    // Nothing held yet: a delta asks for the full section.
    let out = apply_report(
        store,
        "h1",
        Report {
            patches: Some(Update::Delta(delta::patches(&v1, &v2))),
            ..report(1)
        },
        NOW,
    )
    .await
    .unwrap();
    assert!(ack(&out, pb::Section::Patches).send_full);
    assert_eq!(store.get_patches("h1").await.unwrap().unwrap().1, None);
    apply_report(
        store,
        "h1",
        Report {
            patches: Some(Update::Full(v1.clone())),
            ..report(2)
        },
        NOW,
    )
    .await
    .unwrap();
    // A delta against another base is refused and the held section stays.
    let out = apply_report(
        store,
        "h1",
        Report {
            patches: Some(Update::Delta(delta::patches(&other, &v2))),
            ..report(3)
        },
        NOW + 1,
    )
    .await
    .unwrap();
    let a = ack(&out, pb::Section::Patches);
    assert!(a.send_full);
    assert_eq!(a.hash, Some(digest::patches(&v1)));
    let (summary, held) = store.get_patches("h1").await.unwrap().unwrap();
    assert_eq!((held, summary.security), (Some(v1), 1));
}

pub(crate) async fn list_patches_filters_and_counts_silent_hosts(store: &Arc<dyn Store>) {
    enrol(
        store,
        &[
            ("h1", "web-1"),
            ("h2", "web-2"),
            ("h3", "db-1"),
            ("h4", "quiet"),
        ],
    )
    .await;
    let send = |id: &'static str, seq: u64, os: &'static str, p: pb::Patches| async move {
        apply_report(
            store,
            id,
            Report {
                os: Some(Update::Full(os_info(id, os))),
                patches: Some(Update::Full(p)),
                ..report(seq)
            },
            NOW,
        )
        .await
        .unwrap();
    };
    send(
        "h1",
        1,
        "debian",
        patch_state(vec![pending("a", true, NOW - 86400)], None),
    )
    .await;
    send("h2", 1, "debian", patch_state(vec![], None)).await;
    send(
        "h3",
        1,
        "rocky",
        patch_state(vec![pending("b", false, NOW)], Some(NOW - 5)),
    )
    .await;
    let all = store.list_patches(&PatchFilter::default()).await.unwrap();
    assert_eq!(all.without_patch_state, 1);
    let mut names: Vec<&str> = all.hosts.iter().map(|h| h.hostname.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["h1", "h2", "h3"]);
    let debian = store
        .list_patches(&PatchFilter {
            os: Some("DEBIAN".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(debian.hosts.len(), 2);
    assert_eq!(debian.without_patch_state, 0);
    let globbed = store
        .list_patches(&PatchFilter {
            hostname_glob: Some("h[!x]*".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(globbed.hosts.len() <= 3);
    let h3 = all.hosts.iter().find(|h| h.host_id == "h3").unwrap();
    assert_eq!(
        (
            h3.reboot_required,
            h3.reboot_required_since,
            h3.os_id.as_str()
        ),
        (true, NOW - 5, "rocky")
    );
    assert_eq!(store.get_patches("nobody").await.unwrap(), None);
    let (quiet, none) = store.get_patches("quiet").await.unwrap().unwrap();
    assert_eq!((quiet.patches_reported_at, none), (0, None));
}
