//! CREATE [OR REPLACE] FUNCTION / AGGREGATE and DROP FUNCTION / AGGREGATE, with the checks and
//! messages of Cassandra 4's `CreateFunctionStatement`, `CreateAggregateStatement`,
//! `DropFunctionStatement` and `DropAggregateStatement`.

use proto::ColumnType;

use super::check_not_system;
use super::table::mentions_udt;
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::Outcome;
use crate::exec::value::TermEnv;
use crate::schema::{
    AggregateDef, Catalog, FunctionDef, FunctionKey, SchemaChangeInfo, SchemaChangeTarget,
    SchemaChangeType,
};

/// The languages the servers know: Java (Cassandra), JavaScript (Cassandra 3), Lua and
/// WebAssembly (Scylla).
const LANGUAGES: [&str; 5] = ["java", "javascript", "lua", "wasm", "xwasm"];

/// Runs a function or aggregate statement; `None` when `IF [NOT] EXISTS` made it a no-op.
pub(super) fn execute(
    cat: &mut Catalog,
    st: &Statement,
    current: Option<&str>,
) -> Result<Option<Outcome>> {
    match st {
        Statement::CreateFunction(f) => create_function(cat, f, current),
        Statement::CreateAggregate(a) => create_aggregate(cat, a, current),
        Statement::DropFunction(d) => drop_routine(cat, d, false, current),
        Statement::DropAggregate(d) => drop_routine(cat, d, true, current),
        _ => Err(CqlError::invalid("unsupported statement")),
    }
}

fn change(change_type: SchemaChangeType, target: SchemaChangeTarget, key: &FunctionKey) -> Outcome {
    Outcome::SchemaChange(SchemaChangeInfo {
        change_type,
        target,
        keyspace: key.keyspace.clone(),
        name: key.name.clone(),
        args: key.arg_types.clone(),
    })
}

/// The keyspace of a function name, which must exist and not be a system keyspace.
fn keyspace_of(cat: &Catalog, name: &QualifiedName, current: Option<&str>) -> Result<String> {
    let ks = cat.resolve_keyspace(name, current)?.to_owned();
    check_not_system(&ks)?;
    if cat.keyspace(&ks).is_none() {
        return Err(CqlError::invalid(format!("Keyspace '{ks}' doesn't exist")));
    }
    Ok(ks)
}

/// A function argument, return or state type and its CQL text (`list<text>`, `pt`). It may not
/// be written `frozen<...>`, except around a tuple (always frozen anyway); `what` names it in
/// the error ("Argument", "Return type", "State type").
fn udf_type(cat: &Catalog, ks: &str, t: &TypeExpr, what: &str) -> Result<(ColumnType, String)> {
    if let TypeExpr::Frozen(inner) = t
        && !matches!(**inner, TypeExpr::Tuple(_))
    {
        let (_, _, text) = cat.resolve_type(ks, t)?;
        return Err(CqlError::invalid(format!(
            "{what} '{text}' cannot be frozen; remove frozen<> modifier from '{text}'"
        )));
    }
    let (typ, _, text) = cat.resolve_type(ks, t)?;
    Ok((typ, text))
}

fn arg_types(
    cat: &Catalog,
    ks: &str,
    types: &[TypeExpr],
) -> Result<(Vec<ColumnType>, Vec<String>)> {
    let mut typs = Vec::with_capacity(types.len());
    let mut texts = Vec::with_capacity(types.len());
    for t in types {
        let (typ, text) = udf_type(cat, ks, t, "Argument")?;
        typs.push(typ);
        texts.push(text);
    }
    Ok((typs, texts))
}

fn both_directives(or_replace: bool, if_not_exists: bool) -> Result<()> {
    if or_replace && if_not_exists {
        return Err(CqlError::invalid(
            "Cannot use both 'OR REPLACE' and 'IF NOT EXISTS' directives",
        ));
    }
    Ok(())
}

