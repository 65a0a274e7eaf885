//! Table options (`CREATE` / `ALTER TABLE ... WITH`) as Cassandra 4 validates, normalises and
//! stores them in `system_schema.tables`: defaults, fully qualified compaction and compression
//! classes, the speculative retry formats, and the server's errors for unknown or bad options.

use std::collections::BTreeMap;

use super::rate_limit::{RATE_LIMIT_OPTION, RateLimit};
use crate::cql::ast::Term;
use crate::error::{CqlError, Result};

/// The largest TTL a server accepts (20 years), as for `USING TTL`.
pub const MAX_TTL: i32 = 630_720_000;

/// Options accepted and ignored, as Cassandra does with its obsolete keywords (and Scylla's own
/// options, which do not show in `system_schema.tables`).
const IGNORED: [&str; 9] = [
    "dclocal_read_repair_chance",
    "read_repair_chance",
    "index_interval",
    "replicate_on_write",
    "populate_io_cache_on_flush",
    "memtable",
    "paxos_grace_seconds",
    "tombstone_gc",
    "synchronous_updates",
];

const COMPACTION_PACKAGE: &str = "org.apache.cassandra.db.compaction.";
const COMPACTION_CLASSES: [&str; 6] = [
    "SizeTieredCompactionStrategy",
    "LeveledCompactionStrategy",
    "TimeWindowCompactionStrategy",
    "DateTieredCompactionStrategy",
    "UnifiedCompactionStrategy",
    "IncrementalCompactionStrategy",
];
const COMPRESSION_PACKAGE: &str = "org.apache.cassandra.io.compress.";
const COMPRESSION_CLASSES: [&str; 5] = [
    "LZ4Compressor",
    "SnappyCompressor",
    "DeflateCompressor",
    "ZstdCompressor",
    "NoopCompressor",
];

/// A table's options with the values `system_schema.tables` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct TableParams {
    /// `additional_write_policy` (`99p`).
    pub additional_write_policy: String,
    /// `bloom_filter_fp_chance` (0.01).
    pub bloom_filter_fp_chance: f64,
    /// `caching` (`keys`, `rows_per_partition`).
    pub caching: BTreeMap<String, String>,
    /// `cdc` (false).
    pub cdc: bool,
    /// `comment` (empty).
    pub comment: String,
    /// `compaction`, `class` fully qualified.
    pub compaction: BTreeMap<String, String>,
    /// `compression`, `class` fully qualified.
    pub compression: BTreeMap<String, String>,
    /// `crc_check_chance` (1.0).
    pub crc_check_chance: f64,
    /// `default_time_to_live` in seconds (0: none).
    pub default_time_to_live: i32,
    /// `extensions`.
    pub extensions: BTreeMap<String, Vec<u8>>,
    /// `gc_grace_seconds` (864000).
    pub gc_grace_seconds: i32,
    /// `max_index_interval` (2048).
    pub max_index_interval: i32,
    /// `memtable_flush_period_in_ms` (0).
    pub memtable_flush_period_in_ms: i32,
    /// `min_index_interval` (128).
    pub min_index_interval: i32,
    /// `read_repair` (`BLOCKING`).
    pub read_repair: String,
    /// `speculative_retry` (`99p`).
    pub speculative_retry: String,
    /// Scylla's `per_partition_rate_limit` (also in `extensions`, as Scylla stores it).
    pub rate_limit: RateLimit,
}

