//! Session metrics. Always collected here; `scylla` 1.x collects them with its `metrics`
//! feature, so this program is not shared with `compat/real` (which builds `scylla` without it).

use std::error::Error;

use scylla::client::session_builder::SessionBuilder;

use crate::cluster;

#[tokio::test]
async fn session_metrics() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;
    for _ in 0..3 {
        session
            .query_unpaged("SELECT key FROM system.local", &[])
            .await?;
    }
    let _ = session.query_unpaged("SELEC nonsense", &[]).await;
    let mut pager = session
        .query_iter("SELECT key FROM system.local", &[])
        .await?
        .rows_stream::<(String,)>()?;
    while futures::TryStreamExt::try_next(&mut pager).await?.is_some() {}

    let metrics = session.get_metrics();
    assert!(
        metrics.get_queries_num() >= 4,
        "{}",
        metrics.get_queries_num()
    );
    assert!(
        metrics.get_errors_num() >= 1,
        "{}",
        metrics.get_errors_num()
    );
    assert!(metrics.get_queries_iter_num() >= 1);
    assert!(metrics.get_latency_avg_ms().is_ok());
    assert!(metrics.get_latency_percentile_ms(99.0).is_ok());
    Ok(())
}
