//! The rows of `system_schema.functions` and `system_schema.aggregates`, with the value forms
//! Cassandra writes: argument types as CQL type text, `initcond` as a CQL literal.

use proto::CqlValue;

use super::{VirtualRow, text, text_list};
use crate::schema::Catalog;

/// One `system_schema.functions` row per function of keyspace `ks`.
pub(super) fn function_rows(cat: &Catalog, ks: &str) -> Vec<VirtualRow> {
    cat.functions()
        .functions()
        .iter()
        .filter(|(k, _)| k.keyspace == ks)
        .map(|(k, f)| {
            vec![
                ("keyspace_name".to_owned(), text(ks)),
                ("function_name".to_owned(), text(&k.name)),
                (
                    "argument_types".to_owned(),
                    text_list(k.arg_types.iter().map(String::as_str)),
                ),
                (
                    "argument_names".to_owned(),
                    text_list(f.arg_names.iter().map(String::as_str)),
                ),
                ("body".to_owned(), text(&f.body)),
                (
                    "called_on_null_input".to_owned(),
                    CqlValue::Boolean(f.called_on_null_input),
                ),
                ("language".to_owned(), text(&f.language)),
                ("return_type".to_owned(), text(&f.return_type_text)),
            ]
        })
        .collect()
}

/// One `system_schema.aggregates` row per aggregate of keyspace `ks`.
pub(super) fn aggregate_rows(cat: &Catalog, ks: &str) -> Vec<VirtualRow> {
    cat.functions()
        .aggregates()
        .iter()
        .filter(|(k, _)| k.keyspace == ks)
        .map(|(k, a)| {
            let mut row = vec![
                ("keyspace_name".to_owned(), text(ks)),
                ("aggregate_name".to_owned(), text(&k.name)),
                (
                    "argument_types".to_owned(),
                    text_list(k.arg_types.iter().map(String::as_str)),
                ),
                ("return_type".to_owned(), text(&a.return_type_text)),
                ("state_func".to_owned(), text(&a.state_func)),
                ("state_type".to_owned(), text(&a.state_type_text)),
            ];
            // Absent options are null columns, as in Cassandra's schema tables.
            if let Some(ff) = &a.final_func {
                row.push(("final_func".to_owned(), text(ff)));
            }
            if let Some(ic) = &a.init_cond_text {
                row.push(("initcond".to_owned(), text(ic)));
            }
            row
        })
        .collect()
}
