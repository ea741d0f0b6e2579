//! The collector's half of each section kind (`ward_proto::section`): the bounds an agent's
//! section must respect, and the rows a section is projected into for fleet queries. The
//! report pipeline drives every kind through the same generic path; a new section is a
//! new module here, its [`Kind`] in `ward-proto`, and one line in the pipeline.

use ward_proto::section::{Kind, NoDelta, Update};

use crate::store::{self, Tx};

pub mod check;
pub mod hardware;
pub mod os;
pub mod patches;
pub mod posture;
pub mod software;

/// A section that replaced the one held, with what was held before (None when nothing
/// was, or what was held did not decode).
#[derive(Debug, Clone, PartialEq)]
pub struct Change<B> {
    pub old: Option<B>,
    pub new: B,
    /// The new section came as a delta on `old`: only the rows that changed are written.
    pub by_delta: bool,
}

/// The collector's half of a section kind.
#[async_trait::async_trait]
pub trait Section: Kind {
    /// Checks a full section from an agent.
    fn check_body(body: &Self::Body) -> Result<(), check::Error>;

    /// Checks a delta from an agent (never called for kinds without deltas).
    fn check_delta(delta: &Self::Delta) -> Result<(), check::Error>;

    /// Writes what queries read of the section (host columns, package rows, summaries)
    /// after it replaced the one held.
    async fn project(
        tx: &mut dyn Tx,
        host_id: &str,
        change: &Change<Self::Body>,
        now: i64,
    ) -> Result<(), store::Error>;

    /// Records that the held section was confirmed by a report.
    async fn kept(_tx: &mut dyn Tx, _host_id: &str, _now: i64) -> Result<(), store::Error> {
        Ok(())
    }
}

/// Checks a wire update and converts it; None when the report does not carry the section.
pub fn from_wire<S: Section>(wire: Option<S::Wire>) -> Result<Option<Update<S>>, check::Error> {
    let Some(wire) = wire else {
        return Ok(None);
    };
    let update = S::from_wire(wire)?;
    match &update {
        Update::Unchanged(_) => {}
        Update::Full(body) => S::check_body(body)?,
        Update::Delta(delta) => S::check_delta(delta)?,
    }
    Ok(Some(update))
}

/// The delta check of kinds that have no deltas.
pub fn no_delta(_: &NoDelta) -> Result<(), check::Error> {
    Ok(())
}
