//! Terms: literals, bind markers, collections, tuples, UDT literals, function calls, and
//! duration literals (`1h30m`, ISO 8601).

use proto::value::CqlDuration;

use super::{PResult, Parser};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;

impl Parser<'_> {
    fn marker(&mut self, name: Option<String>) -> Term {
        let index = self.markers;
        self.markers += 1;
        Term::Bind(BindMarker { index, name })
    }

    /// A term: a literal, a bind marker, a collection, a tuple or a function call.
    pub(super) fn term(&mut self) -> PResult<Term> {
        self.term_depth(0)
    }

    fn term_list(&mut self, close: &str, depth: usize) -> PResult<Vec<Term>> {
        let mut out = Vec::new();
        if self.eat_sym(close) {
            return Ok(out);
        }
        loop {
            out.push(self.term_depth(depth + 1)?);
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_sym(close)?;
        Ok(out)
    }

    fn term_depth(&mut self, depth: usize) -> PResult<Term> {
        if depth > 64 {
            return Err(self.err_here("term nested too deeply"));
        }
        let Some(tok) = self.peek().cloned() else {
            return Err(self.expected("a value"));
        };
        let start = self.pos;
        self.pos += 1;
        let t = match tok {
            Tok::Str(s) => Term::Str(s),
            Tok::Int(s) => Term::Int(s),
            Tok::Float(s) => Term::Float(s),
            Tok::Uuid(u) => Term::Uuid(u),
            Tok::Blob(b) => Term::Blob(b),
            Tok::Duration(d) => Term::Duration(
                parse_unit_duration(&d, false)
                    .ok_or_else(|| self.err_at(start, "invalid duration"))?,
            ),
            Tok::Sym("?") => self.marker(None),
            Tok::Sym(":") => {
                let name = self.any_ident()?;
                self.marker(Some(name))
            }
            Tok::Sym("-") => match self.peek().cloned() {
                Some(Tok::Int(s)) => {
                    self.pos += 1;
                    Term::Int(format!("-{s}"))
                }
                Some(Tok::Float(s)) => {
                    self.pos += 1;
                    Term::Float(format!("-{s}"))
                }
                Some(Tok::Duration(d)) => {
                    self.pos += 1;
                    Term::Duration(
                        parse_unit_duration(&d, true)
                            .ok_or_else(|| self.err_at(start, "invalid duration"))?,
                    )
                }
                Some(Tok::Ident(s)) if parse_iso_duration(&s).is_some() => {
                    self.pos += 1;
                    let d = parse_iso_duration(&s)
                        .and_then(|d| {
                            Some(CqlDuration {
                                months: d.months.checked_neg()?,
                                days: d.days.checked_neg()?,
                                nanoseconds: d.nanoseconds.checked_neg()?,
                            })
                        })
                        .ok_or_else(|| self.err_at(start, "invalid duration"))?;
                    Term::Duration(d)
                }
                Some(Tok::Ident(s)) if s == "infinity" => {
                    self.pos += 1;
                    Term::Infinity(true)
                }
                Some(Tok::Ident(s)) if s == "nan" => {
                    self.pos += 1;
                    Term::NaN
                }
                _ => return Err(self.expected("a number after '-'")),
            },
            Tok::Sym("[") => Term::List(self.term_list("]", depth)?),
            Tok::Sym("(") => Term::Tuple(self.term_list(")", depth)?),
            Tok::Sym("{") => self.braces(depth)?,
            Tok::Ident(id) => match id.as_str() {
                "null" => Term::Null,
                "true" => Term::Bool(true),
                "false" => Term::Bool(false),
                "nan" => Term::NaN,
                "infinity" => Term::Infinity(false),
                _ if self.is_sym("(") => {
                    self.pos += 1;
                    let args = self.term_list(")", depth)?;
                    Term::Function { name: id, args }
                }
                _ => {
                    let raw = &self.text[self.toks[start].start..self.toks[start].end];
                    match parse_iso_duration(raw) {
                        Some(d) => Term::Duration(d),
                        None => {
                            self.pos = start;
                            return Err(self.err_here("no viable alternative"));
                        }
                    }
                }
            },
            _ => {
                self.pos = start;
                return Err(self.err_here("no viable alternative"));
            }
        };
        Ok(t)
    }

    /// After `{`: a map, a set or a UDT literal.
    fn braces(&mut self, depth: usize) -> PResult<Term> {
        if self.eat_sym("}") {
            return Ok(Term::Map(Vec::new()));
        }
        let udt = matches!(self.peek(), Some(Tok::Ident(s)) if !matches!(s.as_str(), "true" | "false" | "null" | "nan" | "infinity"))
            || matches!(self.peek(), Some(Tok::QIdent(_)));
        if udt && matches!(self.peek_at(1), Some(Tok::Sym(":"))) {
            let mut fields = Vec::new();
            loop {
                let f = self.any_ident()?;
                self.expect_sym(":")?;
                fields.push((f, self.term_depth(depth + 1)?));
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym("}")?;
            return Ok(Term::Udt(fields));
        }
        let first = self.term_depth(depth + 1)?;
        if self.eat_sym(":") {
            let mut entries = vec![(first, self.term_depth(depth + 1)?)];
            while self.eat_sym(",") {
                let k = self.term_depth(depth + 1)?;
                self.expect_sym(":")?;
                entries.push((k, self.term_depth(depth + 1)?));
            }
            self.expect_sym("}")?;
            return Ok(Term::Map(entries));
        }
        let mut elems = vec![first];
        while self.eat_sym(",") {
            elems.push(self.term_depth(depth + 1)?);
        }
        self.expect_sym("}")?;
        Ok(Term::Set(elems))
    }
}

/// Parses `1h30m`-style durations.
fn parse_unit_duration(s: &str, negative: bool) -> Option<CqlDuration> {
    let (mut months, mut days, mut nanos) = (0i64, 0i64, 0i128);
    let lower = s.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = ["mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s"]
            .iter()
            .find(|u| rest.starts_with(**u))?
            .len();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let n128 = i128::from(n);
        match unit {
            "y" => months = months.checked_add(n.checked_mul(12)?)?,
            "mo" => months = months.checked_add(n)?,
            "w" => days = days.checked_add(n.checked_mul(7)?)?,
            "d" => days = days.checked_add(n)?,
            "h" => nanos += n128 * 3_600_000_000_000,
            "m" => nanos += n128 * 60_000_000_000,
            "s" => nanos += n128 * 1_000_000_000,
            "ms" => nanos += n128 * 1_000_000,
            "us" | "µs" => nanos += n128 * 1_000,
            _ => nanos += n128,
        }
    }
    let sign = if negative { -1 } else { 1 };
    Some(CqlDuration {
        months: i32::try_from(months * sign).ok()?,
        days: i32::try_from(days * sign).ok()?,
        nanoseconds: i64::try_from(nanos * i128::from(sign)).ok()?,
    })
}

