//! `#[derive(DeserializeRow)]`: a struct built from one result row.
//!
//! The generated code follows the contract in the module docs of `cql_session::deserialize::row`:
//! `type_check` once per result, then `deserialize` per row, which must not panic on any input.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, parse_quote};

use crate::attrs::{Field, Flavor, Input};
use crate::generics::{frame_lifetime, with_field_bounds, with_frame};

/// Expands `#[derive(DeserializeRow)]`.
pub(crate) fn expand_deserialize_row(input: DeriveInput) -> syn::Result<TokenStream> {
    let input = Input::from_derive(input, "DeserializeRow")?;
    let de = input.internal();
    let internal = input.internal();
    let frame = frame_lifetime();
    let name = &input.ident;
    let generics = with_field_bounds(
        &input,
        &with_frame(&input.generics),
        |ty| parse_quote!(#ty: #de::DeserializeValue<#frame>),
    );
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();

    let (type_check, deserialize) = match input.flavor {
        Flavor::MatchByName => (by_name_check(&input, &de), by_name_deser(&input, &de)),
        Flavor::EnforceOrder => (in_order_check(&input, &de), in_order_deser(&input, &de)),
    };

    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #de::DeserializeRow<#frame> for #name #ty_g #where_c {
            fn type_check(
                specs: &[#internal::ColumnSpec],
            ) -> ::core::result::Result<(), #de::TypeCheckError> {
                #type_check
            }

            fn deserialize(
                row: #de::ColumnIterator<#frame>,
            ) -> ::core::result::Result<Self, #de::DeserializationError> {
                #deserialize
            }
        }
    })
}

/// Every column needs a field and every field a column, each of a type that fits.
fn by_name_check(input: &Input, de: &TokenStream) -> TokenStream {
    let fields: Vec<_> = input.active_fields().collect();
    if fields.is_empty() {
        return quote! {
            match specs.first() {
                ::core::option::Option::Some(spec) => ::core::result::Result::Err(
                    #de::mk_unexpected_column_err::<Self>(&spec.name),
                ),
                ::core::option::Option::None => ::core::result::Result::Ok(()),
            }
        };
    }
    let n = fields.len();
    let arms = fields.iter().enumerate().map(|(i, f)| {
        let cql = f.name_bytes();
        let ty = &f.ty;
        quote! {
            #cql => {
                #de::type_check_column::<Self, #ty>(index, spec)?;
                seen[#i] = true;
            }
        }
    });
    let names = fields.iter().map(|f| &f.name);
    quote! {
        let mut seen = [false; #n];
        for (index, spec) in specs.iter().enumerate() {
            match spec.name.as_bytes() {
                #(#arms)*
                _ => {
                    return ::core::result::Result::Err(
                        #de::mk_unexpected_column_err::<Self>(&spec.name),
                    );
                }
            }
        }
        for (field, was_seen) in [#(#names),*].into_iter().zip(seen) {
            if !was_seen {
                return ::core::result::Result::Err(
                    #de::mk_missing_column_typck_err::<Self>(field),
                );
            }
        }
        ::core::result::Result::Ok(())
    }
}

fn by_name_deser(input: &Input, de: &TokenStream) -> TokenStream {
    let active: Vec<_> = input.active_fields().collect();
    let slots: Vec<_> = (0..active.len())
        .map(|i| format_ident!("__cql_field{}", i))
        .collect();
    let decls = active.iter().zip(&slots).map(|(f, slot)| {
        let ty = &f.ty;
        quote!(let mut #slot: ::core::option::Option<#ty> = ::core::option::Option::None;)
    });
    let arms = active.iter().zip(&slots).map(|(f, slot)| {
        let cql = f.name_bytes();
        let read = read_column(f, de, quote!(col));
        quote!(#cql => #slot = ::core::option::Option::Some(#read),)
    });
    let mut slot_iter = slots.iter();
    let inits = input.fields.iter().map(|f| {
        let ident = &f.ident;
        if f.skip {
            return f.skipped_init();
        }
        // Invariant: `slots` has one entry per active field, in field order.
        let slot = slot_iter.next();
        let cql = &f.name;
        quote! {
            #ident: #slot.ok_or_else(|| #de::mk_missing_column_deser_err::<Self>(#cql))?,
        }
    });
    let loop_body = if active.is_empty() {
        quote!(col?;)
    } else {
        quote! {
            let col = col?;
            // Bytes, not `as_str()`: this runs for every cell.
            match col.spec.name.as_bytes() {
                #(#arms)*
                // Unreachable after a passed type check; skip rather than panic.
                _ => {}
            }
        }
    };
    quote! {
        #(#decls)*
        for col in row {
            #loop_body
        }
        ::core::result::Result::Ok(Self { #(#inits)* })
    }
}

/// Field `i` reads column `i`; the counts must be equal.
fn in_order_check(input: &Input, de: &TokenStream) -> TokenStream {
    let fields: Vec<_> = input.active_fields().collect();
    let n = fields.len();
    let specs: Vec<_> = (0..n).map(|i| format_ident!("__cql_spec{}", i)).collect();
    let checks = fields.iter().zip(&specs).enumerate().map(|(i, (f, spec))| {
        let ty = &f.ty;
        let cql = &f.name;
        let name_check = if input.skip_name_checks {
            quote!()
        } else {
            quote! {
                if #spec.name != #cql {
                    return ::core::result::Result::Err(
                        #de::mk_missing_column_typck_err::<Self>(#cql),
                    );
                }
            }
        };
        quote! {
            #name_check
            #de::type_check_column::<Self, #ty>(#i, #spec)?;
        }
    });
    quote! {
        let [#(#specs),*] = specs else {
            return ::core::result::Result::Err(
                #de::mk_wrong_count_typck_err::<Self>(#n, specs.len()),
            );
        };
        #(#checks)*
        ::core::result::Result::Ok(())
    }
}

fn in_order_deser(input: &Input, de: &TokenStream) -> TokenStream {
    let mut index = 0usize;
    let inits = input.fields.iter().map(|f| {
        let ident = &f.ident;
        if f.skip {
            return f.skipped_init();
        }
        let i = index;
        index += 1;
        let ty = &f.ty;
        // `next_value`: the column is taken and decoded in one step (the hot path).
        let read = if f.default_when_null {
            quote! {
                #de::next_value::<Self, ::core::option::Option<#ty>>(&mut row, #i)?
                    .unwrap_or_default()
            }
        } else {
            quote!(#de::next_value::<Self, #ty>(&mut row, #i)?)
        };
        quote!(#ident: #read,)
    });
    let inits: Vec<_> = inits.collect();
    let row_binding = if index == 0 {
        quote!(let _ = row;)
    } else {
        quote!(let mut row = row;)
    };
    quote! {
        #row_binding
        ::core::result::Result::Ok(Self { #(#inits)* })
    }
}

/// Decodes one column (`col`, a `RawColumn`) as field `f`'s type.
fn read_column(f: &Field, de: &TokenStream, col: TokenStream) -> TokenStream {
    let ty = &f.ty;
    if f.default_when_null {
        quote! {
            #de::deserialize_column::<Self, ::core::option::Option<#ty>>(#col)?
                .unwrap_or_default()
        }
    } else {
        quote!(#de::deserialize_column::<Self, #ty>(#col)?)
    }
}
