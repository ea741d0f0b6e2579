//! The conformance suite on SQLite, plus what only a SQLite file can show: persistence
//! across reopening, connection settings, schema versions, rollback of a failed report,
//! corrupt rows healing.

use std::path::Path;
use std::sync::Arc;

use tempfile::TempDir;
use ward_proto::{delta, digest, v1 as pb};

use super::SqliteStore;
use crate::store::tests::{NOW, conformance_tests};
use crate::store::{
    Error, HostDetail, NewHost, NewToken, Report, ReportOutcome, SectionAck, Store, Update,
    open_sqlite,
};
use crate::store::{HostStore, TokenStore};

async fn open_temp() -> (TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(&dir.path().join("ward.db")).await.unwrap();
    (dir, store)
}

conformance_tests!(open_temp());

/// A store as the pipeline takes it.
trait AsDyn {
    fn as_dyn(&self) -> Arc<dyn Store>;
}

impl AsDyn for SqliteStore {
    fn as_dyn(&self) -> Arc<dyn Store> {
        Arc::new(self.clone())
    }
}

impl AsDyn for Arc<dyn Store> {
    fn as_dyn(&self) -> Arc<dyn Store> {
        self.clone()
    }
}

async fn apply_report(
    store: &impl AsDyn,
    host_id: &str,
    report: Report,
    now: i64,
) -> Result<ReportOutcome, crate::pipeline::Error> {
    crate::store::tests::apply_report(&store.as_dyn(), host_id, report, now).await
}

async fn heartbeat(
    store: &impl AsDyn,
    host_id: &str,
    version: &str,
    now: i64,
) -> Result<Vec<(pb::Section, ward_proto::digest::Hash)>, crate::pipeline::Error> {
    crate::store::tests::heartbeat(&store.as_dyn(), host_id, version, now).await
}

fn pkg(name: &str, version: &str) -> pb::Package {
    pb::Package {
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        source: "deb".into(),
        state: "installed".into(),
        ..Default::default()
    }
}

fn software(packages: Vec<pb::Package>) -> pb::Software {
    let mut sw = pb::Software { packages };
    digest::canonicalize_software(&mut sw);
    sw
}

/// Enrols h1 and gives it an os, hardware and two packages at sequence 1.
async fn seeded(path: &Path) -> SqliteStore {
    let store = SqliteStore::open(path).await.unwrap();
    store
        .create_token(NewToken {
            id: "t1".into(),
            hash: [1; 32],
            uses: 1,
            expires_at: NOW + 3600,
            label: "test".into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    store
        .enroll(
            &[1; 32],
            NewHost {
                id: "h1".into(),
                hostname: "boot".into(),
                cert_serial: "01".into(),
                cert_not_after: NOW + 86_400,
                agent_version: "1.0.0".into(),
                enrolled_at: NOW,
            },
        )
        .await
        .unwrap();
    let report = Report {
        sequence: 1,
        agent_version: "1.0.0".into(),
        os: Some(Update::Full(pb::OsInfo {
            hostname: "web-1".into(),
            os_id: "debian".into(),
            ..Default::default()
        })),
        hardware: Some(Update::Full(pb::Hardware {
            memory: Some(pb::Memory {
                total_bytes: 1 << 30,
                swap_total_bytes: 0,
            }),
            ..Default::default()
        })),
        software: Some(Update::Full(software(vec![pkg("a", "1"), pkg("b", "1")]))),
        patches: None,
        posture: None,
    };
    apply_report(&store, "h1", report, NOW + 1).await.unwrap();
    store
}

#[tokio::test]
async fn data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ward.db");
    let store = seeded(&path).await;
    let before = store.get_host("h1").await.unwrap().unwrap();
    let rows_before = store.find_software("*", true).await.unwrap();
    store.close().await;
    drop(store);

    // Reopening runs the migrations again, which must find nothing to do.
    let store = open_sqlite(&path).await.unwrap();
    assert_eq!(store.get_host("h1").await.unwrap().unwrap(), before);
    assert_eq!(store.find_software("*", true).await.unwrap(), rows_before);
    assert_eq!(before.summary.software_count, 2);
    // The token's only use stays spent, and the sequence stays applied.
    let late = NewHost {
        id: "h2".into(),
        hostname: "x".into(),
        cert_serial: "02".into(),
        cert_not_after: NOW,
        agent_version: String::new(),
        enrolled_at: NOW,
    };
    assert!(matches!(
        store.enroll(&[1; 32], late).await,
        Err(Error::TokenUsedUp)
    ));
    let replay = Report {
        sequence: 1,
        agent_version: String::new(),
        os: None,
        hardware: None,
        software: None,
        patches: None,
        posture: None,
    };
    assert!(
        apply_report(&store, "h1", replay, NOW + 2)
            .await
            .unwrap()
            .duplicate
    );
}

#[tokio::test]
async fn connections_use_wal_and_enforce_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ward.db"))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        sync, 2,
        "FULL: a commit survives power loss once acknowledged"
    );
    let orphan = sqlx::query(
        "INSERT INTO sections (host_id, section, hash, body, updated_at) VALUES ('nobody', 1, x'00', x'', 0)",
    )
    .execute(store.pool())
    .await;
    assert!(orphan.is_err(), "a section without a host is refused");
}

