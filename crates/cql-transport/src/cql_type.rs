//! Parsing the CQL type strings of `system_schema.columns` / `.types`
//! (`map<text, frozen<list<int>>>`, `frozen<address>`, `vector<float, 3>`, `'custom.Class'`).

use std::collections::HashMap;

use proto::ColumnType;

/// The deepest nesting accepted (matches cql-proto's wire guard).
const MAX_DEPTH: usize = 32;

/// A failure to parse or resolve a CQL type string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeParseError {
    /// The string is not valid CQL type syntax.
    #[error("invalid cql type {input:?} at byte {pos}: {reason}")]
    Syntax {
        /// The whole type string.
        input: String,
        /// Where parsing stopped.
        pos: usize,
        /// What was expected.
        reason: &'static str,
    },
    /// A user-defined type name that the keyspace does not define.
    #[error("unknown user-defined type {keyspace}.{name}")]
    UnknownUdt {
        /// The keyspace searched.
        keyspace: String,
        /// The type name.
        name: String,
    },
    /// Types nest deeper than allowed, or a UDT contains itself.
    #[error("cql type nests deeper than {MAX_DEPTH} levels (or a user-defined type is recursive)")]
    TooDeep,
}

/// The user-defined types of one keyspace as read from `system_schema.types`: name to
/// `(field name, field type string)` pairs.
pub type UdtDefinitions = HashMap<String, Vec<(String, String)>>;

