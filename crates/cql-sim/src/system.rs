//! System keyspaces: their table definitions (Cassandra 4 / Scylla column names and types), and
//! the virtual tables generated from the catalog (`system_schema.*`) or supplied by the cluster
//! layer (`system.local`, `system.peers`, `system.peers_v2`).

use std::collections::BTreeMap;

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use crate::exec::value::encode;
use crate::schema::{Catalog, ColumnKind, TableDef};
use crate::storage::{Cell, CellData, Replicas, Row, Store};

mod functions;

const SYSTEM_SCHEMA: &[&str] = &[
    "CREATE TABLE keyspaces (keyspace_name text PRIMARY KEY, durable_writes boolean, replication frozen<map<text, text>>)",
    "CREATE TABLE tables (keyspace_name text, table_name text, additional_write_policy text, bloom_filter_fp_chance double, caching frozen<map<text, text>>, cdc boolean, comment text, compaction frozen<map<text, text>>, compression frozen<map<text, text>>, crc_check_chance double, dclocal_read_repair_chance double, default_time_to_live int, extensions frozen<map<text, blob>>, flags frozen<set<text>>, gc_grace_seconds int, id uuid, max_index_interval int, memtable_flush_period_in_ms int, min_index_interval int, read_repair text, read_repair_chance double, speculative_retry text, PRIMARY KEY (keyspace_name, table_name))",
    "CREATE TABLE columns (keyspace_name text, table_name text, column_name text, clustering_order text, column_name_bytes blob, kind text, position int, type text, PRIMARY KEY (keyspace_name, table_name, column_name))",
    "CREATE TABLE types (keyspace_name text, type_name text, field_names frozen<list<text>>, field_types frozen<list<text>>, PRIMARY KEY (keyspace_name, type_name))",
    "CREATE TABLE views (keyspace_name text, view_name text, additional_write_policy text, base_table_id uuid, base_table_name text, bloom_filter_fp_chance double, caching frozen<map<text, text>>, cdc boolean, comment text, compaction frozen<map<text, text>>, compression frozen<map<text, text>>, crc_check_chance double, dclocal_read_repair_chance double, default_time_to_live int, extensions frozen<map<text, blob>>, gc_grace_seconds int, id uuid, include_all_columns boolean, max_index_interval int, memtable_flush_period_in_ms int, min_index_interval int, read_repair text, read_repair_chance double, speculative_retry text, where_clause text, PRIMARY KEY (keyspace_name, view_name))",
    "CREATE TABLE functions (keyspace_name text, function_name text, argument_types frozen<list<text>>, argument_names frozen<list<text>>, body text, called_on_null_input boolean, language text, return_type text, PRIMARY KEY (keyspace_name, function_name, argument_types))",
    "CREATE TABLE aggregates (keyspace_name text, aggregate_name text, argument_types frozen<list<text>>, final_func text, initcond text, return_type text, state_func text, state_type text, PRIMARY KEY (keyspace_name, aggregate_name, argument_types))",
    "CREATE TABLE indexes (keyspace_name text, table_name text, index_name text, kind text, options frozen<map<text, text>>, PRIMARY KEY (keyspace_name, table_name, index_name))",
    "CREATE TABLE triggers (keyspace_name text, table_name text, trigger_name text, options frozen<map<text, text>>, PRIMARY KEY (keyspace_name, table_name, trigger_name))",
    "CREATE TABLE scylla_keyspaces (keyspace_name text PRIMARY KEY, initial_tablets int, storage_options frozen<map<text, text>>, storage_type text)",
    "CREATE TABLE dropped_columns (keyspace_name text, table_name text, column_name text, dropped_time timestamp, kind text, type text, PRIMARY KEY (keyspace_name, table_name, column_name))",
];

