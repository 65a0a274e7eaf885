//! `#[derive(SerializeRow)]`: a struct's fields as a statement's bound values.
//!
//! The generated code follows the contract in the module docs of `cql_session::serialize::row`:
//! one `RowWriter::write_value` per bind marker, in marker order.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, parse_quote};

use crate::generics::with_field_bounds;
use crate::input::{Derive, Flavor, Input, Kind};

/// Expands `#[derive(SerializeRow)]`.
pub(crate) fn expand_serialize_row(input: DeriveInput) -> syn::Result<TokenStream> {
    let input = Input::from_derive(input, Derive::SerializeRow)?;
    if let Kind::Transparent = input.kind {
        return crate::transparent::serialize_row(&input);
    }
    let ser = input.internal();
    let name = &input.ident;
    let generics = with_field_bounds(&input, &input.generics, |f| {
        let ty = &f.ty;
        if f.flatten {
            parse_quote!(#ty: #ser::SerializeRowByName)
        } else {
            parse_quote!(#ty: #ser::SerializeValue)
        }
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();

    let body = match input.flavor {
        Flavor::MatchByName => by_name(&input, &ser),
        Flavor::EnforceOrder => in_order(&input, &ser),
    };
    let own_empty = input.own_fields().next().is_none();
    let flat_members: Vec<_> = input.flattened().map(|f| &f.member).collect();
    let by_name_impl = match input.flavor {
        Flavor::MatchByName => by_name_impl(&input, &ser),
        Flavor::EnforceOrder => quote!(),
    };

    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #ser::SerializeRow for #name #ty_g #where_c {
            fn serialize(
                &self,
                ctx: &#ser::RowSerializationContext<'_>,
                writer: &mut #ser::RowWriter<'_>,
            ) -> ::core::result::Result<(), #ser::SerializationError> {
                #body
            }

            fn is_empty(&self) -> bool {
                #own_empty #(&& #ser::SerializeRow::is_empty(&self.#flat_members))*
            }
        }

        #by_name_impl
    })
}

