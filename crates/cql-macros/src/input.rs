//! The input model shared by every derive: a struct with named fields, a transparent newtype, or
//! a C-like enum, with its attributes parsed and checked once.
//!
//! Every derive accepts every attribute, because one struct usually derives several traits at
//! once; an attribute a derive has no use for is ignored by that derive. Combinations that
//! cannot mean anything are errors that say what to write instead.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, Generics, Ident, Lit, Member, Path, Type, UnOp};

use crate::attrs::{ContainerAttrs, FieldAttrs, VariantAttrs};
pub(crate) use crate::attrs::{Flavor, Repr};

/// Which derive is expanding: some shapes and attributes fit only some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Derive {
    SerializeRow,
    DeserializeRow,
    SerializeValue,
    DeserializeValue,
}

impl Derive {
    fn name(self) -> &'static str {
        match self {
            Self::SerializeRow => "SerializeRow",
            Self::DeserializeRow => "DeserializeRow",
            Self::SerializeValue => "SerializeValue",
            Self::DeserializeValue => "DeserializeValue",
        }
    }

    fn is_row(self) -> bool {
        matches!(self, Self::SerializeRow | Self::DeserializeRow)
    }
}

/// A parsed `#[derive(...)]` input.
pub(crate) struct Input {
    /// The item's name.
    pub(crate) ident: Ident,
    /// The item's generics, as written.
    pub(crate) generics: Generics,
    /// The path of the `cql-session` crate in generated code.
    pub(crate) krate: Path,
    /// How fields are matched.
    pub(crate) flavor: Flavor,
    /// With `EnforceOrder`: do not compare names.
    pub(crate) skip_name_checks: bool,
    /// Values only: a UDT field the struct has no field for is an error instead of a null.
    pub(crate) forbid_excess_udt_fields: bool,
    /// All fields of a struct, in declaration order, skipped ones included (none for an enum).
    pub(crate) fields: Vec<Field>,
    /// What the item is.
    pub(crate) kind: Kind,
}

/// The shape of the input.
pub(crate) enum Kind {
    /// A struct with named fields: a row, or a UDT.
    Struct,
    /// `transparent`: a struct whose one active field stands for it.
    Transparent,
    /// A C-like enum stored as one integer or text value.
    Enum(Enum),
}

/// A C-like enum.
pub(crate) struct Enum {
    /// The CQL type it is stored as.
    pub(crate) repr: Repr,
    /// Its variants, in declaration order.
    pub(crate) variants: Vec<Variant>,
}

/// One unit variant.
pub(crate) struct Variant {
    /// The Rust name.
    pub(crate) ident: Ident,
    /// The stored text (text repr): its name, `rename` or `rename_all` applied.
    pub(crate) name: String,
    /// The stored integer (integer reprs): its discriminant.
    pub(crate) value: i128,
}

/// One field.
pub(crate) struct Field {
    /// The Rust field: a name, or an index in a tuple struct.
    pub(crate) member: Member,
    /// The field's type.
    pub(crate) ty: Type,
    /// The CQL name: the field name, or its `rename`.
    pub(crate) name: String,
    /// `skip`: not serialized; `Default` when deserialized.
    pub(crate) skip: bool,
    /// `default_when_null`: a null deserializes to `Default`.
    pub(crate) default_when_null: bool,
    /// `allow_missing` (on the field or the struct): a column or UDT field that is absent
    /// deserializes to `Default`.
    pub(crate) allow_missing: bool,
    /// `flatten`: the field's own fields are matched as if they were the outer struct's.
    pub(crate) flatten: bool,
}

