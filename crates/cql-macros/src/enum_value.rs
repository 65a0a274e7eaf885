//! C-like enums as one CQL value: `#[cql(repr = "int")]` (or `tinyint`, `smallint`, `bigint`)
//! stores the discriminant, `#[cql(repr = "text")]` the variant's name (`rename`,
//! `rename_all`).
//!
//! The column type is checked first, so a wrong column is a type mismatch naming the enum; an
//! unknown stored value is `DecodeError::Invalid` naming the value and the expected ones.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::generics::{frame_lifetime, with_frame};
use crate::input::{Enum, Input, Repr};

/// The pieces both derives need.
struct Parts {
    /// The Rust type of the stored value (`i32`, `&str`, ...).
    raw: TokenStream,
    /// The `ColumnType` pattern the enum accepts.
    pattern: TokenStream,
    /// One stored value per variant, as a literal (an expression and a pattern).
    values: Vec<TokenStream>,
    /// The stored values for an error message.
    listed: String,
    /// How the enum is stored, for a type mismatch message.
    stored_as: String,
}

fn parts(e: &Enum, int: &TokenStream) -> Parts {
    let (raw, pattern) = match e.repr {
        Repr::TinyInt => (quote!(i8), quote!(#int::ColumnType::TinyInt)),
        Repr::SmallInt => (quote!(i16), quote!(#int::ColumnType::SmallInt)),
        Repr::Int => (quote!(i32), quote!(#int::ColumnType::Int)),
        Repr::BigInt => (quote!(i64), quote!(#int::ColumnType::BigInt)),
        Repr::Text => (
            quote!(&str),
            quote!(#int::ColumnType::Text | #int::ColumnType::Ascii),
        ),
    };
    let values = e
        .variants
        .iter()
        .map(|v| match e.repr {
            Repr::Text => {
                let lit = Literal::string(&v.name);
                quote!(#lit)
            }
            _ => {
                // The range was checked when parsing, so the magnitude fits `repr`'s type.
                let lit = Literal::u128_unsuffixed(v.value.unsigned_abs());
                if v.value < 0 {
                    quote!(-#lit)
                } else {
                    quote!(#lit)
                }
            }
        })
        .collect();
    let listed = e
        .variants
        .iter()
        .map(|v| match e.repr {
            Repr::Text => format!("{:?}", v.name),
            _ => v.value.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Parts {
        raw,
        pattern,
        values,
        listed,
        stored_as: format!("an enum stored as {}", e.repr.cql_name()),
    }
}

fn the_enum(input: &Input) -> syn::Result<&Enum> {
    match &input.kind {
        crate::input::Kind::Enum(e) => Ok(e),
        _ => Err(syn::Error::new(input.ident.span(), "expected an enum")),
    }
}

/// Expands `#[derive(SerializeValue)]` for a C-like enum.
pub(crate) fn serialize_value(input: &Input) -> syn::Result<TokenStream> {
    let e = the_enum(input)?;
    let int = input.internal();
    let Parts {
        raw,
        pattern,
        values,
        stored_as,
        ..
    } = parts(e, &int);
    let name = &input.ident;
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    let idents = e.variants.iter().map(|v| &v.ident);
    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #int::SerializeValue for #name #ty_g #where_c {
            fn serialize(
                &self,
                typ: &#int::ColumnType,
                buf: &mut #int::BytesMut,
            ) -> ::core::result::Result<(), #int::EncodeError> {
                if !::core::matches!(typ, #pattern) {
                    return ::core::result::Result::Err(#int::EncodeError::TypeMismatch {
                        expected: ::std::string::ToString::to_string(typ),
                        got: ::std::format!(
                            "{} ({})",
                            ::core::any::type_name::<Self>(),
                            #stored_as,
                        ),
                    });
                }
                let raw: #raw = match self {
                    #(Self::#idents => #values,)*
                };
                <#raw as #int::SerializeValue>::serialize(&raw, typ, buf)
            }
        }
    })
}

/// Expands `#[derive(DeserializeValue)]` for a C-like enum.
pub(crate) fn deserialize_value(input: &Input) -> syn::Result<TokenStream> {
    let e = the_enum(input)?;
    let int = input.internal();
    let frame = frame_lifetime();
    let Parts {
        raw,
        pattern,
        values,
        listed,
        stored_as,
    } = parts(e, &int);
    let raw = match e.repr {
        Repr::Text => quote!(&#frame str),
        _ => raw,
    };
    let unknown = match e.repr {
        Repr::Text => quote!(::std::format!(
            "{:?} is not a variant of {}; expected one of {}",
            other,
            ::core::any::type_name::<Self>(),
            #listed,
        )),
        _ => quote!(::std::format!(
            "{} is not a value of {}; expected one of {}",
            other,
            ::core::any::type_name::<Self>(),
            #listed,
        )),
    };
    let name = &input.ident;
    let generics = with_frame(&input.generics);
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    let idents = e.variants.iter().map(|v| &v.ident);
    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #int::DeserializeValue<#frame> for #name #ty_g #where_c {
            fn type_check(
                typ: &#int::ColumnType,
            ) -> ::core::result::Result<(), #int::DecodeError> {
                if ::core::matches!(typ, #pattern) {
                    ::core::result::Result::Ok(())
                } else {
                    ::core::result::Result::Err(#int::DecodeError::TypeMismatch {
                        expected: ::std::format!(
                            "{} ({})",
                            ::core::any::type_name::<Self>(),
                            #stored_as,
                        ),
                        got: ::std::string::ToString::to_string(typ),
                    })
                }
            }

            fn deserialize(
                typ: &#frame #int::ColumnType,
                v: ::core::option::Option<&#frame [u8]>,
            ) -> ::core::result::Result<Self, #int::DecodeError> {
                <Self as #int::DeserializeValue<#frame>>::type_check(typ)?;
                if v.is_none() {
                    return ::core::result::Result::Err(#int::DecodeError::TypeMismatch {
                        expected: ::std::borrow::ToOwned::to_owned(
                            ::core::any::type_name::<Self>(),
                        ),
                        got: ::std::borrow::ToOwned::to_owned("null"),
                    });
                }
                let raw = <#raw as #int::DeserializeValue<#frame>>::deserialize(typ, v)?;
                match raw {
                    #(#values => ::core::result::Result::Ok(Self::#idents),)*
                    other => ::core::result::Result::Err(#int::DecodeError::Invalid {
                        what: "enum value",
                        detail: #unknown,
                    }),
                }
            }
        }
    })
}
