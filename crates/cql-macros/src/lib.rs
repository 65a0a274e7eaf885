//! `cql-macros` holds the derive macros of the CQL driver: `SerializeRow`, `DeserializeRow`,
//! `SerializeValue` and `DeserializeValue`, for structs with named fields, transparent newtypes
//! and (values) C-like enums.
//!
//! Use them through the `derive` feature of `cql-session` (on by default), which re-exports them
//! next to the traits of the same names:
//!
//! ```ignore
//! use cql_session::{DeserializeRow, SerializeRow};
//!
//! #[derive(SerializeRow, DeserializeRow)]
//! struct User {
//!     id: i64,
//!     #[cql(rename = "user_name")]
//!     name: String,
//! }
//! ```
//!
//! A row struct (`SerializeRow`, `DeserializeRow`) matches its fields to bind markers or result
//! columns; a value struct (`SerializeValue`, `DeserializeValue`) is a user-defined type (UDT) and
//! matches its fields to the UDT's fields.
//!
//! # Attributes
//!
//! Attributes are written `#[cql(...)]` or, as for the `scylla` crate, `#[scylla(...)]`: both
//! take the same keys and may be mixed on one item.
//!
//! On the struct:
//! - `crate = path`: the path of `cql-session` in generated code (default: the name the
//!   user's `Cargo.toml` gives `cql-session`, such as `::scylla` for a renamed dependency, else
//!   `::cql_session`);
//! - `flavor = "match_by_name"` (default): fields are matched by name, in any order;
//! - `flavor = "enforce_order"`: field `i` goes with column (or UDT field) `i`, and names must
//!   match too unless `skip_name_checks` is also given;
//! - `skip_name_checks`: with `enforce_order`, do not compare names;
//! - `forbid_excess_udt_fields`: (values) a UDT field the struct has no field for is an error;
//!   by default it is serialized as null and ignored when deserializing;
//! - `allow_missing`: as the field attribute, for every field;
//! - `transparent`: the struct has one field that is not `skip`ped (named or not), and is
//!   (de)serialized exactly as that field, its type check included (`struct UserId(Uuid);`).
//!
//! On a field:
//! - `rename = "name"`: the CQL name of the field (default: the field's name);
//! - `skip`: the field is not serialized, and is `Default::default()` when deserialized;
//! - `default_when_null`: (deserialize) a null becomes `Default::default()`;
//! - `allow_missing`: (deserialize) a column, or UDT field, that is absent becomes
//!   `Default::default()`; in a UDT by position, the field is absent when the UDT ends, or
//!   (with name checks) when the next UDT field has another name. Not for rows by position;
//! - `flatten`: (rows, `match_by_name` only) the field's type derives the same row trait, and
//!   its fields are matched as if they were the outer struct's, nested flattening included. Own
//!   fields are matched first. Each flattened field reads the row once more, and serializing
//!   checks its markers by scanning them, so a flattened row costs a little more than a flat one.
//!   Not supported for UDTs or with `enforce_order` (a compile error).
//!
//! On a C-like enum (values only), `repr` says how it is stored:
//! - `repr = "int"` (or `"tinyint"`, `"smallint"`, `"bigint"`): the discriminant, which must be
//!   an integer literal or implicit (the previous one plus one, from 0);
//! - `repr = "text"`: the variant's name, or its `#[cql(rename = "...")]`, or the enum's
//!   `rename_all = "snake_case"` (also `lowercase`, `UPPERCASE`, `SCREAMING_SNAKE_CASE`,
//!   `kebab-case`, `camelCase`, `PascalCase`).
//!
//! The column must be of that type (text enums also read `ascii`); anything else is a type
//! mismatch naming the enum, and a stored value no variant has is `DecodeError::Invalid` naming
//! the value and the expected ones.
//!
//! Any other attribute, a row derive on an enum, an enum with data, and a union or tuple struct
//! without `transparent` are compile errors that say what to write instead.
#![forbid(unsafe_code)]

