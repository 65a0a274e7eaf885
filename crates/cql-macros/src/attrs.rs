//! The input model shared by every derive: a struct with named fields and its `#[cql(...)]`
//! attributes, parsed and checked once.
//!
//! Every derive accepts every attribute, because one struct usually derives several traits at
//! once; an attribute a derive has no use for is ignored by that derive.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Generics, Ident, LitStr, Path, Type};

/// How fields are matched to columns (rows) or to UDT fields (values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// By name, in any order (the default).
    MatchByName,
    /// By position: field `i` goes with column (or UDT field) `i`; names are still compared
    /// unless `skip_name_checks` is given.
    EnforceOrder,
}

/// A parsed `#[derive(...)]` input.
pub(crate) struct Input {
    /// The struct's name.
    pub(crate) ident: Ident,
    /// The struct's generics, as written.
    pub(crate) generics: Generics,
    /// The path of the `cql-session` crate in generated code.
    pub(crate) krate: Path,
    /// How fields are matched.
    pub(crate) flavor: Flavor,
    /// With `EnforceOrder`: do not compare names.
    pub(crate) skip_name_checks: bool,
    /// Values only: a UDT field the struct has no field for is an error instead of a null.
    pub(crate) forbid_excess_udt_fields: bool,
    /// All fields, in declaration order, skipped ones included.
    pub(crate) fields: Vec<Field>,
}

/// One named field.
pub(crate) struct Field {
    /// The Rust field name.
    pub(crate) ident: Ident,
    /// The field's type.
    pub(crate) ty: Type,
    /// The CQL name: the field name, or its `rename`.
    pub(crate) name: String,
    /// `#[cql(skip)]`: not serialized; `Default` when deserialized.
    pub(crate) skip: bool,
    /// `#[cql(default_when_null)]`: a null deserializes to `Default`.
    pub(crate) default_when_null: bool,
}

impl Input {
    /// Parses and checks a derive input.
    pub(crate) fn from_derive(input: DeriveInput, derive: &str) -> syn::Result<Self> {
        let named = match input.data {
            Data::Struct(s) => match s.fields {
                Fields::Named(named) => named,
                other => {
                    return Err(unsupported(other.span(), derive));
                }
            },
            Data::Enum(e) => return Err(unsupported(e.enum_token.span, derive)),
            Data::Union(u) => return Err(unsupported(u.union_token.span, derive)),
        };

        let mut krate = None;
        let mut flavor = None;
        let mut skip_name_checks: Option<Span> = None;
        let mut forbid_excess_udt_fields = false;
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("cql")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("crate") {
                    let value = meta.value()?;
                    let path = if value.peek(LitStr) {
                        value.parse::<LitStr>()?.parse::<Path>()?
                    } else {
                        value.parse::<Path>()?
                    };
                    set_once(&mut krate, path, &meta)
                } else if meta.path.is_ident("flavor") {
                    let lit: LitStr = meta.value()?.parse()?;
                    let f = match lit.value().as_str() {
                        "match_by_name" => Flavor::MatchByName,
                        "enforce_order" => Flavor::EnforceOrder,
                        other => {
                            return Err(syn::Error::new(
                                lit.span(),
                                format!(
                                    "unknown flavor `{other}`; expected \"match_by_name\" or \
                                     \"enforce_order\""
                                ),
                            ));
                        }
                    };
                    set_once(&mut flavor, f, &meta)
                } else if meta.path.is_ident("skip_name_checks") {
                    skip_name_checks = Some(meta.path.span());
                    Ok(())
                } else if meta.path.is_ident("forbid_excess_udt_fields") {
                    forbid_excess_udt_fields = true;
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown cql container attribute `{}`; expected one of `crate`, `flavor`, \
                         `skip_name_checks`, `forbid_excess_udt_fields`",
                        path_to_string(&meta.path)
                    )))
                }
            })?;
        }
        let flavor = flavor.unwrap_or(Flavor::MatchByName);
        if let (Some(span), Flavor::MatchByName) = (skip_name_checks, flavor) {
            return Err(syn::Error::new(
                span,
                "`skip_name_checks` needs `flavor = \"enforce_order\"`: matching by name needs names",
            ));
        }

        let mut fields = Vec::with_capacity(named.named.len());
        for f in named.named {
            fields.push(Field::parse(f)?);
        }
        check_unique_names(&fields)?;

        Ok(Self {
            ident: input.ident,
            generics: input.generics,
            krate: krate.unwrap_or_else(|| syn::parse_quote!(::cql_session)),
            flavor,
            skip_name_checks: skip_name_checks.is_some(),
            forbid_excess_udt_fields,
            fields,
        })
    }

    /// The fields that take part in (de)serialization, in declaration order.
    pub(crate) fn active_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.skip)
    }

    /// The path of the hidden re-exports module of `cql-session`, through which generated code
    /// names every item (traits, helper functions, `cql-proto` types).
    pub(crate) fn internal(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::_macro_internal)
    }
}