/// `SerializeRowByName`, so the struct can be flattened into another row.
fn by_name_impl(input: &Input, ser: &TokenStream) -> TokenStream {
    let name = &input.ident;
    let generics = with_field_bounds(input, &input.generics, |f| {
        let ty = &f.ty;
        if f.flatten {
            parse_quote!(#ty: #ser::SerializeRowByName)
        } else {
            parse_quote!(#ty: #ser::SerializeValue)
        }
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    let own: Vec<_> = input.own_fields().collect();
    let cqls: Vec<_> = own.iter().map(|f| f.name_bytes()).collect();
    let names: Vec<_> = own.iter().map(|f| &f.name).collect();
    let members = own.iter().map(|f| &f.member);
    let flat: Vec<_> = input.flattened().collect();
    let flat_members = flat.iter().map(|f| &f.member);
    let flat_types: Vec<_> = flat.iter().map(|f| &f.ty).collect();
    quote! {
        #[automatically_derived]
        impl #impl_g #ser::SerializeRowByName for #name #ty_g #where_c {
            #[allow(unused_variables)]
            fn serialize_by_name(
                &self,
                index: usize,
                spec: &#ser::ColumnSpec,
                writer: &mut #ser::RowWriter<'_>,
            ) -> ::core::result::Result<bool, #ser::SerializationError> {
                match spec.name.as_bytes() {
                    #(#cqls => {
                        writer.write_value(index, spec, &self.#members)?;
                        ::core::result::Result::Ok(true)
                    })*
                    _ => {
                        #(if #ser::SerializeRowByName::serialize_by_name(
                            &self.#flat_members, index, spec, writer,
                        )? {
                            return ::core::result::Result::Ok(true);
                        })*
                        ::core::result::Result::Ok(false)
                    }
                }
            }

            #[allow(unused_variables)]
            fn check_all_used(
                columns: &[#ser::ColumnSpec],
            ) -> ::core::result::Result<(), #ser::SerializationError> {
                #(if !columns.iter().any(|c| c.name.as_bytes() == #cqls) {
                    return ::core::result::Result::Err(#ser::mk_no_column_err::<Self>(#names));
                })*
                #(<#flat_types as #ser::SerializeRowByName>::check_all_used(columns)?;)*
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// Each marker takes the field of its name; every field must be asked for.
fn by_name(input: &Input, ser: &TokenStream) -> TokenStream {
    let fields: Vec<_> = input.own_fields().collect();
    let flat: Vec<_> = input.flattened().collect();
    if fields.is_empty() && flat.is_empty() {
        return quote! {
            let _ = writer;
            match ctx.columns().first() {
                ::core::option::Option::Some(spec) => ::core::result::Result::Err(
                    #ser::mk_value_missing_err::<Self>(&spec.name),
                ),
                ::core::option::Option::None => ::core::result::Result::Ok(()),
            }
        };
    }
    let n = fields.len();
    let arms = fields.iter().enumerate().map(|(i, f)| {
        let cql = f.name_bytes();
        let member = &f.member;
        quote! {
            #cql => {
                writer.write_value(index, spec, &self.#member)?;
                used[#i] = true;
            }
        }
    });
    let names = fields.iter().map(|f| &f.name);
    let flat_members = flat.iter().map(|f| &f.member);
    let flat_types: Vec<_> = flat.iter().map(|f| &f.ty).collect();
    let used_decl = if n == 0 {
        quote!(let used = [false; 0];)
    } else {
        quote!(let mut used = [false; #n];)
    };
    quote! {
        #used_decl
        for (index, spec) in ctx.columns().iter().enumerate() {
            // Bytes, not `as_str()`: this runs for every request.
            match spec.name.as_bytes() {
                #(#arms)*
                _ => {
                    // Own fields first, then each flattened field in declaration order.
                    #(if #ser::SerializeRowByName::serialize_by_name(
                        &self.#flat_members, index, spec, writer,
                    )? {
                        continue;
                    })*
                    return ::core::result::Result::Err(
                        #ser::mk_value_missing_err::<Self>(&spec.name),
                    );
                }
            }
        }
        // A field no marker asked for is an error: it is probably a typo.
        for (field, was_used) in [#(#names),*].into_iter().zip(used) {
            let field: &str = field;
            if !was_used {
                return ::core::result::Result::Err(#ser::mk_no_column_err::<Self>(field));
            }
        }
        #(<#flat_types as #ser::SerializeRowByName>::check_all_used(ctx.columns())?;)*
        ::core::result::Result::Ok(())
    }
}

/// Field `i` goes to marker `i`; the counts must be equal.
fn in_order(input: &Input, ser: &TokenStream) -> TokenStream {
    let fields: Vec<_> = input.active_fields().collect();
    let n = fields.len();
    let specs: Vec<_> = (0..n).map(|i| format_ident!("__cql_spec{}", i)).collect();
    let writes = fields.iter().zip(&specs).enumerate().map(|(i, (f, spec))| {
        let member = &f.member;
        let cql = &f.name;
        let check = if input.skip_name_checks {
            quote!()
        } else {
            quote! {
                if #spec.name != #cql {
                    return ::core::result::Result::Err(
                        #ser::mk_value_missing_err::<Self>(&#spec.name),
                    );
                }
            }
        };
        quote! {
            #check
            writer.write_value(#i, #spec, &self.#member)?;
        }
    });
    let unused = (n == 0).then(|| quote!(let _ = writer;));
    quote! {
        #unused
        let columns = ctx.columns();
        let [#(#specs),*] = columns else {
            return ::core::result::Result::Err(
                #ser::mk_wrong_count_err::<Self>(columns.len(), #n),
            );
        };
        #(#writes)*
        ::core::result::Result::Ok(())
    }
}
