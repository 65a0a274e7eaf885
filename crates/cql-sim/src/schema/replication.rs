//! Keyspace replication as the servers define it: the strategy classes, the
//! `replication_factor` shorthand of NetworkTopologyStrategy expanded to every data centre
//! (Cassandra 4.0+ CASSANDRA-14303, Scylla), data-centre names checked against the cluster,
//! and the replication factors consistency levels are counted against.

use std::collections::BTreeMap;

use crate::error::{CqlError, Result};

const SIMPLE: &str = "org.apache.cassandra.locator.SimpleStrategy";
const NTS: &str = "org.apache.cassandra.locator.NetworkTopologyStrategy";
const LOCAL: &str = "org.apache.cassandra.locator.LocalStrategy";
const REPLICATION_FACTOR: &str = "replication_factor";

/// A replication strategy with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicationStrategy {
    /// `SimpleStrategy` with a replication factor.
    Simple {
        /// The replication factor.
        replication_factor: u32,
    },
    /// `NetworkTopologyStrategy` with a factor per data centre.
    NetworkTopology {
        /// Data centre name to replication factor.
        data_centers: BTreeMap<String, u32>,
    },
    /// `LocalStrategy` (system keyspaces): every node holds its own data.
    Local,
}

impl ReplicationStrategy {
    /// The configured number of replicas over all data centres (what `ALL` requires), which
    /// may exceed the number of nodes.
    pub fn total_replication_factor(&self) -> u32 {
        match self {
            Self::Simple { replication_factor } => *replication_factor,
            Self::NetworkTopology { data_centers } => data_centers.values().sum(),
            Self::Local => 1,
        }
    }
}

/// A keyspace's replication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replication {
    /// The parsed strategy.
    pub strategy: ReplicationStrategy,
    /// The options as `system_schema.keyspaces.replication` shows them: `class` fully
    /// qualified and, for NetworkTopologyStrategy, one entry per data centre (the
    /// `replication_factor` shorthand expanded).
    pub options: BTreeMap<String, String>,
}

impl Replication {
    /// Builds the replication settings from a `replication = {...}` map of a keyspace with no
    /// knowledge of the cluster's data centres (the system keyspaces).
    pub fn from_options(opts: &[(String, String)]) -> Result<Self> {
        Self::prepare("", opts, None, None)
    }

    /// Builds the replication settings of `CREATE` / `ALTER KEYSPACE keyspace` as a server
    /// does: `datacenters` are the cluster's data centres (NetworkTopologyStrategy options
    /// must name known ones, and `replication_factor` expands to each of them), `previous`
    /// the keyspace's settings before an ALTER (their data centres are kept when the
    /// shorthand is used, and their `replication_factor` carries over to a switch to
    /// NetworkTopologyStrategy given no options).
    pub fn for_keyspace(
        keyspace: &str,
        opts: &[(String, String)],
        datacenters: &[String],
        previous: Option<&Self>,
    ) -> Result<Self> {
        Self::prepare(keyspace, opts, Some(datacenters), previous)
    }

    fn prepare(
        keyspace: &str,
        opts: &[(String, String)],
        datacenters: Option<&[String]>,
        previous: Option<&Self>,
    ) -> Result<Self> {
        let mut class = None;
        let mut rest = BTreeMap::new();
        for (k, v) in opts {
            if k == "class" {
                class = Some(v.clone());
            } else {
                rest.insert(k.clone(), v.clone());
            }
        }
        let class =
            class.ok_or_else(|| CqlError::Config("Missing replication strategy class".into()))?;
        let short = class.rsplit('.').next().unwrap_or(&class).to_owned();
        let (strategy, full) = match short.as_str() {
            "SimpleStrategy" => {
                let rf = rest.get(REPLICATION_FACTOR).ok_or_else(|| {
                    CqlError::Config(
                        "SimpleStrategy requires a replication_factor strategy option.".into(),
                    )
                })?;
                let rf = parse_rf(rf)?;
                if let Some(k) = rest.keys().find(|k| *k != REPLICATION_FACTOR) {
                    return Err(unrecognized(k, "SimpleStrategy", keyspace));
                }
                (
                    ReplicationStrategy::Simple {
                        replication_factor: rf,
                    },
                    SIMPLE,
                )
            }
            "NetworkTopologyStrategy" => {
                expand_replication_factor(&mut rest, datacenters, previous)?;
                let mut dcs = BTreeMap::new();
                for (k, v) in &rest {
                    if let Some(known) = datacenters
                        && !known.iter().any(|d| d == k)
                    {
                        return Err(unrecognized(k, "NetworkTopologyStrategy", keyspace));
                    }
                    dcs.insert(k.clone(), parse_rf(v)?);
                }
                if dcs.is_empty() && datacenters.is_some() {
                    return Err(CqlError::Config(
                        "Configuration for at least one datacenter must be present".into(),
                    ));
                }
                (
                    ReplicationStrategy::NetworkTopology { data_centers: dcs },
                    NTS,
                )
            }
            "LocalStrategy" => (ReplicationStrategy::Local, LOCAL),
            _ => {
                return Err(CqlError::Config(format!(
                    "Unable to find replication strategy class '{class}'"
                )));
            }
        };
        rest.insert("class".into(), full.into());
        Ok(Self {
            strategy,
            options: rest,
        })
    }
}

