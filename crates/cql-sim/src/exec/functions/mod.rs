//! Function calls in a SELECT's selection: native functions ([`native`]), user-defined
//! functions and aggregates ([`udf`]) and `CAST(x AS type)`, resolved against the catalog as
//! Cassandra resolves them (unqualified names: the `system` keyspace first, then the table's
//! keyspace), with the result column names servers give them (`system.blobasint(b)`,
//! `ks.f(a, b)`, `cast(v as text)`).

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use crate::cql::ast::{Selector, Term, TypeExpr};
use crate::error::{CqlError, Result};
use crate::exec::value::{TermEnv, encode};
use crate::schema::{AggregateDef, Catalog, FunctionDef, FunctionKey, TableDef};

pub(crate) mod native;
pub(crate) mod udf;

use native::Native;

/// A scalar selector expression over one row.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// A column, by index.
    Column(usize),
    /// A native function call.
    Native {
        /// The function.
        f: Native,
        /// Its lowercased name.
        name: String,
        /// The chosen signature's argument types.
        arg_types: Vec<ColumnType>,
        /// The arguments.
        args: Vec<Self>,
    },
    /// A user-defined function call.
    Udf {
        /// The function's identity.
        key: FunctionKey,
        /// Its definition.
        def: Box<FunctionDef>,
        /// The arguments.
        args: Vec<Self>,
    },
    /// A literal or bind marker, as a value of the given type.
    Term(Term, ColumnType),
    /// `CAST(arg AS to)`.
    Cast {
        /// The argument's type.
        from: ColumnType,
        /// The target type.
        to: ColumnType,
        /// The argument.
        arg: Box<Self>,
    },
}

/// A user-defined aggregate in a selection, with its resolved functions.
#[derive(Debug, Clone)]
pub(crate) struct Uda {
    /// The aggregate.
    pub(crate) def: AggregateDef,
    /// The state function.
    pub(crate) sfunc: (FunctionKey, FunctionDef),
    /// The final function.
    pub(crate) ffunc: Option<(FunctionKey, FunctionDef)>,
    /// The arguments.
    pub(crate) args: Vec<Expr>,
}

/// What a function selector resolved to.
#[derive(Debug, Clone)]
pub(crate) enum Built {
    /// A value per row.
    Scalar(Expr),
    /// One value over all rows.
    Aggregate(Box<Uda>),
}

/// Resolves a selector that is a function call or a cast: the expression, its type and its
/// result column name.
pub(crate) fn build(
    cat: &Catalog,
    t: &TableDef,
    sel: &Selector,
) -> Result<(Built, ColumnType, String)> {
    match sel {
        Selector::Function { name, args } => {
            let mut built = Vec::with_capacity(args.len());
            let mut names = Vec::with_capacity(args.len());
            for a in args {
                if let Selector::Term(term) = a {
                    names.push(term_text(term));
                    built.push(Arg::Term(term.clone()));
                    continue;
                }
                let (e, typ, n) = scalar(cat, t, a)?;
                built.push(Arg::Expr(e, typ));
                names.push(n);
            }
            call(cat, t, name, built, &names.join(", "))
        }
        Selector::Cast(arg, to) => {
            let (e, from, n) = scalar(cat, t, arg)?;
            let TypeExpr::Native(to) = to else {
                return Err(CqlError::invalid(format!(
                    "Unable to create cast selector: {sel:?}"
                )));
            };
            if !castable(&from, to) {
                return Err(CqlError::invalid(format!("{from} cannot be cast to {to}")));
            }
            let name = format!("cast({n} as {to})");
            Ok((
                Built::Scalar(Expr::Cast {
                    from,
                    to: to.clone(),
                    arg: Box::new(e),
                }),
                to.clone(),
                name,
            ))
        }
        _ => Err(CqlError::invalid("Unsupported selector")),
    }
}

fn scalar(cat: &Catalog, t: &TableDef, sel: &Selector) -> Result<(Expr, ColumnType, String)> {
    if let Selector::Column(c) = sel {
        let (i, col) = t.column_or_err(c)?;
        return Ok((Expr::Column(i), col.typ.clone(), c.clone()));
    }
    match build(cat, t, sel)? {
        (Built::Scalar(e), typ, name) => Ok((e, typ, name)),
        (Built::Aggregate(_), _, name) => Err(CqlError::invalid(format!(
            "Aggregate function {name} cannot be used as argument of a function"
        ))),
    }
}

/// A function argument: an expression of a known type, or a literal or bind marker typed by
/// the signature it is passed to.
enum Arg {
    Expr(Expr, ColumnType),
    Term(Term),
}