fn create_function(
    cat: &mut Catalog,
    f: &CreateFunction,
    current: Option<&str>,
) -> Result<Option<Outcome>> {
    both_directives(f.or_replace, f.if_not_exists)?;
    let ks = keyspace_of(cat, &f.name, current)?;
    let qualified = format!("{ks}.{}", f.name.name);
    let names: Vec<String> = f.args.iter().map(|(n, _)| n.clone()).collect();
    if names
        .iter()
        .enumerate()
        .any(|(i, n)| names[..i].contains(n))
    {
        return Err(CqlError::invalid(format!(
            "Duplicate argument names for given function {} with argument names [{}]",
            f.name.name,
            names.join(", ")
        )));
    }
    if !LANGUAGES.contains(&f.language.as_str()) {
        return Err(CqlError::invalid(format!(
            "Invalid language '{}' for function '{qualified}'",
            f.language
        )));
    }
    let types: Vec<TypeExpr> = f.args.iter().map(|(_, t)| t.clone()).collect();
    let (arg_types, arg_texts) = arg_types(cat, &ks, &types)?;
    let (return_type, return_type_text) = udf_type(cat, &ks, &f.return_type, "Return type")?;
    let key = FunctionKey {
        keyspace: ks,
        name: f.name.name.clone(),
        arg_types: arg_texts,
    };
    let fname = &f.name.name;
    if cat.functions().aggregates().contains_key(&key) {
        return Err(CqlError::invalid(format!(
            "Function '{fname}' cannot replace an aggregate"
        )));
    }
    let mut change_type = SchemaChangeType::Created;
    if let Some(old) = cat.functions().functions().get(&key) {
        if f.if_not_exists {
            return Ok(None);
        }
        if !f.or_replace {
            return Err(CqlError::invalid(format!(
                "Function '{fname}' already exists"
            )));
        }
        if old.called_on_null_input != f.called_on_null_input {
            // Cassandra names the directive the new statement gave.
            let directive = if f.called_on_null_input {
                "CALLED ON NULL INPUT"
            } else {
                "RETURNS NULL ON NULL INPUT"
            };
            return Err(CqlError::invalid(format!(
                "Function '{fname}' must have {directive} directive"
            )));
        }
        if old.return_type != return_type {
            return Err(CqlError::invalid(format!(
                "Cannot replace function '{fname}', the new return type {return_type_text} is not compatible with the return type {} of existing function",
                old.return_type_text
            )));
        }
        change_type = SchemaChangeType::Updated;
    }
    let def = FunctionDef {
        arg_names: names,
        arg_types,
        return_type,
        return_type_text,
        called_on_null_input: f.called_on_null_input,
        language: f.language.clone(),
        body: f.body.clone(),
    };
    cat.functions_mut().insert_function(key.clone(), def);
    Ok(Some(change(
        change_type,
        SchemaChangeTarget::Function,
        &key,
    )))
}

