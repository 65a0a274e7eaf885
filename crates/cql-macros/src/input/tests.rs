use quote::ToTokens;
use syn::parse_quote;

use super::*;

fn parse(input: DeriveInput) -> syn::Result<Input> {
    Input::from_derive(input, Derive::SerializeRow)
}

fn err_for(input: DeriveInput, derive: Derive) -> String {
    match Input::from_derive(input, derive) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn err(input: DeriveInput) -> String {
    err_for(input, Derive::SerializeRow)
}

fn names(input: &Input) -> Vec<&str> {
    input.fields.iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn defaults_are_by_name_through_cql_session() {
    let input = parse(parse_quote! {
        struct S { a: i32, r#type: String }
    })
    .unwrap();
    assert_eq!(input.krate.to_token_stream().to_string(), ":: cql_session");
    assert_eq!(input.flavor, Flavor::MatchByName);
    assert!(!input.skip_name_checks && !input.forbid_excess_udt_fields);
    assert_eq!(names(&input), ["a", "type"]);
    assert!(matches!(input.kind, Kind::Struct));
}

#[test]
fn container_and_field_attributes_are_parsed() {
    let input = parse(parse_quote! {
        #[cql(crate = "my::session", flavor = "enforce_order")]
        #[cql(skip_name_checks, forbid_excess_udt_fields)]
        struct S {
            #[cql(rename = "x_col")]
            x: i32,
            #[cql(skip)]
            cache: u8,
            #[cql(default_when_null)]
            n: i64,
        }
    })
    .unwrap();
    assert_eq!(input.krate.to_token_stream().to_string(), "my :: session");
    assert_eq!(input.flavor, Flavor::EnforceOrder);
    assert!(input.skip_name_checks && input.forbid_excess_udt_fields);
    let active: Vec<_> = input.active_fields().map(|f| f.name.as_str()).collect();
    assert_eq!(active, ["x_col", "n"]);
    assert!(input.fields[1].skip);
    assert!(input.fields[2].default_when_null && !input.fields[0].default_when_null);

    let path = parse(parse_quote! {
        #[cql(crate = crate::reexport)]
        struct S { a: i32 }
    })
    .unwrap();
    assert_eq!(
        path.krate.to_token_stream().to_string(),
        "crate :: reexport"
    );
}

#[test]
fn the_scylla_namespace_takes_the_same_keys_and_mixes_with_cql() {
    let input = parse(parse_quote! {
        #[scylla(crate = cql_session, flavor = "enforce_order")]
        #[cql(skip_name_checks)]
        struct S {
            #[scylla(rename = "x_col")]
            x: i32,
            #[scylla(skip)]
            #[cql(default_when_null)]
            y: u8,
            #[scylla(allow_missing)]
            z: i64,
        }
    })
    .unwrap();
    assert_eq!(input.krate.to_token_stream().to_string(), "cql_session");
    assert_eq!(input.flavor, Flavor::EnforceOrder);
    assert!(input.skip_name_checks);
    assert_eq!(names(&input), ["x_col", "y", "z"]);
    assert!(input.fields[1].skip && input.fields[1].default_when_null);
    assert!(input.fields[2].allow_missing && !input.fields[0].allow_missing);

    assert!(
        err(parse_quote! {
            #[scylla(frobnicate)]
            struct S { a: i32 }
        })
        .contains("unknown scylla container attribute `frobnicate`")
    );
    assert!(
        err(parse_quote! {
            struct S {
                #[cql(rename = "a")]
                #[scylla(rename = "b")]
                a: i32,
            }
        })
        .contains("duplicate scylla attribute `rename`")
    );
}

#[test]
fn allow_missing_on_the_struct_applies_to_every_field() {
    let input = parse(parse_quote! {
        #[scylla(allow_missing)]
        struct S { a: i32, b: i32 }
    })
    .unwrap();
    assert!(input.fields.iter().all(|f| f.allow_missing));
    assert!(
        err_for(
            parse_quote! {
                #[cql(flavor = "enforce_order", allow_missing)]
                struct S { a: i32 }
            },
            Derive::DeserializeRow
        )
        .contains("`allow_missing` needs `flavor = \"match_by_name\"` in a row")
    );
    // A UDT by position may miss trailing fields.
    Input::from_derive(
        parse_quote! {
            #[cql(flavor = "enforce_order", allow_missing)]
            struct S { a: i32 }
        },
        Derive::DeserializeValue,
    )
    .unwrap();
}

#[test]
fn flatten_is_for_rows_by_name_without_column_attributes() {
    let input = parse(parse_quote! {
        struct S { a: i32, #[cql(flatten)] inner: Inner, #[cql(flatten)] other: Other }
    })
    .unwrap();
    let flat: Vec<_> = input.flattened().map(|f| f.name.as_str()).collect();
    assert_eq!(flat, ["inner", "other"]);
    assert_eq!(input.own_fields().count(), 1);

    let flat = |derive| {
        err_for(
            parse_quote! { struct S { #[cql(flatten)] inner: Inner } },
            derive,
        )
    };
    assert!(flat(Derive::SerializeValue).contains("`flatten` is for rows"));
    assert!(flat(Derive::DeserializeValue).contains("`flatten` is for rows"));
    assert!(
        err(parse_quote! {
            #[cql(flavor = "enforce_order")]
            struct S { #[cql(flatten)] inner: Inner }
        })
        .contains("`flatten` needs `flavor = \"match_by_name\"`")
    );
    assert!(
        err(parse_quote! { struct S { #[cql(flatten, rename = "x")] inner: Inner } })
            .contains("remove `rename`")
    );
    assert!(
        err(parse_quote! { struct S { #[cql(flatten, default_when_null)] inner: Inner } })
            .contains("remove `skip`, `default_when_null`")
    );
}

#[test]
fn transparent_takes_one_active_field_named_or_not() {
    let tuple = parse(parse_quote! {
        #[cql(transparent)]
        struct Id(u64);
    })
    .unwrap();
    assert!(matches!(tuple.kind, Kind::Transparent));
    assert_eq!(
        tuple.inner().unwrap().member.to_token_stream().to_string(),
        "0"
    );
    let named = parse(parse_quote! {
        #[scylla(transparent)]
        struct Id { raw: u64, #[cql(skip)] note: String }
    })
    .unwrap();
    assert_eq!(
        named.inner().unwrap().member.to_token_stream().to_string(),
        "raw"
    );
    assert!(
        err(parse_quote! {
            #[cql(transparent)]
            struct Two(u64, u64);
        })
        .contains("exactly one field that is not `skip`ped, found 2")
    );
    assert!(
        err(parse_quote! {
            #[cql(transparent)]
            struct Unit;
        })
        .contains("found 0")
    );
    assert!(
        err(parse_quote! {
            #[cql(transparent, flavor = "enforce_order")]
            struct Id(u64);
        })
        .contains("remove `flavor`")
    );
}

fn value_enum(input: DeriveInput) -> Enum {
    match Input::from_derive(input, Derive::SerializeValue)
        .unwrap()
        .kind
    {
        Kind::Enum(e) => e,
        _ => panic!("an enum"),
    }
}

#[test]
fn enums_number_their_variants_like_rust_does() {
    let e = value_enum(parse_quote! {
        #[cql(repr = "smallint")]
        enum E { A, B = 10, C, D = -3, F }
    });
    assert_eq!(e.repr, Repr::SmallInt);
    let values: Vec<_> = e.variants.iter().map(|v| v.value).collect();
    assert_eq!(values, [0, 10, 11, -3, -2]);
}

#[test]
fn text_enums_store_names_renamed_one_by_one_or_all_at_once() {
    let e = value_enum(parse_quote! {
        #[scylla(repr = "text", rename_all = "snake_case")]
        enum Status { InProgress, #[cql(rename = "DONE")] Done, Failed }
    });
    let names: Vec<_> = e.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["in_progress", "DONE", "failed"]);
}

#[test]
fn enum_misuse_says_what_to_write() {
    let value_err = |input| err_for(input, Derive::DeserializeValue);
    assert!(
        value_err(parse_quote!(
            enum E {
                A,
            }
        ))
        .contains("add `#[cql(repr = \"int\")]`")
    );
    assert!(
        err(parse_quote! { #[cql(repr = "int")] enum E { A } })
            .contains("#[derive(SerializeRow)] needs a struct with named fields")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "int")] enum E { A(i32) } })
            .contains("variant `A` has fields; only C-like enums")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "int")] enum E { A { x: i32 } } })
            .contains("variant `A` has fields")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "tinyint")] enum E { A = 200 } })
            .contains("`A` = 200 does not fit CQL `tinyint` (-128..=127)")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "int")] enum E { A = 1, B = 1 } })
            .contains("variants `A` and `B` are both stored as the value 1")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "text")] enum E { A, #[cql(rename = "A")] B } })
            .contains("both stored as the name `A`")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "int")] enum E { #[cql(rename = "a")] A } })
            .contains("`rename` names the stored text")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "int")] enum E { A = 1 + 1 } })
            .contains("must be an integer literal")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "float")] enum E { A } })
            .contains("unknown repr `float`")
    );
    assert!(value_err(parse_quote! { #[cql(repr = "int")] enum E {} }).contains("no values"));
    assert!(
        value_err(parse_quote! { #[cql(repr = "int", rename_all = "snake_case")] enum E { A } })
            .contains("`rename_all` renames the variants of an enum with `repr = \"text\"`")
    );
    assert!(
        value_err(parse_quote! { #[cql(repr = "int")] struct S { a: i32 } })
            .contains("`repr` is for C-like enums")
    );
}

#[test]
fn misuse_is_an_error_that_says_what_is_wrong() {
    assert!(
        err(parse_quote!(
            struct T(i32);
        ))
        .contains("only structs with named fields are supported; for a newtype add")
    );
    assert!(
        err(parse_quote!(
            struct U;
        ))
        .contains("only structs with named fields")
    );
    assert!(err(parse_quote!(union U { a: u32 })).contains("only structs with named fields"));
    assert!(
        err(parse_quote!(
            struct S {
                #[cql(rename = "a", rename = "b")]
                a: i32,
            }
        ))
        .contains("duplicate cql attribute `rename`")
    );
    assert!(
        err(parse_quote!(
            struct S {
                #[cql(frobnicate)]
                a: i32,
            }
        ))
        .contains("unknown cql field attribute `frobnicate`")
    );
    assert!(
        err(parse_quote!(
            #[cql(positional)]
            struct S {
                a: i32,
            }
        ))
        .contains("unknown cql container attribute `positional`")
    );
    assert!(
        err(parse_quote!(
            #[cql(flavor = "nope")]
            struct S {
                a: i32,
            }
        ))
        .contains("unknown flavor `nope`")
    );
    assert!(
        err(parse_quote!(
            #[cql(skip_name_checks)]
            struct S {
                a: i32,
            }
        ))
        .contains("needs `flavor = \"enforce_order\"`")
    );
    assert!(
        err(parse_quote!(
            struct S {
                a: i32,
                #[cql(rename = "a")]
                b: i32,
            }
        ))
        .contains("two fields have the CQL name `a`")
    );
}

#[test]
fn a_skipped_field_may_share_a_name() {
    let input = parse(parse_quote! {
        struct S { a: i32, #[cql(skip, rename = "a")] b: i32 }
    })
    .unwrap();
    assert_eq!(input.active_fields().count(), 1);
}

#[test]
fn other_attributes_are_left_alone() {
    parse(parse_quote! {
        #[derive(Debug)]
        #[serde(rename_all = "camelCase")]
        struct S { #[doc = "x"] a: i32 }
    })
    .unwrap();
}