impl Field {
    fn parse(f: syn::Field) -> syn::Result<Self> {
        let Some(ident) = f.ident else {
            return Err(syn::Error::new(f.span(), "field without a name"));
        };
        let mut rename: Option<String> = None;
        let mut skip = false;
        let mut default_when_null = false;
        for attr in f.attrs.iter().filter(|a| a.path().is_ident("cql")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let lit: LitStr = meta.value()?.parse()?;
                    set_once(&mut rename, lit.value(), &meta)
                } else if meta.path.is_ident("skip") {
                    skip = true;
                    Ok(())
                } else if meta.path.is_ident("default_when_null") {
                    default_when_null = true;
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown cql field attribute `{}`; expected one of `rename`, `skip`, \
                         `default_when_null`",
                        path_to_string(&meta.path)
                    )))
                }
            })?;
        }
        let name = rename.unwrap_or_else(|| {
            let s = ident.to_string();
            s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
        });
        Ok(Self {
            ident,
            ty: f.ty,
            name,
            skip,
            default_when_null,
        })
    }
}

impl Field {
    /// The CQL name as a byte-string literal, for matching a column's name bytes without
    /// getting a `&str` (which costs a UTF-8 check per row).
    pub(crate) fn name_bytes(&self) -> syn::LitByteStr {
        syn::LitByteStr::new(self.name.as_bytes(), Span::call_site())
    }

    /// The initializer of a skipped field when deserializing: `Default`, with a missing impl
    /// reported at the field's type.
    pub(crate) fn skipped_init(&self) -> TokenStream {
        let ident = &self.ident;
        let ty = &self.ty;
        let default = quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default());
        quote!(#ident: #default,)
    }
}

fn unsupported(span: Span, derive: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!("#[derive({derive})]: only structs with named fields are supported"),
    )
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &syn::meta::ParseNestedMeta<'_>,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!(
            "duplicate cql attribute `{}`",
            path_to_string(&meta.path)
        )));
    }
    *slot = Some(value);
    Ok(())
}

fn path_to_string(path: &Path) -> String {
    quote!(#path).to_string().replace(' ', "")
}

/// Two fields with one CQL name would make name matching ambiguous.
fn check_unique_names(fields: &[Field]) -> syn::Result<()> {
    for (i, f) in fields.iter().enumerate().filter(|(_, f)| !f.skip) {
        if fields[..i].iter().any(|g| !g.skip && g.name == f.name) {
            return Err(syn::Error::new(
                f.ident.span(),
                format!("two fields have the CQL name `{}`", f.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;
    use syn::parse_quote;

    use super::*;

    fn parse(input: DeriveInput) -> syn::Result<Input> {
        Input::from_derive(input, "SerializeRow")
    }

    fn err(input: DeriveInput) -> String {
        match parse(input) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
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
        let names: Vec<_> = input.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "type"]);
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
    fn misuse_is_an_error_that_says_what_is_wrong() {
        assert!(
            err(parse_quote!(
                enum E {
                    A,
                }
            ))
            .contains("only structs with named fields")
        );
        assert!(
            err(parse_quote!(
                struct T(i32);
            ))
            .contains("only structs with named fields")
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
}