impl Input {
    /// Parses and checks a derive input for `derive`.
    pub(crate) fn from_derive(input: DeriveInput, derive: Derive) -> syn::Result<Self> {
        let attrs = ContainerAttrs::parse(&input.attrs)?;
        let flavor = attrs.flavor.map_or(Flavor::MatchByName, |(f, _)| f);
        if let (Some(span), Flavor::MatchByName) = (attrs.skip_name_checks, flavor) {
            return Err(syn::Error::new(
                span,
                "`skip_name_checks` needs `flavor = \"enforce_order\"`: matching by name needs names",
            ));
        }
        let is_enum = matches!(input.data, Data::Enum(_));
        if let (Some((_, span)), false) = (attrs.repr, is_enum) {
            return Err(syn::Error::new(
                span,
                "`repr` is for C-like enums; a struct is stored as a UDT, or as its one field \
                 with `transparent`",
            ));
        }
        let text_enum = matches!(attrs.repr, Some((Repr::Text, _)));
        if let (Some((_, span)), false) = (attrs.rename_all, text_enum) {
            return Err(syn::Error::new(
                span,
                "`rename_all` renames the variants of an enum with `repr = \"text\"`; rename a \
                 field with `rename = \"...\"`",
            ));
        }

        let (fields, kind) = match input.data {
            Data::Enum(e) => (Vec::new(), Kind::Enum(parse_enum(e, &attrs, derive)?)),
            Data::Union(u) => return Err(unsupported(u.union_token.span, derive)),
            Data::Struct(s) => {
                let fields = parse_fields(s.fields, &attrs, derive)?;
                let kind = if attrs.transparent.is_some() {
                    Kind::Transparent
                } else {
                    Kind::Struct
                };
                (fields, kind)
            }
        };
        if let Kind::Transparent = kind {
            check_transparent(&fields, &attrs)?;
        }

        Ok(Self {
            ident: input.ident,
            generics: input.generics,
            krate: attrs.krate.unwrap_or_else(default_crate_path),
            flavor,
            skip_name_checks: attrs.skip_name_checks.is_some(),
            forbid_excess_udt_fields: attrs.forbid_excess_udt_fields,
            fields,
            kind,
        })
    }

    /// The fields that take part in (de)serialization, in declaration order.
    pub(crate) fn active_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.skip)
    }

    /// The active fields matched by their own name (not flattened).
    pub(crate) fn own_fields(&self) -> impl Iterator<Item = &Field> {
        self.active_fields().filter(|f| !f.flatten)
    }

    /// The flattened fields.
    pub(crate) fn flattened(&self) -> impl Iterator<Item = &Field> {
        self.active_fields().filter(|f| f.flatten)
    }

    /// The one active field of a transparent struct.
    pub(crate) fn inner(&self) -> syn::Result<&Field> {
        self.active_fields()
            .next()
            .ok_or_else(|| syn::Error::new(self.ident.span(), "`transparent` needs a field"))
    }

    /// The path of the hidden re-exports module of `cql-session`, through which generated code
    /// names every item (traits, helper functions, `cql-proto` types).
    pub(crate) fn internal(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::_macro_internal)
    }
}

impl Field {
    /// The CQL name as a byte-string literal, for matching a column's name bytes without
    /// getting a `&str` (which costs a UTF-8 check per row).
    pub(crate) fn name_bytes(&self) -> syn::LitByteStr {
        syn::LitByteStr::new(self.name.as_bytes(), Span::call_site())
    }

    /// `Default::default()` for this field's type, a missing impl reported at the type.
    pub(crate) fn default_value(&self) -> TokenStream {
        let ty = &self.ty;
        quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default())
    }

    /// The initializer of a skipped field when deserializing: `Default`.
    pub(crate) fn skipped_init(&self) -> TokenStream {
        let member = &self.member;
        let default = self.default_value();
        quote!(#member: #default,)
    }
}

