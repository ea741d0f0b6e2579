//! Ward's wire contract: the `ward.v1` protobuf messages and services, and the canonical
//! form of each inventory section that agent and collector hash and diff identically.

pub mod delta;
pub mod digest;
pub mod fingerprint;
pub mod section;

/// Generated `ward.v1` messages, clients and servers.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("ward.v1");

    /// Encoded file descriptor set, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("ward_descriptor");
}
