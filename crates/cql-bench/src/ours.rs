//! This workspace's driver, `cql-session`.

use anyhow::{Context, Result, bail};
use session::client::session_builder::{Compression, ProtocolVersion};
use session::statement::unprepared::Statement;
use session::{Batch, BatchType, PreparedStatement, Session, SessionBuilder};

use crate::ConnectOptions;
use crate::runner::Driver;
use crate::workload::{self, BATCH_SIZE, Workload};

/// Applies `--protocol` (as the highest version offered, so a v4-only node still answers) and
/// `--compression`.
fn configure(builder: SessionBuilder, options: ConnectOptions) -> Result<SessionBuilder> {
    let builder = match options.protocol {
        None => builder,
        Some(4) => builder.max_protocol_version(ProtocolVersion::V4),
        Some(5) => builder.max_protocol_version(ProtocolVersion::V5),
        Some(other) => bail!("cql-session: protocol v{other} is not offered by the benchmark"),
    };
    Ok(builder.compression(options.lz4.then_some(Compression::Lz4)))
}

crate::session_api::session_api_driver!(Ours, "cql-session");
