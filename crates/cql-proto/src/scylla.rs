//! Scylla's protocol extensions (`specs/scylla_protocol_extensions.md`): the SUPPORTED keys for
//! shard awareness and other features, and the `tablets-routing-v1` custom payload.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};
use uuid::Uuid;

use crate::codec::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::string_map::{StringMap, StringMultimap};
use crate::value::encode::with_int_length;

/// `SCYLLA_SHARD`: the shard this connection is served by.
pub const SCYLLA_SHARD: &str = "SCYLLA_SHARD";
/// `SCYLLA_NR_SHARDS`: the node's number of shards.
pub const SCYLLA_NR_SHARDS: &str = "SCYLLA_NR_SHARDS";
/// `SCYLLA_PARTITIONER`: the partitioner's class name.
pub const SCYLLA_PARTITIONER: &str = "SCYLLA_PARTITIONER";
/// `SCYLLA_SHARDING_ALGORITHM`: how tokens map to shards.
pub const SCYLLA_SHARDING_ALGORITHM: &str = "SCYLLA_SHARDING_ALGORITHM";
/// `SCYLLA_SHARDING_IGNORE_MSB`: the algorithm's parameter.
pub const SCYLLA_SHARDING_IGNORE_MSB: &str = "SCYLLA_SHARDING_IGNORE_MSB";
/// `SCYLLA_SHARD_AWARE_PORT`: the shard-aware CQL port.
pub const SCYLLA_SHARD_AWARE_PORT: &str = "SCYLLA_SHARD_AWARE_PORT";
/// `SCYLLA_SHARD_AWARE_PORT_SSL`: the shard-aware CQL port with TLS.
pub const SCYLLA_SHARD_AWARE_PORT_SSL: &str = "SCYLLA_SHARD_AWARE_PORT_SSL";
/// `SCYLLA_LWT_ADD_METADATA_MARK`: LWT statements are marked in prepared metadata flags.
pub const SCYLLA_LWT_ADD_METADATA_MARK: &str = "SCYLLA_LWT_ADD_METADATA_MARK";
/// The parameter of [`SCYLLA_LWT_ADD_METADATA_MARK`] holding the flag's bit mask.
pub const LWT_OPTIMIZATION_META_BIT_MASK: &str = "LWT_OPTIMIZATION_META_BIT_MASK";
/// `SCYLLA_RATE_LIMIT_ERROR`: the server may answer with a rate-limit error.
pub const SCYLLA_RATE_LIMIT_ERROR: &str = "SCYLLA_RATE_LIMIT_ERROR";
/// The parameter of [`SCYLLA_RATE_LIMIT_ERROR`] holding the error code.
pub const ERROR_CODE: &str = "ERROR_CODE";
/// `TABLETS_ROUTING_V1`: the server sends tablet routing info in custom payloads.
pub const TABLETS_ROUTING_V1: &str = "TABLETS_ROUTING_V1";
/// `SCYLLA_USE_METADATA_ID`: result metadata ids are used in protocol v4 too.
pub const SCYLLA_USE_METADATA_ID: &str = "SCYLLA_USE_METADATA_ID";
/// The custom payload key of tablet routing info.
pub const TABLETS_ROUTING_V1_PAYLOAD_KEY: &str = "tablets-routing-v1";
/// The only sharding algorithm defined so far.
pub const BIASED_TOKEN_ROUND_ROBIN: &str = "biased-token-round-robin";
/// The partitioner class name Scylla reports for Murmur3.
pub const MURMUR3_PARTITIONER: &str = "org.apache.cassandra.dht.Murmur3Partitioner";

/// The node's sharding parameters, from a SUPPORTED response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardingInfo {
    /// The shard serving this connection.
    pub shard: u32,
    /// The node's number of shards (at least 1).
    pub nr_shards: u32,
    /// The partitioner class name.
    pub partitioner: String,
    /// The sharding algorithm, normally [`BIASED_TOKEN_ROUND_ROBIN`].
    pub algorithm: String,
    /// The algorithm's `ignore_msb` parameter.
    pub ignore_msb: u32,
    /// The shard-aware port, if the node has one.
    pub shard_aware_port: Option<u16>,
    /// The shard-aware TLS port, if the node has one.
    pub shard_aware_port_ssl: Option<u16>,
}

/// The first value of `key`, if present.
fn first<'a>(m: &'a StringMultimap, key: &str) -> Option<&'a str> {
    m.get(key).and_then(|v| v.first()).map(String::as_str)
}

/// The value of `NAME=VALUE` parameter `name` under `key`.
fn param<'a>(m: &'a StringMultimap, key: &str, name: &str) -> Option<&'a str> {
    m.get(key)?.iter().find_map(|p| {
        p.split_once('=')
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v)
    })
}