#[tokio::test]
async fn opening_a_path_in_a_missing_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("ward.db");
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, Error::Open { .. }), "{err}");
    assert!(err.to_string().contains("missing/ward.db"), "{err}");
}

#[tokio::test]
async fn a_schema_from_a_newer_collector_names_the_path_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ward.db");
    let store = SqliteStore::open(&path).await.unwrap();
    // What a newer collector's migration would leave behind.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', 1, x'00', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::SchemaTooNew {
                version: 99990101000000,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("newer ward-collector"), "{msg}");
}

#[tokio::test]
async fn a_failure_late_in_a_report_rolls_everything_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("ward.db")).await;
    let before = store.get_host("h1").await.unwrap().unwrap();
    let rows_before = store.find_software("*", true).await.unwrap();
    // The sequence is recorded by the last statement of a report, after every section
    // and package row was written: failing it must undo them all.
    sqlx::query(
        "CREATE TRIGGER induced_failure BEFORE UPDATE OF last_sequence ON hosts \
         WHEN NEW.last_sequence = 2 BEGIN SELECT RAISE(ABORT, 'induced failure'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();

    let base = before.software.clone().unwrap();
    let next = software(vec![pkg("a", "2"), pkg("c", "1")]);
    let report = Report {
        sequence: 2,
        agent_version: "2.0.0".into(),
        os: Some(Update::Full(pb::OsInfo {
            hostname: "renamed".into(),
            os_id: "ubuntu".into(),
            ..Default::default()
        })),
        hardware: Some(Update::Full(pb::Hardware::default())),
        software: Some(Update::Delta(delta::software(&base, &next))),
        patches: None,
        posture: None,
    };
    let err = apply_report(&store, "h1", report.clone(), NOW + 2)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("induced failure"), "{err}");
    assert_eq!(store.get_host("h1").await.unwrap().unwrap(), before);
    assert_eq!(store.find_software("*", true).await.unwrap(), rows_before);

    // Without the fault the same report applies: sequence 2 was never recorded.
    sqlx::query("DROP TRIGGER induced_failure")
        .execute(store.pool())
        .await
        .unwrap();
    let out = apply_report(&store, "h1", report, NOW + 2).await.unwrap();
    assert!(!out.duplicate);
    let after = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(after.software, Some(next));
    assert_eq!(after.summary.hostname, "renamed");
    let names: Vec<_> = store
        .find_software("*", true)
        .await
        .unwrap()
        .into_iter()
        .map(|m| format!("{}={}", m.name, m.version))
        .collect();
    assert_eq!(names, ["a=2", "c=1"]);
}

/// Overwrites a stored column (`body` or `hash`) of h1's `section` with bytes it cannot be
/// read as.
async fn corrupt(store: &SqliteStore, section: pb::Section, column: &str) {
    let sql = match column {
        // 0xff is field 31 with wire type 7, which does not exist: prost refuses it.
        "body" => "UPDATE sections SET body = x'ffffffff' WHERE host_id = 'h1' AND section = $1",
        // A hash is 32 bytes.
        "hash" => "UPDATE sections SET hash = x'00' WHERE host_id = 'h1' AND section = $1",
        _ => unreachable!("{column}"),
    };
    sqlx::query(sql)
        .bind(section as i64)
        .execute(store.pool())
        .await
        .unwrap();
}

fn software_report(sequence: u64, update: Update<ward_proto::section::Software>) -> Report {
    Report {
        sequence,
        agent_version: String::new(),
        os: None,
        hardware: None,
        software: Some(update),
        patches: None,
        posture: None,
    }
}

fn ack(outcome: &ReportOutcome, section: pb::Section) -> &SectionAck {
    outcome
        .sections
        .iter()
        .find(|a| a.section == section)
        .unwrap()
}

#[tokio::test]
async fn get_host_leaves_out_a_corrupt_section_and_returns_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("ward.db")).await;
    let before = store.get_host("h1").await.unwrap().unwrap();
    corrupt(&store, pb::Section::Software, "body").await;
    let after = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(after.software, None);
    assert_eq!(
        HostDetail {
            software: before.software.clone(),
            ..after
        },
        before,
        "the summary, os and hardware are still there"
    );
}

