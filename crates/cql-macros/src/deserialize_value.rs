//! `#[derive(DeserializeValue)]`: a struct read from a CQL user-defined type.
//!
//! The struct's fields are matched to the UDT type's fields by name (or by position with
//! `enforce_order`). Every struct field needs a UDT field; a UDT field the struct has no field
//! for is ignored, unless `forbid_excess_udt_fields` makes the type check fail. A value may end
//! before its type's last fields: those fields are null, which only an `Option` field (or a
//! `default_when_null` one) accepts.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, parse_quote};

use crate::generics::{frame_lifetime, with_field_bounds, with_frame};
use crate::input::{Derive, Field, Flavor, Input, Kind};

/// Expands `#[derive(DeserializeValue)]`.
pub(crate) fn expand_deserialize_value(input: DeriveInput) -> syn::Result<TokenStream> {
    let input = Input::from_derive(input, Derive::DeserializeValue)?;
    match input.kind {
        Kind::Transparent => return crate::transparent::deserialize_value(&input),
        Kind::Enum(_) => return crate::enum_value::deserialize_value(&input),
        Kind::Struct => {}
    }
    let de = input.internal();
    let internal = input.internal();
    let frame = frame_lifetime();
    let name = &input.ident;
    let generics = with_field_bounds(&input, &with_frame(&input.generics), |f| {
        let ty = &f.ty;
        parse_quote!(#ty: #de::DeserializeValue<#frame>)
    });
    let (impl_g, _, where_c) = generics.split_for_impl();
    let (_, ty_g, _) = input.generics.split_for_impl();
    let ctx = Ctx {
        input: &input,
        de: &de,
        internal: &internal,
    };

    let (type_check, deserialize) = match input.flavor {
        Flavor::MatchByName => (ctx.by_name_check(), ctx.by_name_deser()),
        Flavor::EnforceOrder => (ctx.in_order_check(), ctx.in_order_deser()),
    };
    let not_udt = ctx.mismatch(quote!(""));

    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #de::DeserializeValue<#frame> for #name #ty_g #where_c {
            fn type_check(
                typ: &#internal::ColumnType,
            ) -> ::core::result::Result<(), #internal::DecodeError> {
                let #internal::ColumnType::Udt { fields, .. } = typ else {
                    return ::core::result::Result::Err(#not_udt);
                };
                #type_check
            }

            fn deserialize(
                typ: &#frame #internal::ColumnType,
                v: ::core::option::Option<&#frame [u8]>,
            ) -> ::core::result::Result<Self, #internal::DecodeError> {
                let #internal::ColumnType::Udt { fields, .. } = typ else {
                    return ::core::result::Result::Err(#not_udt);
                };
                let ::core::option::Option::Some(mut rest) = v else {
                    return ::core::result::Result::Err(#internal::DecodeError::TypeMismatch {
                        expected: ::std::borrow::ToOwned::to_owned(
                            ::core::any::type_name::<Self>(),
                        ),
                        got: ::std::borrow::ToOwned::to_owned("null"),
                    });
                };

                /// Takes the next `[bytes]` field of the value: `None` for null, and for a field
                /// past the value's end.
                fn __cql_next_cell<'b>(
                    rest: &mut &'b [u8],
                ) -> ::core::result::Result<::core::option::Option<&'b [u8]>, #internal::DecodeError> {
                    if rest.is_empty() {
                        return ::core::result::Result::Ok(::core::option::Option::None);
                    }
                    let ::core::option::Option::Some((len, tail)) = rest.split_first_chunk::<4>() else {
                        return ::core::result::Result::Err(#internal::DecodeError::UnexpectedEof {
                            what: "udt field length",
                            needed: 4 - rest.len(),
                        });
                    };
                    let ::core::result::Result::Ok(len) = usize::try_from(i32::from_be_bytes(*len)) else {
                        // A negative length is null.
                        *rest = tail;
                        return ::core::result::Result::Ok(::core::option::Option::None);
                    };
                    if len > tail.len() {
                        return ::core::result::Result::Err(#internal::DecodeError::UnexpectedEof {
                            what: "udt field",
                            needed: len - tail.len(),
                        });
                    }
                    let (cell, tail) = tail.split_at(len);
                    *rest = tail;
                    ::core::result::Result::Ok(::core::option::Option::Some(cell))
                }

                #deserialize
                if !rest.is_empty() {
                    return ::core::result::Result::Err(#internal::DecodeError::TrailingBytes {
                        what: "udt value",
                        count: rest.len(),
                    });
                }
                ::core::result::Result::Ok(value)
            }
        }
    })
}

/// What every generator needs.
struct Ctx<'a> {
    input: &'a Input,
    de: &'a TokenStream,
    internal: &'a TokenStream,
}

