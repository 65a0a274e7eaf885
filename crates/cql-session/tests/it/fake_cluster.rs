//! A Cassandra-like fake cluster for the one scenario `cql-sim` cannot play: a server whose
//! SUPPORTED carries no Scylla key at all (`cql-sim` always advertises its sharding keys). It is
//! `cql-sim`'s engine behind `cql-proto`'s codec on loopback TCP; every node serves the same data
//! (a shared store), so any node can coordinate any request, and each node counts the user
//! requests it received.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use cql_sim::storage::{Replicas, Store};
use cql_sim::wire::bound_values;
use cql_sim::{CqlError, Engine, Outcome, QueryOptions};
use proto::frame::{FrameDecoder, ResponseOptions, decode_request, encode_response};
use proto::request::Request;
use proto::response::{ErrorBody, ErrorDetails, Response, ResultBody};
use proto::{Consistency, CqlValue, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use uuid::Uuid;

struct NodeInfo {
    addr: SocketAddr,
    host_id: Uuid,
    token: i64,
}

struct State {
    engine: Engine,
    store: Store,
}

/// Per-node counters.
#[derive(Default)]
struct NodeControl {
    /// User requests (QUERY/EXECUTE on non-system tables) this node received.
    requests: Mutex<usize>,
    /// The node's accept loop and connection tasks.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

struct Shared {
    state: Mutex<State>,
    nodes: Vec<NodeInfo>,
    controls: Vec<Arc<NodeControl>>,
}

/// A running fake cluster.
pub(crate) struct FakeCluster {
    shared: Arc<Shared>,
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        for i in 0..self.shared.controls.len() {
            self.stop(i);
        }
    }
}

impl FakeCluster {
    /// Starts `n` nodes on 127.0.0.1 with ephemeral ports.
    pub(crate) async fn start(n: usize) -> Self {
        let mut listeners = Vec::new();
        let mut nodes = Vec::new();
        for i in 0..n {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            // Tokens spread evenly over the ring.
            let step = (1i128 << 64) / n as i128;
            let token = i128::from(i64::MIN) + step * i as i128 + step / 2;
            nodes.push(NodeInfo {
                addr,
                host_id: Uuid::from_u128(0x1000 + i as u128),
                token: i64::try_from(token).unwrap(),
            });
            listeners.push(l);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                engine: Engine::new(),
                store: Store::new(),
            }),
            controls: (0..n).map(|_| Arc::new(NodeControl::default())).collect(),
            nodes,
        });
        for (i, l) in listeners.into_iter().enumerate() {
            let node = Arc::clone(&shared);
            let accept = tokio::spawn(async move {
                // Bounded by the test: the task is aborted when the node stops.
                loop {
                    let Ok((stream, _)) = l.accept().await else {
                        return;
                    };
                    let conn = tokio::spawn(serve(stream, i, Arc::clone(&node)));
                    node.controls[i].tasks.lock().unwrap().push(conn);
                }
            });
            shared.controls[i].tasks.lock().unwrap().push(accept);
        }
        Self { shared }
    }

    /// Stops node `i`: closes its listener and every connection to it.
    fn stop(&self, i: usize) {
        for t in self.shared.controls[i].tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// The address of node `i`.
    pub(crate) fn addr(&self, i: usize) -> SocketAddr {
        self.shared.nodes[i].addr
    }

    /// User requests each node received.
    pub(crate) fn request_counts(&self) -> Vec<usize> {
        self.shared
            .controls
            .iter()
            .map(|c| *c.requests.lock().unwrap())
            .collect()
    }
}

fn opts(keyspace: Option<&str>) -> QueryOptions<'_> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    QueryOptions {
        keyspace,
        now_micros: now,
        ..QueryOptions::default()
    }
}

/// The node's view of the shared store, with its own `system.local` and `peers`.
struct View<'a> {
    store: &'a mut Store,
    me: usize,
    nodes: &'a [NodeInfo],
    version: Uuid,
}

