//! `SELECT JSON` and `INSERT JSON`: a small JSON reader and writer, typed by the columns.

use std::fmt::Write as _;

use proto::{ColumnType, CqlValue};

use crate::cql::ast::Term;
use crate::error::{CqlError, Result};

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number as written.
    Number(String),
    Str(String),
    Array(Vec<Self>),
    Object(Vec<(String, Self)>),
}

struct JsonReader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl JsonReader<'_> {
    fn err(&self, what: &str) -> CqlError {
        CqlError::invalid(format!(
            "Could not decode JSON string: {what} at offset {}",
            self.pos
        ))
    }

    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json> {
        if depth > 64 {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        let rest = &self.s[self.pos..];
        for (lit, v) in [
            ("null", Json::Null),
            ("true", Json::Bool(true)),
            ("false", Json::Bool(false)),
        ] {
            if rest.starts_with(lit.as_bytes()) {
                self.pos += lit.len();
                return Ok(v);
            }
        }
        match rest.first() {
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Ok(Json::Array(items));
                    }
                    if !self.eat(b',') {
                        return Err(self.err("expected ',' or ']'"));
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.eat(b'}') {
                    return Ok(Json::Object(items));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    items.push((k, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Ok(Json::Object(items));
                    }
                    if !self.eat(b',') {
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
                {
                    self.pos += 1;
                }
                let n = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                Ok(Json::Number(n))
            }
            _ => Err(self.err("unexpected character")),
        }
    }

    fn string(&mut self) -> Result<String> {
        if self.s.get(self.pos) != Some(&b'"') {
            return Err(self.err("expected a string"));
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self
                                .s
                                .get(self.pos..self.pos + 4)
                                .ok_or_else(|| self.err("bad \\u escape"))?;
                            let code = u32::from_str_radix(&String::from_utf8_lossy(hex), 16)
                                .map_err(|_| self.err("bad \\u escape"))?;
                            self.pos += 4;
                            let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"))
    }
}

/// Parses a JSON document.
pub(crate) fn parse(s: &str) -> Result<Json> {
    let mut r = JsonReader {
        s: s.as_bytes(),
        pos: 0,
    };
    let v = r.value(0)?;
    r.ws();
    if r.pos != s.len() {
        return Err(r.err("trailing characters"));
    }
    Ok(v)
}

fn bad(col: &str, typ: &ColumnType) -> CqlError {
    CqlError::invalid(format!(
        "Error decoding JSON value for {col}: value is not a valid {typ}"
    ))
}

/// A JSON value as a literal term of `typ` (then converted like any CQL literal).
pub(crate) fn to_term(j: &Json, typ: &ColumnType, col: &str) -> Result<Term> {
    use ColumnType as T;
    Ok(match (j, typ) {
        (Json::Null, _) => Term::Null,
        (Json::Bool(b), T::Boolean) => Term::Bool(*b),
        (Json::Str(s), T::Boolean) => Term::Bool(s.eq_ignore_ascii_case("true")),
        (Json::Number(n), _)
        | (
            Json::Str(n),
            T::TinyInt
            | T::SmallInt
            | T::Int
            | T::BigInt
            | T::Counter
            | T::Varint
            | T::Decimal
            | T::Float
            | T::Double,
        ) => {
            if n.contains(['.', 'e', 'E']) {
                Term::Float(n.clone())
            } else {
                Term::Int(n.clone())
            }
        }
        (Json::Str(s), T::Blob) => {
            let hex = s.strip_prefix("0x").ok_or_else(|| bad(col, typ))?;
            if hex.len() % 2 != 0 {
                return Err(bad(col, typ));
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| bad(col, typ))?;
            Term::Blob(bytes)
        }
        (Json::Str(s), _) => Term::Str(s.clone()),
        (Json::Array(items), T::List(e) | T::Vector(e, _)) => Term::List(
            items
                .iter()
                .map(|i| to_term(i, e, col))
                .collect::<Result<_>>()?,
        ),
        (Json::Array(items), T::Set(e)) => Term::Set(
            items
                .iter()
                .map(|i| to_term(i, e, col))
                .collect::<Result<_>>()?,
        ),
        (Json::Array(items), T::Tuple(ts)) => Term::Tuple(
            items
                .iter()
                .zip(ts)
                .map(|(i, t)| to_term(i, t, col))
                .collect::<Result<_>>()?,
        ),
        (Json::Object(entries), T::Map(k, v)) => Term::Map(
            entries
                .iter()
                .map(|(key, val)| {
                    let kj = match **k {
                        T::Text | T::Ascii => Json::Str(key.clone()),
                        _ => parse(key).unwrap_or_else(|_| Json::Str(key.clone())),
                    };
                    Ok((to_term(&kj, k, col)?, to_term(val, v, col)?))
                })
                .collect::<Result<_>>()?,
        ),
        (Json::Object(entries), T::Udt { fields, .. }) => Term::Udt(
            entries
                .iter()
                .map(|(f, val)| {
                    let ft = fields
                        .iter()
                        .find(|(n, _)| n == f)
                        .map(|(_, t)| t)
                        .ok_or_else(|| {
                            CqlError::invalid(format!(
                                "Unknown field '{f}' in value of user defined type"
                            ))
                        })?;
                    Ok((f.clone(), to_term(val, ft, col)?))
                })
                .collect::<Result<_>>()?,
        ),
        _ => return Err(bad(col, typ)),
    })
}

fn escape(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Writes a value as JSON, the way `SELECT JSON` shows it.
pub(crate) fn write_value(v: &CqlValue, out: &mut String) {
    match v {
        CqlValue::Ascii(s) | CqlValue::Text(s) => escape(s, out),
        CqlValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        CqlValue::TinyInt(x) => {
            let _ = write!(out, "{x}");
        }
        CqlValue::SmallInt(x) => {
            let _ = write!(out, "{x}");
        }
        CqlValue::Int(x) => {
            let _ = write!(out, "{x}");
        }
        CqlValue::BigInt(x) | CqlValue::Counter(x) => {
            let _ = write!(out, "{x}");
        }
        CqlValue::Float(x) => {
            let _ = write!(out, "{x:?}");
        }
        CqlValue::Double(x) => {
            let _ = write!(out, "{x:?}");
        }
        CqlValue::Varint(x) => {
            let _ = write!(out, "{x}");
        }
        CqlValue::Decimal(x) => {
            let _ = write!(out, "{x}");
        }
        CqlValue::Uuid(u) => escape(&u.to_string(), out),
        CqlValue::Timeuuid(u) => escape(&u.to_string(), out),
        CqlValue::Inet(a) => escape(&a.to_string(), out),
        CqlValue::Blob(b) | CqlValue::Custom(b) => {
            out.push_str("\"0x");
            for x in b {
                let _ = write!(out, "{x:02x}");
            }
            out.push('"');
        }
        CqlValue::Timestamp(t) => {
            let ms = t.0;
            let (y, m, d) = civil(ms.div_euclid(86_400_000));
            let r = ms.rem_euclid(86_400_000);
            let _ = write!(
                out,
                "\"{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}Z\"",
                r / 3_600_000,
                r / 60_000 % 60,
                r / 1000 % 60,
                r % 1000
            );
        }
        CqlValue::Date(d) => {
            let (y, m, dd) = civil(i64::from(d.0) - (1i64 << 31));
            let _ = write!(out, "\"{y:04}-{m:02}-{dd:02}\"");
        }
        CqlValue::Time(t) => {
            let n = t.0;
            let _ = write!(
                out,
                "\"{:02}:{:02}:{:02}.{:09}\"",
                n / 3_600_000_000_000,
                n / 60_000_000_000 % 60,
                n / 1_000_000_000 % 60,
                n % 1_000_000_000
            );
        }
        CqlValue::Duration(d) => {
            let _ = write!(out, "\"{}mo{}d{}ns\"", d.months, d.days, d.nanoseconds);
        }
        CqlValue::List(items) | CqlValue::Set(items) | CqlValue::Vector(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(x, out);
            }
            out.push(']');
        }
        CqlValue::Tuple(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match x {
                    Some(x) => write_value(x, out),
                    None => out.push_str("null"),
                }
            }
            out.push(']');
        }
        CqlValue::Map(entries) => {
            out.push('{');
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match k {
                    CqlValue::Text(s) | CqlValue::Ascii(s) => escape(s, out),
                    other => {
                        let mut key = String::new();
                        write_value(other, &mut key);
                        escape(key.trim_matches('"'), out);
                    }
                }
                out.push_str(": ");
                write_value(x, out);
            }
            out.push('}');
        }
        CqlValue::Udt { fields, .. } => {
            out.push('{');
            for (i, (f, x)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                escape(f, out);
                out.push_str(": ");
                match x {
                    Some(x) => write_value(x, out),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        _ => out.push_str("null"),
    }
}

/// The JSON object of one row: `{"col": value, ...}`.
pub(crate) fn row_json(names: &[&str], values: &[Option<CqlValue>]) -> String {
    let mut out = String::from("{");
    for (i, (n, v)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        // Case-sensitive identifiers are quoted; a function call's name (`system.tojson(v)`,
        // `cast(v as float)`) is not an identifier and stays as it is.
        let quoted = !n.contains('(')
            && n.chars()
                .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        if quoted {
            escape(&format!("\"{n}\""), &mut out);
        } else {
            escape(n, &mut out);
        }
        out.push_str(": ");
        match v {
            Some(v) => write_value(v, &mut out),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    out
}