/// Replaces `replication_factor` with one entry per data centre: options naming a data
/// centre win, then the previous settings' data centres (kept "for safety", as both servers
/// document), then the shorthand fills the rest. A switch to NetworkTopologyStrategy with no
/// options takes the previous strategy's `replication_factor`.
fn expand_replication_factor(
    rest: &mut BTreeMap<String, String>,
    datacenters: Option<&[String]>,
    previous: Option<&Replication>,
) -> Result<()> {
    let rf = match rest.remove(REPLICATION_FACTOR) {
        Some(rf) => Some(rf),
        None if rest.is_empty() => {
            previous.and_then(|p| p.options.get(REPLICATION_FACTOR).cloned())
        }
        None => None,
    };
    let Some(rf) = rf else { return Ok(()) };
    parse_rf(&rf)?;
    if let Some(p) = previous
        && matches!(p.strategy, ReplicationStrategy::NetworkTopology { .. })
    {
        for (dc, v) in &p.options {
            if dc != "class" {
                rest.entry(dc.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    for dc in datacenters.unwrap_or(&[]) {
        rest.entry(dc.clone()).or_insert_with(|| rf.clone());
    }
    Ok(())
}

fn parse_rf(v: &str) -> Result<u32> {
    v.trim().parse::<u32>().map_err(|_| {
        CqlError::Config(format!(
            "Replication factor must be non-negative integer; found {v}"
        ))
    })
}

fn unrecognized(option: &str, strategy: &str, keyspace: &str) -> CqlError {
    CqlError::Config(format!(
        "Unrecognized strategy option {{{option}}} passed to {strategy} for keyspace {keyspace}"
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

    fn dcs(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn replication_factor_expands_to_every_datacenter() {
        let r = Replication::for_keyspace(
            "ks",
            &opts(&[
                ("class", "NetworkTopologyStrategy"),
                ("replication_factor", "3"),
                ("dc2", "1"),
            ]),
            &dcs(&["dc1", "dc2"]),
            None,
        )
        .unwrap();
        let shown: Vec<(&str, &str)> = r
            .options
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            shown,
            [("class", NTS), ("dc1", "3"), ("dc2", "1")],
            "no replication_factor key remains"
        );
        assert_eq!(r.strategy.total_replication_factor(), 4);
    }

    #[test]
    fn alter_keeps_previous_datacenters_and_switch_takes_the_old_factor() {
        let dc = dcs(&["dc1", "dc2"]);
        let simple = Replication::for_keyspace(
            "ks",
            &opts(&[("class", "SimpleStrategy"), ("replication_factor", "2")]),
            &dc,
            None,
        )
        .unwrap();
        let switched = Replication::for_keyspace(
            "ks",
            &opts(&[("class", "NetworkTopologyStrategy")]),
            &dc,
            Some(&simple),
        )
        .unwrap();
        assert_eq!(switched.options.get("dc1").map(String::as_str), Some("2"));
        assert_eq!(switched.options.get("dc2").map(String::as_str), Some("2"));
        let one_dc = Replication::for_keyspace(
            "ks",
            &opts(&[("class", "NetworkTopologyStrategy"), ("dc1", "1")]),
            &dc,
            None,
        )
        .unwrap();
        let altered = Replication::for_keyspace(
            "ks",
            &opts(&[
                ("class", "NetworkTopologyStrategy"),
                ("replication_factor", "3"),
            ]),
            &dc,
            Some(&one_dc),
        )
        .unwrap();
        assert_eq!(altered.options.get("dc1").map(String::as_str), Some("1"));
        assert_eq!(altered.options.get("dc2").map(String::as_str), Some("3"));
    }

    #[test]
    fn unknown_datacenter_and_empty_options_are_configuration_errors() {
        let e = Replication::for_keyspace(
            "ks",
            &opts(&[("class", "NetworkTopologyStrategy"), ("dc9", "1")]),
            &dcs(&["dc1"]),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Unrecognized strategy option {dc9} passed to NetworkTopologyStrategy for keyspace ks"
        );
        let e = Replication::for_keyspace(
            "ks",
            &opts(&[("class", "NetworkTopologyStrategy")]),
            &dcs(&["dc1"]),
            None,
        )
        .unwrap_err();
        assert!(matches!(e, CqlError::Config(_)), "{e:?}");
        let e = Replication::for_keyspace(
            "ks",
            &opts(&[
                ("class", "NetworkTopologyStrategy"),
                ("replication_factor", "x"),
            ]),
            &dcs(&["dc1"]),
            None,
        )
        .unwrap_err();
        assert!(matches!(e, CqlError::Config(_)), "{e:?}");
    }
}
