//! The commands against a real collector started in-process on loopback, with the admin
//! credentials it wrote and hosts that real agents enrolled and reported from fixture
//! roots: every answer here is one the collector really gives.

mod fleet;

use clap::Parser;
use serde_json::Value;

use super::*;
use crate::ctl::output::{Format, View};
use crate::pki::Authority;
use crate::store::DEFAULT_PAGE_SIZE;
use fleet::{Enrolled, Fleet, Machine, Pkg, wardctl};

/// Three hosts, as they report: two Debian web servers and an Ubuntu database server, with
/// openssl below, above and (by its epoch) far above 3.0.13-1~deb12u1.
async fn three_hosts() -> (Fleet, [Enrolled; 3]) {
    let fleet = Fleet::start().await;
    let bash = Pkg::installed("bash", "5.2.15-2+b7");
    let web1 = Machine::debian(
        "web-1",
        &[
            Pkg::installed("openssl", "3.0.11-1~deb12u2"),
            bash.clone(),
            Pkg::config_files("old-tool", "0.9-1"),
        ],
    );
    let web2 = Machine::debian(
        "web-2",
        &[Pkg::installed("openssl", "3.0.15-1~deb12u1"), bash],
    );
    let db1 = Machine {
        os_id: "ubuntu",
        ..Machine::debian("db-1", &[Pkg::installed("openssl", "1:3.0.9-1")])
    };
    let hosts = [
        fleet.add(&web1).await,
        fleet.add(&web2).await,
        fleet.add(&db1).await,
    ];
    (fleet, hosts)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The `key` field of every object in a JSON array.
fn field(array: &Value, key: &str) -> Vec<String> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap().to_string())
        .collect()
}

/// The label the collector stored for a token, read from its SQLite file: the API has no
/// way to list tokens.
async fn token_label(fleet: &Fleet, id: &str) -> String {
    let mut db = fleet.database().await;
    sqlx::query_scalar("SELECT label FROM enrollment_tokens WHERE id = $1")
        .bind(id)
        .fetch_one(&mut db)
        .await
        .unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test(flavor = "multi_thread")]
async fn hosts_follows_every_page() {
    let fleet = Fleet::start().await;
    let page = DEFAULT_PAGE_SIZE as usize;
    let machines: Vec<Machine> = (0..2 * page + 5)
        .map(|i| Machine::debian(&format!("node-{i:03}"), &[]))
        .collect();
    let enrolled = fleet.enrol_all(&machines).await;
    // Asked without a page size, the collector answers one page of its default size:
    // the fleet takes three.
    let first = fleet
        .admin()
        .await
        .list_hosts(pb::ListHostsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.hosts.len(), page);
    assert!(!first.next_page_token.is_empty());

    let listed = json(&fleet.wardctl(&["hosts", "--output", "json"]).await.unwrap());
    let listed: Vec<(String, String)> = field(&listed, "hostname")
        .into_iter()
        .zip(field(&listed, "id"))
        .collect();
    let mut expected: Vec<(String, String)> = machines
        .iter()
        .zip(&enrolled)
        .map(|(m, e)| (m.hostname.clone(), e.host_id.clone()))
        .collect();
    expected.sort();
    assert_eq!(listed, expected, "every host once, in hostname order");

    let csv = fleet.wardctl(&["hosts", "--limit", "3", "-o", "csv"]).await;
    let names: Vec<String> = csv
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(names, ["node-000", "node-001", "node-002"]);
}

