//! User-defined functions and aggregates of the catalog, keyed by keyspace, name and argument
//! types (overloads differ by their argument types).

use std::collections::BTreeMap;

use bytes::Bytes;
use proto::ColumnType;

/// The identity of a function or aggregate: keyspace, name and argument types (as CQL text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FunctionKey {
    /// The keyspace.
    pub keyspace: String,
    /// The function name.
    pub name: String,
    /// The argument types as `system_schema` writes them (`int`, `frozen<list<text>>`).
    pub arg_types: Vec<String>,
}

impl FunctionKey {
    /// `ks.name`, as servers name a function in messages.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.keyspace, self.name)
    }

    /// `ks.name(int, text)`.
    pub fn signature(&self) -> String {
        format!("{}({})", self.qualified(), self.arg_types.join(", "))
    }
}

/// A user-defined (scalar) function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    /// The argument names, in order.
    pub arg_names: Vec<String>,
    /// The argument types.
    pub arg_types: Vec<ColumnType>,
    /// The return type.
    pub return_type: ColumnType,
    /// The return type as CQL text.
    pub return_type_text: String,
    /// `CALLED ON NULL INPUT`.
    pub called_on_null_input: bool,
    /// The language (`java`, `javascript`, `lua`, ...).
    pub language: String,
    /// The body as written.
    pub body: String,
}

/// A user-defined aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateDef {
    /// The argument types.
    pub arg_types: Vec<ColumnType>,
    /// The state function's name (same keyspace).
    pub state_func: String,
    /// The state type.
    pub state_type: ColumnType,
    /// The state type as CQL text.
    pub state_type_text: String,
    /// The final function's name, if any.
    pub final_func: Option<String>,
    /// The initial state, serialized as the state type.
    pub init_cond: Option<Bytes>,
    /// The initial state as a CQL literal (`0`, `'abc'`, `(0, 0)`).
    pub init_cond_text: Option<String>,
    /// The return type (the final function's, else the state type).
    pub return_type: ColumnType,
    /// The return type as CQL text.
    pub return_type_text: String,
}

/// The functions and aggregates of every keyspace.
#[derive(Debug, Clone, Default)]
pub struct Functions {
    functions: BTreeMap<FunctionKey, FunctionDef>,
    aggregates: BTreeMap<FunctionKey, AggregateDef>,
}

impl Functions {
    /// Every function, in (keyspace, name, argument types) order.
    pub fn functions(&self) -> &BTreeMap<FunctionKey, FunctionDef> {
        &self.functions
    }

    /// Every aggregate, in (keyspace, name, argument types) order.
    pub fn aggregates(&self) -> &BTreeMap<FunctionKey, AggregateDef> {
        &self.aggregates
    }

    /// The overloads of function `ks.name`.
    pub fn function_overloads<'a>(
        &'a self,
        ks: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a FunctionKey, &'a FunctionDef)> + 'a {
        self.functions
            .iter()
            .filter(move |(k, _)| k.keyspace == ks && k.name == name)
    }

    /// The overloads of aggregate `ks.name`.
    pub fn aggregate_overloads<'a>(
        &'a self,
        ks: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a FunctionKey, &'a AggregateDef)> + 'a {
        self.aggregates
            .iter()
            .filter(move |(k, _)| k.keyspace == ks && k.name == name)
    }

    /// The aggregates whose state or final function is `f` (as `ks.name` strings).
    pub fn aggregates_using(&self, f: &FunctionKey, def: &FunctionDef) -> Vec<String> {
        self.aggregates
            .iter()
            .filter(|(k, a)| {
                k.keyspace == f.keyspace
                    && ((a.state_func == f.name
                        && def.arg_types.first() == Some(&a.state_type)
                        && def.arg_types[1..] == a.arg_types[..])
                        || (a.final_func.as_deref() == Some(f.name.as_str())
                            && def.arg_types.len() == 1
                            && def.arg_types.first() == Some(&a.state_type)))
            })
            .map(|(k, _)| k.qualified())
            .collect()
    }

    pub(crate) fn insert_function(&mut self, k: FunctionKey, f: FunctionDef) -> bool {
        self.functions.insert(k, f).is_some()
    }

    pub(crate) fn insert_aggregate(&mut self, k: FunctionKey, a: AggregateDef) -> bool {
        self.aggregates.insert(k, a).is_some()
    }

    pub(crate) fn remove_function(&mut self, k: &FunctionKey) -> Option<FunctionDef> {
        self.functions.remove(k)
    }

    pub(crate) fn remove_aggregate(&mut self, k: &FunctionKey) -> Option<AggregateDef> {
        self.aggregates.remove(k)
    }

    /// Drops every function and aggregate of a keyspace (DROP KEYSPACE).
    pub(crate) fn drop_keyspace(&mut self, ks: &str) {
        self.functions.retain(|k, _| k.keyspace != ks);
        self.aggregates.retain(|k, _| k.keyspace != ks);
    }
}
