//! Scylla's tablets as a keyspace property: `CREATE KEYSPACE … AND tablets = {'enabled': …,
//! 'initial': N}`, the cluster's default (Scylla's `enable_tablets` /
//! `tablets_mode_for_new_keyspaces`), and the statements Scylla 6.x refuses on tablets
//! keyspaces (counters at CREATE TABLE, LWT at execution).
//!
//! Only the option is owned here; placing tablets on replicas is the cluster's business
//! (`server::coordinator::tablets`).

use std::collections::BTreeMap;

use super::{KeyspaceDef, Replication, ReplicationStrategy};
use crate::cql::ast::{CreateTable, TypeExpr};
use crate::error::{CqlError, Result};

/// A tablets keyspace's setting: how many tablets a new table starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabletsOptions {
    /// `initial` as given (0: chosen from the topology, as Scylla does without it). Tables get
    /// the next power of two.
    pub initial: u32,
}

/// What the cluster allows for tablets (from [`crate::Replicas::tablets_policy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabletsPolicy {
    /// Whether the server knows tablets at all (Scylla; Cassandra has no such option).
    pub supported: bool,
    /// Whether NetworkTopologyStrategy keyspaces use tablets unless told otherwise.
    pub by_default: bool,
    /// Member nodes per data centre (a tablet needs RF distinct nodes in each).
    pub nodes_per_dc: BTreeMap<String, usize>,
}

impl Default for TabletsPolicy {
    /// A single Scylla node in `datacenter1` with tablets off by default.
    fn default() -> Self {
        Self {
            supported: true,
            by_default: false,
            nodes_per_dc: [("datacenter1".to_owned(), 1)].into_iter().collect(),
        }
    }
}

/// The tablets setting of a new keyspace from its `tablets` option (`None` when not given).
///
/// As Scylla 6.x / 2025.x: tablets need NetworkTopologyStrategy (an explicit
/// `'enabled': true` with another strategy is refused, the cluster default silently does not
/// apply), `'initial'` alone enables them, and every data centre needs at least RF nodes.
pub(crate) fn for_new_keyspace(
    keyspace: &str,
    option: Option<&[(String, String)]>,
    replication: &Replication,
    policy: &TabletsPolicy,
) -> Result<Option<TabletsOptions>> {
    let nts = matches!(
        replication.strategy,
        ReplicationStrategy::NetworkTopology { .. }
    );
    let (enabled, initial) = match option {
        None => (policy.by_default && nts, 0),
        Some(opts) => {
            let (enabled, initial) = parse(opts)?;
            let enabled = enabled.unwrap_or(initial.is_some() || policy.by_default);
            if enabled && !nts {
                return Err(CqlError::Config(format!(
                    "Tablets are only supported with NetworkTopologyStrategy, keyspace {keyspace} uses {}",
                    short_class(replication)
                )));
            }
            (enabled, initial.unwrap_or(0))
        }
    };
    if !enabled {
        return Ok(None);
    }
    check_factors(keyspace, replication, policy)?;
    Ok(Some(TabletsOptions { initial }))
}

/// Every tablet needs RF distinct nodes in each data centre.
fn check_factors(keyspace: &str, replication: &Replication, policy: &TabletsPolicy) -> Result<()> {
    if let ReplicationStrategy::NetworkTopology { data_centers } = &replication.strategy {
        for (dc, rf) in data_centers {
            let nodes = policy.nodes_per_dc.get(dc).copied().unwrap_or(0);
            if *rf as usize > nodes {
                return Err(CqlError::Config(format!(
                    "Datacenter {dc} doesn't have enough nodes for replication_factor={rf} of keyspace {keyspace} with tablets: it has {nodes}"
                )));
            }
        }
    }
    Ok(())
}

/// The tablets setting after `ALTER KEYSPACE`: whether a keyspace uses tablets is fixed at
/// creation (Scylla refuses to switch it); `initial` may change and applies to new tables; a
/// new replication must still fit the nodes.
pub(crate) fn for_altered_keyspace(
    keyspace: &str,
    option: Option<&[(String, String)]>,
    current: Option<TabletsOptions>,
    replication: &Replication,
    policy: &TabletsPolicy,
) -> Result<Option<TabletsOptions>> {
    if current.is_some() {
        check_factors(keyspace, replication, policy)?;
    }
    let Some(opts) = option else {
        return Ok(current);
    };
    let (enabled, initial) = parse(opts)?;
    let wanted = enabled.unwrap_or(current.is_some() || initial.is_some());
    if wanted != current.is_some() {
        return Err(CqlError::Config(format!(
            "Cannot alter the tablets 'enabled' option of keyspace {keyspace}: a keyspace uses tablets or vnodes from its creation"
        )));
    }
    Ok(current.map(|c| TabletsOptions {
        initial: initial.unwrap_or(c.initial),
    }))
}

