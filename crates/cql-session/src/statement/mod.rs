//! Statements: unprepared [`Statement`]s,
//! [`PreparedStatement`]s and [`Batch`]es, and the
//! options they share.

pub mod batch;
pub mod prepared;
pub mod row_builder;
pub mod unprepared;

use std::time::Duration;

use crate::client::execution_profile::ExecutionProfileHandle;

pub use crate::consistency::{Consistency, SerialConsistency};
pub use batch::{Batch, BatchStatement, BatchType};
pub use prepared::PreparedStatement;
pub use unprepared::Statement;

/// The page size used when none is set: 5000 rows.
pub const DEFAULT_PAGE_SIZE: i32 = 5000;

/// Options every kind of statement has. `None` means "take it from the execution profile".
#[derive(Debug, Clone, Default)]
pub(crate) struct StatementConfig {
    pub(crate) consistency: Option<Consistency>,
    pub(crate) serial_consistency: Option<Option<SerialConsistency>>,
    pub(crate) is_idempotent: bool,
    pub(crate) tracing: bool,
    pub(crate) timestamp: Option<i64>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) execution_profile_handle: Option<ExecutionProfileHandle>,
    /// The rarely set options, boxed: statements live in every request's future.
    pub(crate) extras: Option<Box<StatementExtras>>,
}

/// The rarely set options of a statement.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatementExtras {
    /// The statement's own retry policy, over its execution profile's.
    pub(crate) retry_policy: Option<std::sync::Arc<dyn crate::policies::retry::RetryPolicy>>,
    /// Hears each request's attempts and outcome.
    pub(crate) history_listener:
        Option<std::sync::Arc<dyn crate::observability::history::HistoryListener>>,
}

impl StatementConfig {
    /// The statement's own retry policy, if set.
    pub(crate) fn retry_policy(&self) -> Option<&dyn crate::policies::retry::RetryPolicy> {
        self.extras.as_ref()?.retry_policy.as_deref()
    }

    /// The statement's history listener, if set.
    pub(crate) fn history_listener(
        &self,
    ) -> Option<&dyn crate::observability::history::HistoryListener> {
        self.extras.as_ref()?.history_listener.as_deref()
    }

    fn extras_mut(&mut self) -> &mut StatementExtras {
        self.extras.get_or_insert_with(Box::default)
    }
}

