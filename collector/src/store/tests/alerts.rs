//! The alert suite: the engine driven through the pipeline over a real store, so that
//! every backend (SQLite now, PostgreSQL next) proves dedup, the lifecycle, silences,
//! the timed rules and the event stream alike.

use std::sync::Arc;

use ward_proto::v1 as pb;

use super::{NOW, enrol, os_info, patch_state, pending, report};
use crate::pipeline::{NewSilence, Pipeline};
use crate::rules::{Rule, RuleSettings, Settings};
use crate::store::alerts::{Alert, AlertFilter, EventKind, Status};
use crate::store::{Store, Update};

fn pipeline(store: &Arc<dyn Store>) -> Pipeline {
    let mut settings = Settings::default();
    for rule in [Rule::SoftwareInstalled, Rule::DiskEncryption] {
        settings.set(
            rule,
            RuleSettings {
                enabled: true,
                ..RuleSettings::default_for(rule)
            },
        );
    }
    Pipeline::new(store.clone(), settings)
}

fn socket(port: u32) -> pb::ListeningSocket {
    pb::ListeningSocket {
        protocol: "tcp".into(),
        address: "0.0.0.0".into(),
        port,
        process: "httpd".into(),
        executable: "/usr/sbin/httpd".into(),
        uid: 33,
    }
}

