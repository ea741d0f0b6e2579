//! The one place where domain errors become gRPC statuses.
//!
//! Every mapping is an exhaustive `match` with no wildcard arm: a new error variant does
//! not compile until someone decides what a client sees for it. A client's mistake becomes
//! a precise status with the message that says how to fix it; a failure of the collector
//! itself (its store, its CA) is logged in full and reaches the client only as a vague
//! `INTERNAL`, never as `INVALID_ARGUMENT`, which would blame the caller.

use tonic::Status;

use super::convert;
use crate::pki::{ca, identity};
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
        E::Open { .. }
        | E::SchemaTooNew { .. }
        | E::Migrate { .. }
        | E::Database(_)
        | E::Corrupt(_) => {
            tracing::error!(error = %e, "store failure");
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

/// Maps a validation error of a request's content: always the caller's to fix.
pub fn from_convert(e: convert::Error) -> Status {
    use convert::Error as E;
    match e {
        E::HashLength { .. }
        | E::ZeroSequence
        | E::TooLong(..)
        | E::Control(_)
        | E::EmptyName
        | E::EmptyPendingName
        | E::TooMany(..)
        | E::Update(_) => Status::invalid_argument(e.to_string()),
    }
}

/// Maps a failure to issue a certificate: a request that does not parse is the client's
/// fault; anything else (the CA's files, signing) is the collector's.
pub fn from_issue(e: ca::Error) -> Status {
    use ca::Error as E;
    match e {
        E::Csr(_) => Status::invalid_argument(e.to_string()),
        E::Sign(_)
        | E::Read { .. }
        | E::Write { .. }
        | E::Incomplete { .. }
        | E::Invalid { .. } => {
            tracing::error!(error = %e, "certificate authority failure");
            Status::internal("the collector could not issue a certificate; see its log")
        }
    }
}

/// Maps a client certificate that names no peer. The chain was already verified against
/// the collector's CA, so this is a certificate of a role no service accepts.
pub fn from_identity(e: identity::Error) -> Status {
    use identity::Error as E;
    match e {
        E::Malformed | E::NoCommonName | E::UnknownRole(_) => {
            Status::unauthenticated(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn store_failures_are_internal_and_vague() {
        let s = from_store(store::Error::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("pool"), "{}", s.message());
        let s = from_store(store::Error::SchemaTooNew {
            path: "/secret/ward.db".into(),
            version: 99,
        });
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("/secret"), "{}", s.message());
    }

    #[test]
    fn store_refusals_keep_their_meaning() {
        let cases = [
            (store::Error::TokenUnknown, Code::PermissionDenied),
            (store::Error::TokenExpired { at: 0 }, Code::PermissionDenied),
            (store::Error::TokenUsedUp, Code::PermissionDenied),
            (store::Error::HostExists("h".into()), Code::AlreadyExists),
            (store::Error::UnknownHost("h".into()), Code::NotFound),
            (
                store::Error::AmbiguousHost {
                    name: "web".into(),
                    ids: vec!["a".into(), "b".into()],
                },
                Code::InvalidArgument,
            ),
            (store::Error::InvalidPageToken, Code::InvalidArgument),
            (
                store::Error::SequenceOutOfRange(u64::MAX),
                Code::InvalidArgument,
            ),
        ];
        for (e, code) in cases {
            let text = e.to_string();
            let s = from_store(e);
            assert_eq!(s.code(), code, "{text}");
            assert_eq!(s.message(), text);
        }
    }

    #[test]
    fn a_bad_csr_is_the_clients_fault_and_a_signing_failure_is_not() {
        let s = from_issue(ca::Error::Csr(
            rcgen::Error::CouldNotParseCertificationRequest,
        ));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(
            s.message().contains("certificate signing request"),
            "{}",
            s.message()
        );

        let s = from_issue(ca::Error::Sign(rcgen::Error::RingUnspecified));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("ring"), "{}", s.message());
        let s = from_issue(ca::Error::Incomplete {
            dir: "/var/lib/ward/pki".into(),
            missing: "ca.key",
        });
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("ca.key"), "{}", s.message());
    }

    #[test]
    fn validation_errors_are_invalid_arguments() {
        let s = from_convert(convert::Error::ZeroSequence);
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "sequence must be at least 1");
    }

    #[test]
    fn certificates_naming_no_peer_are_unauthenticated() {
        let s = from_identity(identity::Error::UnknownRole("ward-collector".into()));
        assert_eq!(s.code(), Code::Unauthenticated);
    }
}
