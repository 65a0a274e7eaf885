//! Streaming after a topology change, in bounded steps: a node joining or leaving the ring
//! gets its data while the cluster keeps serving.
//!
//! As in Cassandra's bootstrap and decommission, the change is first *pending*: reads and
//! writes keep using the current ring, every write also reaches the replicas the pending ring
//! adds ([`DataPlane::pending_replicas`]), and the stream copies what each store holds to the
//! replicas the pending ring gives it, one [`Stream::step`] at a time under the data lock.
//! [`Stream::finish`] then makes the pending ring current. A write that lands while the
//! stream runs is therefore on every new replica whether its partition was streamed before
//! or after it, and copies merge cell by cell ([`crate::storage::Partition::merge`]), so
//! neither the stream nor the write overwrites the other's newer cells.

use std::collections::Bound;

use uuid::Uuid;

use super::data_plane::{DataPlane, Pending};
use crate::server::topology::{NodeTopo, Placement, Ring};
use crate::storage::{Partition, PartitionKey};

/// How many rows one [`Stream::step`] looks at, at most (plus the rest of one partition):
/// small enough that the data lock is held for a few milliseconds at a time.
pub(crate) const STEP_ROWS: usize = 2_000;

/// A stream in progress: the ring it moves data to and where its next step resumes.
#[derive(Debug)]
pub(crate) struct Stream {
    /// Which pending ring this stream fills; a later change supersedes it.
    generation: u64,
    /// The replicated tables to stream, with their keyspace, in a fixed order.
    tables: Vec<(Uuid, String)>,
    /// The store being read, the index into `tables`, and the last partition done there.
    source: usize,
    table: usize,
    after: Option<PartitionKey>,
}

impl Stream {
    /// Starts streaming towards the ring of `members`: from now on writes also reach that
    /// ring's replicas. Supersedes a stream still running (its [`Stream::finish`] does nothing).
    pub(crate) fn begin(data: &mut DataPlane, members: Vec<NodeTopo>) -> Self {
        data.refresh_placements();
        let generation = data.pending.as_ref().map_or(0, |p| p.generation + 1);
        data.pending = Some(Pending {
            ring: Ring::new(members),
            generation,
        });
        let mut tables: Vec<(Uuid, String)> = data
            .engine
            .catalog
            .keyspaces()
            .iter()
            .flat_map(|(name, ks)| ks.tables.values().map(move |t| (t.id, name.clone())))
            .collect();
        tables.sort();
        Self {
            generation,
            tables,
            source: 0,
            table: 0,
            after: None,
        }
    }

    /// Streams the next partitions (about [`STEP_ROWS`] rows); true when every store has been
    /// streamed.
    pub(crate) fn step(&mut self, data: &mut DataPlane) -> bool {
        data.refresh_placements();
        let Some(pending) = data
            .pending
            .as_ref()
            .filter(|p| p.generation == self.generation)
        else {
            return true;
        };
        let mut copies: Vec<(usize, Uuid, PartitionKey, Partition)> = Vec::new();
        let mut rows = 0;
        let done = loop {
            if rows >= STEP_ROWS {
                break false;
            }
            let Some(store) = data.stores.get(self.source) else {
                break true;
            };
            let Some((table_id, keyspace)) = self.tables.get(self.table) else {
                self.source += 1;
                self.table = 0;
                self.after = None;
                continue;
            };
            let placement = data.placements.get(keyspace);
            // Tablets are placed apart from the ring: they do not move with it.
            let (Some(placement), Some(stored), None) = (
                placement.filter(|p| !matches!(p, Placement::Local)),
                store.tables.get(table_id),
                data.tablets.get(*table_id),
            ) else {
                self.next_table();
                continue;
            };
            let partitions = &stored.partitions;
            let from = self
                .after
                .as_ref()
                .map_or(Bound::Unbounded, Bound::Excluded);
            let mut finished_table = true;
            for (key, partition) in partitions.range((from, Bound::Unbounded)) {
                if rows >= STEP_ROWS {
                    finished_table = false;
                    break;
                }
                rows += 1 + partition.rows.len();
                self.after = Some(key.clone());
                for r in pending.ring.replicas(key.token, placement, self.source) {
                    if r == self.source {
                        continue;
                    }
                    let held = data
                        .stores
                        .get(r)
                        .and_then(|s| s.tables.get(table_id))
                        .and_then(|t| t.partitions.get(key));
                    if held != Some(partition) {
                        copies.push((r, *table_id, key.clone(), partition.clone()));
                    }
                }
            }
            if finished_table {
                self.next_table();
            }
        };
        for (r, table_id, key, partition) in copies {
            if let Some(store) = data.stores.get_mut(r) {
                let partitions = &mut store.tables.entry(table_id).or_default().partitions;
                match partitions.get_mut(&key) {
                    Some(held) => held.merge(partition),
                    None => {
                        partitions.insert(key, partition);
                    }
                }
            }
        }
        done
    }

    /// Makes the pending ring current, unless a later change superseded this stream.
    pub(crate) fn finish(self, data: &mut DataPlane) {
        if data
            .pending
            .as_ref()
            .is_some_and(|p| p.generation == self.generation)
            && let Some(pending) = data.pending.take()
        {
            data.ring = pending.ring;
            data.placements_gen = None;
            data.refresh_placements();
        }
    }

    fn next_table(&mut self) {
        self.table += 1;
        self.after = None;
    }
}
