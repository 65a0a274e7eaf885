//! The `scylla` crate 1.x, the driver we compare against.

use anyhow::{Context, Result};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::unprepared::Statement;

use crate::runner::Driver;
use crate::workload::{self, BATCH_SIZE, Workload};

crate::session_api::session_api_driver!(Scylla, "scylla");