const SYSTEM: &[&str] = &[
    "CREATE TABLE local (key text PRIMARY KEY, bootstrapped text, broadcast_address inet, broadcast_port int, cluster_name text, cql_version text, data_center text, gossip_generation int, host_id uuid, listen_address inet, listen_port int, native_protocol_version text, partitioner text, rack text, release_version text, rpc_address inet, rpc_port int, schema_version uuid, supported_features text, tokens set<text>, truncated_at map<uuid, blob>)",
    "CREATE TABLE tablets (table_id uuid, last_token bigint, keyspace_name text STATIC, new_replicas frozen<list<frozen<tuple<uuid, int>>>>, replicas frozen<list<frozen<tuple<uuid, int>>>>, resize_seq_number bigint STATIC, resize_type text STATIC, session uuid, stage text, table_name text STATIC, tablet_count int STATIC, transition text, PRIMARY KEY (table_id, last_token))",
    "CREATE TABLE peers (peer inet PRIMARY KEY, data_center text, host_id uuid, preferred_ip inet, rack text, release_version text, rpc_address inet, schema_version uuid, tokens set<text>)",
    "CREATE TABLE peers_v2 (peer inet, peer_port int, data_center text, host_id uuid, native_address inet, native_port int, preferred_ip inet, preferred_port int, rack text, release_version text, schema_version uuid, tokens set<text>, PRIMARY KEY ((peer, peer_port)))",
    // Scylla's virtual table of the node's connections (db/virtual_tables.cc); the Cassandra
    // flavour drops it.
    "CREATE TABLE clients (address inet, port int, client_type text, connection_stage text, driver_name text, driver_version text, hostname text, protocol_version int, shard_id int, ssl_cipher_suite text, ssl_enabled boolean, ssl_protocol text, username text, PRIMARY KEY (address, port, client_type))",
];

/// Cassandra's virtual keyspace (4.0+); the Scylla flavour drops it. `clients` has the
/// columns of Cassandra 4.1 / 5.0's `ClientsTable` (`keyspace_name` from 5.0).
const SYSTEM_VIEWS: &[&str] = &[
    "CREATE TABLE clients (address inet, port int, client_options frozen<map<text, text>>, connection_stage text, driver_name text, driver_version text, hostname text, keyspace_name text, protocol_version int, request_count bigint, ssl_cipher_suite text, ssl_enabled boolean, ssl_protocol text, username text, PRIMARY KEY (address, port))",
];

/// Cassandra's description of its virtual keyspaces (4.0+, `VirtualSchemaKeyspace`); the
/// Scylla flavour drops it.
const SYSTEM_VIRTUAL_SCHEMA: &[&str] = &[
    "CREATE TABLE keyspaces (keyspace_name text PRIMARY KEY)",
    "CREATE TABLE tables (keyspace_name text, table_name text, comment text, PRIMARY KEY (keyspace_name, table_name))",
    "CREATE TABLE columns (keyspace_name text, table_name text, column_name text, clustering_order text, column_name_bytes blob, kind text, position int, type text, PRIMARY KEY (keyspace_name, table_name, column_name))",
];

/// The comment Cassandra gives each virtual table (`system_virtual_schema.tables.comment`).
const VIRTUAL_TABLE_COMMENTS: &[(&str, &str)] = &[
    ("clients", "currently connected clients"),
    ("keyspaces", "virtual keyspace definitions"),
    ("tables", "virtual table definitions"),
    ("columns", "virtual column definitions"),
];

const SYSTEM_TRACES: &[&str] = &[
    "CREATE TABLE sessions (session_id uuid PRIMARY KEY, client inet, command text, coordinator inet, coordinator_port int, duration int, parameters map<text, text>, request text, request_size int, response_size int, started_at timestamp, username text)",
    "CREATE TABLE events (session_id uuid, event_id timeuuid, activity text, scylla_parent_id bigint, scylla_span_id bigint, source inet, source_elapsed int, source_port int, thread text, PRIMARY KEY (session_id, event_id))",
];

const SYSTEM_AUTH: &[&str] = &[
    "CREATE TABLE roles (role text PRIMARY KEY, can_login boolean, is_superuser boolean, member_of set<text>, salted_hash text)",
    "CREATE TABLE role_members (role text, member text, PRIMARY KEY (role, member))",
    "CREATE TABLE role_permissions (role text, resource text, permissions set<text>, PRIMARY KEY (role, resource))",
    "CREATE TABLE resource_role_permissons_index (resource text, role text, PRIMARY KEY (resource, role))",
    "CREATE TABLE network_permissions (role text PRIMARY KEY, dcs frozen<set<text>>)",
];