impl ShardingInfo {
    /// Reads the sharding keys of a SUPPORTED map; `None` when one is missing or malformed
    /// (including zero shards or a shard number out of range). A malformed port is ignored.
    pub fn from_supported(m: &StringMultimap) -> Option<Self> {
        let shard = first(m, SCYLLA_SHARD)?.parse().ok()?;
        let nr_shards: u32 = first(m, SCYLLA_NR_SHARDS)?.parse().ok()?;
        if nr_shards == 0 || shard >= nr_shards {
            return None;
        }
        Some(Self {
            shard,
            nr_shards,
            partitioner: first(m, SCYLLA_PARTITIONER)?.to_owned(),
            algorithm: first(m, SCYLLA_SHARDING_ALGORITHM)?.to_owned(),
            ignore_msb: first(m, SCYLLA_SHARDING_IGNORE_MSB)?.parse().ok()?,
            shard_aware_port: first(m, SCYLLA_SHARD_AWARE_PORT).and_then(|p| p.parse().ok()),
            shard_aware_port_ssl: first(m, SCYLLA_SHARD_AWARE_PORT_SSL)
                .and_then(|p| p.parse().ok()),
        })
    }

    /// Adds this info's keys to a SUPPORTED map (as a server advertises them).
    pub fn add_to_supported(&self, m: &mut StringMultimap) {
        let mut put = |k: &str, v: String| {
            m.insert(k.to_owned(), vec![v]);
        };
        put(SCYLLA_SHARD, self.shard.to_string());
        put(SCYLLA_NR_SHARDS, self.nr_shards.to_string());
        put(SCYLLA_PARTITIONER, self.partitioner.clone());
        put(SCYLLA_SHARDING_ALGORITHM, self.algorithm.clone());
        put(SCYLLA_SHARDING_IGNORE_MSB, self.ignore_msb.to_string());
        if let Some(p) = self.shard_aware_port {
            put(SCYLLA_SHARD_AWARE_PORT, p.to_string());
        }
        if let Some(p) = self.shard_aware_port_ssl {
            put(SCYLLA_SHARD_AWARE_PORT_SSL, p.to_string());
        }
    }

    /// The shard owning `token` on this node (see [`crate::token::shard_of`]).
    pub fn shard_of(&self, token: crate::token::Token) -> u32 {
        crate::token::shard_of(token, self.nr_shards, self.ignore_msb)
    }
}

/// Every Scylla extension found in a SUPPORTED map; keys this crate does not know are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScyllaExtensions {
    /// Shard awareness, when all its keys are present and valid.
    pub sharding: Option<ShardingInfo>,
    /// The LWT flag's bit mask (`SCYLLA_LWT_ADD_METADATA_MARK`).
    pub lwt_optimization_meta_bit_mask: Option<u32>,
    /// The rate-limit error code (`SCYLLA_RATE_LIMIT_ERROR`).
    pub rate_limit_error_code: Option<i32>,
    /// `TABLETS_ROUTING_V1` is offered.
    pub tablets_routing_v1: bool,
    /// `SCYLLA_USE_METADATA_ID` is offered.
    pub use_metadata_id: bool,
    /// Every other key of the map (including Cassandra's own, such as `COMPRESSION`), as sent.
    pub unknown: StringMultimap,
}

const KNOWN_KEYS: [&str; 11] = [
    SCYLLA_SHARD,
    SCYLLA_NR_SHARDS,
    SCYLLA_PARTITIONER,
    SCYLLA_SHARDING_ALGORITHM,
    SCYLLA_SHARDING_IGNORE_MSB,
    SCYLLA_SHARD_AWARE_PORT,
    SCYLLA_SHARD_AWARE_PORT_SSL,
    SCYLLA_LWT_ADD_METADATA_MARK,
    SCYLLA_RATE_LIMIT_ERROR,
    TABLETS_ROUTING_V1,
    SCYLLA_USE_METADATA_ID,
];