impl Default for TableParams {
    fn default() -> Self {
        let pairs = |p: &[(&str, &str)]| -> BTreeMap<String, String> {
            p.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        Self {
            additional_write_policy: "99p".into(),
            bloom_filter_fp_chance: 0.01,
            caching: pairs(&[("keys", "ALL"), ("rows_per_partition", "NONE")]),
            cdc: false,
            comment: String::new(),
            compaction: pairs(&[
                (
                    "class",
                    "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
                ),
                ("max_threshold", "32"),
                ("min_threshold", "4"),
            ]),
            compression: pairs(&[
                ("chunk_length_in_kb", "16"),
                ("class", "org.apache.cassandra.io.compress.LZ4Compressor"),
            ]),
            crc_check_chance: 1.0,
            default_time_to_live: 0,
            extensions: BTreeMap::new(),
            gc_grace_seconds: 864_000,
            max_index_interval: 2048,
            memtable_flush_period_in_ms: 0,
            min_index_interval: 128,
            read_repair: "BLOCKING".into(),
            speculative_retry: "99p".into(),
            rate_limit: RateLimit::default(),
        }
    }
}

impl TableParams {
    /// Applies `WITH` options over these (the defaults for CREATE, the table's for ALTER) and
    /// validates the result as Cassandra does: an unknown option is a SyntaxException, a bad
    /// value a ConfigurationException.
    pub fn apply(&mut self, options: &[(String, Term)]) -> Result<()> {
        for (name, v) in options {
            let name = name.as_str();
            match name {
                "additional_write_policy" => {
                    self.additional_write_policy = speculative(name, &string(name, v)?)?;
                }
                "bloom_filter_fp_chance" => self.bloom_filter_fp_chance = double(name, v)?,
                "caching" => self.caching = caching(&map(name, v)?)?,
                // Cassandra's form is a boolean, Scylla's a map with `enabled`.
                "cdc" => {
                    self.cdc = match v {
                        Term::Map(_) => map(name, v)?
                            .get("enabled")
                            .is_some_and(|e| e.eq_ignore_ascii_case("true")),
                        _ => boolean(name, v)?,
                    }
                }
                "comment" => self.comment = string(name, v)?,
                "compaction" => self.compaction = compaction(map(name, v)?)?,
                "compression" => self.compression = compression(map(name, v)?)?,
                "crc_check_chance" => self.crc_check_chance = double(name, v)?,
                "default_time_to_live" => self.default_time_to_live = int(name, v)?,
                "extensions" => self.extensions = extensions(name, v)?,
                "gc_grace_seconds" => self.gc_grace_seconds = int(name, v)?,
                "max_index_interval" => self.max_index_interval = int(name, v)?,
                "memtable_flush_period_in_ms" => self.memtable_flush_period_in_ms = int(name, v)?,
                "min_index_interval" => self.min_index_interval = int(name, v)?,
                "read_repair" => self.read_repair = read_repair(&string(name, v)?)?,
                "speculative_retry" => {
                    self.speculative_retry = speculative(name, &string(name, v)?)?;
                }
                RATE_LIMIT_OPTION => {
                    self.rate_limit = RateLimit::from_options(map(name, v)?)?;
                    if self.rate_limit.is_unlimited() {
                        self.extensions.remove(RATE_LIMIT_OPTION);
                    } else {
                        self.extensions
                            .insert(RATE_LIMIT_OPTION.to_owned(), self.rate_limit.to_extension());
                    }
                }
                n if IGNORED.contains(&n) => {}
                other => return Err(CqlError::Syntax(format!("Unknown property '{other}'"))),
            }
        }
        self.validate()
    }

    fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(CqlError::Config(m));
        if !(self.bloom_filter_fp_chance > 0.0 && self.bloom_filter_fp_chance <= 1.0) {
            return fail(format!(
                "bloom_filter_fp_chance must be larger than 0.0 and less than or equal to 1.0 (got {})",
                self.bloom_filter_fp_chance
            ));
        }
        if !(0.0..=1.0).contains(&self.crc_check_chance) {
            return fail(format!(
                "crc_check_chance must be larger than or equal to 0 and smaller than or equal to 1.0 (got {})",
                self.crc_check_chance
            ));
        }
        for (name, v) in [
            ("default_time_to_live", self.default_time_to_live),
            ("gc_grace_seconds", self.gc_grace_seconds),
            (
                "memtable_flush_period_in_ms",
                self.memtable_flush_period_in_ms,
            ),
        ] {
            if v < 0 {
                return fail(format!(
                    "{name} must be greater than or equal to 0 (got {v})"
                ));
            }
        }
        if self.default_time_to_live > MAX_TTL {
            return fail(format!(
                "default_time_to_live must be less than or equal to {MAX_TTL} (got {})",
                self.default_time_to_live
            ));
        }
        if self.min_index_interval < 1 {
            return fail(format!(
                "min_index_interval must be greater than or equal to 1 (got {})",
                self.min_index_interval
            ));
        }
        if self.max_index_interval < self.min_index_interval {
            return fail(format!(
                "max_index_interval must be greater than or equal to min_index_interval ({}) (got {})",
                self.min_index_interval, self.max_index_interval
            ));
        }
        if self.cdc {
            // No CDC log is kept, so enabling it is refused rather than accepted silently
            // (as a server with `cdc_enabled: false` refuses it).
            return Err(CqlError::invalid(
                "Cannot create or alter a table with cdc enabled: CDC is disabled on this server (cdc_enabled: false)",
            ));
        }
        Ok(())
    }
}

fn scalar(t: &Term) -> Option<String> {
    match t {
        Term::Str(s) | Term::Int(s) | Term::Float(s) => Some(s.clone()),
        Term::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string(name: &str, t: &Term) -> Result<String> {
    scalar(t).ok_or_else(|| {
        CqlError::Syntax(format!(
            "Invalid value for property '{name}'. It should be a string"
        ))
    })
}

fn map(name: &str, t: &Term) -> Result<BTreeMap<String, String>> {
    let Term::Map(entries) = t else {
        return Err(CqlError::Syntax(format!(
            "Invalid value for property '{name}'. It should be a map."
        )));
    };
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        match (scalar(k), scalar(v)) {
            (Some(k), Some(v)) => {
                out.insert(k, v);
            }
            _ => {
                return Err(CqlError::Syntax(format!(
                    "Invalid value for property '{name}'. It should be a map of strings."
                )));
            }
        }
    }
    Ok(out)
}

fn double(name: &str, t: &Term) -> Result<f64> {
    let s = string(name, t)?;
    s.trim()
        .parse()
        .map_err(|_| CqlError::Syntax(format!("Invalid double value {s} for '{name}'")))
}

fn int(name: &str, t: &Term) -> Result<i32> {
    let s = string(name, t)?;
    s.trim()
        .parse()
        .map_err(|_| CqlError::Syntax(format!("Invalid integer value {s} for '{name}'")))
}

fn boolean(name: &str, t: &Term) -> Result<bool> {
    let s = string(name, t)?;
    match s.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(CqlError::Syntax(format!(
            "Invalid boolean value {s} for '{name}'"
        ))),
    }
}