impl Arg {
    fn fits(&self, param: &ColumnType) -> bool {
        match self {
            Self::Expr(_, t) => t == param,
            Self::Term(Term::Bind(_)) => true,
            Self::Term(term) => TermEnv {
                values: &[],
                now_micros: 0,
                unique: 0,
            }
            .value(term, param, "")
            .is_ok(),
        }
    }
}

fn fits(args: &[Arg], params: &[ColumnType]) -> bool {
    args.len() == params.len() && args.iter().zip(params).all(|(a, p)| a.fits(p))
}

fn typed(args: Vec<Arg>, params: &[ColumnType]) -> Vec<Expr> {
    args.into_iter()
        .zip(params)
        .map(|(a, p)| match a {
            Arg::Expr(e, _) => e,
            Arg::Term(term) => Expr::Term(term, p.clone()),
        })
        .collect()
}

/// A literal as a result column name shows it.
fn term_text(t: &Term) -> String {
    match t {
        Term::Null => "null".into(),
        Term::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Term::Int(s) | Term::Float(s) => s.clone(),
        Term::Bool(b) => b.to_string(),
        Term::Uuid(u) => u.to_string(),
        Term::Blob(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("0x{hex}")
        }
        Term::Bind(m) => m.name.as_ref().map_or("?".into(), |n| format!(":{n}")),
        other => format!("{other:?}"),
    }
}

fn call(
    cat: &Catalog,
    t: &TableDef,
    name: &str,
    args: Vec<Arg>,
    arg_names: &str,
) -> Result<(Built, ColumnType, String)> {
    let (ks, fname) = match name.split_once('.') {
        Some((ks, f)) => (Some(ks), f),
        None => (None, name),
    };
    // toJson takes any type: its one signature is its argument's.
    if ks.is_none_or(|k| k == "system")
        && fname == "tojson"
        && let [Arg::Expr(_, typ)] = args.as_slice()
    {
        let typ = typ.clone();
        return Ok((
            Built::Scalar(Expr::Native {
                f: Native::ToJson,
                name: fname.to_owned(),
                arg_types: vec![typ.clone()],
                args: typed(args, &[typ]),
            }),
            ColumnType::Text,
            format!("{}({arg_names})", native::display_name(fname)),
        ));
    }
    if ks.is_none_or(|k| k == "system")
        && let Some((f, sigs)) = Native::lookup(fname)
    {
        let shown = native::display_name(fname);
        let Some((params, ret)) = sigs.iter().find(|(p, _)| fits(&args, p)) else {
            let known: Vec<String> = sigs
                .iter()
                .map(|(p, r)| {
                    let p: Vec<String> = p.iter().map(ToString::to_string).collect();
                    format!("{shown} : ({}) -> {r}", p.join(", "))
                })
                .collect();
            return Err(CqlError::invalid(format!(
                "Invalid call to function {fname}, none of its type signatures match (known type signatures: {})",
                known.join(", ")
            )));
        };
        return Ok((
            Built::Scalar(Expr::Native {
                f,
                name: fname.to_owned(),
                arg_types: params.clone(),
                args: typed(args, params),
            }),
            ret.clone(),
            format!("{shown}({arg_names})"),
        ));
    }
    let ks = ks.unwrap_or(&t.keyspace);
    let fns = cat.functions();
    let shown = format!("{ks}.{fname}({arg_names})");
    if let Some((key, def)) = fns
        .function_overloads(ks, fname)
        .find(|(_, d)| fits(&args, &d.arg_types))
    {
        let typ = def.return_type.clone();
        return Ok((
            Built::Scalar(Expr::Udf {
                key: key.clone(),
                def: Box::new(def.clone()),
                args: typed(args, &def.arg_types),
            }),
            typ,
            shown,
        ));
    }
    if let Some((_, def)) = fns
        .aggregate_overloads(ks, fname)
        .find(|(_, d)| fits(&args, &d.arg_types))
    {
        let find = |f: &str, params: Vec<ColumnType>| {
            fns.function_overloads(ks, f)
                .find(|(_, d)| d.arg_types == params)
                .map(|(k, d)| (k.clone(), d.clone()))
        };
        let mut sparams = vec![def.state_type.clone()];
        sparams.extend(def.arg_types.iter().cloned());
        let sfunc = find(&def.state_func, sparams)
            .ok_or_else(|| CqlError::invalid(format!("State function of {shown} is missing")))?;
        let ffunc = match &def.final_func {
            Some(f) => Some(find(f, vec![def.state_type.clone()]).ok_or_else(|| {
                CqlError::invalid(format!("Final function of {shown} is missing"))
            })?),
            None => None,
        };
        let typ = def.return_type.clone();
        return Ok((
            Built::Aggregate(Box::new(Uda {
                def: def.clone(),
                sfunc,
                ffunc,
                args: typed(args, &def.arg_types),
            })),
            typ,
            shown,
        ));
    }
    if fns.function_overloads(ks, fname).next().is_some()
        || fns.aggregate_overloads(ks, fname).next().is_some()
    {
        return Err(CqlError::invalid(format!(
            "Invalid call to function {ks}.{fname}, none of its type signatures match"
        )));
    }
    Err(CqlError::invalid(format!("Unknown function '{name}'")))
}