/// Tables whose rows come from [`Replicas::system_rows`]: the node-local ones (`clients` is
/// Scylla's `system.clients`; Cassandra's `system_views.clients` is answered the same way),
/// and Scylla's `system.tablets` (the cluster's tablet maps).
pub const NODE_LOCAL_TABLES: [&str; 5] = ["local", "peers", "peers_v2", "tablets", "clients"];

/// Cassandra's virtual keyspace, whose tables (`clients`) come from [`Replicas::system_rows`]
/// and which, as Cassandra's virtual keyspaces, is not listed in `system_schema`.
pub const VIRTUAL_KEYSPACE: &str = "system_views";

/// Cassandra's keyspace describing the virtual keyspaces (itself and [`VIRTUAL_KEYSPACE`]),
/// which, like them, `system_schema` does not list.
pub const VIRTUAL_SCHEMA_KEYSPACE: &str = "system_virtual_schema";

/// Whether `keyspace` is one of Cassandra's virtual keyspaces.
pub(crate) fn is_virtual_keyspace(keyspace: &str) -> bool {
    keyspace == VIRTUAL_KEYSPACE || keyspace == VIRTUAL_SCHEMA_KEYSPACE
}

/// A system keyspace the engine creates: its name, replication options and the CREATE TABLE
/// statement of each of its tables.
pub(crate) struct SystemKeyspace {
    /// The keyspace name.
    pub(crate) name: &'static str,
    /// The replication options (`class` and its parameters).
    pub(crate) replication: &'static [(&'static str, &'static str)],
    /// One CREATE TABLE statement per table, with unqualified table names.
    pub(crate) tables: &'static [&'static str],
}

const LOCAL_STRATEGY: &[(&str, &str)] = &[("class", "LocalStrategy")];

/// The system keyspaces, in the order the engine creates them.
pub(crate) const SYSTEM_KEYSPACE_DEFS: [SystemKeyspace; 6] = [
    SystemKeyspace {
        name: "system_schema",
        replication: LOCAL_STRATEGY,
        tables: SYSTEM_SCHEMA,
    },
    SystemKeyspace {
        name: "system",
        replication: LOCAL_STRATEGY,
        tables: SYSTEM,
    },
    SystemKeyspace {
        name: "system_traces",
        replication: &[("class", "SimpleStrategy"), ("replication_factor", "2")],
        tables: SYSTEM_TRACES,
    },
    SystemKeyspace {
        name: "system_auth",
        replication: &[("class", "SimpleStrategy"), ("replication_factor", "1")],
        tables: SYSTEM_AUTH,
    },
    SystemKeyspace {
        name: VIRTUAL_KEYSPACE,
        replication: LOCAL_STRATEGY,
        tables: SYSTEM_VIEWS,
    },
    SystemKeyspace {
        name: VIRTUAL_SCHEMA_KEYSPACE,
        replication: LOCAL_STRATEGY,
        tables: SYSTEM_VIRTUAL_SCHEMA,
    },
];

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.to_owned())
}

fn text_map(m: &BTreeMap<String, String>) -> CqlValue {
    CqlValue::Map(m.iter().map(|(k, v)| (text(k), text(v))).collect())
}

fn text_list<'a>(it: impl Iterator<Item = &'a str>) -> CqlValue {
    CqlValue::List(it.map(text).collect())
}

fn table_options_row(t: &TableDef) -> Vec<(&'static str, CqlValue)> {
    let p = &t.params;
    vec![
        ("additional_write_policy", text(&p.additional_write_policy)),
        (
            "bloom_filter_fp_chance",
            CqlValue::Double(p.bloom_filter_fp_chance),
        ),
        ("caching", text_map(&p.caching)),
        ("cdc", CqlValue::Boolean(p.cdc)),
        ("comment", text(&p.comment)),
        ("compaction", text_map(&p.compaction)),
        ("compression", text_map(&p.compression)),
        ("crc_check_chance", CqlValue::Double(p.crc_check_chance)),
        ("dclocal_read_repair_chance", CqlValue::Double(0.0)),
        (
            "default_time_to_live",
            CqlValue::Int(p.default_time_to_live),
        ),
        (
            "extensions",
            CqlValue::Map(
                p.extensions
                    .iter()
                    .map(|(k, v)| (text(k), CqlValue::Blob(v.clone())))
                    .collect(),
            ),
        ),
        (
            "flags",
            CqlValue::Set(t.flags().into_iter().map(text).collect()),
        ),
        ("gc_grace_seconds", CqlValue::Int(p.gc_grace_seconds)),
        ("id", CqlValue::Uuid(t.id)),
        ("max_index_interval", CqlValue::Int(p.max_index_interval)),
        (
            "memtable_flush_period_in_ms",
            CqlValue::Int(p.memtable_flush_period_in_ms),
        ),
        ("min_index_interval", CqlValue::Int(p.min_index_interval)),
        ("read_repair", text(&p.read_repair)),
        ("read_repair_chance", CqlValue::Double(0.0)),
        ("speculative_retry", text(&p.speculative_retry)),
    ]
}

