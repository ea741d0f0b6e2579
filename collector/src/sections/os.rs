//! The os section: bounds, and the host columns it is denormalised into (hostname, os,
//! kernel, architecture, machine id) so that listing hosts reads one table.

use ward_proto::section::{NoDelta, Os};
use ward_proto::v1 as pb;

use super::check::{self, MAX_FIELD, MAX_HOSTNAME, MAX_TEXT, text};
use super::{Change, Section};
use crate::store::hosts::OsColumns;
use crate::store::{self, Tx};

#[async_trait::async_trait]
impl Section for Os {
    fn check_body(os: &pb::OsInfo) -> Result<(), check::Error> {
        text("os.hostname", &os.hostname, MAX_HOSTNAME, true)?;
        for (field, v) in [
            ("os.os_id", &os.os_id),
            ("os.os_version_id", &os.os_version_id),
            ("os.os_codename", &os.os_codename),
            ("os.kernel_release", &os.kernel_release),
            ("os.architecture", &os.architecture),
            ("os.machine_id", &os.machine_id),
        ] {
            text(field, v, MAX_FIELD, true)?;
        }
        for (field, v) in [
            ("os.os_pretty_name", &os.os_pretty_name),
            ("os.os_id_like", &os.os_id_like),
            ("os.kernel_version", &os.kernel_version),
            ("os.virtualization", &os.virtualization),
            ("os.container", &os.container),
        ] {
            text(field, v, MAX_TEXT, false)?;
        }
        Ok(())
    }

    fn check_delta(d: &NoDelta) -> Result<(), check::Error> {
        super::no_delta(d)
    }

    async fn project(
        tx: &mut dyn Tx,
        host_id: &str,
        change: &Change<pb::OsInfo>,
        _now: i64,
    ) -> Result<(), store::Error> {
        let os = &change.new;
        tx.set_os_columns(
            host_id,
            &OsColumns {
                hostname: &os.hostname,
                os_id: &os.os_id,
                os_pretty_name: &os.os_pretty_name,
                kernel_release: &os.kernel_release,
                architecture: &os.architecture,
                machine_id: &os.machine_id,
            },
        )
        .await
    }
}
