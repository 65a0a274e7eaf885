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

/// `impl #trait_ for Struct { #body }`, with `'__cql_frame` first among the generics when
/// `with_frame_lifetime`, and the bound `Field: #trait_` on every active field of generic type.
fn delegating_impl(
    input: &Input,
    trait_: &TokenStream,
    with_frame_lifetime: bool,
    body: &TokenStream,
) -> TokenStream {
    let name = &input.ident;
    let base = if with_frame_lifetime {
        with_frame(&input.generics)
    } else {
        input.generics.clone()
    };
    let generics = with_field_bounds(input, &base, |f| {
        let ty = &f.ty;
        parse_quote!(#ty: #trait_)
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_g #trait_ for #name #ty_g #where_c {
            #body
        }
    }
}

/// `SerializeValue` through the inner field's.
pub(crate) fn serialize_value(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let inner = input.inner()?;
    let (ty, member) = (&inner.ty, &inner.member);
    let trait_ = quote!(#int::SerializeValue);
    let body = quote! {
        #[inline]
        fn serialize(
            &self,
            typ: &#int::ColumnType,
            buf: &mut #int::BytesMut,
        ) -> ::core::result::Result<(), #int::EncodeError> {
            <#ty as #trait_>::serialize(&self.#member, typ, buf)
        }

        // Delegated too: an inner `Option` writes its null here.
        #[inline]
        fn serialize_cell(
            &self,
            typ: &#int::ColumnType,
            buf: &mut #int::BytesMut,
        ) -> ::core::result::Result<(), #int::EncodeError> {
            <#ty as #trait_>::serialize_cell(&self.#member, typ, buf)
        }
    };
    Ok(delegating_impl(input, &trait_, false, &body))
}

/// `DeserializeValue` through the inner field's.
pub(crate) fn deserialize_value(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let frame = frame_lifetime();
    let ty = &input.inner()?.ty;
    let trait_ = quote!(#int::DeserializeValue<#frame>);
    let inits = inits(input, &quote!(<#ty as #trait_>::deserialize(typ, v)?));
    let body = quote! {
        #[inline]
        fn type_check(
            typ: &#int::ColumnType,
        ) -> ::core::result::Result<(), #int::DecodeError> {
            <#ty as #trait_>::type_check(typ)
        }

        #[inline]
        fn deserialize(
            typ: &#frame #int::ColumnType,
            v: ::core::option::Option<&#frame [u8]>,
        ) -> ::core::result::Result<Self, #int::DecodeError> {
            ::core::result::Result::Ok(Self { #inits })
        }
    };
    Ok(delegating_impl(input, &trait_, true, &body))
}

/// `SerializeRow` through the inner field's.
pub(crate) fn serialize_row(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let inner = input.inner()?;
    let (ty, member) = (&inner.ty, &inner.member);
    let trait_ = quote!(#int::SerializeRow);
    let body = quote! {
        #[inline]
        fn serialize(
            &self,
            ctx: &#int::RowSerializationContext<'_>,
            writer: &mut #int::RowWriter<'_>,
        ) -> ::core::result::Result<(), #int::SerializationError> {
            <#ty as #trait_>::serialize(&self.#member, ctx, writer)
        }

        #[inline]
        fn is_empty(&self) -> bool {
            <#ty as #trait_>::is_empty(&self.#member)
        }
    };
    Ok(delegating_impl(input, &trait_, false, &body))
}

/// `DeserializeRow` through the inner field's.
pub(crate) fn deserialize_row(input: &Input) -> syn::Result<TokenStream> {
    let int = input.internal();
    let frame = frame_lifetime();
    let ty = &input.inner()?.ty;
    let trait_ = quote!(#int::DeserializeRow<#frame>);
    let inits = inits(input, &quote!(<#ty as #trait_>::deserialize(row)?));
    let body = quote! {
        #[inline]
        fn type_check(
            specs: &[#int::ColumnSpec],
        ) -> ::core::result::Result<(), #int::TypeCheckError> {
            <#ty as #trait_>::type_check(specs)
        }

        #[inline]
        fn deserialize(
            row: #int::ColumnIterator<#frame>,
        ) -> ::core::result::Result<Self, #int::DeserializationError> {
            ::core::result::Result::Ok(Self { #inits })
        }
    };
    Ok(delegating_impl(input, &trait_, true, &body))
}