/// The bind markers among the function arguments of a selection: (index, name, type), named
/// as Cassandra names a function's argument markers (`arg<i>(<function>)`) unless written
/// `:name`. Selectors that do not resolve give none (executing them reports the error).
pub(crate) fn selection_markers(
    cat: &Catalog,
    t: &TableDef,
    items: &[(Selector, Option<String>)],
) -> Vec<(usize, String, ColumnType)> {
    let mut out = Vec::new();
    for (sel, _) in items {
        if !matches!(sel, Selector::Function { .. } | Selector::Cast(..)) {
            continue;
        }
        match build(cat, t, sel) {
            Ok((Built::Scalar(e), ..)) => e.markers(&mut out),
            Ok((Built::Aggregate(a), ..)) => {
                for e in &a.args {
                    e.markers(&mut out);
                }
            }
            Err(_) => {}
        }
    }
    out
}

impl Expr {
    fn markers(&self, out: &mut Vec<(usize, String, ColumnType)>) {
        let (function, args) = match self {
            Self::Native { name, args, .. } => (native::display_name(name), args),
            Self::Udf { key, args, .. } => (key.qualified(), args),
            Self::Cast { arg, .. } => return arg.markers(out),
            Self::Column(_) | Self::Term(..) => return,
        };
        for (i, a) in args.iter().enumerate() {
            match a {
                Self::Term(Term::Bind(m), typ) => out.push((
                    m.index,
                    m.name
                        .clone()
                        .unwrap_or_else(|| format!("arg{i}({function})")),
                    typ.clone(),
                )),
                other => other.markers(out),
            }
        }
    }

    /// Evaluates the expression over a row whose columns `col` gives.
    pub(crate) fn eval(
        &self,
        col: &dyn Fn(usize) -> Option<Bytes>,
        env: &mut TermEnv<'_>,
    ) -> Result<Option<Bytes>> {
        match self {
            Self::Column(i) => Ok(col(*i)),
            Self::Native {
                f,
                name,
                arg_types,
                args,
            } => {
                let vals = eval_all(args, col, env)?;
                f.call(name, arg_types, &vals, env)
            }
            Self::Udf { key, def, args } => {
                let vals = eval_all(args, col, env)?;
                udf::call(key, def, &vals)
            }
            Self::Term(term, typ) => Ok(match env.bytes(term, typ, "function argument")? {
                crate::exec::BoundValue::Value(b) => Some(b),
                _ => None,
            }),
            Self::Cast { from, to, arg } => {
                let Some(b) = arg.eval(col, env)? else {
                    return Ok(None);
                };
                if b.is_empty() {
                    return Ok(None);
                }
                let v = CqlValue::decode_bytes(from, &b)
                    .map_err(|e| CqlError::invalid(e.to_string()))?;
                match cast_value(from, to, &v) {
                    Some(out) => encode(&out, to).map(Some),
                    None => Err(CqlError::invalid(format!("{from} cannot be cast to {to}"))),
                }
            }
        }
    }
}

fn eval_all(
    args: &[Expr],
    col: &dyn Fn(usize) -> Option<Bytes>,
    env: &mut TermEnv<'_>,
) -> Result<Vec<Option<Bytes>>> {
    args.iter().map(|a| a.eval(col, env)).collect()
}

impl Uda {
    /// The initial state (`INITCOND`, else null).
    pub(crate) fn init(&self) -> Option<Bytes> {
        self.def.init_cond.clone()
    }

    /// Folds one row into `state` with the state function.
    pub(crate) fn step(
        &self,
        state: Option<Bytes>,
        col: &dyn Fn(usize) -> Option<Bytes>,
        env: &mut TermEnv<'_>,
    ) -> Result<Option<Bytes>> {
        let row = eval_all(&self.args, col, env)?;
        // As Cassandra does, a row with a null argument leaves the state as it is when the
        // state function returns null on null input (the state itself is not checked).
        if !self.sfunc.1.called_on_null_input
            && row.iter().any(|a| a.as_ref().is_none_or(|b| b.is_empty()))
        {
            return Ok(state);
        }
        let mut vals = vec![state];
        vals.extend(row);
        udf::call_with_state(&self.sfunc.0, &self.sfunc.1, &vals)
    }

