//! Generics of generated impls: trait bounds for generic field types, and the `'frame` lifetime
//! of the deserialize traits.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{GenericParam, Generics, Lifetime, LifetimeParam, WherePredicate};

use crate::input::{Field, Input};

/// The name of the lifetime the deserialize impls add for the response frame.
pub(crate) fn frame_lifetime() -> Lifetime {
    Lifetime::new("'__cql_frame", Span::call_site())
}

/// The struct's generics plus, for every active field whose type mentions a generic parameter,
/// the predicate `bound(field)`.
///
/// Fields with concrete types get no bound: their impls are checked where they are used.
pub(crate) fn with_field_bounds(
    input: &Input,
    generics: &Generics,
    bound: impl Fn(&Field) -> WherePredicate,
) -> Generics {
    let mut out = generics.clone();
    let params = param_names(&input.generics);
    let predicates: Vec<_> = input
        .active_fields()
        .filter(|f| mentions_any(f.ty.to_token_stream(), &params))
        .map(bound)
        .collect();
    if !predicates.is_empty() {
        out.make_where_clause().predicates.extend(predicates);
    }
    out
}

/// The struct's generics with `'__cql_frame` first, outliving every lifetime of the struct.
pub(crate) fn with_frame(generics: &Generics) -> Generics {
    let mut out = generics.clone();
    let mut frame = LifetimeParam::new(frame_lifetime());
    for p in &generics.params {
        if let GenericParam::Lifetime(l) = p {
            frame.bounds.push(l.lifetime.clone());
        }
    }
    out.params.insert(0, GenericParam::Lifetime(frame));
    out
}

/// The names of the type and lifetime parameters (lifetimes without their `'`).
fn param_names(generics: &Generics) -> Vec<String> {
    generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.to_string()),
            GenericParam::Lifetime(l) => Some(l.lifetime.ident.to_string()),
            GenericParam::Const(_) => None,
        })
        .collect()
}

/// Whether a token stream names one of `params` (an approximation that may over-match, which
/// only adds a bound that holds anyway).
fn mentions_any(tokens: TokenStream, params: &[String]) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => params.iter().any(|p| i == p),
        TokenTree::Group(g) => mentions_any(g.stream(), params),
        _ => false,
    })
}
