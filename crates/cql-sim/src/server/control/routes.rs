//! The control API's routes. Node selectors are a node index or `all`.
//!
//! | method and path | body | effect |
//! | --- | --- | --- |
//! | `GET /health` | | `{"ok": true}` |
//! | `GET /nodes`, `GET /nodes/{i}` | | node state and counters |
//! | `GET /nodes/{i}/clients` | | the node's live client connections |
//! | `POST /nodes` | `{"dc": "dc2"}` (optional) | adds a node, answers it |
//! | `POST /nodes/{i}/stop`, `/start`, `/pause`, `/resume` | | |
//! | `POST /nodes/{i}/decommission` | | removes the node from the ring |
//! | `POST /nodes/{sel}/delay` | `{"ms": 200}` (0 or null clears) | answers after a delay |
//! | `POST /nodes/{sel}/faults` | a fault rule (below) | adds it |
//! | `DELETE /nodes/{sel}/faults` | | clears every rule |
//! | `POST /nodes/{sel}/evict_prepared` | | forgets prepared statements |
//!
//! A fault rule is `{"match": M, "action": A, "times": N}` (`times` absent or null: forever):
//! - `M`: `"statements"` (QUERY, PREPARE, EXECUTE, BATCH), `"everything"`,
//!   `{"query_contains": "ks.t"}` or `{"opcode": "EXECUTE"}`;
//! - `A`: `"drop"` (no response), `"close_mid_frame"`, `"malformed_frame"`,
//!   `{"delay_ms": 500}`, or `{"error": E}` with `E` one of `"overloaded"`,
//!   `"is_bootstrapping"`, `"server_error"`, `"truncate_error"`, `"unprepared"`,
//!   `{"unavailable": {"consistency": "QUORUM", "required": 2, "alive": 1}}`,
//!   `{"read_timeout": {"consistency": "ONE", "received": 0, "block_for": 1,
//!   "data_present": false}}`, `{"write_timeout": {"consistency": "ONE", "received": 0,
//!   "block_for": 1, "write_type": "SIMPLE"}}`, or `{"code": 8704, "message": "..."}` for a
//!   code whose body has no details.

use std::sync::Arc;
use std::time::Duration;

use proto::WriteType;
use proto::codes::{Consistency, ErrorCode, Opcode};
use proto::response::{ErrorBody, ErrorDetails};
use serde_json::{Value, json};

use super::{HttpRequest, HttpResponse};
use crate::server::cluster::{NodeHandle, SimCluster};
use crate::server::faults::{self, FaultAction, FaultRule, RequestMatcher};

/// The opcodes a node counts, by name, for the counters.
const OPCODES: [Opcode; 7] = [
    Opcode::STARTUP,
    Opcode::OPTIONS,
    Opcode::QUERY,
    Opcode::PREPARE,
    Opcode::EXECUTE,
    Opcode::BATCH,
    Opcode::REGISTER,
];

/// Answers one request.
pub(crate) async fn handle(cluster: &Arc<SimCluster>, req: HttpRequest) -> HttpResponse {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["health"]) => HttpResponse::ok(json!({ "ok": true })),
        ("GET", ["nodes"]) => HttpResponse::ok(Value::Array(
            cluster.nodes().iter().map(node_json).collect(),
        )),
        ("POST", ["nodes"]) => {
            let dc = req.body.get("dc").and_then(Value::as_str);
            match cluster.add_node(dc).await {
                Ok(n) => HttpResponse::ok(node_json(&n)),
                Err(e) => HttpResponse::error(409, e.to_string()),
            }
        }
        (method, ["nodes", sel, rest @ ..]) => {
            let nodes = match select(cluster, sel) {
                Ok(n) => n,
                Err(r) => return r,
            };
            node_route(cluster, method, &nodes, rest, &req.body).await
        }
        (_, ["health" | "nodes", ..]) => HttpResponse::error(405, "method not allowed here"),
        _ => HttpResponse::error(404, format!("no route {} {}", req.method, req.path)),
    }
}