fn caching(opts: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let mut out = TableParams::default().caching;
    for (k, v) in opts {
        let v = v.to_ascii_uppercase();
        let ok = match k.as_str() {
            "keys" => v == "ALL" || v == "NONE",
            "rows_per_partition" => v == "ALL" || v == "NONE" || v.parse::<u32>().is_ok(),
            _ => {
                return Err(CqlError::Config(format!(
                    "Invalid caching sub-options [{k}]: only \"keys\" and \"rows_per_partition\" are allowed"
                )));
            }
        };
        if !ok {
            return Err(CqlError::Config(format!(
                "Invalid value '{v}' for caching sub-option '{k}'"
            )));
        }
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// A class given by short or full name, resolved against the package of the built-in ones.
fn qualify(class: &str, package: &str, known: &[&str]) -> Option<String> {
    let short = class.strip_prefix(package).unwrap_or(class);
    known
        .contains(&short)
        .then(|| format!("{package}{short}"))
        // Another package: a custom class the server would load; keep it as given.
        .or_else(|| (class.contains('.') && !class.starts_with(package)).then(|| class.to_owned()))
}

fn compaction(mut opts: BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let class = opts.remove("class").ok_or_else(|| {
        CqlError::Config("Missing sub-option 'class' for the 'compaction' option.".into())
    })?;
    let full = qualify(&class, COMPACTION_PACKAGE, &COMPACTION_CLASSES).ok_or_else(|| {
        CqlError::Config(format!(
            "Unable to find compaction strategy class '{class}'"
        ))
    })?;
    if full.starts_with(COMPACTION_PACKAGE) {
        opts.entry("max_threshold".into())
            .or_insert_with(|| "32".into());
        opts.entry("min_threshold".into())
            .or_insert_with(|| "4".into());
    }
    opts.insert("class".into(), full);
    Ok(opts)
}

fn compression(mut opts: BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    if opts
        .get("enabled")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    {
        return Ok(BTreeMap::from([("enabled".to_owned(), "false".to_owned())]));
    }
    opts.remove("enabled");
    let class = opts
        .remove("class")
        .or_else(|| opts.remove("sstable_compression"))
        .ok_or_else(|| {
            CqlError::Config("Missing sub-option 'class' for the 'compression' option.".into())
        })?;
    let full = qualify(&class, COMPRESSION_PACKAGE, &COMPRESSION_CLASSES).ok_or_else(|| {
        CqlError::Config(format!(
            "Could not create Compression for type {COMPRESSION_PACKAGE}{class}"
        ))
    })?;
    let chunk = opts
        .remove("chunk_length_in_kb")
        .or_else(|| opts.remove("chunk_length_kb"))
        .unwrap_or_else(|| "16".into());
    match chunk.parse::<u32>() {
        Ok(n) if n > 0 && n.is_power_of_two() => {}
        _ => {
            return Err(CqlError::Config(format!(
                "chunk_length_in_kb must be a power of 2, got {chunk}"
            )));
        }
    }
    opts.insert("chunk_length_in_kb".into(), chunk);
    opts.insert("class".into(), full);
    Ok(opts)
}

fn extensions(name: &str, t: &Term) -> Result<BTreeMap<String, Vec<u8>>> {
    let Term::Map(entries) = t else {
        return Err(CqlError::Syntax(format!(
            "Invalid value for property '{name}'. It should be a map."
        )));
    };
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        let key = scalar(k)
            .ok_or_else(|| CqlError::Syntax(format!("Invalid value for property '{name}'")))?;
        let bytes = match v {
            Term::Blob(b) => b.clone(),
            other => string(name, other)?.into_bytes(),
        };
        out.insert(key, bytes);
    }
    Ok(out)
}

fn read_repair(v: &str) -> Result<String> {
    let u = v.to_ascii_uppercase();
    if u == "BLOCKING" || u == "NONE" {
        Ok(u)
    } else {
        Err(CqlError::Config(format!(
            "Invalid value {v} for option 'read_repair'"
        )))
    }
}

/// A speculative retry policy in the form Cassandra 4 prints it: `99p`, `50ms`, `ALWAYS`,
/// `NEVER`, `MIN(99p,50ms)`.
fn speculative(name: &str, v: &str) -> Result<String> {
    let bad = || CqlError::Config(format!("Invalid value {v} for option '{name}'"));
    let u = v.trim().to_ascii_uppercase();
    let number = |s: &str| -> Option<String> {
        let x: f64 = s.trim().parse().ok()?;
        (x >= 0.0 && x.is_finite()).then(|| {
            let t = format!("{x:.4}");
            t.trim_end_matches('0').trim_end_matches('.').to_owned()
        })
    };
    let one = |s: &str| -> Option<String> {
        if let Some(p) = s.strip_suffix("PERCENTILE").or_else(|| s.strip_suffix('P')) {
            let n = number(p)?;
            let x: f64 = n.parse().ok()?;
            return (x < 100.0).then(|| format!("{n}p"));
        }
        if let Some(ms) = s.strip_suffix("MS") {
            let x: f64 = ms.trim().parse().ok()?;
            return (x >= 0.0).then(|| format!("{}ms", x as u64));
        }
        None
    };
    match u.as_str() {
        "ALWAYS" => return Ok("ALWAYS".into()),
        "NONE" | "NEVER" => return Ok("NEVER".into()),
        _ => {}
    }
    for f in ["MIN", "MAX"] {
        if let Some(inner) = u
            .strip_prefix(f)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
        {
            let (a, b) = inner.split_once(',').ok_or_else(bad)?;
            let (a, b) = (
                one(a.trim()).ok_or_else(bad)?,
                one(b.trim()).ok_or_else(bad)?,
            );
            return Ok(format!("{f}({a},{b})"));
        }
    }
    one(&u).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Term {
        Term::Str(v.into())
    }

    fn m(pairs: &[(&str, &str)]) -> Term {
        Term::Map(pairs.iter().map(|(k, v)| (s(k), s(v))).collect())
    }

    #[test]
    fn options_are_normalised_as_cassandra_stores_them() {
        let mut p = TableParams::default();
        p.apply(&[
            (
                "compaction".into(),
                m(&[
                    ("class", "LeveledCompactionStrategy"),
                    ("sstable_size_in_mb", "160"),
                ]),
            ),
            ("compression".into(), m(&[("class", "ZstdCompressor")])),
            ("caching".into(), m(&[("keys", "none")])),
            ("speculative_retry".into(), s("95PERCENTILE")),
            ("additional_write_policy".into(), s("min(99p, 10ms)")),
            ("bloom_filter_fp_chance".into(), Term::Float("0.1".into())),
            ("read_repair_chance".into(), Term::Float("0.2".into())),
        ])
        .unwrap();
        assert_eq!(
            p.compaction.get("class").map(String::as_str),
            Some("org.apache.cassandra.db.compaction.LeveledCompactionStrategy")
        );
        assert_eq!(
            p.compaction.get("min_threshold").map(String::as_str),
            Some("4")
        );
        assert_eq!(
            p.compaction.get("sstable_size_in_mb").map(String::as_str),
            Some("160")
        );
        assert_eq!(
            p.compression.get("class").map(String::as_str),
            Some("org.apache.cassandra.io.compress.ZstdCompressor")
        );
        assert_eq!(
            p.compression.get("chunk_length_in_kb").map(String::as_str),
            Some("16")
        );
        assert_eq!(p.caching.get("keys").map(String::as_str), Some("NONE"));
        assert_eq!(
            p.caching.get("rows_per_partition").map(String::as_str),
            Some("NONE")
        );
        assert_eq!(p.speculative_retry, "95p");
        assert_eq!(p.additional_write_policy, "MIN(99p,10ms)");
        assert!((p.bloom_filter_fp_chance - 0.1).abs() < 1e-12);
    }

    #[test]
    fn unknown_and_bad_options_get_the_servers_errors() {
        let err = |o: Vec<(String, Term)>| TableParams::default().apply(&o).unwrap_err();
        assert!(
            matches!(err(vec![("foo".into(), s("1"))]), CqlError::Syntax(m) if m == "Unknown property 'foo'")
        );
        assert!(matches!(
            err(vec![("gc_grace_seconds".into(), Term::Int("-1".into()))]),
            CqlError::Config(_)
        ));
        assert!(matches!(
            err(vec![("compaction".into(), m(&[("min_threshold", "2")]))]),
            CqlError::Config(_)
        ));
        assert!(matches!(
            err(vec![(
                "compaction".into(),
                m(&[("class", "NoSuchStrategy")])
            )]),
            CqlError::Config(_)
        ));
        assert!(matches!(
            err(vec![("caching".into(), s("all"))]),
            CqlError::Syntax(_)
        ));
        assert!(matches!(
            err(vec![("speculative_retry".into(), s("sometimes"))]),
            CqlError::Config(_)
        ));
        assert!(matches!(
            err(vec![("cdc".into(), Term::Bool(true))]),
            CqlError::Invalid(_)
        ));
    }
}
