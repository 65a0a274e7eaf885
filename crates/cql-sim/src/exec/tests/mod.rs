//! Engine tests: one [`Engine`] over one in-memory [`Store`] ([`Sim`]), or over a three-node
//! cluster ([`cluster`]), by area:
//! writes, reads, schema, prepared statements, errors, and property tests ([`fuzz`]).

use bytes::{BufMut, Bytes, BytesMut};
use proto::{ColumnType, CqlValue};

use super::*;
use crate::storage::Store;

mod cluster;
mod errors;
mod functions;
mod fuzz;
mod native_functions;
mod prepared;
mod reads;
mod schema;
mod writes;

const NOW: i64 = 1_700_000_000_000_000;

struct Sim {
    engine: Engine,
    store: Store,
    now: i64,
}

impl Sim {
    fn new() -> Self {
        let mut s = Self {
            engine: Engine::new(),
            store: Store::new(),
            now: NOW,
        };
        s.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        s
    }

    fn opts(&self) -> QueryOptions<'static> {
        QueryOptions {
            keyspace: Some("ks"),
            now_micros: self.now,
            ..QueryOptions::default()
        }
    }

    fn run(&mut self, q: &str) -> Result<Outcome> {
        // Every statement gets a later timestamp, as a real client clock gives.
        self.now += 1;
        let opts = self.opts();
        self.engine.query(&mut self.store, q, &opts)
    }

    fn ok(&mut self, q: &str) -> Outcome {
        match self.run(q) {
            Ok(o) => o,
            Err(e) => panic!("{q}: {e}"),
        }
    }

    fn err(&mut self, q: &str) -> CqlError {
        match self.run(q) {
            Ok(o) => panic!("{q}: expected an error, got {o:?}"),
            Err(e) => e,
        }
    }

    fn rows(&mut self, q: &str) -> Vec<Vec<Option<CqlValue>>> {
        match self.ok(q) {
            Outcome::Rows(r) => decode(&r),
            other => panic!("{q}: not rows: {other:?}"),
        }
    }
}

fn decode(r: &RowsResult) -> Vec<Vec<Option<CqlValue>>> {
    r.rows
        .iter()
        .map(|row| {
            assert_eq!(row.len(), r.columns.len());
            row.iter()
                .zip(&r.columns)
                .map(|(c, spec)| {
                    c.as_ref()
                        .map(|b| CqlValue::decode_bytes(&spec.typ, b).unwrap())
                })
                .collect()
        })
        .collect()
}

fn int(v: i32) -> Option<CqlValue> {
    Some(CqlValue::Int(v))
}

fn txt(v: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(v.into()))
}

fn ints(rows: &[Vec<Option<CqlValue>>], col: usize) -> Vec<i32> {
    rows.iter()
        .map(|r| match &r[col] {
            Some(CqlValue::Int(v)) => *v,
            other => panic!("not an int: {other:?}"),
        })
        .collect()
}

fn bv_int(v: i32) -> BoundValue {
    BoundValue::Value(Bytes::copy_from_slice(&v.to_be_bytes()))
}

fn applied(o: &Outcome) -> (bool, Vec<String>, Vec<Option<CqlValue>>) {
    let Outcome::Rows(r) = o else {
        panic!("not rows: {o:?}")
    };
    assert_eq!(r.columns[0].name, "[applied]");
    let row = decode(r).remove(0);
    let a = row[0] == Some(CqlValue::Boolean(true));
    (
        a,
        r.columns.iter().map(|c| c.name.to_string()).collect(),
        row,
    )
}