fn select(cluster: &SimCluster, sel: &str) -> Result<Vec<NodeHandle>, HttpResponse> {
    if sel == "all" {
        return Ok(cluster.nodes());
    }
    let i: usize = sel
        .parse()
        .map_err(|_| HttpResponse::error(400, format!("`{sel}` is not a node index or `all`")))?;
    cluster
        .try_node(i)
        .map(|n| vec![n])
        .ok_or_else(|| HttpResponse::error(404, format!("no node with index {i}")))
}

async fn node_route(
    cluster: &SimCluster,
    method: &str,
    nodes: &[NodeHandle],
    rest: &[&str],
    body: &Value,
) -> HttpResponse {
    let one = || match nodes {
        [n] => Ok(n),
        _ => Err(HttpResponse::error(
            400,
            "this route takes one node index, not `all`",
        )),
    };
    let done = || HttpResponse::ok(Value::Array(nodes.iter().map(node_json).collect()));
    match (method, rest) {
        ("GET", []) => match one() {
            Ok(n) => HttpResponse::ok(node_json(n)),
            Err(r) => r,
        },
        ("GET", ["clients"]) => match one() {
            Ok(n) => HttpResponse::ok(Value::Array(n.clients().iter().map(client_json).collect())),
            Err(r) => r,
        },
        ("POST", ["stop"]) => {
            nodes.iter().for_each(NodeHandle::stop);
            // Answer once the node refuses connections, as a stopped server does.
            for n in nodes {
                n.stopped().await;
            }
            done()
        }
        ("POST", ["start"]) => {
            for n in nodes {
                if let Err(e) = n.start().await {
                    return HttpResponse::error(409, e.to_string());
                }
            }
            done()
        }
        ("POST", ["pause"]) => {
            nodes.iter().for_each(NodeHandle::pause);
            done()
        }
        ("POST", ["resume"]) => {
            nodes.iter().for_each(NodeHandle::resume);
            done()
        }
        ("POST", ["decommission"]) => match one() {
            Ok(n) => match cluster.decommission(n.index()) {
                Ok(()) => done(),
                Err(e) => HttpResponse::error(409, e.to_string()),
            },
            Err(r) => r,
        },
        ("POST", ["delay"]) => {
            let delay = match body.get("ms") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_u64() {
                    Some(0) => None,
                    Some(ms) => Some(Duration::from_millis(ms)),
                    None => return HttpResponse::error(400, "`ms` must be a non-negative integer"),
                },
            };
            nodes.iter().for_each(|n| n.set_delay(delay));
            done()
        }
        ("POST", ["faults"]) => match fault_rule(body) {
            Ok(rule) => {
                nodes.iter().for_each(|n| n.add_fault(rule.clone()));
                done()
            }
            Err(m) => HttpResponse::error(400, m),
        },
        ("DELETE", ["faults"]) => {
            nodes.iter().for_each(NodeHandle::clear_faults);
            done()
        }
        ("POST", ["evict_prepared"]) => {
            let evicted: usize = nodes.iter().map(NodeHandle::evict_prepared).sum();
            HttpResponse::ok(json!({ "evicted": evicted }))
        }
        (
            _,
            [
                "stop" | "start" | "pause" | "resume" | "decommission" | "delay" | "faults"
                | "evict_prepared" | "clients",
            ],
        )
        | (_, []) => HttpResponse::error(405, "method not allowed here"),
        _ => HttpResponse::error(404, "no such node route"),
    }
}

/// One live connection of a node (see [`NodeHandle::clients`]).
fn client_json(c: &crate::server::ClientInfo) -> Value {
    let options: serde_json::Map<String, Value> = c
        .startup_options
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "address": c.addr.to_string(),
        "shard": c.shard,
        "connection_stage": c.stage.as_str(),
        "protocol_version": c.protocol_version,
        "startup_options": options,
        "driver_name": c.driver_name,
        "driver_version": c.driver_version,
        "username": c.username,
        "keyspace": c.keyspace,
        "request_count": c.request_count,
        "ssl_enabled": c.tls.is_some(),
        "ssl_protocol": c.tls.as_ref().and_then(|t| t.protocol.clone()),
        "ssl_cipher_suite": c.tls.as_ref().and_then(|t| t.cipher_suite.clone()),
    })
}

