//! Tracing: time-based session ids, and the `system_traces.sessions` / `events` rows written
//! for a traced request.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Duration;

use bytes::BytesMut;
use proto::codes::Consistency;
use proto::{ColumnType, CqlValue};
use uuid::Uuid;

use super::router::Router;
use super::{RequestContext, read_nodes};
use crate::exec::{BoundValue, QueryOptions};
use crate::server::node::{NodeShared, lock};

/// A time-based (version 1) session id.
pub(super) fn trace_session_id(node: &NodeShared, now_micros: i64) -> Uuid {
    time_uuid(node, now_micros, 0)
}

fn time_uuid(node: &NodeShared, micros: i64, seq: u16) -> Uuid {
    let secs = (micros / 1_000_000) as u64;
    let nanos = ((micros % 1_000_000) * 1000) as u32;
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos);
    let h = node.host_id.as_bytes();
    let node_id = [h[10], h[11], h[12], h[13], h[14], h[15]];
    let mut u = *Uuid::new_v1(ts, &node_id).as_bytes();
    // The clock sequence distinguishes events of the same microsecond.
    let seq = seq & 0x3fff;
    u[8] = 0x80 | (seq >> 8) as u8;
    u[9] = seq as u8;
    Uuid::from_bytes(u)
}

fn encode_value(v: &CqlValue, typ: &ColumnType) -> BoundValue {
    let mut buf = BytesMut::new();
    match v.encode_bytes(typ, &mut buf) {
        Ok(()) => BoundValue::Value(buf.freeze()),
        Err(_) => BoundValue::Null,
    }
}

/// The `request` column of a trace session, as Cassandra names the message kinds.
fn request_kind(command: &str) -> &'static str {
    match command {
        "EXECUTE" => "Execute CQL3 prepared query",
        "BATCH" => "Execute batch of CQL3 queries",
        "PREPARE" => "Preparing CQL3 query",
        _ => "Execute CQL3 query",
    }
}