#[tokio::test]
async fn unchanged_on_a_corrupt_section_asks_for_it_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("ward.db")).await;
    let sw = store
        .get_host("h1")
        .await
        .unwrap()
        .unwrap()
        .software
        .unwrap();
    let hash = digest::software(&sw);
    corrupt(&store, pb::Section::Software, "body").await;
    // What a host whose packages never change sends: the hash the store still has.
    let out = apply_report(
        &store,
        "h1",
        software_report(2, Update::Unchanged(hash)),
        NOW + 2,
    )
    .await
    .unwrap();
    assert_eq!(
        ack(&out, pb::Section::Software),
        &SectionAck {
            section: pb::Section::Software,
            hash: None,
            send_full: true
        }
    );
    assert!(!ack(&out, pb::Section::Os).send_full);
}

#[tokio::test]
async fn a_full_section_equal_to_the_corrupt_one_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("ward.db")).await;
    let before = store.get_host("h1").await.unwrap().unwrap();
    let rows_before = store.find_software("*", true).await.unwrap();
    let sw = before.software.clone().unwrap();
    corrupt(&store, pb::Section::Software, "body").await;
    let out = apply_report(
        &store,
        "h1",
        software_report(2, Update::Full(sw.clone())),
        NOW + 2,
    )
    .await
    .unwrap();
    assert_eq!(
        ack(&out, pb::Section::Software),
        &SectionAck {
            section: pb::Section::Software,
            hash: Some(digest::software(&sw)),
            send_full: false
        }
    );
    let after = store.get_host("h1").await.unwrap().unwrap();
    assert_eq!(after.software, Some(sw));
    assert_eq!(after.summary.software_count, 2);
    let rows = |ms: Vec<pb::SoftwareMatch>| -> Vec<_> {
        ms.into_iter()
            .map(|m| (m.name, m.version, m.state))
            .collect()
    };
    assert_eq!(
        rows(store.find_software("*", true).await.unwrap()),
        rows(rows_before)
    );
}

#[tokio::test]
async fn a_delta_on_a_corrupt_section_asks_for_it_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("ward.db")).await;
    let base = store
        .get_host("h1")
        .await
        .unwrap()
        .unwrap()
        .software
        .unwrap();
    corrupt(&store, pb::Section::Software, "body").await;
    let next = software(vec![pkg("a", "2")]);
    let delta = Update::Delta(delta::software(&base, &next));
    let out = apply_report(&store, "h1", software_report(2, delta), NOW + 2)
        .await
        .unwrap();
    assert!(ack(&out, pb::Section::Software).send_full);
    let out = apply_report(
        &store,
        "h1",
        software_report(3, Update::Full(next.clone())),
        NOW + 3,
    )
    .await
    .unwrap();
    assert_eq!(
        ack(&out, pb::Section::Software).hash,
        Some(digest::software(&next))
    );
    assert_eq!(
        store.get_host("h1").await.unwrap().unwrap().software,
        Some(next)
    );
}

#[tokio::test]
async fn a_hash_of_the_wrong_length_counts_as_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("ward.db")).await;
    let os = store.get_host("h1").await.unwrap().unwrap().os.unwrap();
    let hash = digest::os(&os);
    corrupt(&store, pb::Section::Os, "hash").await;
    // A heartbeat does not claim it, so the agent is asked for it.
    let held = heartbeat(&store, "h1", "", NOW + 2).await.unwrap();
    assert!(held.iter().all(|(s, _)| *s != pb::Section::Os), "{held:?}");
    let report = |sequence, os| Report {
        sequence,
        agent_version: String::new(),
        os: Some(os),
        hardware: None,
        software: None,
        patches: None,
        posture: None,
    };
    let out = apply_report(&store, "h1", report(2, Update::Unchanged(hash)), NOW + 3)
        .await
        .unwrap();
    assert!(ack(&out, pb::Section::Os).send_full);
    let out = apply_report(&store, "h1", report(3, Update::Full(os)), NOW + 4)
        .await
        .unwrap();
    assert_eq!(
        ack(&out, pb::Section::Os),
        &SectionAck {
            section: pb::Section::Os,
            hash: Some(hash),
            send_full: false
        }
    );
}

#[tokio::test]
async fn oversized_sequences_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("ward.db")).await;
    let report = Report {
        sequence: u64::MAX,
        agent_version: String::new(),
        os: None,
        hardware: None,
        software: None,
        patches: None,
        posture: None,
    };
    let err = apply_report(&store, "h1", report, NOW).await.unwrap_err();
    assert!(
        matches!(
            err,
            crate::pipeline::Error::Store(Error::SequenceOutOfRange(u64::MAX))
        ),
        "{err}"
    );
}