#[tokio::test]
async fn hosts_filters_reach_the_collector() {
    let (fleet, [_, web2, _]) = three_hosts().await;
    let hostnames = async |args: &[&str]| {
        let args: Vec<&str> = ["hosts", "-o", "json"]
            .iter()
            .chain(args)
            .copied()
            .collect();
        field(&json(&fleet.wardctl(&args).await.unwrap()), "hostname")
    };
    assert_eq!(hostnames(&[]).await, ["db-1", "web-1", "web-2"]);
    assert_eq!(
        hostnames(&["--hostname", "web-*"]).await,
        ["web-1", "web-2"]
    );
    assert_eq!(hostnames(&["--os", "ubuntu"]).await, ["db-1"]);
    assert_eq!(hostnames(&["--seen-within", "15m"]).await.len(), 3);
    let text = fleet.wardctl(&["hosts", "--offline-for", "1d"]).await;
    assert_eq!(text.unwrap(), "no hosts match\n");

    let csv = fleet
        .wardctl(&[
            "hosts",
            "--hostname",
            "web-*",
            "--os",
            "debian",
            "--seen-within",
            "15m",
            "--limit",
            "1",
            "-o",
            "csv",
        ])
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "header and 1 host: {csv}");
    assert!(
        csv.lines().nth(1).unwrap().contains(",web-1,debian,"),
        "{csv}"
    );

    // An hour on, as the collector sees it (its clock stays where it is, so the hosts are
    // made an hour older instead), every host has been offline for more than half of one
    // until web-2 reports again. Windows of minutes, not seconds, so that a slow runner
    // between the report and the queries cannot move a host across the boundary.
    sqlx::query("UPDATE hosts SET last_seen = last_seen - 3600")
        .execute(&mut fleet.database().await)
        .await
        .unwrap();
    assert!(hostnames(&["--seen-within", "30m"]).await.is_empty());
    assert_eq!(hostnames(&["--offline-for", "30m"]).await.len(), 3);
    fleet.report(&web2).await;
    assert_eq!(hostnames(&["--seen-within", "30m"]).await, ["web-2"]);
    assert_eq!(
        hostnames(&["--offline-for", "30m"]).await,
        ["db-1", "web-1"]
    );
}