impl Replicas for View<'_> {
    fn read(&self, _keyspace: &str, _token: i64) -> Option<&Store> {
        Some(self.store)
    }

    fn write(&mut self, _keyspace: &str, _token: i64, f: &mut dyn FnMut(&mut Store)) -> usize {
        f(self.store);
        1
    }

    fn scan(&self, _keyspace: &str) -> Vec<&Store> {
        vec![self.store]
    }

    fn for_each_store(&mut self, f: &mut dyn FnMut(&mut Store)) {
        f(self.store);
    }

    fn system_rows(&self, table: &str) -> Vec<Vec<(String, CqlValue)>> {
        let common = |n: &NodeInfo| {
            vec![
                ("host_id".to_owned(), CqlValue::Uuid(n.host_id)),
                ("data_center".to_owned(), CqlValue::Text("dc1".into())),
                ("rack".to_owned(), CqlValue::Text("r1".into())),
                (
                    "tokens".to_owned(),
                    CqlValue::Set(vec![CqlValue::Text(n.token.to_string())]),
                ),
                ("schema_version".to_owned(), CqlValue::Uuid(self.version)),
            ]
        };
        match table {
            "local" => {
                let n = &self.nodes[self.me];
                let mut row = common(n);
                row.extend([
                    ("key".to_owned(), CqlValue::Text("local".into())),
                    ("rpc_address".to_owned(), CqlValue::Inet(n.addr.ip())),
                    (
                        "rpc_port".to_owned(),
                        CqlValue::Int(i32::from(n.addr.port())),
                    ),
                    ("broadcast_address".to_owned(), CqlValue::Inet(n.addr.ip())),
                    ("cluster_name".to_owned(), CqlValue::Text("fake".into())),
                    (
                        "partitioner".to_owned(),
                        CqlValue::Text("org.apache.cassandra.dht.Murmur3Partitioner".into()),
                    ),
                    ("release_version".to_owned(), CqlValue::Text("4.0.0".into())),
                ]);
                vec![row]
            }
            "peers_v2" => self
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != self.me)
                .map(|(_, n)| {
                    let mut row = common(n);
                    row.extend([
                        ("peer".to_owned(), CqlValue::Inet(n.addr.ip())),
                        (
                            "peer_port".to_owned(),
                            CqlValue::Int(7000 + i32::from(n.addr.port())),
                        ),
                        ("native_address".to_owned(), CqlValue::Inet(n.addr.ip())),
                        (
                            "native_port".to_owned(),
                            CqlValue::Int(i32::from(n.addr.port())),
                        ),
                    ]);
                    row
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn is_system(text: &str) -> bool {
    text.contains("system.") || text.contains("system_schema.") || text.starts_with("USE ")
}

fn error_response(e: &CqlError, consistency: Consistency) -> Response {
    Response::Error(e.to_error_body(consistency))
}

fn outcome_response(o: Outcome, skip_metadata: bool) -> Response {
    match o {
        Outcome::Void => Response::Result(ResultBody::Void),
        Outcome::Rows(r) => match r.to_rows(skip_metadata) {
            Ok(rows) => Response::Result(ResultBody::Rows(rows)),
            Err(e) => Response::Error(ErrorBody {
                code: ErrorCode::SERVER_ERROR,
                message: e.to_string(),
                details: ErrorDetails::None,
            }),
        },
        Outcome::SetKeyspace(ks) => Response::Result(ResultBody::SetKeyspace(ks)),
        Outcome::SchemaChange(c) => {
            Response::Result(ResultBody::SchemaChange(c.to_schema_change()))
        }
        _ => Response::Result(ResultBody::Void),
    }
}

/// Handles one request.
fn handle(shared: &Shared, me: usize, keyspace: &mut Option<String>, request: Request) -> Response {
    let count_user = |text: &str| {
        if !is_system(text) {
            *shared.controls[me].requests.lock().unwrap() += 1;
        }
    };
    let mut st = shared.state.lock().unwrap();
    let State { engine, store } = &mut *st;
    let version = engine.catalog.version();
    let mut view = View {
        store,
        me,
        nodes: &shared.nodes,
        version,
    };
    match request {
        Request::Options => {
            // CQL_VERSION and COMPRESSION only: no Scylla key, as a Cassandra node.
            let mut options = HashMap::new();
            options.insert("CQL_VERSION".to_owned(), vec!["3.0.0".to_owned()]);
            options.insert("COMPRESSION".to_owned(), vec![]);
            Response::Supported { options }
        }
        Request::Startup(_) | Request::Register(_) => Response::Ready,
        Request::Query(q) => {
            count_user(&q.query);
            let (values, names) = match bound_values(&q.params.values) {
                Ok(v) => v,
                Err(e) => return error_response(&e, q.params.consistency),
            };
            let mut o = opts(keyspace.as_deref());
            o.values = values;
            o.names = names;
            o.page_size = q.params.page_size;
            o.paging_state = q.params.paging_state.clone();
            o.timestamp = q.params.timestamp;
            match engine.query(&mut view, &q.query, &o) {
                Ok(Outcome::SetKeyspace(ks)) => {
                    *keyspace = Some(ks.clone());
                    Response::Result(ResultBody::SetKeyspace(ks))
                }
                Ok(out) => outcome_response(out, false),
                Err(e) => error_response(&e, q.params.consistency),
            }
        }
        Request::Prepare(p) => {
            let ks = p.keyspace.as_deref().or(keyspace.as_deref());
            match engine.prepare(&p.query, ks) {
                Ok(info) => Response::Result(ResultBody::Prepared(info.to_prepared(false))),
                Err(e) => error_response(&e, Consistency::ONE),
            }
        }
        Request::Execute(x) => {
            let stmt = match engine.prepared(&x.id) {
                Ok(s) => s,
                Err(e) => return error_response(&e, x.params.consistency),
            };
            count_user(&stmt.text);
            let (values, names) = match bound_values(&x.params.values) {
                Ok(v) => v,
                Err(e) => return error_response(&e, x.params.consistency),
            };
            let mut o = opts(keyspace.as_deref());
            o.values = values;
            o.names = names;
            o.page_size = x.params.page_size;
            o.paging_state = x.params.paging_state.clone();
            o.timestamp = x.params.timestamp;
            match engine.execute(&mut view, &stmt, &o) {
                Ok(out) => outcome_response(out, x.params.skip_metadata),
                Err(e) => error_response(&e, x.params.consistency),
            }
        }
        _ => Response::Error(ErrorBody {
            code: ErrorCode::PROTOCOL_ERROR,
            message: "unsupported request".into(),
            details: ErrorDetails::None,
        }),
    }
}

async fn serve(stream: tokio::net::TcpStream, me: usize, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut decoder = FrameDecoder::default();
    let mut keyspace: Option<String> = None;
    loop {
        loop {
            let frame = match decoder.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => return,
            };
            let Ok(env) = decode_request(&frame, None) else {
                return;
            };
            let response = handle(&shared, me, &mut keyspace, env.request);
            let mut out = BytesMut::new();
            let opts = ResponseOptions::default();
            if encode_response(&mut out, env.version, env.stream, &response, &opts).is_err() {
                return;
            }
            if wr.write_all(&out).await.is_err() {
                return;
            }
        }
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