fn parse(opts: &[(String, String)]) -> Result<(Option<bool>, Option<u32>)> {
    let mut enabled = None;
    let mut initial = None;
    for (k, v) in opts {
        match k.as_str() {
            "enabled" => {
                enabled = Some(match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(CqlError::Config(format!(
                            "Invalid value for tablets option 'enabled': {v} (expected true or false)"
                        )));
                    }
                });
            }
            "initial" => {
                initial = Some(v.trim().parse::<u32>().map_err(|_| {
                    CqlError::Config(format!(
                        "Invalid value for tablets option 'initial': {v} (expected a non-negative integer)"
                    ))
                })?);
            }
            other => {
                return Err(CqlError::Config(format!(
                    "Unrecognized tablets option {other}"
                )));
            }
        }
    }
    Ok((enabled, initial))
}

fn short_class(r: &Replication) -> &str {
    r.options
        .get("class")
        .map_or("", |c| c.rsplit('.').next().unwrap_or(c))
}

/// Refuses a CREATE TABLE Scylla 6.x refuses in a tablets keyspace: counter columns.
pub(crate) fn check_create_table(ks: &KeyspaceDef, ct: &CreateTable) -> Result<()> {
    if ks.tablets.is_none() {
        return Ok(());
    }
    if ct
        .columns
        .iter()
        .any(|c| matches!(c.typ, TypeExpr::Native(proto::ColumnType::Counter)))
    {
        return Err(CqlError::invalid(format!(
            "Cannot use the 'counter' type for table {}.{}: Counters are not yet supported with tablets",
            ks.name, ct.name.name
        )));
    }
    Ok(())
}

/// The error of an LWT on a tablets table: Scylla 6.x prepares it but refuses to run it.
pub(crate) fn lwt_unsupported(keyspace: &str, table: &str) -> CqlError {
    CqlError::invalid(format!(
        "Cannot use LightWeight Transactions for table {keyspace}.{table}: LWT is not yet supported with tablets"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn nts(rf: &str) -> Replication {
        Replication::for_keyspace(
            "ks",
            &opts(&[
                ("class", "NetworkTopologyStrategy"),
                ("replication_factor", rf),
            ]),
            &["datacenter1".to_owned()],
            None,
        )
        .unwrap()
    }

    fn policy(nodes: usize, by_default: bool) -> TabletsPolicy {
        TabletsPolicy {
            supported: true,
            by_default,
            nodes_per_dc: [("datacenter1".to_owned(), nodes)].into_iter().collect(),
        }
    }

    #[test]
    fn initial_enables_and_default_follows_the_cluster() {
        let p = policy(3, false);
        let o = opts(&[("initial", "8")]);
        assert_eq!(
            for_new_keyspace("ks", Some(&o), &nts("3"), &p).unwrap(),
            Some(TabletsOptions { initial: 8 })
        );
        assert_eq!(for_new_keyspace("ks", None, &nts("3"), &p).unwrap(), None);
        assert_eq!(
            for_new_keyspace("ks", None, &nts("3"), &policy(3, true)).unwrap(),
            Some(TabletsOptions { initial: 0 })
        );
        let off = opts(&[("enabled", "false")]);
        assert_eq!(
            for_new_keyspace("ks", Some(&off), &nts("3"), &policy(3, true)).unwrap(),
            None
        );
    }

    #[test]
    fn simple_strategy_rf_above_nodes_and_unknown_options_are_refused() {
        let simple = Replication::for_keyspace(
            "ks",
            &opts(&[("class", "SimpleStrategy"), ("replication_factor", "1")]),
            &["datacenter1".to_owned()],
            None,
        )
        .unwrap();
        let on = opts(&[("enabled", "true")]);
        let e = for_new_keyspace("ks", Some(&on), &simple, &policy(3, false)).unwrap_err();
        assert!(matches!(e, CqlError::Config(_)), "{e:?}");
        // The cluster default does not apply to SimpleStrategy.
        assert_eq!(
            for_new_keyspace("ks", None, &simple, &policy(3, true)).unwrap(),
            None
        );
        let e = for_new_keyspace("ks", Some(&on), &nts("4"), &policy(3, false)).unwrap_err();
        assert!(e.to_string().contains("replication_factor=4"), "{e}");
        let bad = opts(&[("initial_tablets", "2")]);
        assert!(for_new_keyspace("ks", Some(&bad), &nts("1"), &policy(3, false)).is_err());
    }

    #[test]
    fn alter_keeps_the_mode() {
        let cur = Some(TabletsOptions { initial: 4 });
        let (r, p) = (nts("2"), policy(3, false));
        let off = opts(&[("enabled", "false")]);
        assert!(for_altered_keyspace("ks", Some(&off), cur, &r, &p).is_err());
        let more = opts(&[("initial", "16")]);
        assert_eq!(
            for_altered_keyspace("ks", Some(&more), cur, &r, &p).unwrap(),
            Some(TabletsOptions { initial: 16 })
        );
        assert!(for_altered_keyspace("ks", Some(&more), None, &r, &p).is_err());
        assert_eq!(for_altered_keyspace("ks", None, cur, &r, &p).unwrap(), cur);
        assert!(for_altered_keyspace("ks", None, cur, &nts("4"), &p).is_err());
        assert_eq!(
            for_altered_keyspace("ks", None, None, &nts("4"), &p).unwrap(),
            None
        );
    }
}
