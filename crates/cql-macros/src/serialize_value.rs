//! `#[derive(SerializeValue)]`: a struct written as a CQL user-defined type.
//!
//! A UDT value is its fields as `[bytes]`, in the order of the UDT type's fields (the `typ`
//! passed in, `ColumnType::Udt`). The struct's fields are matched to the type's fields by name
//! (or by position with `enforce_order`). A UDT field the struct has no field for is written as
//! null, unless `forbid_excess_udt_fields` makes it an error; a struct field the UDT does not
//! have is an error.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, parse_quote};

use crate::generics::with_field_bounds;
use crate::input::{Derive, Flavor, Input, Kind};

/// Expands `#[derive(SerializeValue)]`.
pub(crate) fn expand_serialize_value(input: DeriveInput) -> syn::Result<TokenStream> {
    let input = Input::from_derive(input, Derive::SerializeValue)?;
    match input.kind {
        Kind::Transparent => return crate::transparent::serialize_value(&input),
        Kind::Enum(_) => return crate::enum_value::serialize_value(&input),
        Kind::Struct => {}
    }
    let ser = input.internal();
    let internal = input.internal();
    let name = &input.ident;
    let generics = with_field_bounds(&input, &input.generics, |f| {
        let ty = &f.ty;
        parse_quote!(#ty: #ser::SerializeValue)
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();

    let body = match input.flavor {
        Flavor::MatchByName => by_name(&input, &ser, &internal),
        Flavor::EnforceOrder => in_order(&input, &ser, &internal),
    };

    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #ser::SerializeValue for #name #ty_g #where_c {
            fn serialize(
                &self,
                typ: &#internal::ColumnType,
                buf: &mut #internal::BytesMut,
            ) -> ::core::result::Result<(), #internal::EncodeError> {
                let #internal::ColumnType::Udt { fields, .. } = typ else {
                    return ::core::result::Result::Err(#internal::EncodeError::TypeMismatch {
                        expected: ::std::string::ToString::to_string(typ),
                        got: ::std::borrow::ToOwned::to_owned(::core::any::type_name::<Self>()),
                    });
                };
                #body
            }
        }
    })
}

/// The error for a UDT type that does not fit the struct, `why` saying how.
fn mismatch(internal: &TokenStream, why: TokenStream) -> TokenStream {
    quote! {
        #internal::EncodeError::TypeMismatch {
            expected: ::std::string::ToString::to_string(typ),
            got: ::std::format!("{} ({})", ::core::any::type_name::<Self>(), #why),
        }
    }
}

/// What to do with a UDT field the struct has no field for.
fn excess(input: &Input, internal: &TokenStream, fname: TokenStream) -> TokenStream {
    if input.forbid_excess_udt_fields {
        let err = mismatch(
            internal,
            quote!(::std::format!("no field for UDT field `{}`", #fname)),
        );
        quote!(return ::core::result::Result::Err(#err);)
    } else {
        quote!(buf.extend_from_slice(&(-1i32).to_be_bytes());)
    }
}

/// The binding of an excess UDT field's name: only used in the error.
fn excess_pattern(input: &Input) -> TokenStream {
    if input.forbid_excess_udt_fields {
        quote!(other)
    } else {
        quote!(_)
    }
}

fn by_name(input: &Input, ser: &TokenStream, internal: &TokenStream) -> TokenStream {
    let fields: Vec<_> = input.active_fields().collect();
    let n = fields.len();
    let names: Vec<_> = fields.iter().map(|f| &f.name).collect();
    let missing = mismatch(
        internal,
        quote!(::std::format!("field `{}` is not in the UDT", field)),
    );
    // Check first that every struct field has a UDT field, so nothing is written for a type that
    // does not fit.
    let check = if n == 0 {
        quote!()
    } else {
        quote! {
            for field in [#(#names),*] {
                if !fields.iter().any(|(fname, _)| fname == field) {
                    return ::core::result::Result::Err(#missing);
                }
            }
        }
    };
    let arms = fields.iter().map(|f| {
        let cql = &f.name;
        let member = &f.member;
        quote! {
            #cql => #ser::SerializeValue::serialize_cell(&self.#member, ftype, buf)?,
        }
    });
    let other = excess(input, internal, quote!(other));
    let other_pat = excess_pattern(input);
    let ftype_use = if n == 0 {
        quote!(let _ = ftype;)
    } else {
        quote!()
    };
    quote! {
        #check
        for (fname, ftype) in fields {
            #ftype_use
            match fname.as_str() {
                #(#arms)*
                #other_pat => {
                    #other
                }
            }
        }
        ::core::result::Result::Ok(())
    }
}

fn in_order(input: &Input, ser: &TokenStream, internal: &TokenStream) -> TokenStream {
    let writes = input.active_fields().map(|f| {
        let cql = &f.name;
        let member = &f.member;
        let missing = mismatch(
            internal,
            quote!(::std::format!("field `{}` is not in the UDT", #cql)),
        );
        let name_check = if input.skip_name_checks {
            quote!(let _ = fname;)
        } else {
            let wrong = mismatch(
                internal,
                quote!(::std::format!("field `{}` is not the UDT's field `{}`", #cql, fname)),
            );
            quote! {
                if fname != #cql {
                    return ::core::result::Result::Err(#wrong);
                }
            }
        };
        quote! {
            let ::core::option::Option::Some((fname, ftype)) = rest.next() else {
                return ::core::result::Result::Err(#missing);
            };
            #name_check
            #ser::SerializeValue::serialize_cell(&self.#member, ftype, buf)?;
        }
    });
    let other = excess(input, internal, quote!(other));
    let other_pat = excess_pattern(input);
    let rest_binding = if input.active_fields().next().is_some() {
        quote!(let mut rest = fields.iter();)
    } else {
        quote!(let rest = fields.iter();)
    };
    quote! {
        #rest_binding
        #(#writes)*
        for (#other_pat, _) in rest {
            #other
        }
        ::core::result::Result::Ok(())
    }
}