/// The path of `cql-session` when no `crate = ...` is given: the name the user's manifest gives
/// it, so a dependency renamed to `scylla` (`scylla = { package = "cql-session", .. }`) works
/// with the `scylla` crate's code unchanged; `::cql_session` when the manifest cannot tell.
fn default_crate_path() -> Path {
    match proc_macro_crate::crate_name("cql-session") {
        Ok(proc_macro_crate::FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            syn::parse_quote!(::#ident)
        }
        // `Itself`: the crate's own tests and examples, which name it `cql_session`.
        Ok(proc_macro_crate::FoundCrate::Itself) | Err(_) => syn::parse_quote!(::cql_session),
    }
}

fn parse_fields(fields: Fields, attrs: &ContainerAttrs, derive: Derive) -> syn::Result<Vec<Field>> {
    let fields = match fields {
        Fields::Named(named) => named.named,
        Fields::Unnamed(unnamed) if attrs.transparent.is_some() => unnamed.unnamed,
        // `check_transparent` says what is wrong with it.
        Fields::Unit if attrs.transparent.is_some() => syn::punctuated::Punctuated::new(),
        other => return Err(unsupported(other.span(), derive)),
    };
    let flavor = attrs.flavor.map_or(Flavor::MatchByName, |(f, _)| f);
    let mut out = Vec::with_capacity(fields.len());
    for (i, f) in fields.into_iter().enumerate() {
        let a = FieldAttrs::parse(&f.attrs)?;
        let member = match f.ident {
            Some(ident) => Member::Named(ident),
            None => Member::Unnamed(syn::Index {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                span: f.ty.span(),
            }),
        };
        let allow_missing = a.allow_missing || attrs.allow_missing;
        if let Some(span) = a.flatten {
            check_flatten(span, &a, attrs, flavor, derive)?;
        }
        if allow_missing && derive == Derive::DeserializeRow && flavor == Flavor::EnforceOrder {
            return Err(syn::Error::new(
                member.span(),
                "`allow_missing` needs `flavor = \"match_by_name\"` in a row: by position, a \
                 missing column would shift every column after it",
            ));
        }
        let name = match (&a.rename, &member) {
            (Some((name, _)), _) => name.clone(),
            (None, Member::Named(ident)) => {
                let s = ident.to_string();
                s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
            }
            (None, Member::Unnamed(index)) => index.index.to_string(),
        };
        out.push(Field {
            member,
            ty: f.ty,
            name,
            skip: a.skip,
            default_when_null: a.default_when_null,
            allow_missing,
            flatten: a.flatten.is_some(),
        });
    }
    check_unique_names(&out)?;
    Ok(out)
}

fn check_flatten(
    span: Span,
    a: &FieldAttrs,
    attrs: &ContainerAttrs,
    flavor: Flavor,
    derive: Derive,
) -> syn::Result<()> {
    let err = |msg: &str| Err(syn::Error::new(span, msg));
    if !derive.is_row() {
        return err(
            "`flatten` is for rows (SerializeRow, DeserializeRow); a UDT's fields cannot come \
             from another struct: write the fields out, or make the field a nested UDT",
        );
    }
    if flavor == Flavor::EnforceOrder {
        return err(
            "`flatten` needs `flavor = \"match_by_name\"`: the flattened fields are found by name",
        );
    }
    if attrs.transparent.is_some() {
        return err("`flatten` and `transparent` do not go together: remove one");
    }
    if a.rename.is_some() {
        return err("a flattened field has no column of its own: remove `rename`");
    }
    if a.skip || a.default_when_null || a.allow_missing {
        return err(
            "a flattened field has no column of its own: remove `skip`, `default_when_null` \
             and `allow_missing` (put them on the fields of the flattened struct)",
        );
    }
    Ok(())
}

fn check_transparent(fields: &[Field], attrs: &ContainerAttrs) -> syn::Result<()> {
    // Invariant: only set when the struct has `transparent`.
    let span = attrs.transparent.unwrap_or_else(Span::call_site);
    if let Some((_, flavor_span)) = attrs.flavor {
        return Err(syn::Error::new(
            flavor_span,
            "a `transparent` struct is its field's value: remove `flavor`",
        ));
    }
    let active = fields.iter().filter(|f| !f.skip).count();
    if active != 1 {
        return Err(syn::Error::new(
            span,
            format!(
                "`transparent` needs exactly one field that is not `skip`ped, found {active}; \
                 derive without `transparent` to store the fields as a UDT or a row"
            ),
        ));
    }
    Ok(())
}

fn parse_enum(e: syn::DataEnum, attrs: &ContainerAttrs, derive: Derive) -> syn::Result<Enum> {
    let span = e.enum_token.span;
    if derive.is_row() {
        return Err(syn::Error::new(
            span,
            format!(
                "#[derive({})] needs a struct with named fields; an enum is one value: derive \
                 SerializeValue and DeserializeValue with `#[cql(repr = \"int\")]` or \
                 `#[cql(repr = \"text\")]`",
                derive.name()
            ),
        ));
    }
    if let Some(t) = attrs.transparent {
        return Err(syn::Error::new(
            t,
            "`transparent` is for structs with one field; an enum takes `repr`",
        ));
    }
    let Some((repr, _)) = attrs.repr else {
        return Err(syn::Error::new(
            span,
            format!(
                "#[derive({})] on an enum needs its CQL type: add `#[cql(repr = \"int\")]` \
                 (or \"tinyint\", \"smallint\", \"bigint\") to store the discriminant, or \
                 `#[cql(repr = \"text\")]` to store the variant name",
                derive.name()
            ),
        ));
    };
    if e.variants.is_empty() {
        return Err(syn::Error::new(
            span,
            "an enum without variants has no values to store; add a variant",
        ));
    }
    let mut variants: Vec<Variant> = Vec::with_capacity(e.variants.len());
    let mut next: i128 = 0;
    for v in e.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new(
                v.fields.span(),
                format!(
                    "variant `{}` has fields; only C-like enums (unit variants) are supported: \
                     store data in a struct (a UDT) instead",
                    v.ident
                ),
            ));
        }
        let a = VariantAttrs::parse(&v.attrs)?;
        let value = match &v.discriminant {
            Some((_, expr)) => int_literal(expr)?,
            None => next,
        };
        next = value.saturating_add(1);
        let name = match (a.rename, repr) {
            (Some((_, span)), r) if r != Repr::Text => {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "`rename` names the stored text of `repr = \"text\"`; with \
                         `repr = \"{}\"` the discriminant is stored: set it with `{} = ...`",
                        r.cql_name(),
                        v.ident
                    ),
                ));
            }
            (Some((name, _)), _) => name,
            (None, _) => match attrs.rename_all {
                Some((rule, _)) => rule.apply(&v.ident.to_string()),
                None => v.ident.to_string(),
            },
        };
        if let Some((min, max)) = repr.range()
            && !(min..=max).contains(&value)
        {
            return Err(syn::Error::new(
                v.ident.span(),
                format!(
                    "variant `{}` = {value} does not fit CQL `{}` ({min}..={max}); pick a wider \
                     `repr` or a smaller discriminant",
                    v.ident,
                    repr.cql_name()
                ),
            ));
        }
        let clash = variants.iter().find(|w| match repr {
            Repr::Text => w.name == name,
            _ => w.value == value,
        });
        if let Some(w) = clash {
            let what = match repr {
                Repr::Text => format!("the name `{name}`"),
                _ => format!("the value {value}"),
            };
            return Err(syn::Error::new(
                v.ident.span(),
                format!(
                    "variants `{}` and `{}` are both stored as {what}; give each its own",
                    w.ident, v.ident
                ),
            ));
        }
        variants.push(Variant {
            ident: v.ident,
            name,
            value,
        });
    }
    Ok(Enum { repr, variants })
}

/// The value of an integer-literal discriminant (`3`, `-1`).
fn int_literal(expr: &Expr) -> syn::Result<i128> {
    let not_literal = || {
        syn::Error::new(
            expr.span(),
            "a stored discriminant must be an integer literal, so the macro can list the values",
        )
    };
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse::<i128>(),
            _ => Err(not_literal()),
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => int_literal(&u.expr).map(|v| -v),
        Expr::Group(g) => int_literal(&g.expr),
        _ => Err(not_literal()),
    }
}

fn unsupported(span: Span, derive: Derive) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "#[derive({})]: only structs with named fields are supported; for a newtype \
             add `#[cql(transparent)]`",
            derive.name()
        ),
    )
}

/// Two fields with one CQL name would make name matching ambiguous.
fn check_unique_names(fields: &[Field]) -> syn::Result<()> {
    let named = |f: &&Field| !f.skip && !f.flatten;
    for (i, f) in fields.iter().enumerate().filter(|(_, f)| named(f)) {
        if fields[..i].iter().filter(named).any(|g| g.name == f.name) {
            return Err(syn::Error::new(
                f.member.span(),
                format!("two fields have the CQL name `{}`; rename one", f.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
