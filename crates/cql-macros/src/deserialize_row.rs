//! `#[derive(DeserializeRow)]`: a struct built from one result row.
//!
//! The generated code follows the contract in the module docs of `cql_session::deserialize::row`:
//! `type_check` once per result, then `deserialize` per row, which must not panic on any input.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, parse_quote};

use crate::generics::{frame_lifetime, with_field_bounds, with_frame};
use crate::input::{Derive, Field, Flavor, Input, Kind};

/// Expands `#[derive(DeserializeRow)]`.
pub(crate) fn expand_deserialize_row(input: DeriveInput) -> syn::Result<TokenStream> {
    let input = Input::from_derive(input, Derive::DeserializeRow)?;
    if let Kind::Transparent = input.kind {
        return crate::transparent::deserialize_row(&input);
    }
    let de = input.internal();
    let frame = frame_lifetime();
    let name = &input.ident;
    let generics = bounded(&input, &de);
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();

    let (type_check, deserialize) = match input.flavor {
        Flavor::MatchByName => (by_name_check(&input, &de), by_name_deser(&input, &de)),
        Flavor::EnforceOrder => (in_order_check(&input, &de), in_order_deser(&input, &de)),
    };
    let by_name_impl = match input.flavor {
        Flavor::MatchByName => by_name_impl(&input, &de),
        Flavor::EnforceOrder => quote!(),
    };

    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #de::DeserializeRow<#frame> for #name #ty_g #where_c {
            fn type_check(
                specs: &[#de::ColumnSpec],
            ) -> ::core::result::Result<(), #de::TypeCheckError> {
                #type_check
            }

            fn deserialize(
                row: #de::ColumnIterator<#frame>,
            ) -> ::core::result::Result<Self, #de::DeserializationError> {
                #deserialize
            }
        }

        #by_name_impl
    })
}

/// The impl generics: the frame lifetime, and a bound for every generic field type.
fn bounded(input: &Input, de: &TokenStream) -> syn::Generics {
    let frame = frame_lifetime();
    with_field_bounds(input, &with_frame(&input.generics), |f| {
        let ty = &f.ty;
        if f.flatten {
            parse_quote!(#ty: #de::DeserializeRowByName<#frame>)
        } else {
            parse_quote!(#ty: #de::DeserializeValue<#frame>)
        }
    })
}

/// `DeserializeRowByName`, so the struct can be flattened into another row.
fn by_name_impl(input: &Input, de: &TokenStream) -> TokenStream {
    let frame = frame_lifetime();
    let name = &input.ident;
    let generics = bounded(input, de);
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    let own: Vec<_> = input.own_fields().collect();
    let cqls = own.iter().map(|f| f.name_bytes());
    let types = own.iter().map(|f| &f.ty);
    let required: Vec<_> = own.iter().filter(|f| !f.allow_missing).collect();
    let required_cqls = required.iter().map(|f| f.name_bytes());
    let required_names = required.iter().map(|f| &f.name);
    let flat_types: Vec<_> = input.flattened().map(|f| &f.ty).collect();
    quote! {
        #[automatically_derived]
        impl #impl_g #de::DeserializeRowByName<#frame> for #name #ty_g #where_c {
            #[allow(unused_variables)]
            fn type_check_by_name(
                index: usize,
                spec: &#de::ColumnSpec,
            ) -> ::core::option::Option<::core::result::Result<(), #de::TypeCheckError>> {
                match spec.name.as_bytes() {
                    #(#cqls => ::core::option::Option::Some(
                        #de::type_check_column::<Self, #types>(index, spec),
                    ),)*
                    _ => {
                        #(if let ::core::option::Option::Some(checked) =
                            <#flat_types as #de::DeserializeRowByName<#frame>>::type_check_by_name(index, spec)
                        {
                            return ::core::option::Option::Some(checked);
                        })*
                        ::core::option::Option::None
                    }
                }
            }

            #[allow(unused_variables)]
            fn check_required(
                specs: &[#de::ColumnSpec],
            ) -> ::core::result::Result<(), #de::TypeCheckError> {
                #(if !specs.iter().any(|s| s.name.as_bytes() == #required_cqls) {
                    return ::core::result::Result::Err(
                        #de::mk_missing_column_typck_err::<Self>(#required_names),
                    );
                })*
                #(<#flat_types as #de::DeserializeRowByName<#frame>>::check_required(specs)?;)*
                ::core::result::Result::Ok(())
            }

            #[inline]
            fn deserialize_by_name(
                row: #de::ColumnIterator<#frame>,
            ) -> ::core::result::Result<Self, #de::DeserializationError> {
                // The by-name `deserialize` skips the columns it has no field for.
                <Self as #de::DeserializeRow<#frame>>::deserialize(row)
            }
        }
    }
}