fn create_aggregate(
    cat: &mut Catalog,
    a: &CreateAggregate,
    current: Option<&str>,
) -> Result<Option<Outcome>> {
    both_directives(a.or_replace, a.if_not_exists)?;
    let ks = keyspace_of(cat, &a.name, current)?;
    let (arg_types, arg_texts) = arg_types(cat, &ks, &a.args)?;
    let (state_type, state_text) = udf_type(cat, &ks, &a.state_type, "State type")?;

    let mut sfunc_args = vec![state_text.clone()];
    sfunc_args.extend(arg_texts.iter().cloned());
    let sfunc_key = FunctionKey {
        keyspace: ks.clone(),
        name: a.state_func.clone(),
        arg_types: sfunc_args,
    };
    let sfunc_sig = format!(
        "{}({})",
        sfunc_key.qualified(),
        sfunc_key.arg_types.join(", ")
    );
    if cat.functions().aggregates().contains_key(&sfunc_key) {
        return Err(CqlError::invalid(format!(
            "State function {sfunc_sig} isn't a scalar function"
        )));
    }
    let sfunc =
        cat.functions().functions().get(&sfunc_key).ok_or_else(|| {
            CqlError::invalid(format!("State function {sfunc_sig} doesn't exist"))
        })?;
    let sfunc_called_on_null = sfunc.called_on_null_input;
    if sfunc.return_type != state_type {
        return Err(CqlError::invalid(format!(
            "State function {sfunc_sig} return type must be the same as the first argument type - check STYPE, argument and return types"
        )));
    }
    let (mut return_type, mut return_type_text) = (state_type.clone(), state_text.clone());
    if let Some(ff) = &a.final_func {
        let ffunc_key = FunctionKey {
            keyspace: ks.clone(),
            name: ff.clone(),
            arg_types: vec![state_text.clone()],
        };
        let ffunc_sig = format!("{}({state_text})", ffunc_key.qualified());
        if cat.functions().aggregates().contains_key(&ffunc_key) {
            return Err(CqlError::invalid(format!(
                "Final function {ffunc_sig} isn't a scalar function"
            )));
        }
        let ffunc = cat.functions().functions().get(&ffunc_key).ok_or_else(|| {
            CqlError::invalid(format!("Final function {ffunc_sig} doesn't exist"))
        })?;
        return_type = ffunc.return_type.clone();
        return_type_text.clone_from(&ffunc.return_type_text);
    }
    let (init_cond, init_cond_text) = match &a.init_cond {
        None | Some(Term::Null) => (None, None),
        Some(t) => {
            let mut env = TermEnv {
                values: &[],
                now_micros: 0,
                unique: 0,
            };
            let v = env
                .value(t, &state_type, "initcond")?
                .ok_or_else(|| CqlError::invalid("Invalid null value for INITCOND"))?;
            let b = crate::exec::value::encode(&v, &state_type)?;
            (Some(b), Some(v.to_string()))
        }
    };
    let aname = &a.name.name;
    if init_cond.is_none() && !sfunc_called_on_null {
        return Err(CqlError::invalid(format!(
            "Cannot create aggregate '{aname}' without INITCOND because state function {} does not accept 'null' arguments",
            sfunc_key.qualified()
        )));
    }
    let key = FunctionKey {
        keyspace: ks,
        name: aname.clone(),
        arg_types: arg_texts,
    };
    if cat.functions().functions().contains_key(&key) {
        return Err(CqlError::invalid(format!(
            "Aggregate '{aname}' cannot replace a function"
        )));
    }
    let mut change_type = SchemaChangeType::Created;
    if let Some(old) = cat.functions().aggregates().get(&key) {
        if a.if_not_exists {
            return Ok(None);
        }
        if !a.or_replace {
            return Err(CqlError::invalid(format!(
                "Aggregate '{aname}' already exists"
            )));
        }
        if old.return_type != return_type {
            return Err(CqlError::invalid(format!(
                "Cannot replace aggregate '{aname}', the new return type {return_type_text} isn't compatible with the return type {} of existing function",
                old.return_type_text
            )));
        }
        change_type = SchemaChangeType::Updated;
    }
    let def = AggregateDef {
        arg_types,
        state_func: a.state_func.clone(),
        state_type,
        state_type_text: state_text,
        final_func: a.final_func.clone(),
        init_cond,
        init_cond_text,
        return_type,
        return_type_text,
    };
    cat.functions_mut().insert_aggregate(key.clone(), def);
    Ok(Some(change(
        change_type,
        SchemaChangeTarget::Aggregate,
        &key,
    )))
}

