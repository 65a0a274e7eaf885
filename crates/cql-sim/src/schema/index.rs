//! Secondary indexes as `system_schema.indexes` records them: the target (`v`, `values(l)`,
//! `keys(m)`, `entries(m)`, `full(f)`), the kind and the options map.

use std::collections::BTreeMap;

/// What part of a column an index covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexTargetKind {
    /// The whole value of a non-collection column (`c`).
    Simple,
    /// The elements of a list or set, or the values of a map (`values(c)`).
    Values,
    /// The keys of a map (`keys(c)`).
    Keys,
    /// The entries of a map (`entries(c)`).
    Entries,
    /// The whole value of a frozen collection (`full(c)`).
    Full,
}

impl IndexTargetKind {
    /// The function name of the target (`values`, `keys`, `entries`, `full`), empty for a
    /// simple target.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "",
            Self::Values => "values",
            Self::Keys => "keys",
            Self::Entries => "entries",
            Self::Full => "full",
        }
    }

    /// The kind named by a target function, case-insensitively.
    pub fn from_function(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "values" => Some(Self::Values),
            "keys" => Some(Self::Keys),
            "entries" => Some(Self::Entries),
            "full" => Some(Self::Full),
            _ => None,
        }
    }
}

/// An index target: a column and the part of it indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexTarget {
    /// The column name.
    pub column: String,
    /// The indexed part.
    pub kind: IndexTargetKind,
}

impl IndexTarget {
    /// The target as the `target` option shows it: the column name (quoted when needed),
    /// wrapped in its function unless simple.
    pub fn as_cql(&self) -> String {
        let name = maybe_quote(&self.column);
        match self.kind {
            IndexTargetKind::Simple => name,
            k => format!("{}({name})", k.as_str()),
        }
    }
}

/// A column name as CQL text: bare when it is a lowercase identifier, else double-quoted.
fn maybe_quote(name: &str) -> String {
    let mut chars = name.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if bare {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A secondary index of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    /// The index name.
    pub name: String,
    /// `COMPOSITES`, `KEYS` or `CUSTOM`.
    pub kind: String,
    /// Options as `system_schema.indexes.options` shows them (`target`, and `class_name` plus
    /// the `WITH OPTIONS` entries for a custom index).
    pub options: BTreeMap<String, String>,
    /// The parsed target.
    pub target: IndexTarget,
}

impl IndexDef {
    /// Whether this index serves a restriction of `column` with the given operator shape:
    /// `=` on a simple or full target, CONTAINS on values, CONTAINS KEY on keys, `m[k] = v`
    /// on entries.
    pub fn serves(&self, column: &str, kind: IndexTargetKind) -> bool {
        self.target.column == column && self.target.kind == kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_print_as_cassandra_writes_them() {
        let t = |column: &str, kind| IndexTarget {
            column: column.into(),
            kind,
        };
        assert_eq!(t("b", IndexTargetKind::Simple).as_cql(), "b");
        assert_eq!(t("m", IndexTargetKind::Keys).as_cql(), "keys(m)");
        assert_eq!(t("l", IndexTargetKind::Full).as_cql(), "full(l)");
        assert_eq!(
            t("Mixed", IndexTargetKind::Values).as_cql(),
            "values(\"Mixed\")"
        );
    }
}