/// Writes the `system_traces` rows of a traced request.
pub(super) fn write_trace(
    ctx: &RequestContext<'_>,
    session: Uuid,
    command: &str,
    request: &str,
    started_at: i64,
    elapsed: Duration,
    replicas: &[usize],
) {
    let coordinator = ctx.node.addr();
    let duration = elapsed.as_micros().clamp(1, i32::MAX as u128) as i32;
    let params = CqlValue::Map(vec![
        (
            CqlValue::Text("consistency_level".into()),
            CqlValue::Text(format!("{:?}", ctx.consistency)),
        ),
        (
            CqlValue::Text("query".into()),
            CqlValue::Text(request.to_owned()),
        ),
    ]);
    let text_map = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text));
    let session_values = vec![
        encode_value(&CqlValue::Uuid(session), &ColumnType::Uuid),
        encode_value(&CqlValue::Inet(ctx.client.ip()), &ColumnType::Inet),
        encode_value(&CqlValue::Text(command.to_owned()), &ColumnType::Text),
        encode_value(&CqlValue::Inet(coordinator.ip()), &ColumnType::Inet),
        encode_value(
            &CqlValue::Int(i32::from(coordinator.port())),
            &ColumnType::Int,
        ),
        encode_value(&CqlValue::Int(duration), &ColumnType::Int),
        encode_value(&params, &text_map),
        encode_value(
            &CqlValue::Text(request_kind(command).to_owned()),
            &ColumnType::Text,
        ),
        encode_value(
            &CqlValue::Timestamp(proto::value::CqlTimestamp(started_at / 1000)),
            &ColumnType::Timestamp,
        ),
    ];
    let read = request
        .trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("SELECT"));
    let nodes = read_nodes(ctx.cluster);
    let replica_nodes: Vec<&NodeShared> = replicas
        .iter()
        .filter_map(|r| nodes.get(*r).map(|n| &**n))
        .collect();
    let coordinator_ip = coordinator.ip();
    // (source node, activity, microseconds since the request started)
    let mut activities: Vec<(&NodeShared, String, i32)> = vec![
        (ctx.node, format!("Parsing {request}"), 5),
        (ctx.node, "Preparing statement".to_owned(), 10),
    ];
    for (i, n) in replica_nodes.iter().enumerate() {
        let at = 20 + 10 * i as i32;
        let (verb, steps): (&str, &[&str]) = if read {
            (
                "READ",
                &[
                    "Executing single-partition query",
                    "Acquiring sstable references",
                    "Merged data from memtables and 0 sstables",
                ],
            )
        } else {
            (
                "MUTATION",
                &["Appending to commitlog", "Adding to memtable"],
            )
        };
        let peer = |ip: std::net::IpAddr| format!("/{ip}:7000");
        activities.push((
            ctx.node,
            format!("Sending {verb}_REQ message to {}", peer(n.ip)),
            at,
        ));
        activities.push((
            n,
            format!("{verb}_REQ message received from {}", peer(coordinator_ip)),
            at + 1,
        ));
        for (j, step) in steps.iter().enumerate() {
            activities.push((n, (*step).to_owned(), at + 2 + j as i32));
        }
        activities.push((
            n,
            format!("Enqueuing response to {}", peer(coordinator_ip)),
            at + 6,
        ));
        activities.push((
            n,
            format!("Sending {verb}_RSP message to {}", peer(coordinator_ip)),
            at + 7,
        ));
    }
    activities.push((ctx.node, "Request complete".to_owned(), duration));
    let mut data = lock(&ctx.cluster.data);
    let data = &mut *data;
    data.refresh_placements();
    let mut router = Router {
        stores: &mut data.stores,
        stale: &mut data.stale,
        ring: &data.ring,
        pending: data.pending.as_ref().map(|p| &p.ring),
        placements: &data.placements,
        tablets: &data.tablets,
        scylla: ctx.cluster.config.scylla_extensions,
        tablets_by_default: ctx.cluster.config.tablets_by_default,
        native_protocol: ctx.cluster.config.max_protocol_version.0,
        nodes: &nodes,
        coordinator: ctx.node.id,
        cluster_name: &ctx.cluster.config.cluster_name,
        gossip_generation: 0,
        consistency: Consistency::ANY,
        count_partitions: false,
        error: RefCell::new(None),
        written: HashSet::new(),
        scanned: Cell::new(false),
        tombstones: Cell::new(0),
        reached: RefCell::new(Vec::new()),
        dry_run: false,
        first_token: Cell::new(None),
    };
    let opts = QueryOptions {
        values: session_values,
        now_micros: started_at,
        ..QueryOptions::default()
    };
    if let Err(e) = data.engine.query(
        &mut router,
        "INSERT INTO system_traces.sessions (session_id, client, command, coordinator, coordinator_port, duration, parameters, request, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &opts,
    ) {
        tracing::warn!(error = %e, "cannot write trace session");
    }
    for (i, (source, activity, elapsed_us)) in activities.iter().enumerate() {
        let event_id = time_uuid(source, started_at + i64::from(*elapsed_us), i as u16);
        let values = vec![
            encode_value(&CqlValue::Uuid(session), &ColumnType::Uuid),
            encode_value(&CqlValue::Timeuuid(event_id.into()), &ColumnType::Timeuuid),
            encode_value(&CqlValue::Text(activity.clone()), &ColumnType::Text),
            encode_value(&CqlValue::Inet(source.ip), &ColumnType::Inet),
            encode_value(&CqlValue::Int(*elapsed_us), &ColumnType::Int),
            encode_value(
                &CqlValue::Text(format!("shard {}", source.id)),
                &ColumnType::Text,
            ),
        ];
        let opts = QueryOptions {
            values,
            now_micros: started_at,
            ..QueryOptions::default()
        };
        if let Err(e) = data.engine.query(
            &mut router,
            "INSERT INTO system_traces.events (session_id, event_id, activity, source, source_elapsed, thread) VALUES (?, ?, ?, ?, ?, ?)",
            &opts,
        ) {
            tracing::warn!(error = %e, "cannot write trace event");
        }
    }
}
