//! The CQL lexer, written with `nom`: text to tokens with byte offsets.

use nom::IResult;
use nom::bytes::complete::{tag_no_case, take_while, take_while_m_n};
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{opt, recognize};
use nom::sequence::{pair, preceded, tuple};
use uuid::Uuid;

use crate::error::CqlError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An unquoted identifier or keyword, lowercased.
    Ident(String),
    /// A `"quoted"` identifier, case kept.
    QIdent(String),
    /// A string constant.
    Str(String),
    /// An unsigned integer constant.
    Int(String),
    /// An unsigned float constant.
    Float(String),
    /// A UUID constant.
    Uuid(Uuid),
    /// A blob constant.
    Blob(Vec<u8>),
    /// A duration with units (`1h30m`), unsigned.
    Duration(String),
    /// A punctuation symbol.
    Sym(&'static str),
}

/// A token and where it starts in the query text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

const SYMBOLS: [&str; 20] = [
    "!=", "<=", ">=", "(", ")", ",", ";", ".", "*", "=", "<", ">", "[", "]", "{", "}", ":", "+",
    "-", "?",
];

/// The 1-based line and column of a byte offset, as Cassandra's messages print them (`line 1:7`).
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1);
    (line, col)
}

fn syntax_at(text: &str, pos: usize, msg: &str) -> CqlError {
    let (l, c) = line_col(text, pos);
    CqlError::Syntax(format!("line {l}:{c} {msg}"))
}

/// Skips white space and comments; fails on an unterminated block comment.
fn skip_trivia(text: &str, mut pos: usize) -> Result<usize, CqlError> {
    loop {
        let rest = &text[pos..];
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.starts_with("--") || trimmed.starts_with("//") {
            pos += trimmed.find('\n').unwrap_or(trimmed.len());
        } else if trimmed.starts_with("/*") {
            match trimmed.strip_prefix("/*").and_then(|b| b.find("*/")) {
                Some(i) => pos += i + 4,
                None => return Err(syntax_at(text, pos, "unterminated comment")),
            }
        } else {
            return Ok(pos);
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn hex_n(n: usize) -> impl Fn(&str) -> IResult<&str, &str> {
    move |i| take_while_m_n(n, n, |c: char| c.is_ascii_hexdigit())(i)
}

fn uuid_tok(i: &str) -> IResult<&str, &str> {
    recognize(tuple((
        hex_n(8),
        char('-'),
        hex_n(4),
        char('-'),
        hex_n(4),
        char('-'),
        hex_n(4),
        char('-'),
        hex_n(12),
    )))(i)
}

fn blob_tok(i: &str) -> IResult<&str, &str> {
    preceded(
        tag_no_case("0x"),
        take_while(|c: char| c.is_ascii_hexdigit()),
    )(i)
}

fn exponent(i: &str) -> IResult<&str, &str> {
    recognize(tuple((one_of("eE"), opt(one_of("+-")), digit1)))(i)
}

/// `digits [. digits] [exponent]`; the flag tells whether it is a float.
fn number_tok(i: &str) -> IResult<&str, (&str, bool)> {
    let (rest, text) = recognize(tuple((
        digit1,
        opt(pair(char('.'), take_while(|c: char| c.is_ascii_digit()))),
        opt(exponent),
    )))(i)?;
    let is_float = text.contains(['.', 'e', 'E']);
    Ok((rest, (text, is_float)))
}

const DURATION_UNITS: [&str; 11] = ["mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s"];

fn duration_unit(i: &str) -> IResult<&str, &str> {
    for u in DURATION_UNITS {
        if let Ok(r) = tag_no_case::<_, _, nom::error::Error<&str>>(u)(i) {
            return Ok(r);
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        i,
        nom::error::ErrorKind::Tag,
    )))
}

fn duration_tok(i: &str) -> IResult<&str, &str> {
    recognize(nom::multi::many1(pair(digit1, duration_unit)))(i)
}

/// The length of an ISO 8601 duration in the alternative format Cassandra's lexer accepts,
/// `P0001-02-03T04:05:06`, at the start of `i`.
fn iso_alternative_duration_len(i: &str) -> Option<usize> {
    const SHAPE: &[u8] = b"P####-##-##T##:##:##";
    let b = i.as_bytes().get(..SHAPE.len())?;
    let fits = SHAPE.iter().zip(b).all(|(want, got)| match want {
        b'#' => got.is_ascii_digit(),
        w => got.eq_ignore_ascii_case(w),
    });
    (fits && not_followed_by_ident(&i[SHAPE.len()..])).then_some(SHAPE.len())
}

fn ident_tok(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        take_while_m_n(1, 1, |c: char| c.is_ascii_alphabetic()),
        take_while(is_ident_char),
    ))(i)
}

/// A quoted run with the quote doubled as its escape: `'it''s'`, `"My ""Col"""`.
fn quoted(q: char, i: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = i.char_indices();
    if chars.next().map(|(_, c)| c) != Some(q) {
        return None;
    }
    while let Some((idx, c)) = chars.next() {
        if c == q {
            if i[idx + 1..].starts_with(q) {
                out.push(q);
                chars.next();
            } else {
                return Some((out, idx + 1));
            }
        } else {
            out.push(c);
        }
    }
    None
}

