//! The user guide's chapters (`docs/book/src/*.md`) and this crate's README, compiled and run as
//! doctests (`cargo test -p cql-session --doc`): each Rust snippet that needs a cluster starts an
//! in-process `cql-sim` one. A chapter added to `docs/book/src/SUMMARY.md` gets a line here.

macro_rules! chapters {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[doc = include_str!($path)]
            pub struct $name;
        )*
    };
}

chapters! {
    Readme => "../README.md",
    Introduction => "../../../docs/book/src/introduction.md",
    Connecting => "../../../docs/book/src/connecting.md",
    Statements => "../../../docs/book/src/statements.md",
    Prepared => "../../../docs/book/src/prepared.md",
    Paging => "../../../docs/book/src/paging.md",
    Batches => "../../../docs/book/src/batches.md",
    Derives => "../../../docs/book/src/derives.md",
    ExecutionProfiles => "../../../docs/book/src/execution-profiles.md",
    LoadBalancing => "../../../docs/book/src/load-balancing.md",
    Retries => "../../../docs/book/src/retries.md",
    Timeouts => "../../../docs/book/src/timeouts.md",
    Shutdown => "../../../docs/book/src/shutdown.md",
    Metadata => "../../../docs/book/src/metadata.md",
    CachingSession => "../../../docs/book/src/caching-session.md",
    Testing => "../../../docs/book/src/testing.md",
    Proto => "../../../docs/book/src/proto.md",
    AuthTls => "../../../docs/book/src/auth-tls.md",
    Tracing => "../../../docs/book/src/tracing.md",
    Metrics => "../../../docs/book/src/metrics.md",
    Performance => "../../../docs/book/src/performance.md",
}
