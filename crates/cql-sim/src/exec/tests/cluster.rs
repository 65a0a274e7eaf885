//! A three-node cluster with replication factor 2 behind [`Replicas`]: routing, replicas and
//! the system tables.

use super::*;
use crate::schema::TableDef;

/// A three-node cluster with replication factor 2: token ranges split in three, each range on
/// its owner and the next node.
struct Cluster {
    nodes: Vec<Store>,
    down: Option<usize>,
}

impl Cluster {
    fn owners(token: i64) -> [usize; 2] {
        let first = if token < i64::MIN / 3 {
            0
        } else if token < i64::MAX / 3 {
            1
        } else {
            2
        };
        [first, (first + 1) % 3]
    }
}

impl Replicas for Cluster {
    fn read(&self, _table: &TableDef, token: i64) -> Option<&Store> {
        Self::owners(token)
            .into_iter()
            .find(|n| Some(*n) != self.down)
            .map(|n| &self.nodes[n])
    }

    fn write(&mut self, _table: &TableDef, token: i64, f: &mut dyn FnMut(&mut Store)) -> usize {
        let mut n = 0;
        for o in Self::owners(token) {
            if Some(o) != self.down {
                f(&mut self.nodes[o]);
                n += 1;
            }
        }
        n
    }

    fn scan(&self, _table: &TableDef) -> Vec<&Store> {
        self.nodes.iter().collect()
    }

    fn for_each_store(&mut self, f: &mut dyn FnMut(&mut Store)) {
        for n in &mut self.nodes {
            f(n);
        }
    }

    fn datacenters(&self) -> Vec<String> {
        vec!["dc1".into()]
    }

    fn system_rows(&self, table: &str) -> Vec<Vec<(String, CqlValue)>> {
        match table {
            "local" => vec![vec![
                ("key".into(), CqlValue::Text("local".into())),
                ("data_center".into(), CqlValue::Text("dc1".into())),
                (
                    "rpc_address".into(),
                    CqlValue::Inet("127.0.0.1".parse().unwrap()),
                ),
                (
                    "tokens".into(),
                    CqlValue::Set(vec![CqlValue::Text("-3074457345618258603".into())]),
                ),
            ]],
            "peers" => ["127.0.0.2", "127.0.0.3"]
                .iter()
                .map(|a| {
                    vec![
                        ("peer".into(), CqlValue::Inet(a.parse().unwrap())),
                        ("data_center".into(), CqlValue::Text("dc1".into())),
                    ]
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[test]
fn cluster_routing_replicas_and_system_tables() {
    let mut e = Engine::new();
    let mut c = Cluster {
        nodes: vec![Store::new(), Store::new(), Store::new()],
        down: None,
    };
    let mut now = NOW;
    let mut q = |e: &mut Engine, c: &mut Cluster, text: &str| {
        now += 1;
        let o = QueryOptions {
            keyspace: Some("ks"),
            now_micros: now,
            page_size: Some(5),
            ..QueryOptions::default()
        };
        e.query(c, text, &o)
    };
    q(
        &mut e,
        &mut c,
        "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}",
    )
    .unwrap();
    q(&mut e, &mut c, "CREATE TABLE t (k int PRIMARY KEY, v int)").unwrap();
    for k in 0..30 {
        q(
            &mut e,
            &mut c,
            &format!("INSERT INTO t (k, v) VALUES ({k}, {k})"),
        )
        .unwrap();
    }
    let id = e.catalog.table("ks", "t").unwrap().id;
    let total: usize = c.nodes.iter().map(|n| n.partition_count(id)).sum();
    assert_eq!(total, 60, "every partition on two replicas");
    assert!(c.nodes.iter().all(|n| n.partition_count(id) < 30));
    // A paged scan over all nodes returns each row once.
    let mut seen = Vec::new();
    let mut state = None;
    for _ in 0..100 {
        let o = QueryOptions {
            keyspace: Some("ks"),
            now_micros: NOW + 1000,
            page_size: Some(4),
            paging_state: state.take(),
            ..QueryOptions::default()
        };
        let Outcome::Rows(r) = e.query(&mut c, "SELECT k FROM t", &o).unwrap() else {
            panic!()
        };
        seen.extend(ints(&decode(&r), 0));
        match r.paging_state {
            Some(p) => state = Some(p),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, (0..30).collect::<Vec<_>>());
    // With one node down, reads still find each key on the other replica.
    c.down = Some(1);
    for k in 0..30 {
        let Outcome::Rows(r) =
            q(&mut e, &mut c, &format!("SELECT v FROM t WHERE k = {k}")).unwrap()
        else {
            panic!()
        };
        assert_eq!(decode(&r), vec![vec![int(k)]]);
    }
    let Outcome::Rows(r) = q(
        &mut e,
        &mut c,
        "SELECT data_center, rpc_address, tokens FROM system.local WHERE key = 'local'",
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(decode(&r)[0][0], txt("dc1"));
    assert_eq!(
        r.columns[2].typ,
        ColumnType::Set(Box::new(ColumnType::Text))
    );
    let Outcome::Rows(r) = q(&mut e, &mut c, "SELECT peer FROM system.peers").unwrap() else {
        panic!()
    };
    assert_eq!(r.rows.len(), 2);
    let Outcome::Rows(r) = q(&mut e, &mut c, "SELECT * FROM system.peers_v2").unwrap() else {
        panic!()
    };
    assert!(r.rows.is_empty());
    assert_eq!(
        r.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()[..2],
        ["peer", "peer_port"]
    );
}