impl Ctx<'_> {
    /// A type mismatch between `typ` and the struct; `why` (a `&str` or `String` expression)
    /// says how, or is empty.
    fn mismatch(&self, why: TokenStream) -> TokenStream {
        let internal = self.internal;
        quote! {{
            let why: &str = &#why;
            #internal::DecodeError::TypeMismatch {
                expected: if why.is_empty() {
                    ::std::borrow::ToOwned::to_owned(::core::any::type_name::<Self>())
                } else {
                    ::std::format!("{} ({})", ::core::any::type_name::<Self>(), why)
                },
                got: ::std::string::ToString::to_string(typ),
            }
        }}
    }

    fn field_missing(&self, cql: TokenStream) -> TokenStream {
        self.mismatch(quote!(::std::format!("needs UDT field `{}`", #cql)))
    }

    fn excess_check(&self, fname: TokenStream) -> TokenStream {
        if self.input.forbid_excess_udt_fields {
            let err = self.mismatch(quote!(
                ::std::format!("no field for UDT field `{}`", #fname)
            ));
            quote!(return ::core::result::Result::Err(#err);)
        } else {
            quote!()
        }
    }

    fn by_name_check(&self) -> TokenStream {
        let de = self.de;
        let fields: Vec<_> = self.input.active_fields().collect();
        let n = fields.len();
        let arms = fields.iter().enumerate().map(|(i, f)| {
            let cql = &f.name;
            let ty = &f.ty;
            let frame = frame_lifetime();
            quote! {
                #cql => {
                    <#ty as #de::DeserializeValue<#frame>>::type_check(ftype)?;
                    seen[#i] = true;
                }
            }
        });
        let names = fields.iter().map(|f| &f.name);
        let missing = self.field_missing(quote!(field));
        let (other_pat, other) = if self.input.forbid_excess_udt_fields {
            (quote!(other), self.excess_check(quote!(other)))
        } else {
            (quote!(_), quote!())
        };
        // `allow_missing` fields are not required: their flag is set from the start.
        let seen_init = fields.iter().map(|f| f.allow_missing);
        let seen_decl = if n == 0 {
            quote!(let seen: [bool; 0] = [];)
        } else {
            quote!(let mut seen = [#(#seen_init),*];)
        };
        let ftype_use = if n == 0 {
            quote!(let _ = ftype;)
        } else {
            quote!()
        };
        quote! {
            #seen_decl
            for (fname, ftype) in fields {
                #ftype_use
                match fname.as_str() {
                    #(#arms)*
                    #other_pat => { #other }
                }
            }
            for (field, was_seen) in [#(#names),*].into_iter().zip(seen) {
                let field: &str = field;
                if !was_seen {
                    return ::core::result::Result::Err(#missing);
                }
            }
            ::core::result::Result::Ok(())
        }
    }

    fn by_name_deser(&self) -> TokenStream {
        let de = self.de;
        let active: Vec<_> = self.input.active_fields().collect();
        let slots: Vec<_> = (0..active.len())
            .map(|i| format_ident!("__cql_field{}", i))
            .collect();
        let decls = active.iter().zip(&slots).map(|(f, slot)| {
            let ty = &f.ty;
            quote!(let mut #slot: ::core::option::Option<#ty> = ::core::option::Option::None;)
        });
        let arms = active.iter().zip(&slots).map(|(f, slot)| {
            let cql = &f.name;
            let read = read_field(f, de);
            quote!(#cql => #slot = ::core::option::Option::Some(#read),)
        });
        let mut slot_iter = slots.iter();
        let inits: Vec<_> = self
            .input
            .fields
            .iter()
            .map(|f| {
                let member = &f.member;
                if f.skip {
                    return f.skipped_init();
                }
                // Invariant: `slots` has one entry per active field, in field order.
                let slot = slot_iter.next();
                let missing = self.field_missing(quote!(cql_name));
                let cql_name = &f.name;
                let absent = if f.allow_missing {
                    f.default_value()
                } else {
                    quote! {{
                        let cql_name = #cql_name;
                        return ::core::result::Result::Err(#missing);
                    }}
                };
                quote! {
                    #member: match #slot {
                        ::core::option::Option::Some(v) => v,
                        ::core::option::Option::None => #absent,
                    },
                }
            })
            .collect();
        let body = if active.is_empty() {
            quote!(let _ = (ftype, cell);)
        } else {
            quote! {
                match fname.as_str() {
                    #(#arms)*
                    _ => {}
                }
            }
        };
        let fname_pat = if active.is_empty() {
            quote!(_)
        } else {
            quote!(fname)
        };
        quote! {
            #(#decls)*
            for (#fname_pat, ftype) in fields {
                let cell = __cql_next_cell(&mut rest)?;
                #body
            }
            let value = Self { #(#inits)* };
        }
    }

    fn in_order_check(&self) -> TokenStream {
        let de = self.de;
        let frame = frame_lifetime();
        let checks = self.input.active_fields().map(|f| {
            let ty = &f.ty;
            let check = quote!(<#ty as #de::DeserializeValue<#frame>>::type_check(ftype)?;);
            self.next_udt_field(f, quote!(rest), check)
        });
        let excess = self.excess_check(quote!(other));
        let tail = if self.input.forbid_excess_udt_fields {
            quote! {
                if let ::core::option::Option::Some((other, _)) = rest.next() {
                    #excess
                }
            }
        } else {
            quote!(let _ = rest;)
        };
        let binding = self.rest_binding();
        quote! {
            #binding
            #(#checks)*
            #tail
            ::core::result::Result::Ok(())
        }
    }

    fn in_order_deser(&self) -> TokenStream {
        let de = self.de;
        let mut reads = Vec::new();
        let mut inits = Vec::new();
        for (i, f) in self.input.fields.iter().enumerate() {
            let member = &f.member;
            if f.skip {
                inits.push(f.skipped_init());
                continue;
            }
            let local = format_ident!("__cql_field{}", i);
            let read = read_field(f, de);
            let ty = &f.ty;
            let read = quote! {
                let cell = __cql_next_cell(&mut rest)?;
                #local = ::core::option::Option::Some(#read);
            };
            let step = self.next_udt_field(f, quote!(types), read);
            let value = if f.allow_missing {
                let default = f.default_value();
                quote!(match #local {
                    ::core::option::Option::Some(v) => v,
                    ::core::option::Option::None => #default,
                })
            } else {
                // Invariant: without `allow_missing`, `next_udt_field` sets the value or returns.
                let cql = &f.name;
                let missing = self.field_missing(quote!(#cql));
                quote!(match #local {
                    ::core::option::Option::Some(v) => v,
                    ::core::option::Option::None => return ::core::result::Result::Err(#missing),
                })
            };
            reads.push(quote! {
                let mut #local: ::core::option::Option<#ty> = ::core::option::Option::None;
                #step
                let #local = #value;
            });
            inits.push(quote!(#member: #local,));
        }
        let types_binding = if reads.is_empty() {
            quote!(let types = fields.iter();)
        } else {
            quote!(let mut types = fields.iter().peekable();)
        };
        quote! {
            #types_binding
            #(#reads)*
            // The UDT fields the struct does not have still take their bytes.
            for _ in types {
                __cql_next_cell(&mut rest)?;
            }
            let value = Self { #(#inits)* };
        }
    }

    /// By position: takes the next UDT field from `iter` (a peekable iterator of the UDT's
    /// fields) for struct field `f` and runs `then` with `fname` and `ftype` bound. An
    /// `allow_missing` field whose UDT field is absent (the UDT ends, or with name checks the
    /// next UDT field has another name) takes nothing and stays unset.
    fn next_udt_field(&self, f: &Field, iter: TokenStream, then: TokenStream) -> TokenStream {
        let cql = &f.name;
        let missing = self.field_missing(quote!(#cql));
        if f.allow_missing {
            let present = if self.input.skip_name_checks {
                quote!(::core::option::Option::Some(_))
            } else {
                quote!(::core::option::Option::Some((fname, _)) if *fname == #cql)
            };
            quote! {
                match #iter.peek() {
                    #present => {
                        let ::core::option::Option::Some((fname, ftype)) = #iter.next() else {
                            return ::core::result::Result::Err(#missing);
                        };
                        let _ = fname;
                        #then
                    }
                    _ => {}
                }
            }
        } else {
            let name_check = self.name_check(cql);
            quote! {
                let ::core::option::Option::Some((fname, ftype)) = #iter.next() else {
                    return ::core::result::Result::Err(#missing);
                };
                #name_check
                #then
            }
        }
    }

    fn rest_binding(&self) -> TokenStream {
        if self.input.active_fields().next().is_some() || self.input.forbid_excess_udt_fields {
            quote!(let mut rest = fields.iter().peekable();)
        } else {
            quote!(let rest = fields.iter();)
        }
    }

    /// With `enforce_order`, compares the UDT field's name `fname` to the struct field's.
    fn name_check(&self, cql: &str) -> TokenStream {
        if self.input.skip_name_checks {
            quote!(let _ = fname;)
        } else {
            let wrong = self.mismatch(quote!(::std::format!(
                "field `{}` is not the UDT's field `{}`",
                #cql,
                fname
            )));
            quote! {
                if fname != #cql {
                    return ::core::result::Result::Err(#wrong);
                }
            }
        }
    }
}

/// Decodes the current `cell` of UDT field type `ftype` as field `f`'s type.
fn read_field(f: &Field, de: &TokenStream) -> TokenStream {
    let ty = &f.ty;
    let frame = frame_lifetime();
    if f.default_when_null {
        quote! {
            <::core::option::Option<#ty> as #de::DeserializeValue<#frame>>::deserialize(ftype, cell)?
                .unwrap_or_default()
        }
    } else {
        quote!(<#ty as #de::DeserializeValue<#frame>>::deserialize(ftype, cell)?)
    }
}