type VirtualRow = Vec<(String, CqlValue)>;

fn schema_rows(cat: &Catalog, table: &str) -> Vec<VirtualRow> {
    let mut out = Vec::new();
    let own = |v: Vec<(&str, CqlValue)>| {
        v.into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<VirtualRow>()
    };
    for ks in cat.keyspaces().values() {
        if is_virtual_keyspace(&ks.name) {
            continue;
        }
        let kn = || ("keyspace_name", text(&ks.name));
        match table {
            "keyspaces" => out.push(own(vec![
                kn(),
                ("durable_writes", CqlValue::Boolean(ks.durable_writes)),
                ("replication", text_map(&ks.replication.options)),
            ])),
            "scylla_keyspaces" => {
                if let Some(tablets) = ks.tablets {
                    out.push(own(vec![
                        kn(),
                        ("initial_tablets", CqlValue::Int(tablets.initial as i32)),
                    ]));
                }
            }
            "tables" => {
                for t in ks.tables.values().filter(|t| t.view.is_none()) {
                    let mut row = vec![kn(), ("table_name", text(&t.name))];
                    row.extend(table_options_row(t));
                    out.push(own(row));
                }
            }
            "views" => {
                for t in ks.tables.values() {
                    let Some(v) = &t.view else { continue };
                    let mut row = vec![
                        kn(),
                        ("view_name", text(&t.name)),
                        ("base_table_id", CqlValue::Uuid(v.base_table_id)),
                        ("base_table_name", text(&v.base_table_name)),
                        (
                            "include_all_columns",
                            CqlValue::Boolean(v.include_all_columns),
                        ),
                        ("where_clause", text(&v.where_clause)),
                    ];
                    // Views have no flags column.
                    row.extend(
                        table_options_row(t)
                            .into_iter()
                            .filter(|(k, _)| *k != "flags"),
                    );
                    out.push(own(row));
                }
            }
            "columns" => out.extend(ks.tables.values().flat_map(|t| column_rows(t))),
            "types" => {
                for u in ks.types.values() {
                    out.push(own(vec![
                        kn(),
                        ("type_name", text(&u.name)),
                        (
                            "field_names",
                            text_list(u.fields.iter().map(|f| f.0.as_str())),
                        ),
                        (
                            "field_types",
                            text_list(u.fields.iter().map(|f| f.2.as_str())),
                        ),
                    ]));
                }
            }
            "indexes" => {
                for t in ks.tables.values() {
                    for i in &t.indexes {
                        out.push(own(vec![
                            kn(),
                            ("table_name", text(&t.name)),
                            ("index_name", text(&i.name)),
                            ("kind", text(&i.kind)),
                            ("options", text_map(&i.options)),
                        ]));
                    }
                }
            }
            "functions" => out.extend(functions::function_rows(cat, &ks.name)),
            "aggregates" => out.extend(functions::aggregate_rows(cat, &ks.name)),
            _ => {}
        }
    }
    out
}

/// One `columns` row per column of `t` (the same columns in `system_schema` and
/// `system_virtual_schema`).
fn column_rows(t: &TableDef) -> impl Iterator<Item = VirtualRow> + '_ {
    t.columns.iter().map(move |c| {
        let order = match c.kind {
            ColumnKind::Clustering if c.desc => "desc",
            ColumnKind::Clustering => "asc",
            _ => "none",
        };
        vec![
            ("keyspace_name".to_owned(), text(&t.keyspace)),
            ("table_name".to_owned(), text(&t.name)),
            ("column_name".to_owned(), text(&c.name)),
            ("clustering_order".to_owned(), text(order)),
            (
                "column_name_bytes".to_owned(),
                CqlValue::Blob(c.name.as_bytes().to_vec()),
            ),
            ("kind".to_owned(), text(c.kind.as_str())),
            ("position".to_owned(), CqlValue::Int(c.position)),
            ("type".to_owned(), text(&c.type_text)),
        ]
    })
}

