//! This workspace's driver, `cql-session`.

use anyhow::{Context, Result};
use session::statement::unprepared::Statement;
use session::{Batch, BatchType, PreparedStatement, Session, SessionBuilder};

use crate::runner::Driver;
use crate::workload::{self, BATCH_SIZE, Workload};

crate::session_api::session_api_driver!(Ours, "cql-session");