impl ScyllaExtensions {
    /// Parses a SUPPORTED map. Never fails: a malformed extension is treated as absent (and its
    /// key is kept in `unknown`).
    pub fn from_supported(m: &StringMultimap) -> Self {
        let lwt = param(
            m,
            SCYLLA_LWT_ADD_METADATA_MARK,
            LWT_OPTIMIZATION_META_BIT_MASK,
        )
        .and_then(|v| v.parse().ok());
        let rate = param(m, SCYLLA_RATE_LIMIT_ERROR, ERROR_CODE).and_then(|v| v.parse().ok());
        let sharding = ShardingInfo::from_supported(m);
        let parsed = |k: &str| match k {
            SCYLLA_LWT_ADD_METADATA_MARK => lwt.is_some(),
            SCYLLA_RATE_LIMIT_ERROR => rate.is_some(),
            TABLETS_ROUTING_V1 | SCYLLA_USE_METADATA_ID => true,
            k => sharding.is_some() && KNOWN_KEYS.contains(&k),
        };
        let unknown = m
            .iter()
            .filter(|(k, _)| !parsed(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Self {
            sharding,
            lwt_optimization_meta_bit_mask: lwt,
            rate_limit_error_code: rate,
            tablets_routing_v1: m.contains_key(TABLETS_ROUTING_V1),
            use_metadata_id: m.contains_key(SCYLLA_USE_METADATA_ID),
            unknown,
        }
    }

    /// The SUPPORTED map a server advertising these extensions sends (unknown keys included).
    pub fn to_supported(&self) -> StringMultimap {
        let mut m = self.unknown.clone();
        if let Some(s) = &self.sharding {
            s.add_to_supported(&mut m);
        }
        if let Some(mask) = self.lwt_optimization_meta_bit_mask {
            m.insert(
                SCYLLA_LWT_ADD_METADATA_MARK.to_owned(),
                vec![format!("{LWT_OPTIMIZATION_META_BIT_MASK}={mask}")],
            );
        }
        if let Some(code) = self.rate_limit_error_code {
            m.insert(
                SCYLLA_RATE_LIMIT_ERROR.to_owned(),
                vec![format!("{ERROR_CODE}={code}")],
            );
        }
        if self.tablets_routing_v1 {
            m.insert(TABLETS_ROUTING_V1.to_owned(), Vec::new());
        }
        if self.use_metadata_id {
            m.insert(SCYLLA_USE_METADATA_ID.to_owned(), Vec::new());
        }
        m
    }

    /// The STARTUP options a client sends to enable the offered extensions it understands.
    pub fn startup_options(&self) -> StringMap {
        let mut m = StringMap::new();
        if let Some(mask) = self.lwt_optimization_meta_bit_mask {
            m.insert(
                SCYLLA_LWT_ADD_METADATA_MARK.to_owned(),
                format!("{LWT_OPTIMIZATION_META_BIT_MASK}={mask}"),
            );
        }
        if self.rate_limit_error_code.is_some() {
            m.insert(SCYLLA_RATE_LIMIT_ERROR.to_owned(), String::new());
        }
        if self.tablets_routing_v1 {
            m.insert(TABLETS_ROUTING_V1.to_owned(), String::new());
        }
        if self.use_metadata_id {
            m.insert(SCYLLA_USE_METADATA_ID.to_owned(), String::new());
        }
        m
    }
}

/// A tablet's routing info from the `tablets-routing-v1` custom payload: the token range
/// `(first_token, last_token]` and its replicas as `(host id, shard)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabletRoutingInfo {
    /// The exclusive start of the range.
    pub first_token: i64,
    /// The inclusive end of the range.
    pub last_token: i64,
    /// The replicas: host id and shard.
    pub replicas: Vec<(Uuid, u32)>,
}

fn cell<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], DecodeError> {
    r.read_bytes(what)?
        .ok_or_else(|| DecodeError::invalid(what, "unexpected null"))
}

fn long(b: &[u8], what: &'static str) -> Result<i64, DecodeError> {
    Ok(i64::from_be_bytes(crate::value::decode::fixed(b, what)?))
}

impl TabletRoutingInfo {
    /// Finds and decodes the [`TABLETS_ROUTING_V1_PAYLOAD_KEY`] entry of a response's custom
    /// payload; `None` when there is none (or it is null).
    pub fn from_custom_payload(
        payload: &HashMap<String, Option<Bytes>>,
    ) -> Option<Result<Self, DecodeError>> {
        let bytes = payload.get(TABLETS_ROUTING_V1_PAYLOAD_KEY)?.as_ref()?;
        Some(Self::decode(bytes))
    }

    /// Decodes the payload value, a
    /// `tuple<bigint, bigint, list<tuple<uuid, int>>>`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let first_token = long(cell(&mut r, "tablet first token")?, "tablet first token")?;
        let last_token = long(cell(&mut r, "tablet last token")?, "tablet last token")?;
        let mut list = Reader::new(cell(&mut r, "tablet replicas")?);
        r.finish("tablet routing info")?;
        let n = list.read_len("tablet replica count")?;
        let mut replicas = Vec::with_capacity(n.min(list.remaining() / 32));
        for _ in 0..n {
            let mut t = Reader::new(cell(&mut list, "tablet replica")?);
            let host = Uuid::from_bytes(crate::value::decode::fixed(
                cell(&mut t, "replica host id")?,
                "replica host id",
            )?);
            let shard = i32::from_be_bytes(crate::value::decode::fixed(
                cell(&mut t, "replica shard")?,
                "replica shard",
            )?);
            t.finish("tablet replica")?;
            let shard = u32::try_from(shard)
                .map_err(|_| DecodeError::invalid("replica shard", shard.to_string()))?;
            replicas.push((host, shard));
        }
        list.finish("tablet replicas")?;
        Ok(Self {
            first_token,
            last_token,
            replicas,
        })
    }

    /// Encodes the payload value (the bytes stored under [`TABLETS_ROUTING_V1_PAYLOAD_KEY`]).
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_i32(8);
        buf.put_i64(self.first_token);
        buf.put_i32(8);
        buf.put_i64(self.last_token);
        with_int_length(buf, |buf| {
            crate::value::encode::write_count(buf, "tablet replicas", self.replicas.len())?;
            for (host, shard) in &self.replicas {
                let shard = i32::try_from(*shard)
                    .map_err(|_| EncodeError::Invalid(format!("shard {shard} exceeds an int")))?;
                buf.put_i32(28);
                buf.put_i32(16);
                buf.put_slice(host.as_bytes());
                buf.put_i32(4);
                buf.put_i32(shard);
            }
            Ok(())
        })
    }
}