mod attrs;
mod deserialize_row;
mod deserialize_value;
mod enum_value;
mod generics;
mod input;
mod serialize_row;
mod serialize_value;
mod transparent;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `SerializeRow` for a struct with named fields: its fields are a statement's bound
/// values, matched to bind markers by name (see the crate docs for the attributes).
#[proc_macro_derive(SerializeRow, attributes(cql, scylla))]
pub fn derive_serialize_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    serialize_row::expand_serialize_row(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `DeserializeRow` for a struct with named fields: one result row, its fields matched
/// to columns by name (see the crate docs for the attributes).
#[proc_macro_derive(DeserializeRow, attributes(cql, scylla))]
pub fn derive_deserialize_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    deserialize_row::expand_deserialize_row(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `SerializeValue` for a struct with named fields, written as a CQL user-defined type
/// (see the crate docs for the attributes).
#[proc_macro_derive(SerializeValue, attributes(cql, scylla))]
pub fn derive_serialize_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    serialize_value::expand_serialize_value(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `DeserializeValue` for a struct with named fields, read from a CQL user-defined type
/// (see the crate docs for the attributes).
#[proc_macro_derive(DeserializeValue, attributes(cql, scylla))]
pub fn derive_deserialize_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    deserialize_value::expand_deserialize_value(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[cfg(test)]
mod tests {
    use syn::{DeriveInput, parse_quote};

    type Expand = fn(DeriveInput) -> syn::Result<proc_macro2::TokenStream>;

    const DERIVES: [(&str, Expand); 4] = [
        ("SerializeRow", super::serialize_row::expand_serialize_row),
        (
            "DeserializeRow",
            super::deserialize_row::expand_deserialize_row,
        ),
        (
            "SerializeValue",
            super::serialize_value::expand_serialize_value,
        ),
        (
            "DeserializeValue",
            super::deserialize_value::expand_deserialize_value,
        ),
    ];

    /// The trait names of the impls in an expansion, in order.
    fn impls(tokens: proc_macro2::TokenStream) -> syn::Result<Vec<(syn::ItemImpl, String)>> {
        let file: syn::File = syn::parse2(tokens)?;
        Ok(file
            .items
            .into_iter()
            .filter_map(|item| match item {
                syn::Item::Impl(i) => {
                    let name = i.trait_.as_ref()?.1.segments.last()?.ident.to_string();
                    Some((i, name))
                }
                _ => None,
            })
            .collect())
    }

    /// Every derive expands every shape of input to its well-formed trait impl, plus the
    /// by-name impl of a row matched by name (what `flatten` needs).
    #[test]
    fn expansions_are_trait_impls() {
        let inputs: [DeriveInput; 4] = [
            parse_quote!(
                struct Empty {}
            ),
            parse_quote!(
                struct Skipped {
                    #[cql(skip)]
                    a: i32,
                }
            ),
            parse_quote! {
                struct G<'a, T: Clone> where T: Send {
                    #[cql(rename = "b")] a: &'a str,
                    t: T,
                    #[cql(default_when_null)] n: i64,
                }
            },
            parse_quote! {
                #[cql(flavor = "enforce_order", skip_name_checks, forbid_excess_udt_fields)]
                struct O { x: i32, #[cql(skip)] y: u8, z: Option<String> }
            },
        ];
        for (derive, expand) in DERIVES {
            for input in &inputs {
                let tokens = expand(input.clone()).unwrap_or_else(|e| panic!("{derive}: {e}"));
                let names: Vec<_> = impls(tokens)
                    .unwrap_or_else(|e| panic!("{derive} on {}: {e}", input.ident))
                    .into_iter()
                    .map(|(_, name)| name)
                    .collect();
                let by_name = derive.ends_with("Row") && input.ident != "O";
                if by_name {
                    assert_eq!(names, [derive.to_owned(), format!("{derive}ByName")]);
                } else {
                    assert_eq!(names, [derive]);
                }
            }
        }
        let shapes: [(DeriveInput, &[usize]); 3] = [
            (
                parse_quote!(
                    #[cql(transparent)]
                    struct Id(u64);
                ),
                &[0, 1, 2, 3],
            ),
            (
                parse_quote!(
                    #[scylla(repr = "text", rename_all = "snake_case")]
                    enum E {
                        A,
                        BigB,
                    }
                ),
                &[2, 3],
            ),
            (
                parse_quote!(
                    struct F {
                        a: i32,
                        #[cql(flatten)]
                        inner: Inner,
                    }
                ),
                &[0, 1],
            ),
        ];
        for (input, derives) in shapes {
            for &i in derives {
                let (derive, expand) = DERIVES[i];
                let tokens = expand(input.clone()).unwrap_or_else(|e| panic!("{derive}: {e}"));
                let found = impls(tokens).unwrap_or_else(|e| panic!("{derive}: {e}"));
                assert_eq!(found[0].1, derive, "{} ", input.ident);
            }
        }
    }

    #[test]
    fn the_frame_lifetime_outlives_the_structs_lifetimes() {
        let input: DeriveInput = parse_quote!(
            struct B<'a> {
                s: &'a str,
            }
        );
        let tokens = super::deserialize_row::expand_deserialize_row(input).unwrap();
        let item = impls(tokens).unwrap().remove(0).0;
        let first = item.generics.params.first().expect("a generic parameter");
        assert_eq!(quote::quote!(#first).to_string(), "'__cql_frame : 'a",);
        let where_clause = item.generics.where_clause.expect("a where clause");
        assert_eq!(
            where_clause.predicates.len(),
            1,
            "a bound for the borrowed field only"
        );
    }
}