/// A node's identity, state and counters.
fn node_json(n: &NodeHandle) -> Value {
    let routing = n.routing_stats();
    let by_opcode: serde_json::Map<String, Value> = OPCODES
        .iter()
        .filter_map(|op| Some((op.name()?.to_owned(), json!(n.request_count_of(*op)))))
        .collect();
    json!({
        "index": n.index(),
        "address": n.addr().to_string(),
        "shard_aware_address": n.shard_aware_addr().map(|a| a.to_string()),
        "host_id": n.host_id().to_string(),
        "datacenter": n.datacenter(),
        "rack": n.rack(),
        "shards": n.shard_count(),
        "up": n.is_up(),
        "paused": n.is_paused(),
        "open_connections": n.open_connections(),
        "connections_per_shard": n.connections_per_shard(),
        "requests": n.request_count(),
        "requests_by_opcode": by_opcode,
        "token_requests_per_shard": n.token_requests_per_shard(),
        "routing": {
            "replica": routing.replica,
            "non_replica": routing.non_replica,
            "owner_shard": routing.owner_shard,
            "other_shard": routing.other_shard,
        },
    })
}

/// Parses a fault rule body; the message says what is wrong.
pub(crate) fn fault_rule(body: &Value) -> Result<FaultRule, String> {
    let matcher = match body.get("match") {
        None => return Err("a fault rule needs `match`".into()),
        Some(m) => matcher(m)?,
    };
    let action = match body.get("action") {
        None => return Err("a fault rule needs `action`".into()),
        Some(a) => action(a)?,
    };
    let remaining = match body.get("times") {
        None | Some(Value::Null) => None,
        Some(t) => Some(
            t.as_u64()
                .and_then(|t| usize::try_from(t).ok())
                .ok_or("`times` must be a non-negative integer or null")?,
        ),
    };
    Ok(FaultRule {
        matcher,
        action,
        remaining,
    })
}

fn matcher(m: &Value) -> Result<RequestMatcher, String> {
    match m {
        Value::String(s) if s == "statements" => Ok(RequestMatcher::AnyStatement),
        Value::String(s) if s == "everything" => Ok(RequestMatcher::Everything),
        Value::Object(o) => {
            if let Some(q) = o.get("query_contains").and_then(Value::as_str) {
                return Ok(RequestMatcher::QueryContains(q.to_owned()));
            }
            if let Some(name) = o.get("opcode").and_then(Value::as_str) {
                return opcode(name).map(RequestMatcher::Opcode);
            }
            Err(format!("unknown `match` object {m}"))
        }
        other => Err(format!(
            "`match` must be \"statements\", \"everything\", {{\"query_contains\": …}} or {{\"opcode\": …}}, not {other}"
        )),
    }
}