/// Every column needs a field and every field a column, each of a type that fits.
fn by_name_check(input: &Input, de: &TokenStream) -> TokenStream {
    let frame = frame_lifetime();
    let fields: Vec<_> = input.own_fields().collect();
    let flat_types: Vec<_> = input.flattened().map(|f| &f.ty).collect();
    if fields.is_empty() && flat_types.is_empty() {
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
    // `allow_missing` fields are not required: their flag is set from the start.
    let seen_init = fields.iter().map(|f| f.allow_missing);
    let names = fields.iter().map(|f| &f.name);
    let seen_decl = if n == 0 {
        quote!(let seen: [bool; 0] = [];)
    } else {
        quote!(let mut seen = [#(#seen_init),*];)
    };
    quote! {
        #seen_decl
        for (index, spec) in specs.iter().enumerate() {
            match spec.name.as_bytes() {
                #(#arms)*
                _ => {
                    // Own fields first, then each flattened field in declaration order.
                    #(if let ::core::option::Option::Some(checked) =
                        <#flat_types as #de::DeserializeRowByName<#frame>>::type_check_by_name(index, spec)
                    {
                        checked?;
                        continue;
                    })*
                    return ::core::result::Result::Err(
                        #de::mk_unexpected_column_err::<Self>(&spec.name),
                    );
                }
            }
        }
        for (field, was_seen) in [#(#names),*].into_iter().zip(seen) {
            let field: &str = field;
            if !was_seen {
                return ::core::result::Result::Err(
                    #de::mk_missing_column_typck_err::<Self>(field),
                );
            }
        }
        #(<#flat_types as #de::DeserializeRowByName<#frame>>::check_required(specs)?;)*
        ::core::result::Result::Ok(())
    }
}

fn by_name_deser(input: &Input, de: &TokenStream) -> TokenStream {
    let frame = frame_lifetime();
    let active: Vec<_> = input.own_fields().collect();
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
    let mut flat_index = 0usize;
    let mut flat_reads = Vec::new();
    let inits: Vec<_> = input
        .fields
        .iter()
        .map(|f| {
            let member = &f.member;
            if f.skip {
                return f.skipped_init();
            }
            if f.flatten {
                // Each flattened field reads the row again, taking only its own columns.
                let local = format_ident!("__cql_flat{}", flat_index);
                flat_index += 1;
                let ty = &f.ty;
                flat_reads.push(quote! {
                    let #local = <#ty as #de::DeserializeRowByName<#frame>>::deserialize_by_name(
                        ::core::clone::Clone::clone(&row),
                    )?;
                });
                return quote!(#member: #local,);
            }
            // Invariant: `slots` has one entry per own field, in field order.
            let slot = slot_iter.next();
            let cql = &f.name;
            if f.allow_missing {
                let default = f.default_value();
                quote!(#member: match #slot {
                    ::core::option::Option::Some(v) => v,
                    ::core::option::Option::None => #default,
                },)
            } else {
                quote! {
                    #member: #slot.ok_or_else(|| #de::mk_missing_column_deser_err::<Self>(#cql))?,
                }
            }
        })
        .collect();
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
        #(#flat_reads)*
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
        let member = &f.member;
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
        quote!(#member: #read,)
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