fn symbol_tok(i: &str) -> IResult<&str, &'static str> {
    for s in SYMBOLS {
        if let Some(rest) = i.strip_prefix(s) {
            return Ok((rest, s));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        i,
        nom::error::ErrorKind::Tag,
    )))
}

fn not_followed_by_ident(rest: &str) -> bool {
    !rest.starts_with(is_ident_char)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Splits query text into tokens.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, CqlError> {
    let mut out = Vec::new();
    let mut pos = skip_trivia(text, 0)?;
    while pos < text.len() {
        let i = &text[pos..];
        let (tok, len) = if let Some(q) = i.chars().next().filter(|c| *c == '\'' || *c == '"') {
            match quoted(q, i) {
                Some((s, len)) if q == '\'' => (Tok::Str(s), len),
                Some((s, len)) => {
                    if s.is_empty() {
                        return Err(syntax_at(text, pos, "empty quoted identifier"));
                    }
                    (Tok::QIdent(s), len)
                }
                None => {
                    return Err(syntax_at(
                        text,
                        pos,
                        &format!(
                            "unterminated {} quote",
                            if q == '\'' { "string" } else { "identifier" }
                        ),
                    ));
                }
            }
        } else if let Some(body) = i.strip_prefix("$$") {
            match body.find("$$") {
                Some(end) => (Tok::Str(body[..end].to_owned()), end + 4),
                None => return Err(syntax_at(text, pos, "unterminated $$ string")),
            }
        } else if let Ok((rest, u)) = uuid_tok(i).map_err(|_: nom::Err<nom::error::Error<&str>>| ())
        {
            if not_followed_by_ident(rest) {
                let uuid = Uuid::parse_str(u).map_err(|e| syntax_at(text, pos, &e.to_string()))?;
                (Tok::Uuid(uuid), u.len())
            } else {
                lex_other(text, pos)?
            }
        } else {
            lex_other(text, pos)?
        };
        out.push(Token {
            tok,
            start: pos,
            end: pos + len,
        });
        pos = skip_trivia(text, pos + len)?;
    }
    Ok(out)
}

fn lex_other(text: &str, pos: usize) -> Result<(Tok, usize), CqlError> {
    let i = &text[pos..];
    if let Ok((rest, hex)) = blob_tok(i)
        && not_followed_by_ident(rest)
    {
        let bytes = decode_hex(hex)
            .ok_or_else(|| syntax_at(text, pos, "blob constant with an odd number of digits"))?;
        return Ok((Tok::Blob(bytes), i.len() - rest.len()));
    }
    if let Ok((rest, d)) = duration_tok(i)
        && not_followed_by_ident(rest)
    {
        return Ok((Tok::Duration(d.to_owned()), d.len()));
    }
    if let Ok((rest, (num, is_float))) = number_tok(i)
        && not_followed_by_ident(rest)
    {
        let tok = if is_float {
            Tok::Float(num.to_owned())
        } else {
            Tok::Int(num.to_owned())
        };
        return Ok((tok, num.len()));
    }
    if let Some(len) = iso_alternative_duration_len(i) {
        return Ok((Tok::Ident(i[..len].to_ascii_lowercase()), len));
    }
    if let Ok((_, id)) = ident_tok(i) {
        return Ok((Tok::Ident(id.to_ascii_lowercase()), id.len()));
    }
    if let Ok((_, s)) = symbol_tok(i) {
        return Ok((Tok::Sym(s), s.len()));
    }
    let bad: String = i.chars().take(1).collect();
    Err(syntax_at(
        text,
        pos,
        &format!("token recognition error at: '{bad}'"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_every_kind() {
        assert_eq!(
            toks("SELECT \"MyCol\", 'it''s' -- c\n/* x */ 12 1.5e3 0xCAFE 1h30m ?"),
            vec![
                Tok::Ident("select".into()),
                Tok::QIdent("MyCol".into()),
                Tok::Sym(","),
                Tok::Str("it's".into()),
                Tok::Int("12".into()),
                Tok::Float("1.5e3".into()),
                Tok::Blob(vec![0xca, 0xfe]),
                Tok::Duration("1h30m".into()),
                Tok::Sym("?"),
            ]
        );
        assert_eq!(
            toks("123e4567-e89b-12d3-a456-426614174000 // end"),
            vec![Tok::Uuid(
                Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap()
            )]
        );
        assert_eq!(
            toks("$$a'b$$ <= !="),
            vec![Tok::Str("a'b".into()), Tok::Sym("<="), Tok::Sym("!=")]
        );
    }

    #[test]
    fn errors_carry_positions() {
        let e = tokenize("SELECT 'abc").unwrap_err();
        assert_eq!(
            e,
            CqlError::Syntax("line 1:7 unterminated string quote".into())
        );
        let e = tokenize("SELECT\n  #").unwrap_err();
        assert_eq!(e.to_string(), "line 2:2 token recognition error at: '#'");
        assert!(tokenize("/* open").is_err());
        assert!(tokenize("0xABC").is_err());
    }
}
