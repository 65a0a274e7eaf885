//! This workspace's driver, `cql-session`.

use anyhow::{Context, Result};
use session::statement::unprepared::Statement;
use session::{Batch, BatchType, PreparedStatement, Session, SessionBuilder};

use crate::runner::Driver;
use crate::workload::{self, BATCH_SIZE, Workload};

/// A connected `cql-session` with the workload's statement ready.
pub(crate) struct Ours {
    session: Session,
    workload: Workload,
    prepared: Option<PreparedStatement>,
    unprepared: Statement,
    batch: Batch,
}

impl Ours {
    /// Connects to `nodes`; prepares the workload's statement unless `setup_only`.
    pub(crate) async fn connect(
        nodes: &[String],
        workload: Workload,
        setup_only: bool,
    ) -> Result<Self> {
        let session = SessionBuilder::new()
            .known_nodes(nodes)
            .build()
            .await
            .context("cql-session: connect")?;
        let mut prepared = None;
        let mut batch = Batch::new(BatchType::Unlogged);
        if !setup_only && workload != Workload::Unprepared {
            let p = session
                .prepare(workload.statement())
                .await
                .context("cql-session: prepare")?;
            if workload == Workload::Batch {
                for _ in 0..BATCH_SIZE {
                    batch.append_statement(p.clone());
                }
            }
            prepared = Some(p);
        }
        Ok(Self {
            session,
            workload,
            prepared,
            unprepared: Statement::new(workload::UNPREPARED),
            batch,
        })
    }

    fn prepared(&self) -> Result<&PreparedStatement> {
        self.prepared.as_ref().context("statement not prepared")
    }
}

impl Driver for Ours {
    async fn setup(&self, statements: &[String]) -> Result<()> {
        for s in statements {
            self.session
                .query_unpaged(s.as_str(), ())
                .await
                .with_context(|| format!("cql-session: {s}"))?;
        }
        Ok(())
    }

    async fn request(&self, i: u64) -> Result<()> {
        match self.workload {
            Workload::Insert => {
                self.session
                    .execute_unpaged(self.prepared()?, workload::insert_row(i))
                    .await?;
            }
            Workload::Select => {
                let result = self
                    .session
                    .execute_unpaged(self.prepared()?, (workload::select_key(i),))
                    .await?
                    .into_rows_result()?;
                let (pk, _c1, c2, _c3, c4) = result.single_row::<(i64, i32, &str, f64, &[u8])>()?;
                anyhow::ensure!(pk == workload::select_key(i) && c2.len() + c4.len() > 0);
            }
            Workload::SelectPage => {
                let result = self
                    .session
                    .execute_unpaged(self.prepared()?, (0i32,))
                    .await?
                    .into_rows_result()?;
                let mut n = 0;
                for row in result.rows::<(i32, i32, i64, &str, f64)>()? {
                    let (_pk, _ck, _c1, c2, _c3) = row?;
                    n += usize::from(!c2.is_empty());
                }
                anyhow::ensure!(n == workload::PAGE_ROWS as usize, "{n} rows");
            }
            Workload::Unprepared => {
                let result = self
                    .session
                    .query_unpaged(self.unprepared.clone(), ())
                    .await?
                    .into_rows_result()?;
                let (pk, _c1, _c2, _c3, _c4) =
                    result.single_row::<(i64, i32, &str, f64, &[u8])>()?;
                anyhow::ensure!(pk == 42);
            }
            Workload::Batch => {
                let base = i * BATCH_SIZE as u64;
                let rows: [_; BATCH_SIZE] =
                    std::array::from_fn(|j| workload::insert_row(base + j as u64));
                self.session.batch(&self.batch, &rows[..]).await?;
            }
        }
        Ok(())
    }
}
