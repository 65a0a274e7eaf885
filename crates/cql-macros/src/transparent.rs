//! `#[cql(transparent)]`: a struct with one active field is (de)serialized exactly as that
//! field, type check included. Skipped fields are `Default` when deserializing.
//!
//! ```ignore
//! #[derive(SerializeValue, DeserializeValue)]
//! #[cql(transparent)]
//! struct UserId(Uuid);
//! ```

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse_quote;

use crate::generics::{frame_lifetime, with_field_bounds, with_frame};
use crate::input::{Field, Input};

/// The initializer of every field: the inner one from `value`, the skipped ones `Default`.
fn inits(input: &Input, value: &TokenStream) -> TokenStream {
    let inits = input.fields.iter().map(|f: &Field| {
        if f.skip {
            f.skipped_init()
        } else {
            let member = &f.member;
            quote!(#member: #value,)
        }
    });
    quote!(#(#inits)*)
}

/// `SerializeValue` through the inner field's.
pub(crate) fn serialize_value(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let inner = input.inner()?;
    let (ty, member) = (&inner.ty, &inner.member);
    let name = &input.ident;
    let generics = with_field_bounds(input, &input.generics, |f| {
        let ty = &f.ty;
        parse_quote!(#ty: #int::SerializeValue)
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #int::SerializeValue for #name #ty_g #where_c {
            #[inline]
            fn serialize(
                &self,
                typ: &#int::ColumnType,
                buf: &mut #int::BytesMut,
            ) -> ::core::result::Result<(), #int::EncodeError> {
                <#ty as #int::SerializeValue>::serialize(&self.#member, typ, buf)
            }

            // Delegated too: an inner `Option` writes its null here.
            #[inline]
            fn serialize_cell(
                &self,
                typ: &#int::ColumnType,
                buf: &mut #int::BytesMut,
            ) -> ::core::result::Result<(), #int::EncodeError> {
                <#ty as #int::SerializeValue>::serialize_cell(&self.#member, typ, buf)
            }
        }
    })
}

/// `DeserializeValue` through the inner field's.
pub(crate) fn deserialize_value(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let frame = frame_lifetime();
    let inner = input.inner()?;
    let ty = &inner.ty;
    let name = &input.ident;
    let generics = with_field_bounds(input, &with_frame(&input.generics), |f| {
        let ty = &f.ty;
        parse_quote!(#ty: #int::DeserializeValue<#frame>)
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    let inits = inits(
        input,
        &quote!(<#ty as #int::DeserializeValue<#frame>>::deserialize(typ, v)?),
    );
    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #int::DeserializeValue<#frame> for #name #ty_g #where_c {
            #[inline]
            fn type_check(
                typ: &#int::ColumnType,
            ) -> ::core::result::Result<(), #int::DecodeError> {
                <#ty as #int::DeserializeValue<#frame>>::type_check(typ)
            }

            #[inline]
            fn deserialize(
                typ: &#frame #int::ColumnType,
                v: ::core::option::Option<&#frame [u8]>,
            ) -> ::core::result::Result<Self, #int::DecodeError> {
                ::core::result::Result::Ok(Self { #inits })
            }
        }
    })
}

/// `SerializeRow` through the inner field's.
pub(crate) fn serialize_row(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let inner = input.inner()?;
    let (ty, member) = (&inner.ty, &inner.member);
    let name = &input.ident;
    let generics = with_field_bounds(input, &input.generics, |f| {
        let ty = &f.ty;
        parse_quote!(#ty: #int::SerializeRow)
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #int::SerializeRow for #name #ty_g #where_c {
            #[inline]
            fn serialize(
                &self,
                ctx: &#int::RowSerializationContext<'_>,
                writer: &mut #int::RowWriter<'_>,
            ) -> ::core::result::Result<(), #int::SerializationError> {
                <#ty as #int::SerializeRow>::serialize(&self.#member, ctx, writer)
            }

            #[inline]
            fn is_empty(&self) -> bool {
                <#ty as #int::SerializeRow>::is_empty(&self.#member)
            }
        }
    })
}

/// `DeserializeRow` through the inner field's.
pub(crate) fn deserialize_row(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let frame = frame_lifetime();
    let inner = input.inner()?;
    let ty = &inner.ty;
    let name = &input.ident;
    let generics = with_field_bounds(input, &with_frame(&input.generics), |f| {
        let ty = &f.ty;
        parse_quote!(#ty: #int::DeserializeRow<#frame>)
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    let inits = inits(
        input,
        &quote!(<#ty as #int::DeserializeRow<#frame>>::deserialize(row)?),
    );
    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #int::DeserializeRow<#frame> for #name #ty_g #where_c {
            #[inline]
            fn type_check(
                specs: &[#int::ColumnSpec],
            ) -> ::core::result::Result<(), #int::TypeCheckError> {
                <#ty as #int::DeserializeRow<#frame>>::type_check(specs)
            }

            #[inline]
            fn deserialize(
                row: #int::ColumnIterator<#frame>,
            ) -> ::core::result::Result<Self, #int::DeserializationError> {
                ::core::result::Result::Ok(Self { #inits })
            }
        }
    })
}