fn drop_routine(
    cat: &mut Catalog,
    d: &DropFunction,
    aggregate: bool,
    current: Option<&str>,
) -> Result<Option<Outcome>> {
    let (kind, word) = if aggregate {
        ("Aggregate", "AGGREGATE")
    } else {
        ("Function", "FUNCTION")
    };
    let ks = cat.resolve_keyspace(&d.name, current)?.to_owned();
    check_not_system(&ks)?;
    let qualified = format!("{ks}.{}", d.name.name);
    // Messages name the function with its signature when the statement gave one.
    let shown = match &d.args {
        Some(types) => {
            let texts: Vec<String> = types
                .iter()
                .map(|t| cat.resolve_type(&ks, t).map(|(_, _, s)| s))
                .collect::<Result<_>>()
                .unwrap_or_default();
            format!("{qualified}({})", texts.join(", "))
        }
        None => qualified,
    };
    if cat.keyspace(&ks).is_none() {
        if d.if_exists {
            return Ok(None);
        }
        return Err(CqlError::invalid(format!("{kind} '{shown}' doesn't exist")));
    }
    let fns = cat.functions();
    let candidates: Vec<FunctionKey> = if aggregate {
        fns.aggregate_overloads(&ks, &d.name.name)
            .map(|(k, _)| k.clone())
            .collect()
    } else {
        fns.function_overloads(&ks, &d.name.name)
            .map(|(k, _)| k.clone())
            .collect()
    };
    let bare = &d.name.name;
    if candidates.len() > 1 && d.args.is_none() {
        return Err(CqlError::invalid(format!(
            "'DROP {word} {bare}' matches multiple function definitions; specify the argument types by issuing a statement like 'DROP {word} {bare} (type, type, ...)'. You can use cqlsh 'DESCRIBE {word} {bare}' command to find all overloads"
        )));
    }
    let key = match &d.args {
        Some(types) => {
            let (_, texts) = arg_types(cat, &ks, types)?;
            let found = candidates.into_iter().find(|k| k.arg_types == texts);
            match found {
                Some(k) => k,
                None if d.if_exists => return Ok(None),
                None => return Err(CqlError::invalid(format!("{kind} '{shown}' doesn't exist"))),
            }
        }
        None => match candidates.into_iter().next() {
            Some(k) => k,
            None if d.if_exists => return Ok(None),
            None => return Err(CqlError::invalid(format!("{kind} '{shown}' doesn't exist"))),
        },
    };
    if aggregate {
        cat.functions_mut().remove_aggregate(&key);
        return Ok(Some(change(
            SchemaChangeType::Dropped,
            SchemaChangeTarget::Aggregate,
            &key,
        )));
    }
    if let Some(def) = cat.functions().functions().get(&key) {
        let users = cat.functions().aggregates_using(&key, def);
        if !users.is_empty() {
            return Err(CqlError::invalid(format!(
                "Function '{shown}' is still referenced by aggregates {}",
                users.join(", ")
            )));
        }
    }
    cat.functions_mut().remove_function(&key);
    Ok(Some(change(
        SchemaChangeType::Dropped,
        SchemaChangeTarget::Function,
        &key,
    )))
}

/// The functions and aggregates of keyspace `ks` whose signature, state or return type uses
/// user type `udt` (as `ks.name`), which DROP TYPE refuses to orphan.
pub(super) fn functions_using_type(cat: &Catalog, ks: &str, udt: &str) -> Vec<String> {
    let uses = |types: &[&ColumnType]| types.iter().any(|t| mentions_udt(t, udt));
    let fns = cat.functions();
    let mut out: Vec<String> = fns
        .functions()
        .iter()
        .filter(|(k, f)| {
            k.keyspace == ks
                && uses(
                    &f.arg_types
                        .iter()
                        .chain([&f.return_type])
                        .collect::<Vec<_>>(),
                )
        })
        .map(|(k, _)| k.qualified())
        .collect();
    out.extend(
        fns.aggregates()
            .iter()
            .filter(|(k, a)| {
                k.keyspace == ks
                    && uses(
                        &a.arg_types
                            .iter()
                            .chain([&a.state_type, &a.return_type])
                            .collect::<Vec<_>>(),
                    )
            })
            .map(|(k, _)| k.qualified()),
    );
    out.dedup();
    out
}
