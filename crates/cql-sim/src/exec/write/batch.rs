//! [`batch`]: INSERT, UPDATE and DELETE statements (one, or those of a BATCH) turned into
//! partition [`Mutation`]s, all computed before any is applied.

use std::sync::Arc;

use bytes::Bytes;
use proto::ColumnType;

use super::apply::apply_all;
use super::keys::{
    cartesian, clustering_types, int_term, int32_term, partition_key, range_bounds, write_keys,
};
use super::lwt::{LwtCheck, apply_conditional};
use super::writer::{Writer, json_columns};
use super::{BatchItem, ColOp, Mutation, RowMutation};
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::value::TermEnv;
use crate::exec::{BoundValue, Outcome};
use crate::key_encoding::{encode_component, encode_key};
use crate::schema::{Catalog, ColumnKind};
use crate::storage::{RangeTombstone, Replicas};

/// Runs write statements as one atomic batch: every mutation is computed (and every LWT
/// condition checked) before any is applied. `is_batch` is false for a lone statement
/// (whose conditional result differs from a BATCH's).
pub(in crate::exec) fn batch(
    cat: &mut Catalog,
    data: &mut dyn Replicas,
    items: &[BatchItem<'_>],
    now: i64,
    default_ts: i64,
    is_batch: bool,
) -> Result<Outcome> {
    let mut mutations: Vec<Mutation> = Vec::new();
    let mut lwt: Vec<LwtCheck> = Vec::new();
    let mut unique = cat.next_unique() * 1000;
    for &(st, values, ks) in items {
        let (Statement::Insert {
            table: table_name,
            using,
            ..
        }
        | Statement::Update {
            table: table_name,
            using,
            ..
        }
        | Statement::Delete {
            table: table_name,
            using,
            ..
        }) = st
        else {
            return Err(CqlError::invalid("Invalid statement in batch"));
        };
        let table = Arc::clone(cat.table_or_err(table_name, ks)?);
        if table.view.is_some() {
            return Err(CqlError::invalid(
                "Cannot directly modify a materialized view",
            ));
        }
        if table.keyspace == "system_schema" {
            return Err(CqlError::Unauthorized(format!(
                "{} keyspace is not user-modifiable.",
                table.keyspace
            )));
        }
        let mut env = TermEnv {
            values,
            now_micros: now,
            unique,
        };
        let ts = match &using.timestamp {
            Some(t) => int_term(t, values, now, "[timestamp]")?.unwrap_or(default_ts),
            None => default_ts,
        };
        let ttl = match &using.ttl {
            Some(t) => int32_term(t, &mut env, "[ttl]")?,
            None => Some(table.params.default_time_to_live).filter(|t| *t > 0),
        };
        if let Some(ttl) = ttl {
            if ttl < 0 {
                return Err(CqlError::invalid(format!(
                    "A TTL must be greater or equal to 0, but was {ttl}"
                )));
            }
            if ttl > 630_720_000 {
                return Err(CqlError::invalid(format!(
                    "ttl is too large. requested ({ttl}) maximum (630720000)"
                )));
            }
        }
        if table.is_counter() && (using.ttl.is_some() || matches!(st, Statement::Insert { .. })) {
            if matches!(st, Statement::Insert { .. }) {
                return Err(CqlError::invalid(
                    "INSERT statements are not allowed on counter tables, use UPDATE instead",
                ));
            }
            return Err(CqlError::invalid(
                "Cannot provide custom TTL for counter updates",
            ));
        }
        let expiry = ttl
            .filter(|t| *t > 0)
            .map(|t| (now.div_euclid(1_000_000) + i64::from(t), t));
        let mut w = Writer {
            table: Arc::clone(&table),
            env,
            ts,
            expiry,
        };
        match st {
            Statement::Insert {
                values: iv,
                if_not_exists,
                ..
            } => {
                let json_parts;
                let (columns, terms): (&[String], &[Term]) = match iv {
                    InsertValues::Values { columns, values } => (columns, values),
                    InsertValues::Json {
                        json,
                        default_unset,
                    } => {
                        json_parts = json_columns(&table, &mut w.env, json, *default_unset)?;
                        (&json_parts.0, &json_parts.1)
                    }
                };
                if columns.len() != terms.len() {
                    return Err(CqlError::invalid("Unmatched column names/values"));
                }
                let mut pk: Vec<Option<Bytes>> = vec![None; table.pk_len];
                let mut ck: Vec<Option<Bytes>> = vec![None; table.ck_len];
                let mut ops = Vec::new();
                for (c, term) in columns.iter().zip(terms) {
                    let (i, col) = table.column_or_err(c)?;
                    if columns.iter().filter(|x| *x == c).count() > 1 {
                        return Err(CqlError::invalid(format!(
                            "Multiple definitions found for column {c}"
                        )));
                    }
                    match col.kind {
                        ColumnKind::PartitionKey | ColumnKind::Clustering => {
                            let b = match w.env.bytes(term, &col.typ, c)? {
                                BoundValue::Value(b) => b,
                                BoundValue::Null => {
                                    return Err(CqlError::invalid(format!(
                                        "Invalid null value in condition for column {c}"
                                    )));
                                }
                                BoundValue::Unset => {
                                    return Err(CqlError::invalid(format!(
                                        "Invalid unset value for column {c}"
                                    )));
                                }
                            };
                            if col.kind == ColumnKind::PartitionKey {
                                pk[i] = Some(b);
                            } else {
                                ck[i - table.pk_len] = Some(b);
                            }
                        }
                        _ => {
                            if let Some(op) = w.set_op(col, term)? {
                                ops.push((c.clone(), col.kind == ColumnKind::Static, op));
                            }
                        }
                    }
                }
                super::keys::require_partition_key(&table, &pk)?;
                let ck_missing: Vec<&str> = table
                    .clustering()
                    .iter()
                    .zip(&ck)
                    .filter(|(_, v)| v.is_none())
                    .map(|(c, _)| c.name.as_str())
                    .collect();
                let only_static = ops.iter().all(|(_, s, _)| *s) && !ops.is_empty();
                if !ck_missing.is_empty() && (!only_static || ck.iter().any(Option::is_some)) {
                    return Err(CqlError::invalid(format!(
                        "Some clustering keys are missing: {}",
                        ck_missing.join(", ")
                    )));
                }
                let key_values: Vec<Bytes> = pk.into_iter().flatten().collect();
                let key = partition_key(&key_values)?;
                let clustering = if table.ck_len > 0 && ck.iter().all(Option::is_some) {
                    let vals: Vec<Bytes> = ck.into_iter().flatten().collect();
                    let refs: Vec<&[u8]> = vals.iter().map(|b| b.as_ref()).collect();
                    Some((encode_key(&clustering_types(&table), &refs), vals))
                } else if table.ck_len == 0 {
                    Some((Vec::new(), Vec::new()))
                } else {
                    None
                };
                let row = RowMutation {
                    marker: clustering.as_ref().map(|_| w.cell(Some(Bytes::new()))),
                    clustering: clustering.clone(),
                    delete_row: None,
                    ops,
                };
                if *if_not_exists {
                    lwt.push(LwtCheck {
                        cond: Conditions::IfNotExists,
                        table: Arc::clone(&table),
                        key: key.clone(),
                        key_values: key_values.clone(),
                        clustering,
                        values: values.to_vec(),
                    });
                }
                mutations.push(Mutation {
                    table: Arc::clone(&table),
                    key,
                    key_values,
                    delete_partition: None,
                    range_deletes: Vec::new(),
                    rows: vec![row],
                });
            }
            Statement::Update {
                assignments,
                where_clause,
                conditions,
                ..
            } => {
                let keys = write_keys(&table, where_clause, &mut w.env, false)?;
                let mut ops = Vec::new();
                for a in assignments {
                    if let Some(op) = w.assignment(a)? {
                        ops.push(op);
                    }
                }
                let only_static = !ops.is_empty() && ops.iter().all(|(_, s, _)| *s);
                if keys.prefix.len() < table.ck_len && !(only_static && keys.prefix.is_empty()) {
                    let missing: Vec<&str> = table.clustering()[keys.prefix.len()..]
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect();
                    return Err(CqlError::invalid(format!(
                        "Some clustering keys are missing: {}",
                        missing.join(", ")
                    )));
                }
                let cks = if keys.prefix.len() == table.ck_len {
                    cartesian(&keys.prefix)
                } else {
                    Vec::new()
                };
                for kv in &keys.partitions {
                    let key = partition_key(kv)?;
                    let mut rows = Vec::new();
                    if cks.is_empty() || table.ck_len == 0 {
                        let clustering = if table.ck_len == 0 {
                            Some((Vec::new(), Vec::new()))
                        } else {
                            None
                        };
                        rows.push(RowMutation {
                            clustering,
                            marker: None,
                            delete_row: None,
                            ops: ops.clone(),
                        });
                    } else {
                        for ck in &cks {
                            let refs: Vec<&[u8]> = ck.iter().map(|b| b.as_ref()).collect();
                            let enc = encode_key(&clustering_types(&table), &refs);
                            rows.push(RowMutation {
                                clustering: Some((enc, ck.clone())),
                                marker: None,
                                delete_row: None,
                                ops: ops.clone(),
                            });
                        }
                    }
                    if *conditions != Conditions::None {
                        if keys.partitions.len() > 1 || rows.len() > 1 {
                            return Err(CqlError::invalid(
                                "IN on the partition key is not supported with conditional updates",
                            ));
                        }
                        lwt.push(LwtCheck {
                            cond: conditions.clone(),
                            table: Arc::clone(&table),
                            key: key.clone(),
                            key_values: kv.clone(),
                            clustering: rows[0].clustering.clone(),
                            values: values.to_vec(),
                        });
                    }
                    mutations.push(Mutation {
                        table: Arc::clone(&table),
                        key,
                        key_values: kv.clone(),
                        delete_partition: None,
                        range_deletes: Vec::new(),
                        rows,
                    });
                }
            }
            Statement::Delete {
                targets,
                where_clause,
                conditions,
                ..
            } => {
                if using.ttl.is_some() {
                    return Err(CqlError::invalid("TTL cannot be used in DELETE"));
                }
                let keys = write_keys(&table, where_clause, &mut w.env, targets.is_empty())?;
                let mut ops = Vec::new();
                for tg in targets {
                    let (_, col) = table.column_or_err(&tg.column)?;
                    if matches!(col.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                        return Err(CqlError::invalid(format!(
                            "Invalid identifier {} for deletion (should not be a PRIMARY KEY part)",
                            tg.column
                        )));
                    }
                    let is_static = col.kind == ColumnKind::Static;
                    let op = match &tg.element {
                        None if col.multi_cell => ColOp::DeleteCollection { ts },
                        None => ColOp::Set(w.cell(None)),
                        Some(e) => match &col.typ {
                            ColumnType::Map(kt, _) | ColumnType::Set(kt) => {
                                let BoundValue::Value(b) = w.env.bytes(e, kt, &tg.column)? else {
                                    return Err(CqlError::invalid(
                                        "Invalid null value for map key",
                                    ));
                                };
                                let mut k = Vec::new();
                                encode_component(kt, &b, false, &mut k);
                                ColOp::RemoveKeys { keys: vec![k], ts }
                            }
                            ColumnType::List(_) => {
                                let Some(index) = int32_term(e, &mut w.env, &tg.column)? else {
                                    return Err(CqlError::invalid(
                                        "Invalid null value for list index",
                                    ));
                                };
                                ColOp::DeleteIndex { index, ts }
                            }
                            _ => {
                                return Err(CqlError::invalid(format!(
                                    "Invalid element deletion on non collection column {}",
                                    tg.column
                                )));
                            }
                        },
                    };
                    ops.push((tg.column.clone(), is_static, op));
                }
                let types = clustering_types(&table);
                for kv in &keys.partitions {
                    let key = partition_key(kv)?;
                    let mut m = Mutation {
                        table: Arc::clone(&table),
                        key: key.clone(),
                        key_values: kv.clone(),
                        delete_partition: None,
                        range_deletes: Vec::new(),
                        rows: Vec::new(),
                    };
                    let full = keys.prefix.len() == table.ck_len;
                    if targets.is_empty() {
                        if keys.prefix.is_empty() && keys.slice.is_none() {
                            m.delete_partition = Some(ts);
                        } else if full && keys.slice.is_none() {
                            for ck in cartesian(&keys.prefix) {
                                let refs: Vec<&[u8]> = ck.iter().map(|b| b.as_ref()).collect();
                                m.rows.push(RowMutation {
                                    clustering: Some((encode_key(&types, &refs), ck)),
                                    marker: None,
                                    delete_row: Some(ts),
                                    ops: Vec::new(),
                                });
                            }
                        } else {
                            for pre in cartesian(&keys.prefix) {
                                let (start, end) = range_bounds(&types, &pre, keys.slice.as_ref());
                                m.range_deletes.push(RangeTombstone { start, end, ts });
                            }
                        }
                    } else {
                        let only_static = ops.iter().all(|(_, s, _)| *s);
                        if full && table.ck_len > 0 {
                            for ck in cartesian(&keys.prefix) {
                                let refs: Vec<&[u8]> = ck.iter().map(|b| b.as_ref()).collect();
                                m.rows.push(RowMutation {
                                    clustering: Some((encode_key(&types, &refs), ck)),
                                    marker: None,
                                    delete_row: None,
                                    ops: ops.clone(),
                                });
                            }
                        } else if table.ck_len == 0 {
                            m.rows.push(RowMutation {
                                clustering: Some((Vec::new(), Vec::new())),
                                marker: None,
                                delete_row: None,
                                ops: ops.clone(),
                            });
                        } else if only_static && keys.prefix.is_empty() {
                            m.rows.push(RowMutation {
                                clustering: None,
                                marker: None,
                                delete_row: None,
                                ops: ops.clone(),
                            });
                        } else {
                            let missing: Vec<&str> = table.clustering()[keys.prefix.len()..]
                                .iter()
                                .map(|c| c.name.as_str())
                                .collect();
                            return Err(CqlError::invalid(format!(
                                "Some clustering keys are missing: {}",
                                missing.join(", ")
                            )));
                        }
                    }
                    if *conditions != Conditions::None {
                        if keys.partitions.len() > 1 {
                            return Err(CqlError::invalid(
                                "IN on the partition key is not supported with conditional deletions",
                            ));
                        }
                        let ck = m.rows.first().and_then(|r| r.clustering.clone());
                        lwt.push(LwtCheck {
                            cond: conditions.clone(),
                            table: Arc::clone(&table),
                            key,
                            key_values: kv.clone(),
                            clustering: ck,
                            values: values.to_vec(),
                        });
                    }
                    mutations.push(m);
                }
            }
            _ => return Err(CqlError::invalid("Invalid statement in batch")),
        }
        unique = w.env.unique;
    }
    // Lightweight transactions: read the current state from one replica and check.
    if !lwt.is_empty() {
        return apply_conditional(data, &lwt, &mutations, now, is_batch);
    }
    apply_all(data, &mutations, now)?;
    Ok(Outcome::Void)
}