/// The alternative ISO 8601 format, `P0001-02-03T04:05:06` (years, months, days, hours,
/// minutes, seconds).
fn parse_iso_alternative(body: &str) -> Option<CqlDuration> {
    let (date, time) = body.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i32>().ok());
    let (y, mo, days) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, sec) = (t.next()??, t.next()??, t.next()??);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    Some(CqlDuration {
        months: y.checked_mul(12)?.checked_add(mo)?,
        days,
        nanoseconds: ((h * 60 + mi) * 60 + sec).checked_mul(1_000_000_000)?,
    })
}

/// Parses ISO 8601 durations: `P1Y2M3DT4H5M6S`, `P2W` and the alternative
/// `P0001-02-03T04:05:06`.
fn parse_iso_duration(s: &str) -> Option<CqlDuration> {
    let up = s.to_ascii_uppercase();
    let body = up.strip_prefix('P')?;
    if body.is_empty() {
        return None;
    }
    if body.contains('-') {
        return parse_iso_alternative(body);
    }
    if let Some(w) = body.strip_suffix('W') {
        let n: i32 = w.parse().ok()?;
        return Some(CqlDuration {
            months: 0,
            days: n.checked_mul(7)?,
            nanoseconds: 0,
        });
    }
    let (date, time) = match body.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let mut d = CqlDuration {
        months: 0,
        days: 0,
        nanoseconds: 0,
    };
    let mut num = String::new();
    for c in date.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i32 = num.parse().ok()?;
        num.clear();
        match c {
            'Y' => d.months = d.months.checked_add(n.checked_mul(12)?)?,
            'M' => d.months = d.months.checked_add(n)?,
            'D' => d.days = d.days.checked_add(n)?,
            _ => return None,
        }
    }
    if !num.is_empty() {
        return None;
    }
    if let Some(t) = time {
        for c in t.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: i64 = num.parse().ok()?;
            num.clear();
            let mul = match c {
                'H' => 3_600_000_000_000,
                'M' => 60_000_000_000,
                'S' => 1_000_000_000,
                _ => return None,
            };
            d.nanoseconds = d.nanoseconds.checked_add(n.checked_mul(mul)?)?;
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(d)
}
