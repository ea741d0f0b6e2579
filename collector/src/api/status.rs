//! The one place where domain errors become gRPC statuses.

use tonic::Status;

use crate::{pipeline, store};

/// Maps a store error to a status; internal failures are logged and reported vaguely.
pub fn from_store(e: store::Error) -> Status {
    use store::Error as E;
    match e {
        E::TokenUnknown | E::TokenExpired { .. } | E::TokenUsedUp => {
            Status::permission_denied(e.to_string())
        }
        E::HostExists(_) => Status::already_exists(e.to_string()),
        E::UnknownHost(_) => Status::not_found(e.to_string()),
        E::AmbiguousHost { .. } | E::InvalidPageToken | E::SequenceOutOfRange(_) => {
            Status::invalid_argument(e.to_string())
        }
        other => {
            tracing::error!(error = %other, "store failure");
            Status::internal("the collector's store failed; see its log")
        }
    }
}

/// Maps a pipeline error to a status.
pub fn from_pipeline(e: pipeline::Error) -> Status {
    use pipeline::Error as E;
    match e {
        E::Store(e) => from_store(e),
        E::UnknownAlert(_) | E::UnknownSilence(_) => Status::not_found(e.to_string()),
        E::AlertResolved(_) | E::SilenceEnded(_) => Status::failed_precondition(e.to_string()),
        E::InvalidSilence(_) | E::NoteTooLong => Status::invalid_argument(e.to_string()),
    }
}

/// Maps a conversion (validation) error at the edge.
pub fn invalid(e: impl std::fmt::Display) -> Status {
    Status::invalid_argument(e.to_string())
}