fn posture(ports: &[u32], root_login: &str) -> pb::Posture {
    pb::Posture {
        listening: ports.iter().map(|p| socket(*p)).collect(),
        sshd: Some(pb::SshdSettings {
            present: true,
            permit_root_login: root_login.into(),
            password_authentication: "no".into(),
            permit_empty_passwords: "no".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn send_posture(p: &Pipeline, host: &str, seq: u64, posture: pb::Posture, now: i64) {
    p.report(
        host,
        crate::store::Report {
            posture: Some(Update::Full(posture)),
            ..report(seq)
        },
        now,
    )
    .await
    .unwrap();
}

async fn alerts(store: &Arc<dyn Store>, rule: &str) -> Vec<Alert> {
    store
        .list_alerts(&AlertFilter {
            statuses: Status::ALL.to_vec(),
            rule: Some(rule.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .alerts
}

async fn history(store: &Arc<dyn Store>, id: i64) -> Vec<EventKind> {
    let (_, events) = store.get_alert(id).await.unwrap().unwrap();
    events.into_iter().map(|e| e.kind).collect()
}

pub(crate) async fn alerts_dedup_by_fingerprint_across_reports(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1")]).await;
    let p = pipeline(store);
    send_posture(&p, "h1", 1, posture(&[22], "no"), NOW).await;
    assert!(
        alerts(store, "posture.*").await.is_empty(),
        "the first posture is the baseline"
    );
    send_posture(&p, "h1", 2, posture(&[22, 8080], "no"), NOW + 10).await;
    // Many later reports change the posture while the port stays: still one alert.
    for i in 0..20_u32 {
        let mut ports = vec![22, 8080];
        if i % 2 == 0 {
            ports.push(9000);
        }
        send_posture(
            &p,
            "h1",
            3 + u64::from(i),
            posture(&ports, "no"),
            NOW + 20 + i64::from(i),
        )
        .await;
    }
    let port = alerts(store, "posture.listening_port").await;
    let on_8080: Vec<&Alert> = port
        .iter()
        .filter(|a| a.subject == "tcp/0.0.0.0:8080 /usr/sbin/httpd")
        .collect();
    assert_eq!(on_8080.len(), 1, "{port:#?}");
    let a = on_8080[0];
    assert_eq!(
        (a.status, a.count, a.host_id.as_str()),
        (Status::Open, 1, "h1")
    );
    assert_eq!(a.hostname, "web-1");
    assert_eq!(a.first_seen, NOW + 10);
    assert_eq!(
        a.summary,
        "new listening socket on web-1: tcp/0.0.0.0:8080 /usr/sbin/httpd"
    );
    // Port 9000 came and went ten times: one alert, reopened each time, counted.
    let on_9000: Vec<&Alert> = port
        .iter()
        .filter(|a| a.subject.contains(":9000 "))
        .collect();
    assert_eq!(on_9000.len(), 1);
    assert_eq!(on_9000[0].count, 10);
    assert_eq!(on_9000[0].status, Status::Resolved);
    assert_eq!(on_9000[0].resolution, "no longer listening");
    let kinds = history(store, on_9000[0].id).await;
    assert_eq!(kinds.first(), Some(&EventKind::Opened));
    assert_eq!(
        kinds.iter().filter(|k| **k == EventKind::Reopened).count(),
        9
    );
    // A patch rule raised on new evidence counts repeats on one alert.
    let overdue = patch_state(vec![pending("openssl", true, NOW - 30 * 86400)], None);
    for i in 0..5_u64 {
        let mut state = overdue.clone();
        state.running_kernel = format!("6.1.0-{i}-amd64");
        p.report(
            "h1",
            crate::store::Report {
                patches: Some(Update::Full(state)),
                ..report(100 + i)
            },
            NOW + 100,
        )
        .await
        .unwrap();
    }
    let sec = alerts(store, "patch.security_overdue").await;
    assert_eq!(sec.len(), 1);
    assert_eq!((sec[0].count, sec[0].status), (5, Status::Open));
    // Installing the update resolves it, with the reason.
    p.report(
        "h1",
        crate::store::Report {
            patches: Some(Update::Full(patch_state(vec![], None))),
            ..report(200)
        },
        NOW + 200,
    )
    .await
    .unwrap();
    let sec = alerts(store, "patch.security_overdue").await;
    assert_eq!(sec[0].status, Status::Resolved);
    assert_eq!(sec[0].resolution, "security updates installed");
    assert_eq!(sec[0].resolved_at, NOW + 200);
}

pub(crate) async fn alerts_ack_resolve_and_reopen_keep_one_history(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1")]).await;
    let p = pipeline(store);
    send_posture(&p, "h1", 1, posture(&[22], "yes"), NOW).await;
    let a = alerts(store, "posture.sshd_setting").await;
    assert_eq!(a.len(), 1, "root login is raised at the first report");
    let id = a[0].id;
    assert_eq!(a[0].subject, "PermitRootLogin");
    let acked = p
        .acknowledge(id, "alice", "looking", NOW + 1)
        .await
        .unwrap();
    assert_eq!(acked.status, Status::Acknowledged);
    // Acknowledging again changes nothing.
    p.acknowledge(id, "bob", "", NOW + 2).await.unwrap();
    // The condition holds and nothing changed: it stays acknowledged.
    send_posture(&p, "h1", 2, posture(&[22, 23], "yes"), NOW + 3).await;
    assert_eq!(
        alerts(store, "posture.sshd_setting").await[0].status,
        Status::Acknowledged
    );
    // Fixed on the host: the rule resolves it.
    send_posture(&p, "h1", 3, posture(&[22], "prohibit-password"), NOW + 4).await;
    let a = &alerts(store, "posture.sshd_setting").await[0];
    assert_eq!(
        (a.status, a.resolution.as_str()),
        (Status::Resolved, "PermitRootLogin prohibit-password")
    );
    assert!(matches!(
        p.acknowledge(id, "alice", "", NOW + 5).await,
        Err(crate::pipeline::Error::AlertResolved(i)) if i == id
    ));
    assert!(matches!(
        p.resolve(id, "alice", "", NOW + 5).await,
        Err(crate::pipeline::Error::AlertResolved(_))
    ));
    // The condition returns: the same alert reopens.
    send_posture(&p, "h1", 4, posture(&[22], "yes"), NOW + 6).await;
    let a = &alerts(store, "posture.sshd_setting").await[0];
    assert_eq!(
        (a.id, a.status, a.count, a.resolved_at),
        (id, Status::Open, 2, 0)
    );
    // Resolved by hand with a note.
    let r = p
        .resolve(id, "alice", "accepted risk on this lab box", NOW + 7)
        .await
        .unwrap();
    assert_eq!(r.resolution, "accepted risk on this lab box");
    let (_, events) = store.get_alert(id).await.unwrap().unwrap();
    let seen: Vec<(EventKind, &str)> = events.iter().map(|e| (e.kind, e.actor.as_str())).collect();
    assert_eq!(
        seen,
        [
            (EventKind::Opened, "rule"),
            (EventKind::Acknowledged, "alice"),
            (EventKind::Resolved, "rule"),
            (EventKind::Reopened, "rule"),
            (EventKind::Resolved, "alice"),
        ]
    );
    assert!(matches!(
        p.acknowledge(999_999, "alice", "", NOW).await,
        Err(crate::pipeline::Error::UnknownAlert(999_999))
    ));
}

pub(crate) async fn silences_mark_alerts_and_expire(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1"), ("h2", "db-1")]).await;
    let p = pipeline(store);
    for host in ["h1", "h2"] {
        send_posture(&p, host, 1, posture(&[22], "no"), NOW).await;
        send_posture(&p, host, 2, posture(&[22, 8080], "no"), NOW + 1).await;
    }
    let s = p
        .create_silence(
            NewSilence {
                rule: "posture.*".into(),
                host: "WEB-*".into(),
                subject: String::new(),
                starts_at: 0,
                ends_at: NOW + 3600,
                comment: "web upgrade".into(),
            },
            "alice",
            NOW + 2,
        )
        .await
        .unwrap();
    assert_eq!(
        (s.subject.as_str(), s.created_by.as_str(), s.starts_at),
        ("*", "alice", NOW + 2)
    );
    let marks = |alerts: Vec<Alert>| -> Vec<(String, bool)> {
        let mut v: Vec<(String, bool)> = alerts
            .into_iter()
            .map(|a| (a.host_id, a.silenced))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        marks(alerts(store, "posture.listening_port").await),
        [("h1".into(), true), ("h2".into(), false)]
    );
    // A new alert under the silence is recorded, marked silenced.
    send_posture(&p, "h1", 3, posture(&[22, 8080, 8443], "no"), NOW + 3).await;
    let new = alerts(store, "posture.listening_port").await;
    let a8443 = new.iter().find(|a| a.subject.contains(":8443 ")).unwrap();
    assert!(a8443.silenced && a8443.status == Status::Open);
    assert_eq!(store.list_silences(NOW + 3, false).await.unwrap().len(), 1);
    // Ending it unmarks them, with an event.
    p.expire_silence(&s.id, "alice", NOW + 4).await.unwrap();
    assert!(
        alerts(store, "posture.listening_port")
            .await
            .iter()
            .all(|a| !a.silenced)
    );
    assert!(
        history(store, a8443.id)
            .await
            .contains(&EventKind::Unsilenced)
    );
    assert!(
        store
            .list_silences(NOW + 5, false)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_silences(NOW + 5, true).await.unwrap().len(), 1);
    assert!(matches!(
        p.expire_silence(&s.id, "alice", NOW + 5).await,
        Err(crate::pipeline::Error::SilenceEnded(_))
    ));
    // A silence that ends by time is lifted by the timer.
    let short = p
        .create_silence(
            NewSilence {
                rule: "posture.listening_port".into(),
                host: "h2".into(),
                subject: "tcp/*".into(),
                starts_at: 0,
                ends_at: NOW + 100,
                comment: "short".into(),
            },
            "bob",
            NOW + 10,
        )
        .await
        .unwrap();
    assert!(
        alerts(store, "posture.listening_port")
            .await
            .iter()
            .any(|a| a.host_id == "h2" && a.silenced)
    );
    p.evaluate_fleet(NOW + 101).await.unwrap();
    assert!(
        alerts(store, "posture.listening_port")
            .await
            .iter()
            .all(|a| !a.silenced),
        "{short:?}"
    );
    // Silences that would cover everything, or end before they start, are refused.
    for (rule, host, end) in [("", "", NOW + 50), ("x", "", NOW - 1)] {
        let r = p
            .create_silence(
                NewSilence {
                    rule: rule.into(),
                    host: host.into(),
                    subject: String::new(),
                    starts_at: 0,
                    ends_at: end,
                    comment: String::new(),
                },
                "bob",
                NOW,
            )
            .await;
        assert!(
            matches!(r, Err(crate::pipeline::Error::InvalidSilence(_))),
            "{r:?}"
        );
    }
}

pub(crate) async fn timed_rules_offline_clone_and_certificates(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1"), ("h2", "web-2"), ("h3", "db-1")]).await;
    let p = pipeline(store);
    // h1 and h2 share a machine-id (a cloned VM); h3 has its own.
    for (host, name, machine) in [
        ("h1", "web-1", "m-1"),
        ("h2", "web-2", "m-1"),
        ("h3", "db-1", "m-3"),
    ] {
        let mut os = os_info(name, "debian");
        os.machine_id = machine.into();
        p.report(
            host,
            crate::store::Report {
                os: Some(Update::Full(os)),
                ..report(1)
            },
            NOW,
        )
        .await
        .unwrap();
    }
    p.evaluate_fleet(NOW + 60).await.unwrap();
    let clones = alerts(store, "host.clone_suspected").await;
    let mut hosts: Vec<&str> = clones.iter().map(|a| a.host_id.as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["h1", "h2"]);
    assert!(clones.iter().all(|a| a.subject == "m-1"));
    // Certificates expire a day after enrolment in this suite: within 30 days.
    let certs = alerts(store, "agent.certificate_expiring").await;
    assert_eq!(certs.len(), 3);
    // Running the timer again changes nothing: no repeats from the timer.
    p.evaluate_fleet(NOW + 120).await.unwrap();
    assert!(
        alerts(store, "host.clone_suspected")
            .await
            .iter()
            .all(|a| a.count == 1)
    );
    // Twenty minutes later only h3 has been heard from.
    crate::store::tests::heartbeat(store, "h3", "", NOW + 1200)
        .await
        .unwrap();
    p.evaluate_fleet(NOW + 1201).await.unwrap();
    let offline = alerts(store, "host.offline").await;
    let mut hosts: Vec<&str> = offline.iter().map(|a| a.host_id.as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["h1", "h2"]);
    assert!(
        offline[0]
            .summary
            .contains("has not been seen for 20 minutes"),
        "{offline:?}"
    );
    // Offline hosts are not live clones any more.
    assert!(
        alerts(store, "host.clone_suspected")
            .await
            .iter()
            .all(|a| a.status == Status::Resolved)
    );
    // h1 comes back: a heartbeat resolves its offline alert at once.
    crate::store::tests::heartbeat(store, "h1", "", NOW + 1300)
        .await
        .unwrap();
    let offline = alerts(store, "host.offline").await;
    let h1 = offline.iter().find(|a| a.host_id == "h1").unwrap();
    assert_eq!(
        (h1.status, h1.resolution.as_str()),
        (Status::Resolved, "host seen again")
    );
    let h2 = offline.iter().find(|a| a.host_id == "h2").unwrap();
    assert_eq!(h2.status, Status::Open);
    // h2 reports: resolved too.
    p.report("h2", report(2), NOW + 1400).await.unwrap();
    assert!(
        alerts(store, "host.offline")
            .await
            .iter()
            .all(|a| a.status == Status::Resolved)
    );
}

pub(crate) async fn a_sequence_that_goes_back_raises_host_restored(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1")]).await;
    let p = pipeline(store);
    for seq in 1..=5 {
        p.report("h1", report(seq), NOW + i64::try_from(seq).unwrap())
            .await
            .unwrap();
    }
    // A replay of the last sequence (a lost ack) is not a restore.
    let out = p.report("h1", report(5), NOW + 10).await.unwrap();
    assert!(out.duplicate);
    assert!(alerts(store, "host.restored").await.is_empty());
    // State from before report 3: the agent's disk went back in time.
    let out = p.report("h1", report(3), NOW + 11).await.unwrap();
    assert!(out.duplicate);
    assert_eq!(out.applied_sequence, 5);
    let restored = alerts(store, "host.restored").await;
    assert_eq!(restored.len(), 1);
    assert!(
        restored[0].summary.contains("report 3 after 5"),
        "{}",
        restored[0].summary
    );
    p.report("h1", report(2), NOW + 12).await.unwrap();
    let restored = alerts(store, "host.restored").await;
    assert_eq!((restored.len(), restored[0].count), (1, 2));
}

pub(crate) async fn alert_events_stream_in_order_and_list_filters_page(store: &Arc<dyn Store>) {
    enrol(store, &[("h1", "web-1"), ("h2", "db-1")]).await;
    let p = pipeline(store);
    assert_eq!(store.last_alert_event().await.unwrap(), 0);
    for host in ["h1", "h2"] {
        send_posture(&p, host, 1, posture(&[22], "no"), NOW).await;
        let ports: Vec<u32> = (1..=30).map(|n| 10_000 + n).collect();
        send_posture(&p, host, 2, posture(&ports, "no"), NOW + 1).await;
    }
    let last = store.last_alert_event().await.unwrap();
    let all = store.alert_events_after(0, 1000).await.unwrap();
    assert_eq!(all.len(), 60);
    assert_eq!(all.last().map(|(e, _)| e.id), Some(last));
    assert!(all.windows(2).all(|w| w[0].0.id < w[1].0.id));
    // Resuming after any event id yields exactly the rest.
    let mid = all[17].0.id;
    let rest = store.alert_events_after(mid, 1000).await.unwrap();
    assert_eq!(rest.len(), 60 - 18);
    assert_eq!(rest[0].0.id, all[18].0.id);
    let limited = store.alert_events_after(0, 7).await.unwrap();
    assert_eq!(limited.len(), 7);
    // Listing: filters and pages.
    let page = |token: Option<String>| AlertFilter {
        host: Some("web-*".into()),
        severities: vec![crate::store::alerts::Severity::Medium],
        page_size: 7,
        page_token: token,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let got = store.list_alerts(&page(token.clone())).await.unwrap();
        seen.extend(got.alerts.into_iter().map(|a| (a.host_id, a.id)));
        match got.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    assert!(seen.iter().all(|(h, _)| h == "h1"));
    let mut ids: Vec<i64> = seen.iter().map(|(_, id)| *id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 30, "every alert once");
    let none = store
        .list_alerts(&AlertFilter {
            severities: vec![crate::store::alerts::Severity::Critical],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.alerts.is_empty());
    let by_id = store
        .list_alerts(&AlertFilter {
            host: Some("h2".into()),
            since: Some(NOW + 1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_id.alerts.len(), 30);
    assert!(matches!(
        store
            .list_alerts(&AlertFilter {
                page_token: Some("garbage!".into()),
                ..Default::default()
            })
            .await,
        Err(crate::store::Error::InvalidPageToken)
    ));
}
