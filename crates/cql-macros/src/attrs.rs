//! The raw `#[cql(...)]` / `#[scylla(...)]` attributes of a derive input: parsed key by key,
//! with duplicates and unknown keys rejected. What the keys mean together is checked in
//! [`crate::input`].
//!
//! Both namespaces take the same keys, so a struct written for the `scylla` crate compiles
//! unchanged, and one item may mix them.

use proc_macro2::Span;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr, Path};

/// The attribute namespaces the derives read.
const NAMESPACES: [&str; 2] = ["cql", "scylla"];

/// How fields are matched to columns (rows) or to UDT fields (values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// By name, in any order (the default).
    MatchByName,
    /// By position: field `i` goes with column (or UDT field) `i`; names are still compared
    /// unless `skip_name_checks` is given.
    EnforceOrder,
}

/// The CQL type a C-like enum is stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repr {
    /// `tinyint` (`i8`).
    TinyInt,
    /// `smallint` (`i16`).
    SmallInt,
    /// `int` (`i32`).
    Int,
    /// `bigint` (`i64`).
    BigInt,
    /// `text` or `ascii`: the variant's name.
    Text,
}

impl Repr {
    /// The CQL name, as written in `repr = "..."`.
    pub(crate) fn cql_name(self) -> &'static str {
        match self {
            Self::TinyInt => "tinyint",
            Self::SmallInt => "smallint",
            Self::Int => "int",
            Self::BigInt => "bigint",
            Self::Text => "text",
        }
    }

    /// The range of an integer representation.
    pub(crate) fn range(self) -> Option<(i128, i128)> {
        match self {
            Self::TinyInt => Some((i8::MIN.into(), i8::MAX.into())),
            Self::SmallInt => Some((i16::MIN.into(), i16::MAX.into())),
            Self::Int => Some((i32::MIN.into(), i32::MAX.into())),
            Self::BigInt => Some((i64::MIN.into(), i64::MAX.into())),
            Self::Text => None,
        }
    }
}

/// A `rename_all = "..."` rule for the variant names of a text enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RenameAll {
    Lower,
    Upper,
    Snake,
    ScreamingSnake,
    Kebab,
    Camel,
    Pascal,
}

const RENAME_ALL_RULES: &str = "\"lowercase\", \"UPPERCASE\", \"snake_case\", \
     \"SCREAMING_SNAKE_CASE\", \"kebab-case\", \"camelCase\" or \"PascalCase\"";

impl RenameAll {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "camelCase" => Self::Camel,
            "PascalCase" => Self::Pascal,
            _ => return None,
        })
    }

    /// Applies the rule to a variant name written in PascalCase.
    pub(crate) fn apply(self, variant: &str) -> String {
        // Words start at an upper-case letter (or after `_`).
        let mut words: Vec<String> = Vec::new();
        for c in variant.chars() {
            if c == '_' {
                words.push(String::new());
            } else if c.is_uppercase() || words.is_empty() {
                words.push(c.to_string());
            } else if let Some(w) = words.last_mut() {
                w.push(c);
            }
        }
        words.retain(|w| !w.is_empty());
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let capitalized = || {
            lower.iter().map(|w| {
                let mut cs = w.chars();
                cs.next()
                    .map(|f| f.to_uppercase().chain(cs).collect::<String>())
                    .unwrap_or_default()
            })
        };
        match self {
            Self::Lower => lower.concat(),
            Self::Upper => lower.concat().to_uppercase(),
            Self::Snake => lower.join("_"),
            Self::ScreamingSnake => lower.join("_").to_uppercase(),
            Self::Kebab => lower.join("-"),
            Self::Pascal => capitalized().collect(),
            Self::Camel => {
                let mut out = lower.first().cloned().unwrap_or_default();
                out.extend(capitalized().skip(1));
                out
            }
        }
    }
}

/// A value given with the span of its key, for errors that point at it.
pub(crate) type WithSpan<T> = (T, Span);

/// The attributes on the struct or enum itself.
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    pub(crate) krate: Option<Path>,
    pub(crate) flavor: Option<WithSpan<Flavor>>,
    pub(crate) skip_name_checks: Option<Span>,
    pub(crate) forbid_excess_udt_fields: bool,
    pub(crate) allow_missing: bool,
    pub(crate) transparent: Option<Span>,
    pub(crate) repr: Option<WithSpan<Repr>>,
    pub(crate) rename_all: Option<WithSpan<RenameAll>>,
}

/// The attributes on one field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) rename: Option<WithSpan<String>>,
    pub(crate) skip: bool,
    pub(crate) default_when_null: bool,
    pub(crate) allow_missing: bool,
    pub(crate) flatten: Option<Span>,
}

/// The attributes on one enum variant.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    pub(crate) rename: Option<WithSpan<String>>,
}

const CONTAINER_KEYS: &str = "`crate`, `flavor`, `skip_name_checks`, \
     `forbid_excess_udt_fields`, `allow_missing`, `transparent`, `repr`, `rename_all`";
const FIELD_KEYS: &str = "`rename`, `skip`, `default_when_null`, `allow_missing`, `flatten`";
const VARIANT_KEYS: &str = "`rename`";

/// Calls `each` for every key of every attribute of ours, with the namespace it was written in.
fn for_each_key(
    attrs: &[Attribute],
    mut each: impl FnMut(&'static str, ParseNestedMeta<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    for attr in attrs {
        let Some(ns) = NAMESPACES.into_iter().find(|ns| attr.path().is_ident(ns)) else {
            continue;
        };
        attr.parse_nested_meta(|meta| each(ns, meta))?;
    }
    Ok(())
}

