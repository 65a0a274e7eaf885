//! `#[derive(SerializeRow)]`: a struct's fields as a statement's bound values.
//!
//! The generated code follows the contract in the module docs of `cql_session::serialize::row`:
//! one `RowWriter::write_value` per bind marker, in marker order.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, parse_quote};

use crate::attrs::{Flavor, Input};
use crate::generics::with_field_bounds;

/// Expands `#[derive(SerializeRow)]`.
pub(crate) fn expand_serialize_row(input: DeriveInput) -> syn::Result<TokenStream> {
    let input = Input::from_derive(input, "SerializeRow")?;
    let ser = input.internal();
    let name = &input.ident;
    let generics = with_field_bounds(
        &input,
        &input.generics,
        |ty| parse_quote!(#ty: #ser::SerializeValue),
    );
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();

    let body = match input.flavor {
        Flavor::MatchByName => by_name(&input, &ser),
        Flavor::EnforceOrder => in_order(&input, &ser),
    };
    let is_empty = input.active_fields().next().is_none();

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
                #is_empty
            }
        }
    })
}

/// Each marker takes the field of its name; every field must be asked for.
fn by_name(input: &Input, ser: &TokenStream) -> TokenStream {
    let fields: Vec<_> = input.active_fields().collect();
    if fields.is_empty() {
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
        let ident = &f.ident;
        quote! {
            #cql => {
                writer.write_value(index, spec, &self.#ident)?;
                used[#i] = true;
            }
        }
    });
    let names = fields.iter().map(|f| &f.name);
    quote! {
        let mut used = [false; #n];
        for (index, spec) in ctx.columns().iter().enumerate() {
            // Bytes, not `as_str()`: this runs for every request.
            match spec.name.as_bytes() {
                #(#arms)*
                _ => {
                    return ::core::result::Result::Err(
                        #ser::mk_value_missing_err::<Self>(&spec.name),
                    );
                }
            }
        }
        // A field no marker asked for is an error: it is probably a typo.
        for (field, was_used) in [#(#names),*].into_iter().zip(used) {
            if !was_used {
                return ::core::result::Result::Err(#ser::mk_no_column_err::<Self>(field));
            }
        }
        ::core::result::Result::Ok(())
    }
}

/// Field `i` goes to marker `i`; the counts must be equal.
fn in_order(input: &Input, ser: &TokenStream) -> TokenStream {
    let fields: Vec<_> = input.active_fields().collect();
    let n = fields.len();
    let specs: Vec<_> = (0..n).map(|i| format_ident!("__cql_spec{}", i)).collect();
    let writes = fields.iter().zip(&specs).enumerate().map(|(i, (f, spec))| {
        let ident = &f.ident;
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
            writer.write_value(#i, #spec, &self.#ident)?;
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