    /// The aggregate's value: the final function of the state, or the state.
    pub(crate) fn finish(&self, state: Option<Bytes>) -> Result<Option<Bytes>> {
        match &self.ffunc {
            Some((k, d)) => udf::call(k, d, &[state]),
            None => Ok(state),
        }
    }
}

/// Whether `CAST` converts `from` to `to` (Cassandra's `CastFcts`: between numbers, to text,
/// and between the time types).
fn castable(from: &ColumnType, to: &ColumnType) -> bool {
    use ColumnType as T;
    from == to
        || (numeric(from) && numeric(to))
        || matches!(to, T::Text | T::Ascii)
        || matches!(
            (from, to),
            (T::Timestamp | T::Timeuuid, T::Date) | (T::Date | T::Timeuuid, T::Timestamp)
        )
}

fn numeric(t: &ColumnType) -> bool {
    use ColumnType as T;
    matches!(
        t,
        T::TinyInt
            | T::SmallInt
            | T::Int
            | T::BigInt
            | T::Counter
            | T::Varint
            | T::Float
            | T::Double
    )
}

fn cast_value(from: &ColumnType, to: &ColumnType, v: &CqlValue) -> Option<CqlValue> {
    use ColumnType as T;
    if from == to {
        return Some(v.clone());
    }
    let number = |v: &CqlValue| -> Option<(i128, f64, bool)> {
        Some(match v {
            CqlValue::TinyInt(x) => (i128::from(*x), f64::from(*x), true),
            CqlValue::SmallInt(x) => (i128::from(*x), f64::from(*x), true),
            CqlValue::Int(x) => (i128::from(*x), f64::from(*x), true),
            CqlValue::BigInt(x) | CqlValue::Counter(x) => (i128::from(*x), *x as f64, true),
            CqlValue::Varint(x) => {
                let i = x.to_i128()?;
                (i, i as f64, true)
            }
            CqlValue::Float(x) => (*x as i128, f64::from(*x), false),
            CqlValue::Double(x) => (*x as i128, *x, false),
            _ => return None,
        })
    };
    if numeric(from) && numeric(to) {
        let (i, f, _) = number(v)?;
        return Some(match to {
            T::TinyInt => CqlValue::TinyInt(i as i8),
            T::SmallInt => CqlValue::SmallInt(i as i16),
            T::Int => CqlValue::Int(i as i32),
            T::BigInt => CqlValue::BigInt(i as i64),
            T::Counter => CqlValue::Counter(i as i64),
            T::Varint => CqlValue::Varint(proto::value::CqlVarint::from_i128(i)),
            T::Float => CqlValue::Float(f as f32),
            _ => CqlValue::Double(f),
        });
    }
    match (to, v) {
        (T::Text | T::Ascii, _) => {
            let shown = match v {
                CqlValue::Text(s) | CqlValue::Ascii(s) => s.clone(),
                other => {
                    let s = other.to_string();
                    s.strip_prefix('\'')
                        .and_then(|x| x.strip_suffix('\''))
                        .map_or(s.clone(), str::to_owned)
                }
            };
            Some(if *to == T::Text {
                CqlValue::Text(shown)
            } else {
                CqlValue::Ascii(shown)
            })
        }
        (T::Date, CqlValue::Timestamp(ts)) => Some(CqlValue::Date(proto::value::CqlDate(
            (ts.0.div_euclid(86_400_000) + (1i64 << 31)) as u32,
        ))),
        (T::Date, CqlValue::Timeuuid(u)) => Some(CqlValue::Date(proto::value::CqlDate(
            (crate::exec::value::timeuuid_millis(u.as_uuid()).div_euclid(86_400_000) + (1i64 << 31))
                as u32,
        ))),
        (T::Timestamp, CqlValue::Date(d)) => Some(CqlValue::Timestamp(proto::value::CqlTimestamp(
            (i64::from(d.0) - (1i64 << 31)) * 86_400_000,
        ))),
        (T::Timestamp, CqlValue::Timeuuid(u)) => Some(CqlValue::Timestamp(
            proto::value::CqlTimestamp(crate::exec::value::timeuuid_millis(u.as_uuid())),
        )),
        _ => None,
    }
}