fn opcode(name: &str) -> Result<Opcode, String> {
    (0u8..=0x10)
        .map(Opcode)
        .find(|op| op.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .ok_or_else(|| format!("unknown opcode `{name}`"))
}

fn action(a: &Value) -> Result<FaultAction, String> {
    match a {
        Value::String(s) => match s.as_str() {
            "drop" => Ok(FaultAction::Drop),
            "close_mid_frame" => Ok(FaultAction::CloseMidFrame),
            "malformed_frame" => Ok(FaultAction::MalformedFrame),
            other => Err(format!("unknown action `{other}`")),
        },
        Value::Object(o) => {
            if let Some(ms) = o.get("delay_ms") {
                let ms = ms
                    .as_u64()
                    .ok_or("`delay_ms` must be a non-negative integer")?;
                return Ok(FaultAction::Delay(Duration::from_millis(ms)));
            }
            if let Some(e) = o.get("error") {
                return error(e).map(FaultAction::Error);
            }
            Err(format!("unknown action object {a}"))
        }
        other => Err(format!(
            "`action` must be a string or an object, not {other}"
        )),
    }
}

fn int(o: &Value, key: &str) -> Result<i32, String> {
    o.get(key)
        .and_then(Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| format!("`{key}` must be a 32-bit integer"))
}

fn consistency(o: &Value) -> Result<Consistency, String> {
    let name = o
        .get("consistency")
        .and_then(Value::as_str)
        .ok_or("`consistency` must be a name such as \"QUORUM\"")?;
    (0u16..=0x0a)
        .map(Consistency)
        .find(|c| format!("{c:?}").eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("unknown consistency `{name}`"))
}

fn error(e: &Value) -> Result<ErrorBody, String> {
    if let Value::String(s) = e {
        return match s.as_str() {
            "overloaded" => Ok(faults::overloaded()),
            "is_bootstrapping" => Ok(faults::is_bootstrapping()),
            "server_error" => Ok(faults::server_error("injected server error")),
            "truncate_error" => Ok(faults::truncate_error()),
            "unprepared" => Ok(faults::unprepared()),
            other => Err(format!("unknown error `{other}`")),
        };
    }
    if let Some(u) = e.get("unavailable") {
        return Ok(faults::unavailable(
            consistency(u)?,
            int(u, "required")?,
            int(u, "alive")?,
        ));
    }
    if let Some(t) = e.get("read_timeout") {
        return Ok(faults::read_timeout(
            consistency(t)?,
            int(t, "received")?,
            int(t, "block_for")?,
            t.get("data_present")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ));
    }
    if let Some(t) = e.get("write_timeout") {
        let name = t
            .get("write_type")
            .and_then(Value::as_str)
            .unwrap_or("SIMPLE");
        return Ok(faults::write_timeout(
            consistency(t)?,
            int(t, "received")?,
            int(t, "block_for")?,
            WriteType::from_wire(name),
        ));
    }
    let code = ErrorCode(int(e, "code")?);
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("injected error")
        .to_owned();
    // Codes whose bodies carry details need their own forms above.
    let needs_details = [
        ErrorCode::UNAVAILABLE,
        ErrorCode::READ_TIMEOUT,
        ErrorCode::WRITE_TIMEOUT,
        ErrorCode::READ_FAILURE,
        ErrorCode::WRITE_FAILURE,
        ErrorCode::FUNCTION_FAILURE,
        ErrorCode::ALREADY_EXISTS,
        ErrorCode::UNPREPARED,
        ErrorCode::CAS_WRITE_UNKNOWN,
    ];
    if needs_details.contains(&code) {
        return Err(format!(
            "error code 0x{:04x} carries details: use its named form",
            code.0
        ));
    }
    Ok(ErrorBody {
        code,
        message,
        details: ErrorDetails::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_rules_parse_from_json_and_bad_ones_say_why() {
        let rule = fault_rule(&json!({
            "match": {"query_contains": "ks.t"},
            "action": {"error": {"unavailable": {"consistency": "QUORUM", "required": 2, "alive": 1}}},
            "times": 1
        }))
        .unwrap();
        assert_eq!(rule.matcher, RequestMatcher::QueryContains("ks.t".into()));
        assert_eq!(
            rule.action,
            FaultAction::Error(faults::unavailable(Consistency::QUORUM, 2, 1))
        );
        assert_eq!(rule.remaining, Some(1));
        let rule = fault_rule(&json!({"match": {"opcode": "execute"}, "action": "drop"})).unwrap();
        assert_eq!(rule.matcher, RequestMatcher::Opcode(Opcode::EXECUTE));
        assert_eq!(rule.remaining, None);
        let rule = fault_rule(&json!({
            "match": "statements",
            "action": {"error": {"write_timeout": {"consistency": "ONE", "received": 0, "block_for": 1, "write_type": "BATCH_LOG"}}}
        }))
        .unwrap();
        assert_eq!(
            rule.action,
            FaultAction::Error(faults::write_timeout(
                Consistency::ONE,
                0,
                1,
                WriteType::BatchLog
            ))
        );
        for (bad, why) in [
            (json!({"action": "drop"}), "needs `match`"),
            (json!({"match": "x", "action": "drop"}), "`match` must be"),
            (
                json!({"match": "statements", "action": "explode"}),
                "unknown action",
            ),
            (
                json!({"match": "statements", "action": {"error": {"code": 4096}}}),
                "carries details",
            ),
            (
                json!({"match": "statements", "action": "drop", "times": -1}),
                "`times`",
            ),
            (
                json!({"match": {"opcode": "NOPE"}, "action": "drop"}),
                "unknown opcode",
            ),
        ] {
            let e = fault_rule(&bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