#[tokio::test]
async fn host_shows_one_host_or_says_there_is_none() {
    let (fleet, [web1, ..]) = three_hosts().await;
    let text = fleet.wardctl(&["host", "web-1"]).await.unwrap();
    assert!(
        text.contains("web-1") && text.contains(&web1.host_id),
        "{text}"
    );
    assert!(
        text.contains("3 total, 2 installed (other states: config-files 1)"),
        "{text}"
    );
    let csv = fleet
        .wardctl(&["host", "web-1", "-o", "csv"])
        .await
        .unwrap();
    assert_eq!(
        csv,
        "name,version,arch,source,state\n\
         bash,5.2.15-2+b7,amd64,deb,installed\n\
         old-tool,0.9-1,amd64,deb,config-files\n\
         openssl,3.0.11-1~deb12u2,amd64,deb,installed\n"
    );
    let by_id = json(
        &fleet
            .wardctl(&["host", &web1.host_id, "-o", "json"])
            .await
            .unwrap(),
    );
    assert_eq!(by_id["summary"]["hostname"], "web-1");

    let err = fleet.wardctl(&["host", "db-9"]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "no such host: db-9; list hosts with `wardctl hosts`"
    );
    assert_eq!(err.exit_code(), EXIT_FAILURE);

    // A second machine called web-1: the name no longer says which host is meant.
    let twin = fleet.add(&Machine::debian("web-1", &[])).await;
    let err = fleet.wardctl(&["host", "web-1"]).await.unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the collector refused to show the host: hostname web-1 is shared"),
        "{text}"
    );
    assert!(
        text.contains(&twin.host_id) && text.contains(&web1.host_id),
        "{text}"
    );
    assert_eq!(err.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn software_finds_versions_below_a_bound_and_says_when_nothing_matches() {
    let (fleet, _) = three_hosts().await;
    let found = async |args: &[&str]| {
        let args: Vec<&str> = ["software", "-o", "json"]
            .iter()
            .chain(args)
            .copied()
            .collect();
        let v = json(&fleet.wardctl(&args).await.unwrap());
        field(&v, "hostname")
            .into_iter()
            .zip(field(&v, "version"))
            .collect::<Vec<_>>()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        found(&["openssl"]).await,
        pairs(&[
            ("db-1", "1:3.0.9-1"),
            ("web-1", "3.0.11-1~deb12u2"),
            ("web-2", "3.0.15-1~deb12u1"),
        ])
    );
    assert_eq!(
        found(&["openssl", "--below", "3.0.13-1~deb12u1"]).await,
        pairs(&[("web-1", "3.0.11-1~deb12u2")])
    );
    // Removed but configured: only listed when asked for every state.
    assert!(found(&["old-tool"]).await.is_empty());
    assert_eq!(
        found(&["old-tool", "--all-states"]).await,
        pairs(&[("web-1", "0.9-1")])
    );

    let text = fleet
        .wardctl(&["software", "openssl", "--below", "3.0.13-1~deb12u1"])
        .await
        .unwrap();
    assert!(
        text.contains("3.0.11-1~deb12u2") && !text.contains("3.0.15"),
        "{text}"
    );
    let text = fleet
        .wardctl(&["software", "nothing*", "--all-states"])
        .await;
    assert_eq!(text.unwrap(), "no host has nothing*\n");
    let text = fleet
        .wardctl(&["software", "openssl", "--below", "3.0"])
        .await;
    assert_eq!(text.unwrap(), "no host has openssl below 3.0\n");
}

#[tokio::test]
async fn a_created_token_enrols_as_many_agents_as_it_allows() {
    let fleet = Fleet::start().await;
    let text = fleet.wardctl(&["token", "create"]).await.unwrap();
    let expected = format!(
        "ward-agent enroll --collector {} --ca-fingerprint {} --token-file FILE",
        fleet.url, fleet.fingerprint
    );
    assert!(text.contains(&expected), "{text}");
    let token = text
        .lines()
        .find_map(|line| line.strip_prefix("token"))
        .unwrap()
        .trim();
    let agent = fleet
        .enrol(&Machine::debian("app-1", &[]), token)
        .await
        .unwrap();
    fleet.report(&agent).await;
    let err = fleet.enrol(&Machine::debian("app-2", &[]), token).await;
    assert!(err.unwrap_err().to_string().contains("no uses left"));

    let created = json(
        &fleet
            .wardctl(&[
                "token", "create", "--uses", "2", "--ttl", "2h", "--label", "rack 4", "-o", "json",
            ])
            .await
            .unwrap(),
    );
    assert_eq!(created["uses"], 2);
    let expires_in = created["expires_at"].as_i64().unwrap() - now();
    assert!((7_100..=7_200).contains(&expires_in), "{expires_in}");
    let label = token_label(&fleet, created["id"].as_str().unwrap()).await;
    assert_eq!(label, "rack 4");
    let token = created["token"].as_str().unwrap();
    for name in ["app-2", "app-3"] {
        let agent = fleet.enrol(&Machine::debian(name, &[]), token).await;
        fleet.report(&agent.unwrap()).await;
    }
    let err = fleet.enrol(&Machine::debian("app-4", &[]), token).await;
    assert!(err.unwrap_err().to_string().contains("no uses left"));
    let listed = json(&fleet.wardctl(&["hosts", "-o", "json"]).await.unwrap());
    assert_eq!(field(&listed, "hostname"), ["app-1", "app-2", "app-3"]);

    let err = fleet.wardctl(&["token", "create", "--ttl", "31d"]).await;
    let err = err.unwrap_err();
    assert!(
        err.to_string().starts_with(
            "the collector refused to create an enrolment token: ttl must be at most 30 days"
        ),
        "{err}"
    );
    assert_eq!(err.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn certificates_the_collector_refuses_become_hints() {
    let fleet = Fleet::start().await;
    let token = fleet.token(1).await;
    let agent = fleet.enrol(&Machine::debian("web-1", &[]), &token).await;
    let (agent_cert, agent_key) = agent.unwrap().credentials();
    let (role_cert, role_key) = fleet.certificate_without_role();
    for ((cert, key), reason) in [
        (
            (agent_cert, agent_key),
            "agent certificates may not call the admin service",
        ),
        (
            (role_cert, role_key),
            "client certificate has role \"ward-collector\", which may not call this service",
        ),
    ] {
        let err = fleet
            .wardctl(&[
                "hosts",
                "--cert",
                cert.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("refused the admin credentials"), "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(text.contains("--cert/--key"), "{text}");
        assert_eq!(err.exit_code(), EXIT_USAGE);
    }
}

#[tokio::test]
async fn an_admin_certificate_from_another_ca_is_refused() {
    let fleet = Fleet::start().await;
    let other = tempfile::tempdir().unwrap();
    Authority::load_or_create(&other.path().join("pki"), &[], Duration::from_secs(3600)).unwrap();
    let cert = other.path().join("pki/admin.crt");
    let key = other.path().join("pki/admin.key");
    let err = fleet
        .wardctl(&[
            "hosts",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused { .. } | Error::Connect(connect::Error::Refused { .. })
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("refused the admin credentials"), "{text}");
    assert!(text.contains("UnknownCA"), "{text}");
    assert_eq!(err.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn a_collector_with_another_ca_is_not_trusted() {
    let fleet = Fleet::start().await;
    let other = tempfile::tempdir().unwrap();
    Authority::load_or_create(&other.path().join("pki"), &[], Duration::from_secs(3600)).unwrap();
    let ca = other.path().join("pki/ca.crt");
    let err = fleet
        .wardctl(&["hosts", "--ca", ca.to_str().unwrap()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Connect(connect::Error::ServerNotTrusted { .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "check that {} is this collector's CA",
            ca.display()
        )),
        "{text}"
    );
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert_eq!(err.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn a_name_the_certificate_does_not_cover_is_not_trusted() {
    let fleet = Fleet::start().await;
    // Same collector, reached by a name its certificate does not list.
    let url = fleet.url.replace("127.0.0.1", "127.0.0.2");
    let err = wardctl(&url, &fleet.data_dir, &["hosts"])
        .await
        .unwrap_err();
    // Linux routes all of 127/8 to loopback, but the collector listens on 127.0.0.1 only.
    assert!(
        matches!(
            err,
            Error::Connect(
                connect::Error::ServerNotTrusted { .. } | connect::Error::Unreachable { .. }
            )
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_collector_that_goes_away_is_unavailable() {
    let mut fleet = Fleet::start().await;
    let cli = Cli::try_parse_from(["wardctl", "--collector", &fleet.url, "hosts"]).unwrap();
    let target = Target::parse(&fleet.url).unwrap();
    let credentials = connect::CredentialPaths::resolve(&fleet.data_dir, None, None, None)
        .load()
        .unwrap();
    let timeout = Duration::from_secs(10);
    let channel = connect::connect(&target, &credentials, timeout)
        .await
        .unwrap();
    let mut session = Session {
        client: Client::new(channel),
        target,
        credentials,
        timeout,
    };
    let view = View::now(Format::Table);
    assert_eq!(
        session.execute(&cli.command, &view).await.unwrap(),
        "no hosts match\n"
    );

    fleet.stop().await;
    let err = session.execute(&cli.command, &view).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot reach the collector at {}: ", fleet.url)),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("; is `ward-collector serve` running?"),
        "{err}"
    );
    assert_eq!(err.exit_code(), EXIT_UNAVAILABLE);
}

#[tokio::test]
async fn a_failing_store_is_reported_as_a_collector_failure() {
    let fleet = Fleet::start().await;
    // Break the collector's database under it: its store now fails on every listing.
    let mut db = fleet.database().await;
    sqlx::query("ALTER TABLE hosts RENAME TO hosts_lost")
        .execute(&mut db)
        .await
        .unwrap();
    let err = fleet.wardctl(&["hosts"]).await.unwrap_err();
    assert!(matches!(err, Error::Rpc { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "failed to list hosts: the collector answered Internal: the collector's store failed; see its log"
    );
    assert_eq!(err.exit_code(), EXIT_FAILURE);
}

#[tokio::test]
async fn a_bad_below_version_is_refused_before_connecting() {
    // Nothing listens here and there are no credentials: the check must come first. The
    // collector applies the same check, so wardctl cannot make it refuse a --below bound.
    let cli = Cli::try_parse_from([
        "wardctl",
        "--collector",
        "https://127.0.0.1:9",
        "--data-dir",
        "/nonexistent",
        "software",
        "openssl",
        "--below",
        "1 0",
    ])
    .unwrap();
    let failure = run(&cli, &mut Vec::new()).await.unwrap_err();
    let err = failure.to_string();
    // Every format's reason is given: the bound is compared in each host's own format.
    assert!(
        err.starts_with("--below: invalid version \"1 0\": version string has embedded spaces; ")
            && err.contains("version string has whitespace"),
        "{err}"
    );
    assert_eq!(failure.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn configuration_and_connection_failures_have_their_exit_codes() {
    let cli = Cli::try_parse_from(["wardctl", "--data-dir", "/nonexistent", "hosts"]).unwrap();
    let err = run(&cli, &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.exit_code(), EXIT_USAGE, "{err}");

    let cli = Cli::try_parse_from(["wardctl", "--collector", "http://x:1", "hosts"]).unwrap();
    assert_eq!(
        run(&cli, &mut Vec::new()).await.unwrap_err().exit_code(),
        EXIT_USAGE
    );

    // Real credentials, but nothing listens on the port.
    let fleet = Fleet::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}");
    let err = wardctl(&url, &fleet.data_dir, &["hosts"])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Connect(connect::Error::Unreachable { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("; is `ward-collector serve` running?"),
        "{err}"
    );
    assert_eq!(err.exit_code(), EXIT_UNAVAILABLE, "{err}");
}

#[test]
fn statuses_map_to_readable_errors() {
    // Answers a healthy collector does not give on demand: deadlines, unimplemented RPCs,
    // unknown failures.
    let target = Target::parse("https://c.example:7443").unwrap();
    let timeout = Duration::from_secs(10);
    let map = |status: Status, call| Error::from_status(&status, call, &target, timeout);
    assert_eq!(
        map(Status::not_found("x"), Call::GetHost("web-9")).to_string(),
        "no such host: web-9; list hosts with `wardctl hosts`"
    );
    assert_eq!(
        map(Status::deadline_exceeded("slow"), Call::ListHosts).to_string(),
        "the collector at https://c.example:7443 did not answer within 10s; try again, or raise --timeout"
    );
    assert_eq!(
        map(Status::unimplemented(""), Call::FindSoftware).to_string(),
        "the collector at https://c.example:7443 cannot find software (not implemented); upgrade the collector"
    );
    assert_eq!(
        map(
            Status::failed_precondition("hostname web is ambiguous"),
            Call::GetHost("web")
        )
        .to_string(),
        "the collector refused to show the host: hostname web is ambiguous"
    );
    assert_eq!(
        map(Status::unknown(""), Call::CreateToken).exit_code(),
        EXIT_FAILURE
    );
    assert_eq!(
        map(Status::deadline_exceeded(""), Call::CreateToken).exit_code(),
        EXIT_UNAVAILABLE
    );
}

#[test]
fn below_versions_are_checked_in_supported_formats() {
    assert!(check_below("3.0.13-1~deb12u1").is_ok());
    assert!(check_below("1:2.36").is_ok());
    assert!(matches!(check_below("1 0"), Err(Error::Usage(_))));
}

/// Three Debian hosts whose apt lists offer updates: web-1 a security update of openssl
/// and a reboot pending, web-2 a plain update of curl, db-1 nothing.
async fn patched_hosts() -> (Fleet, [Enrolled; 3]) {
    let fleet = Fleet::start().await;
    let web1 = Machine {
        updates: vec![("openssl", "3.0.15-1~deb12u1", true)],
        reboot_required: true,
        ..Machine::debian(
            "web-1",
            &[
                Pkg::installed("openssl", "3.0.11-1~deb12u2"),
                Pkg::installed("bash", "5.2.15-2+b7"),
            ],
        )
    };
    let web2 = Machine {
        updates: vec![("curl", "7.88.1-10+deb12u8", false)],
        ..Machine::debian("web-2", &[Pkg::installed("curl", "7.88.1-10+deb12u5")])
    };
    let db1 = Machine::debian("db-1", &[Pkg::installed("bash", "5.2.15-2+b7")]);
    let hosts = [
        fleet.add(&web1).await,
        fleet.add(&web2).await,
        fleet.add(&db1).await,
    ];
    (fleet, hosts)
}

#[tokio::test(flavor = "multi_thread")]
async fn patches_lists_the_riskiest_hosts_first_and_shows_one_host() {
    let (fleet, [web1, web2, db1]) = patched_hosts().await;
    let answer = json(&fleet.wardctl(&["patches", "-o", "json"]).await.unwrap());
    assert_eq!(field(&answer["hosts"], "hostname"), ["web-1", "web-2"]);
    let first = &answer["hosts"][0];
    assert_eq!(first["host_id"], web1.host_id.as_str());
    assert_eq!(
        (first["pending"].as_u64(), first["security"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(first["reboot_required"], true);
    let since = first["security_since"].as_i64().unwrap();
    assert!(
        (now() - since).abs() < 120,
        "first seen at this report: {since}"
    );

    let all = json(
        &fleet
            .wardctl(&["patches", "--all", "-o", "json"])
            .await
            .unwrap(),
    );
    assert_eq!(field(&all["hosts"], "hostname"), ["web-1", "web-2", "db-1"]);
    assert_eq!(all["hosts"][2]["host_id"], db1.host_id.as_str());
    let security = json(
        &fleet
            .wardctl(&["patches", "--security", "-o", "json"])
            .await
            .unwrap(),
    );
    assert_eq!(field(&security["hosts"], "hostname"), ["web-1"]);

    // Exposure comes from the agent's first-seen times: backdate web-1's and report again.
    let ten_days_ago = now() - 10 * 86_400;
    std::fs::write(
        web1.state_dir.join("patches-seen.json"),
        format!(
            r#"{{"pending":{{"deb/amd64/openssl":{{"first_seen":{ten_days_ago},"security_since":{ten_days_ago}}}}},"reboot_required_since":{ten_days_ago}}}"#
        ),
    )
    .unwrap();
    assert!(
        field(
            &json(
                &fleet
                    .wardctl(&["patches", "--security-for", "7d", "-o", "json"])
                    .await
                    .unwrap()
            )["hosts"],
            "hostname"
        )
        .is_empty(),
        "nothing has been pending 7 days before the agent says so"
    );
    fleet.report(&web1).await;
    let old = json(
        &fleet
            .wardctl(&["patches", "--security-for", "7d", "-o", "json"])
            .await
            .unwrap(),
    );
    assert_eq!(field(&old["hosts"], "hostname"), ["web-1"]);
    assert_eq!(
        old["hosts"][0]["security_since"].as_i64(),
        Some(ten_days_ago)
    );
    let reboot = json(
        &fleet
            .wardctl(&["patches", "--reboot-for", "9d", "-o", "json"])
            .await
            .unwrap(),
    );
    assert_eq!(field(&reboot["hosts"], "hostname"), ["web-1"]);

    let table = fleet.wardctl(&["patches"]).await.unwrap();
    let web1_line = table.lines().find(|l| l.starts_with("web-1")).unwrap();
    assert!(
        web1_line.contains("10d") && web1_line.contains("yes, 10d"),
        "{table}"
    );

    // One host: its pending updates, in every format.
    let detail = fleet.wardctl(&["patches", "web-1"]).await.unwrap();
    for s in [
        "openssl",
        "3.0.11-1~deb12u2",
        "3.0.15-1~deb12u1",
        "bookworm-security",
        "libc6",
        "1 (1 security, 0 held back)",
    ] {
        assert!(detail.contains(s), "{s} missing from\n{detail}");
    }
    let detail = json(
        &fleet
            .wardctl(&["patches", &web2.host_id, "-o", "json"])
            .await
            .unwrap(),
    );
    assert_eq!(detail["patches"]["pending"][0]["name"], "curl");
    assert_eq!(detail["patches"]["pending"][0]["security"], false);
    assert_eq!(detail["patches"]["managers"][0], "apt");
    let csv = fleet
        .wardctl(&["patches", "web-1", "-o", "csv"])
        .await
        .unwrap();
    assert!(
        csv.lines().nth(1).unwrap().starts_with(
            "openssl,amd64,deb,3.0.11-1~deb12u2,3.0.15-1~deb12u1,true,Debian,bookworm-security"
        ),
        "{csv}"
    );
    let err = fleet
        .wardctl(&["patches", "no-such-host"])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no such host: no-such-host; list hosts with `wardctl hosts`"
    );
}
