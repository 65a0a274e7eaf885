//! The `scylla` crate 1.x, the driver we compare against.

use anyhow::{Context, Result, bail};
use scylla::client::Compression;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::unprepared::Statement;

use crate::ConnectOptions;
use crate::runner::Driver;
use crate::workload::{self, BATCH_SIZE, Workload};

/// Applies `--compression`; the `scylla` crate speaks protocol v4 only.
fn configure(builder: SessionBuilder, options: ConnectOptions) -> Result<SessionBuilder> {
    if options.protocol.is_some_and(|v| v != 4) {
        bail!("scylla: the scylla crate speaks protocol v4 only");
    }
    Ok(builder.compression(options.lz4.then_some(Compression::Lz4)))
}

crate::session_api::session_api_driver!(Scylla, "scylla");
