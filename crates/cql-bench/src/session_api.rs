//! One workload runner for both session APIs.
//!
//! This driver's `cql-session` and the `scylla` crate share method names and shapes, so the
//! benchmark runs literally the same code against each: the module of each driver imports its
//! own `Session`, `SessionBuilder`, `PreparedStatement`, `Statement`, `Batch` and `BatchType`,
//! then invokes [`session_api_driver!`], whose item paths resolve at the call site. Options the
//! two builders spell differently (protocol version, compression) go through the `configure`
//! function each driver module defines.

/// Defines `$name` (a connected session plus the workload's statements) and its `Driver` impl,
/// using the `Session`-family types in scope where it is invoked, and the invoking module's
/// `configure(SessionBuilder, ConnectOptions) -> Result<SessionBuilder>`; `$label` prefixes errors.
macro_rules! session_api_driver {
    ($name:ident, $label:literal) => {
        /// A connected session with the workload's statement ready.
        pub(crate) struct $name {
            session: Session,
            workload: Workload,
            prepared: Option<PreparedStatement>,
            unprepared: Statement,
            batch: Batch,
        }

        impl $name {
            /// Connects to `nodes`; prepares the workload's statement unless `setup_only`.
            pub(crate) async fn connect(
                nodes: &[String],
                workload: Workload,
                setup_only: bool,
                options: crate::ConnectOptions,
            ) -> Result<Self> {
                let session = configure(SessionBuilder::new().known_nodes(nodes), options)?
                    .build()
                    .await
                    .context(concat!($label, ": connect"))?;
                let mut prepared = None;
                let mut batch = Batch::new(BatchType::Unlogged);
                if !setup_only && workload != Workload::Unprepared {
                    let p = session
                        .prepare(workload.statement())
                        .await
                        .context(concat!($label, ": prepare"))?;
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

        impl Driver for $name {
            async fn setup(&self, statements: &[String]) -> Result<()> {
                for s in statements {
                    self.session
                        .query_unpaged(s.as_str(), ())
                        .await
                        .with_context(|| format!("{}: {s}", $label))?;
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
                        let (pk, _c1, c2, _c3, c4) =
                            result.single_row::<(i64, i32, &str, f64, &[u8])>()?;
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
    };
}

pub(crate) use session_api_driver;