/// `system_virtual_schema`'s rows: the virtual keyspaces, their tables and columns.
fn virtual_schema_rows(cat: &Catalog, table: &str) -> Vec<VirtualRow> {
    let virtual_keyspaces = cat
        .keyspaces()
        .values()
        .filter(|ks| is_virtual_keyspace(&ks.name));
    let mut out = Vec::new();
    for ks in virtual_keyspaces {
        let kn = || ("keyspace_name".to_owned(), text(&ks.name));
        match table {
            "keyspaces" => out.push(vec![kn()]),
            "tables" => out.extend(ks.tables.values().map(|t| {
                let comment = VIRTUAL_TABLE_COMMENTS
                    .iter()
                    .find(|(name, _)| *name == t.name)
                    .map_or("", |(_, c)| c);
                vec![
                    kn(),
                    ("table_name".to_owned(), text(&t.name)),
                    ("comment".to_owned(), text(comment)),
                ]
            })),
            "columns" => out.extend(ks.tables.values().flat_map(|t| column_rows(t))),
            _ => {}
        }
    }
    out
}

/// For a virtual table, a temporary store holding its rows (built fresh for each query);
/// `None` for an ordinary table.
pub(crate) fn materialize(cat: &Catalog, data: &dyn Replicas, t: &TableDef) -> Option<Store> {
    let rows = match t.keyspace.as_str() {
        "system_schema" => schema_rows(cat, &t.name),
        "system" if NODE_LOCAL_TABLES.contains(&t.name.as_str()) => data.system_rows(&t.name),
        "system_auth" => cat.auth().rows(&t.name),
        VIRTUAL_KEYSPACE => data.system_rows(&t.name),
        VIRTUAL_SCHEMA_KEYSPACE => virtual_schema_rows(cat, &t.name),
        _ => return None,
    };
    let mut store = Store::new();
    for r in rows {
        if insert_virtual(&mut store, t, &r).is_none() {
            tracing::warn!(table = %t.name, "skipping a system row without its key columns or with mistyped values");
        }
    }
    Some(store)
}

fn insert_virtual(store: &mut Store, t: &TableDef, r: &VirtualRow) -> Option<()> {
    let get = |name: &str| r.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let mut key_values = Vec::new();
    for c in t.partition_key() {
        key_values.push(encode(get(&c.name)?, &c.typ).ok()?);
    }
    let mut ck_values = Vec::new();
    for c in t.clustering() {
        ck_values.push(encode(get(&c.name)?, &c.typ).ok()?);
    }
    let key = crate::exec::write_partition_key(&key_values).ok()?;
    let refs: Vec<&[u8]> = ck_values.iter().map(|b| b.as_ref()).collect();
    let types: Vec<(&ColumnType, bool)> = t.clustering().iter().map(|c| (&c.typ, c.desc)).collect();
    let enc = crate::key_encoding::encode_key(&types, &refs);
    let p = store.partition_mut(t.id, &key, &key_values);
    let row = p.rows.entry(enc).or_insert_with(|| Row {
        clustering: ck_values.clone(),
        ..Row::default()
    });
    row.marker = Some(Cell {
        ts: 0,
        expiry: None,
        value: Some(Bytes::new()),
    });
    for c in &t.columns {
        if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
            continue;
        }
        let Some(v) = get(&c.name) else { continue };
        // Virtual collections are stored whole, as one cell of the collection's bytes.
        let b = encode(v, &c.typ).ok()?;
        let cells = if c.kind == ColumnKind::Static {
            &mut p.static_row.cells
        } else {
            &mut row.cells
        };
        cells.insert(
            c.name.clone(),
            CellData::Simple(Cell {
                ts: 0,
                expiry: None,
                value: Some(b),
            }),
        );
    }
    Some(())
}
