//! The hardware section: bounds, and the host columns it is denormalised into (memory,
//! logical cores).

use ward_proto::section::{Hardware, NoDelta};
use ward_proto::v1 as pb;

use super::check::{self, MAX_DEVICES, MAX_TEXT};
use super::{Change, Section};
use crate::store::{self, Tx};

#[async_trait::async_trait]
impl Section for Hardware {
    fn check_body(hw: &pb::Hardware) -> Result<(), check::Error> {
        for (field, n) in [
            ("hardware.filesystems", hw.filesystems.len()),
            ("hardware.block_devices", hw.block_devices.len()),
            ("hardware.interfaces", hw.interfaces.len()),
            ("hardware.gpus", hw.gpus.len()),
        ] {
            check::count(field, n, MAX_DEVICES)?;
        }
        // Free text everywhere else: bounded, displayed escaped by wardctl.
        let longest = hw
            .filesystems
            .iter()
            .flat_map(|f| [&f.mount_point, &f.device, &f.fs_type])
            .chain(
                hw.block_devices
                    .iter()
                    .flat_map(|d| [&d.name, &d.model, &d.serial, &d.vendor]),
            )
            .chain(hw.interfaces.iter().flat_map(|i| [&i.name, &i.mac]))
            .chain(hw.interfaces.iter().flat_map(|i| i.addresses.iter()))
            .map(String::len)
            .max()
            .unwrap_or(0);
        if longest > MAX_TEXT {
            return Err(check::Error::TooLong("hardware (a device field)", MAX_TEXT));
        }
        Ok(())
    }

    fn check_delta(d: &NoDelta) -> Result<(), check::Error> {
        super::no_delta(d)
    }

    async fn project(
        tx: &mut dyn Tx,
        host_id: &str,
        change: &Change<pb::Hardware>,
        _now: i64,
    ) -> Result<(), store::Error> {
        let hw = &change.new;
        let memory = hw.memory.as_ref().map_or(0, |m| m.total_bytes);
        let cores = hw.cpu.as_ref().map_or(0, |c| c.logical_cores);
        tx.set_hardware_columns(host_id, memory, cores).await
    }
}