impl ContainerAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for_each_key(attrs, |ns, meta| {
            let span = meta.path.span();
            if meta.path.is_ident("crate") {
                let value = meta.value()?;
                let path = if value.peek(LitStr) {
                    value.parse::<LitStr>()?.parse::<Path>()?
                } else {
                    value.parse::<Path>()?
                };
                set_once(&mut out.krate, path, &meta, ns)
            } else if meta.path.is_ident("flavor") {
                let (f, _) = parse_choice(
                    &meta,
                    "flavor",
                    &[
                        ("match_by_name", Flavor::MatchByName),
                        ("enforce_order", Flavor::EnforceOrder),
                    ],
                    "\"match_by_name\" or \"enforce_order\"",
                )?;
                set_once(&mut out.flavor, (f, span), &meta, ns)
            } else if meta.path.is_ident("skip_name_checks") {
                set_once(&mut out.skip_name_checks, span, &meta, ns)
            } else if meta.path.is_ident("forbid_excess_udt_fields") {
                out.forbid_excess_udt_fields = true;
                Ok(())
            } else if meta.path.is_ident("allow_missing") {
                out.allow_missing = true;
                Ok(())
            } else if meta.path.is_ident("transparent") {
                set_once(&mut out.transparent, span, &meta, ns)
            } else if meta.path.is_ident("repr") {
                let repr = parse_choice(
                    &meta,
                    "repr",
                    &[
                        ("tinyint", Repr::TinyInt),
                        ("smallint", Repr::SmallInt),
                        ("int", Repr::Int),
                        ("bigint", Repr::BigInt),
                        ("text", Repr::Text),
                    ],
                    "\"tinyint\", \"smallint\", \"int\", \"bigint\" or \"text\"",
                )?;
                set_once(&mut out.repr, repr, &meta, ns)
            } else if meta.path.is_ident("rename_all") {
                let lit: LitStr = meta.value()?.parse()?;
                let Some(rule) = RenameAll::parse(&lit.value()) else {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "unknown rename_all rule `{}`; expected {RENAME_ALL_RULES}",
                            lit.value()
                        ),
                    ));
                };
                set_once(&mut out.rename_all, (rule, span), &meta, ns)
            } else {
                Err(unknown(&meta, ns, "container", CONTAINER_KEYS))
            }
        })?;
        Ok(out)
    }
}

impl FieldAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for_each_key(attrs, |ns, meta| {
            let span = meta.path.span();
            if meta.path.is_ident("rename") {
                set_rename(&mut out.rename, &meta, ns)
            } else if meta.path.is_ident("skip") {
                out.skip = true;
                Ok(())
            } else if meta.path.is_ident("default_when_null") {
                out.default_when_null = true;
                Ok(())
            } else if meta.path.is_ident("allow_missing") {
                out.allow_missing = true;
                Ok(())
            } else if meta.path.is_ident("flatten") {
                set_once(&mut out.flatten, span, &meta, ns)
            } else {
                Err(unknown(&meta, ns, "field", FIELD_KEYS))
            }
        })?;
        Ok(out)
    }
}

impl VariantAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for_each_key(attrs, |ns, meta| {
            if meta.path.is_ident("rename") {
                set_rename(&mut out.rename, &meta, ns)
            } else {
                Err(unknown(&meta, ns, "variant", VARIANT_KEYS))
            }
        })?;
        Ok(out)
    }
}

fn unknown(meta: &ParseNestedMeta<'_>, ns: &str, on: &str, keys: &str) -> syn::Error {
    meta.error(format!(
        "unknown {ns} {on} attribute `{}`; expected one of {keys}",
        path_to_string(&meta.path)
    ))
}

/// Parses `key = "choice"` as one of `choices`, with the span of the string; `expected` lists
/// the choices for the error.
fn parse_choice<T: Copy>(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    choices: &[(&str, T)],
    expected: &str,
) -> syn::Result<WithSpan<T>> {
    let lit: LitStr = meta.value()?.parse()?;
    let value = lit.value();
    match choices.iter().find(|(name, _)| *name == value) {
        Some(&(_, choice)) => Ok((choice, lit.span())),
        None => Err(syn::Error::new(
            lit.span(),
            format!("unknown {key} `{value}`; expected {expected}"),
        )),
    }
}

/// Parses `rename = "name"` into `slot`, once.
fn set_rename(
    slot: &mut Option<WithSpan<String>>,
    meta: &ParseNestedMeta<'_>,
    ns: &str,
) -> syn::Result<()> {
    let lit: LitStr = meta.value()?.parse()?;
    set_once(slot, (lit.value(), meta.path.span()), meta, ns)
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &ParseNestedMeta<'_>,
    ns: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!(
            "duplicate {ns} attribute `{}`; give it once",
            path_to_string(&meta.path)
        )));
    }
    *slot = Some(value);
    Ok(())
}

fn path_to_string(path: &Path) -> String {
    quote!(#path).to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::RenameAll;

    #[test]
    fn rename_all_rules_split_pascal_case_words() {
        let cases = [
            (RenameAll::Lower, "httpget"),
            (RenameAll::Upper, "HTTPGET"),
            (RenameAll::Snake, "h_t_t_p_get"),
            (RenameAll::Pascal, "HTTPGet"),
        ];
        for (rule, want) in cases {
            assert_eq!(rule.apply("HTTPGet"), want, "{rule:?}");
        }
        assert_eq!(RenameAll::Snake.apply("InProgress"), "in_progress");
        assert_eq!(RenameAll::ScreamingSnake.apply("InProgress"), "IN_PROGRESS");
        assert_eq!(RenameAll::Kebab.apply("InProgress"), "in-progress");
        assert_eq!(RenameAll::Camel.apply("InProgress"), "inProgress");
        assert_eq!(RenameAll::Pascal.apply("InProgress"), "InProgress");
        assert_eq!(RenameAll::Lower.apply("Done"), "done");
    }
}