/// Parses a type string of keyspace `keyspace`, resolving UDT names through `udts`.
pub fn parse_cql_type(
    input: &str,
    keyspace: &str,
    udts: &UdtDefinitions,
) -> Result<ColumnType, TypeParseError> {
    Parser {
        input,
        pos: 0,
        keyspace,
        udts,
        depth: 0,
    }
    .parse_all()
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    keyspace: &'a str,
    udts: &'a UdtDefinitions,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> TypeParseError {
        TypeParseError::Syntax {
            input: self.input.to_owned(),
            pos: self.pos,
            reason,
        }
    }

    fn parse_all(mut self) -> Result<ColumnType, TypeParseError> {
        let t = self.parse_type()?;
        self.skip_ws();
        if self.pos != self.input.len() {
            return Err(self.err("trailing characters"));
        }
        Ok(t)
    }

    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.input.len() - trimmed.len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, reason: &'static str) -> Result<(), TypeParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    /// An identifier: unquoted (case-folded to lower case) or double-quoted (`""` escapes `"`).
    fn ident(&mut self) -> Result<String, TypeParseError> {
        self.skip_ws();
        let input = self.input;
        let rest = &input[self.pos..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if quoted[i + 1..].starts_with('"') {
                        out.push('"');
                        chars.next();
                    } else {
                        self.pos += 1 + i + 1;
                        return Ok(out);
                    }
                } else {
                    out.push(c);
                }
            }
            return Err(self.err("unterminated quoted identifier"));
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.err("expected a type name"));
        }
        self.pos += len;
        Ok(rest[..len].to_ascii_lowercase())
    }

    fn parse_type(&mut self) -> Result<ColumnType, TypeParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(TypeParseError::TooDeep);
        }
        let t = self.parse_type_inner();
        self.depth -= 1;
        t
    }

    fn parse_type_inner(&mut self) -> Result<ColumnType, TypeParseError> {
        self.skip_ws();
        if let Some(quoted) = self.rest().strip_prefix('\'') {
            let end = quoted
                .find('\'')
                .ok_or_else(|| self.err("unterminated custom type class"))?;
            let class = quoted[..end].to_owned();
            self.pos += end + 2;
            return Ok(ColumnType::Custom(class));
        }
        let name = self.ident()?;
        let simple = ColumnType::from_native_name(&name);
        if let Some(t) = simple {
            return Ok(t);
        }
        match name.as_str() {
            "frozen" => {
                self.expect('<', "expected '<' after frozen")?;
                let inner = self.parse_type()?;
                self.expect('>', "expected '>' closing frozen")?;
                Ok(inner)
            }
            "list" | "set" => {
                self.expect('<', "expected '<'")?;
                let inner = Box::new(self.parse_type()?);
                self.expect('>', "expected '>'")?;
                Ok(if name == "list" {
                    ColumnType::List(inner)
                } else {
                    ColumnType::Set(inner)
                })
            }
            "map" => {
                self.expect('<', "expected '<' after map")?;
                let k = self.parse_type()?;
                self.expect(',', "expected ',' between map key and value types")?;
                let v = self.parse_type()?;
                self.expect('>', "expected '>' closing map")?;
                Ok(ColumnType::Map(Box::new(k), Box::new(v)))
            }
            "tuple" => {
                self.expect('<', "expected '<' after tuple")?;
                let mut items = vec![self.parse_type()?];
                while self.eat(',') {
                    items.push(self.parse_type()?);
                }
                self.expect('>', "expected '>' closing tuple")?;
                Ok(ColumnType::Tuple(items))
            }
            "vector" => {
                self.expect('<', "expected '<' after vector")?;
                let elem = self.parse_type()?;
                self.expect(',', "expected ',' before the vector dimension")?;
                self.skip_ws();
                let rest = self.rest();
                let len = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                let dim = rest[..len]
                    .parse()
                    .map_err(|_| self.err("expected a vector dimension"))?;
                self.pos += len;
                self.expect('>', "expected '>' closing vector")?;
                Ok(ColumnType::Vector(Box::new(elem), dim))
            }
            _ => self.resolve_udt(name),
        }
    }

    fn resolve_udt(&mut self, name: String) -> Result<ColumnType, TypeParseError> {
        let (keyspace, name) = match name.split_once('.') {
            Some((ks, n)) => (ks.to_owned(), n.to_owned()),
            None => (self.keyspace.to_owned(), name),
        };
        let fields = self
            .udts
            .get(&name)
            .filter(|_| keyspace == self.keyspace)
            .ok_or_else(|| TypeParseError::UnknownUdt {
                keyspace: keyspace.clone(),
                name: name.clone(),
            })?;
        let mut out = Vec::with_capacity(fields.len());
        for (field, typ) in fields {
            let mut sub = Parser {
                input: typ,
                pos: 0,
                keyspace: self.keyspace,
                udts: self.udts,
                depth: self.depth,
            };
            let t = sub.parse_type()?;
            sub.skip_ws();
            if sub.pos != typ.len() {
                return Err(sub.err("trailing characters"));
            }
            out.push((field.clone(), t));
        }
        Ok(ColumnType::Udt {
            keyspace,
            name,
            fields: out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<ColumnType, TypeParseError> {
        parse_cql_type(s, "ks", &UdtDefinitions::new())
    }

    #[test]
    fn native_types() {
        assert_eq!(p("int"), Ok(ColumnType::Int));
        assert_eq!(p("varchar"), Ok(ColumnType::Text));
        assert_eq!(p(" TimeUUID "), Ok(ColumnType::Timeuuid));
        assert_eq!(p("duration"), Ok(ColumnType::Duration));
    }

    #[test]
    fn nested_collections() {
        assert_eq!(
            p("map<text, frozen<list<int>>>"),
            Ok(ColumnType::Map(
                Box::new(ColumnType::Text),
                Box::new(ColumnType::List(Box::new(ColumnType::Int)))
            ))
        );
        assert_eq!(
            p("frozen<tuple<int, text, set<uuid>>>"),
            Ok(ColumnType::Tuple(vec![
                ColumnType::Int,
                ColumnType::Text,
                ColumnType::Set(Box::new(ColumnType::Uuid))
            ]))
        );
        assert_eq!(
            p("vector<float, 3>"),
            Ok(ColumnType::Vector(Box::new(ColumnType::Float), 3))
        );
        assert_eq!(
            p("'org.apache.cassandra.db.marshal.BytesType'"),
            Ok(ColumnType::Custom(
                "org.apache.cassandra.db.marshal.BytesType".into()
            ))
        );
    }

    #[test]
    fn udts_resolve_recursively_and_keep_quoted_case() {
        let mut udts = UdtDefinitions::new();
        udts.insert(
            "address".into(),
            vec![
                ("street".into(), "text".into()),
                ("zip".into(), "int".into()),
            ],
        );
        udts.insert(
            "Person".into(),
            vec![
                ("name".into(), "text".into()),
                ("homes".into(), "frozen<list<frozen<address>>>".into()),
            ],
        );
        let t = parse_cql_type("map<int, frozen<\"Person\">>", "ks", &udts).expect("parse");
        let address = ColumnType::Udt {
            keyspace: "ks".into(),
            name: "address".into(),
            fields: vec![
                ("street".into(), ColumnType::Text),
                ("zip".into(), ColumnType::Int),
            ],
        };
        let person = ColumnType::Udt {
            keyspace: "ks".into(),
            name: "Person".into(),
            fields: vec![
                ("name".into(), ColumnType::Text),
                ("homes".into(), ColumnType::List(Box::new(address))),
            ],
        };
        assert_eq!(
            t,
            ColumnType::Map(Box::new(ColumnType::Int), Box::new(person))
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(p("map<int>"), Err(TypeParseError::Syntax { .. })));
        assert!(matches!(p("list<int"), Err(TypeParseError::Syntax { .. })));
        assert!(matches!(p("int extra"), Err(TypeParseError::Syntax { .. })));
        assert!(matches!(p(""), Err(TypeParseError::Syntax { .. })));
        assert_eq!(
            p("nope"),
            Err(TypeParseError::UnknownUdt {
                keyspace: "ks".into(),
                name: "nope".into()
            })
        );
        let deep = format!("{}int{}", "list<".repeat(40), ">".repeat(40));
        assert_eq!(p(&deep), Err(TypeParseError::TooDeep));
        let mut udts = UdtDefinitions::new();
        udts.insert("me".into(), vec![("x".into(), "frozen<me>".into())]);
        assert_eq!(
            parse_cql_type("me", "ks", &udts),
            Err(TypeParseError::TooDeep)
        );
    }
}