/// Defines the shared option accessors on a statement type with a `config: StatementConfig`.
macro_rules! impl_statement_config {
    ($t:ty) => {
        impl $t {
            /// Sets the consistency level, overriding the execution profile's.
            pub fn set_consistency(&mut self, c: $crate::statement::Consistency) {
                self.config.consistency = Some(c);
            }

            /// Clears the statement's own consistency so the execution profile's applies.
            pub fn unset_consistency(&mut self) {
                self.config.consistency = None;
            }

            /// The statement's own consistency level, if set.
            pub fn get_consistency(&self) -> Option<$crate::statement::Consistency> {
                self.config.consistency
            }

            /// Sets the serial consistency (for conditional statements), overriding the
            /// execution profile's; `None` sends none.
            pub fn set_serial_consistency(
                &mut self,
                sc: Option<$crate::statement::SerialConsistency>,
            ) {
                self.config.serial_consistency = Some(sc);
            }

            /// Clears the statement's own serial consistency so the execution profile's applies.
            pub fn unset_serial_consistency(&mut self) {
                self.config.serial_consistency = None;
            }

            /// The statement's own serial consistency, if set.
            pub fn get_serial_consistency(&self) -> Option<$crate::statement::SerialConsistency> {
                self.config.serial_consistency.flatten()
            }

            /// Marks the statement as idempotent: running it twice has the same effect as once.
            ///
            /// Only idempotent statements are retried or speculatively executed after an error
            /// that leaves it unknown whether the write was applied.
            pub fn set_is_idempotent(&mut self, is_idempotent: bool) {
                self.config.is_idempotent = is_idempotent;
            }

            /// Whether the statement is marked idempotent (default: `false`).
            pub fn get_is_idempotent(&self) -> bool {
                self.config.is_idempotent
            }

            /// Asks the server to trace the statement; the result's `tracing_id()` is then set.
            pub fn set_tracing(&mut self, tracing: bool) {
                self.config.tracing = tracing;
            }

            /// Whether tracing is requested.
            pub fn get_tracing(&self) -> bool {
                self.config.tracing
            }

            /// Sets the write timestamp (microseconds since the epoch) sent with the statement.
            pub fn set_timestamp(&mut self, timestamp: Option<i64>) {
                self.config.timestamp = timestamp;
            }

            /// The write timestamp, if set.
            pub fn get_timestamp(&self) -> Option<i64> {
                self.config.timestamp
            }

            /// Sets the client-side timeout of the whole request (all attempts), overriding the
            /// execution profile's; `None` takes the profile's.
            pub fn set_request_timeout(&mut self, timeout: Option<std::time::Duration>) {
                self.config.request_timeout = timeout;
            }

            /// The statement's own request timeout, if set.
            pub fn get_request_timeout(&self) -> Option<std::time::Duration> {
                self.config.request_timeout
            }

            /// Runs the statement with this execution profile instead of the session's default.
            pub fn set_execution_profile_handle(
                &mut self,
                handle: Option<$crate::client::execution_profile::ExecutionProfileHandle>,
            ) {
                self.config.execution_profile_handle = handle;
            }

            /// The statement's execution profile, if set.
            pub fn get_execution_profile_handle(
                &self,
            ) -> Option<&$crate::client::execution_profile::ExecutionProfileHandle> {
                self.config.execution_profile_handle.as_ref()
            }

            /// Sets the statement's own retry policy, used instead of its execution profile's
            /// (`None`: the profile's).
            pub fn set_retry_policy(
                &mut self,
                retry_policy: Option<std::sync::Arc<dyn $crate::policies::retry::RetryPolicy>>,
            ) {
                self.config.extras_mut().retry_policy = retry_policy;
            }

            /// The statement's own retry policy, if it has one.
            pub fn get_retry_policy(
                &self,
            ) -> Option<&std::sync::Arc<dyn $crate::policies::retry::RetryPolicy>> {
                self.config.extras.as_ref()?.retry_policy.as_ref()
            }

            /// Sets a listener that hears each request of this statement start and end, and
            /// each of its attempts (see [`crate::observability::history`]).
            pub fn set_history_listener(
                &mut self,
                history_listener: std::sync::Arc<
                    dyn $crate::observability::history::HistoryListener,
                >,
            ) {
                self.config.extras_mut().history_listener = Some(history_listener);
            }

            /// Removes the history listener, returning it.
            pub fn remove_history_listener(
                &mut self,
            ) -> Option<std::sync::Arc<dyn $crate::observability::history::HistoryListener>> {
                self.config.extras.as_mut()?.history_listener.take()
            }
        }
    };
}

/// Defines the paging accessors on a statement type with a `page_size: i32`.
macro_rules! impl_page_size {
    ($t:ty) => {
        impl $t {
            /// Sets the number of rows per page. A value of zero or less disables paging
            /// (the server returns every row in one page).
            pub fn set_page_size(&mut self, page_size: i32) {
                self.page_size = page_size;
            }

            /// Returns the statement with the page size set; see [`Self::set_page_size`].
            #[must_use]
            pub fn with_page_size(mut self, page_size: i32) -> Self {
                self.page_size = page_size;
                self
            }

            /// The number of rows per page (default [`DEFAULT_PAGE_SIZE`](crate::statement::DEFAULT_PAGE_SIZE)).
            pub fn get_page_size(&self) -> i32 {
                self.page_size
            }
        }
    };
}

pub(crate) use impl_page_size;
pub(crate) use impl_statement_config;
