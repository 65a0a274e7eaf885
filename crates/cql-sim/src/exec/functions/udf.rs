//! Calling user-defined functions. The simulator has no Java, JavaScript or Lua runtime: it
//! evaluates bodies of the form `return <expression>;` over numbers, strings and booleans
//! (`+ - * / %`, Lua's `..`, parentheses, `Math.max/min/abs` and Lua's `math.*`). A body outside
//! that subset fails the call with a FunctionFailure error (`0x1400`), never a made-up value.

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use crate::error::{CqlError, Result};
use crate::exec::value::encode;
use crate::schema::{FunctionDef, FunctionKey};

/// A value inside a function body.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

fn failure(key: &FunctionKey, why: &str) -> CqlError {
    CqlError::FunctionFailure {
        keyspace: key.keyspace.clone(),
        function: key.name.clone(),
        arg_types: key.arg_types.clone(),
        message: format!(
            "execution of '{}[{}]' failed: {why}",
            key.qualified(),
            key.arg_types.join(", ")
        ),
    }
}

/// Calls function `key` on serialized arguments; `RETURNS NULL ON NULL INPUT` functions return
/// null for a null argument without running.
pub(crate) fn call(
    key: &FunctionKey,
    def: &FunctionDef,
    args: &[Option<Bytes>],
) -> Result<Option<Bytes>> {
    if !def.called_on_null_input && args.iter().any(|a| a.as_ref().is_none_or(|b| b.is_empty())) {
        return Ok(None);
    }
    call_with_state(key, def, args)
}

/// Runs function `key` on `args` whatever their nullness: a state function, whose null checks
/// the aggregate made on the row's arguments only.
pub(crate) fn call_with_state(
    key: &FunctionKey,
    def: &FunctionDef,
    args: &[Option<Bytes>],
) -> Result<Option<Bytes>> {
    let mut vals = Vec::with_capacity(args.len());
    for (a, t) in args.iter().zip(&def.arg_types) {
        vals.push(to_v(t, a.as_deref()).ok_or_else(|| {
            failure(
                key,
                &format!("the simulator cannot pass a {t} argument to a function body"),
            )
        })?);
    }
    let java = def.language == "java";
    let expr = body_expr(&def.body).ok_or_else(|| {
        failure(
            key,
            "the simulator evaluates only 'return <expression>;' bodies",
        )
    })?;
    let mut p = Eval {
        toks: lex(expr).ok_or_else(|| failure(key, "the simulator cannot parse this body"))?,
        pos: 0,
        names: &def.arg_names,
        vals: &vals,
        java,
        depth: 0,
    };
    let v = p.expr().map_err(|why| failure(key, &why))?;
    if p.pos != p.toks.len() {
        return Err(failure(key, "the simulator cannot parse this body"));
    }
    from_v(&def.return_type, v).map_err(|why| failure(key, &why))
}

fn to_v(t: &ColumnType, b: Option<&[u8]>) -> Option<V> {
    let Some(b) = b.filter(|b| !b.is_empty()) else {
        return Some(V::Null);
    };
    Some(match CqlValue::decode_bytes(t, b).ok()? {
        CqlValue::TinyInt(v) => V::Int(i64::from(v)),
        CqlValue::SmallInt(v) => V::Int(i64::from(v)),
        CqlValue::Int(v) => V::Int(i64::from(v)),
        CqlValue::BigInt(v) | CqlValue::Counter(v) => V::Int(v),
        CqlValue::Varint(v) => V::Int(i64::try_from(v.to_i128()?).ok()?),
        CqlValue::Float(v) => V::Float(f64::from(v)),
        CqlValue::Double(v) => V::Float(v),
        CqlValue::Text(s) | CqlValue::Ascii(s) => V::Str(s),
        CqlValue::Boolean(v) => V::Bool(v),
        _ => return None,
    })
}

fn from_v(t: &ColumnType, v: V) -> std::result::Result<Option<Bytes>, String> {
    use ColumnType as T;
    let out = match (t, v) {
        (_, V::Null) => return Ok(None),
        (T::TinyInt, V::Int(i)) => CqlValue::TinyInt(i as i8),
        (T::SmallInt, V::Int(i)) => CqlValue::SmallInt(i as i16),
        (T::Int, V::Int(i)) => CqlValue::Int(i as i32),
        (T::BigInt, V::Int(i)) => CqlValue::BigInt(i),
        (T::Varint, V::Int(i)) => {
            CqlValue::Varint(proto::value::CqlVarint::from_i128(i128::from(i)))
        }
        (T::Float, V::Int(i)) => CqlValue::Float(i as f32),
        (T::Float, V::Float(f)) => CqlValue::Float(f as f32),
        (T::Double, V::Int(i)) => CqlValue::Double(i as f64),
        (T::Double, V::Float(f)) => CqlValue::Double(f),
        (T::Text, V::Str(s)) => CqlValue::Text(s),
        (T::Ascii, V::Str(s)) if s.is_ascii() => CqlValue::Ascii(s),
        (T::Boolean, V::Bool(b)) => CqlValue::Boolean(b),
        (t, v) => return Err(format!("cannot return {v:?} as {t}")),
    };
    encode(&out, t).map(Some).map_err(|e| e.to_string())
}

/// The expression of `return <expr>;` (Java, JavaScript) or `return <expr>` (Lua).
fn body_expr(body: &str) -> Option<&str> {
    let b = body.trim();
    let b = b.strip_prefix("return")?;
    if !b.starts_with(|c: char| c.is_whitespace() || c == '(') {
        return None;
    }
    let b = b.trim();
    let b = b.strip_suffix(';').unwrap_or(b).trim();
    (!b.is_empty() && !b.contains(';')).then_some(b)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(V),
    Str(String),
    Ident(String),
    Sym(&'static str),
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    const SYMS: [&str; 10] = ["..", "+", "-", "*", "/", "%", "(", ")", ",", "."];
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        // Outside string literals the subset is ASCII; this also keeps every index below on a
        // character boundary.
        if !c.is_ascii() {
            return None;
        }
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let text = &s[start..i];
            // Java literal suffixes: 1L, 2.0d, 3f.
            if i < b.len() && matches!(b[i], b'L' | b'l' | b'd' | b'D' | b'f' | b'F') {
                i += 1;
            }
            out.push(Tok::Num(if text.contains('.') {
                V::Float(text.parse().ok()?)
            } else {
                V::Int(text.parse().ok()?)
            }));
        } else if c == '"' || c == '\'' {
            let end = s[i + 1..].find(c)? + i + 1;
            let lit = &s[i + 1..end];
            if lit.contains('\\') {
                return None;
            }
            out.push(Tok::Str(lit.to_owned()));
            i = end + 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_owned()));
        } else {
            let sym = SYMS.iter().find(|p| s[i..].starts_with(**p))?;
            out.push(Tok::Sym(sym));
            i += sym.len();
        }
    }
    Some(out)
}

/// A precedence-climbing evaluator over the body's tokens.
struct Eval<'a> {
    toks: Vec<Tok>,
    pos: usize,
    names: &'a [String],
    vals: &'a [V],
    java: bool,
    /// How deeply expressions nest here; bounded, as bodies are user input.
    depth: usize,
}

/// The deepest nesting of parentheses and unary minus a body may have.
const MAX_DEPTH: usize = 64;

type R = std::result::Result<V, String>;

impl Eval<'_> {
    fn peek_sym(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Sym(s)) => Some(s),
            _ => None,
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.peek_sym() == Some(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Runs `f` one nesting level deeper, refusing past [`MAX_DEPTH`].
    fn nest(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        if self.depth >= MAX_DEPTH {
            return Err("the simulator refuses a body nested this deeply".into());
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self) -> R {
        self.nest(Self::sum)
    }

    fn sum(&mut self) -> R {
        let mut v = self.term()?;
        while let Some(op @ ("+" | "-" | "..")) = self.peek_sym() {
            self.pos += 1;
            let r = self.term()?;
            v = binary(op, v, r, self.java)?;
        }
        Ok(v)
    }

    fn term(&mut self) -> R {
        let mut v = self.unary()?;
        while let Some(op @ ("*" | "/" | "%")) = self.peek_sym() {
            self.pos += 1;
            let r = self.unary()?;
            v = binary(op, v, r, self.java)?;
        }
        Ok(v)
    }

    fn unary(&mut self) -> R {
        if self.eat("-") {
            return match self.nest(Self::unary)? {
                V::Int(i) => Ok(V::Int(i.wrapping_neg())),
                V::Float(f) => Ok(V::Float(-f)),
                V::Null => Err("java.lang.NullPointerException".into()),
                other => Err(format!("cannot negate {other:?}")),
            };
        }
        self.atom()
    }

    fn atom(&mut self) -> R {
        let tok = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or("unexpected end of body")?;
        self.pos += 1;
        match tok {
            Tok::Num(v) => Ok(v),
            Tok::Str(s) => Ok(V::Str(s)),
            Tok::Sym("(") => {
                let v = self.expr()?;
                if !self.eat(")") {
                    return Err("the simulator cannot parse this body".into());
                }
                Ok(v)
            }
            Tok::Ident(id) => {
                if self.eat(".") {
                    let Some(Tok::Ident(method)) = self.toks.get(self.pos).cloned() else {
                        return Err("the simulator cannot parse this body".into());
                    };
                    self.pos += 1;
                    return self.call(&id, &method);
                }
                match id.as_str() {
                    "null" | "nil" => Ok(V::Null),
                    "true" => Ok(V::Bool(true)),
                    "false" => Ok(V::Bool(false)),
                    _ => {
                        let i = self
                            .names
                            .iter()
                            .position(|n| *n == id)
                            .ok_or_else(|| format!("unknown name {id}"))?;
                        Ok(self.vals[i].clone())
                    }
                }
            }
            Tok::Sym(_) => Err("the simulator cannot parse this body".into()),
        }
    }

    fn call(&mut self, class: &str, method: &str) -> R {
        if !matches!(class, "Math" | "math") || !self.eat("(") {
            return Err(format!("the simulator does not model {class}.{method}"));
        }
        let mut args = vec![self.expr()?];
        while self.eat(",") {
            args.push(self.expr()?);
        }
        if !self.eat(")") {
            return Err("the simulator cannot parse this body".into());
        }
        match (method, args.as_slice()) {
            ("abs", [V::Int(i)]) => Ok(V::Int(i.wrapping_abs())),
            ("abs", [V::Float(f)]) => Ok(V::Float(f.abs())),
            ("max" | "min", [a, b]) => {
                let (x, y) = (num(a)?, num(b)?);
                let pick_a = if method == "max" { x >= y } else { x <= y };
                Ok(if pick_a { a.clone() } else { b.clone() })
            }
            _ => Err(format!("the simulator does not model {class}.{method}")),
        }
    }
}

fn num(v: &V) -> std::result::Result<f64, String> {
    match v {
        V::Int(i) => Ok(*i as f64),
        V::Float(f) => Ok(*f),
        V::Null => Err("java.lang.NullPointerException".into()),
        other => Err(format!("not a number: {other:?}")),
    }
}

fn binary(op: &str, a: V, b: V, java: bool) -> R {
    if matches!(a, V::Null) || matches!(b, V::Null) {
        // Java and JavaScript concatenate "null"; arithmetic on a null box throws.
        if op == "+" && (matches!(a, V::Str(_)) || matches!(b, V::Str(_))) {
            return Ok(V::Str(format!("{}{}", show(&a), show(&b))));
        }
        return Err("java.lang.NullPointerException".into());
    }
    match (op, &a, &b) {
        ("+" | "..", V::Str(_), _) | ("+" | "..", _, V::Str(_)) => {
            Ok(V::Str(format!("{}{}", show(&a), show(&b))))
        }
        (_, V::Int(x), V::Int(y)) => match op {
            "+" => Ok(V::Int(x.wrapping_add(*y))),
            "-" => Ok(V::Int(x.wrapping_sub(*y))),
            "*" => Ok(V::Int(x.wrapping_mul(*y))),
            "/" | "%" if *y == 0 && java => Err("java.lang.ArithmeticException: / by zero".into()),
            "/" if java => Ok(V::Int(x.wrapping_div(*y))),
            "%" if java => Ok(V::Int(x.wrapping_rem(*y))),
            _ => float_op(op, *x as f64, *y as f64),
        },
        _ => float_op(op, num(&a)?, num(&b)?),
    }
}

fn float_op(op: &str, x: f64, y: f64) -> R {
    Ok(V::Float(match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" => x / y,
        "%" => x % y,
        _ => return Err(format!("cannot apply {op} to numbers")),
    }))
}

fn show(v: &V) -> String {
    match v {
        V::Null => "null".into(),
        V::Int(i) => i.to_string(),
        V::Float(f) => format!("{f:?}"),
        V::Str(s) => s.clone(),
        V::Bool(b) => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FunctionKey {
        FunctionKey {
            keyspace: "ks".into(),
            name: "f".into(),
            arg_types: vec!["int".into()],
        }
    }

    fn def(body: &str) -> FunctionDef {
        FunctionDef {
            arg_names: vec!["a".into()],
            arg_types: vec![ColumnType::Int],
            return_type: ColumnType::Int,
            return_type_text: "int".into(),
            called_on_null_input: true,
            language: "java".into(),
            body: body.into(),
        }
    }

    fn run(body: &str, a: i32) -> Result<Option<Bytes>> {
        call(
            &key(),
            &def(body),
            &[Some(Bytes::copy_from_slice(&a.to_be_bytes()))],
        )
    }

    #[test]
    fn arithmetic_follows_java_ints() {
        let out = |b: &str| run(b, 7).unwrap().map(|b| b.to_vec());
        assert_eq!(
            out("return -a * 2 + 20 % 6;"),
            Some((-12i32).to_be_bytes().to_vec())
        );
        assert_eq!(out("return a / 2;"), Some(3i32.to_be_bytes().to_vec()));
        assert_eq!(
            out("return Math.abs(-a);"),
            Some(7i32.to_be_bytes().to_vec())
        );
        assert!(matches!(
            run("return a / 0;", 1),
            Err(CqlError::FunctionFailure { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in ".{0,40}", a in proptest::prelude::any::<i32>()) {
            let _ = run(&format!("return {body};"), a);
            let _ = run(&body, a);
        }
    }

    #[test]
    fn deep_or_foreign_bodies_fail_without_overflowing() {
        let deep = format!("return {}a{};", "(".repeat(100_000), ")".repeat(100_000));
        assert!(matches!(
            run(&deep, 1),
            Err(CqlError::FunctionFailure { .. })
        ));
        let negs = format!("return {}a;", "-".repeat(100_000));
        assert!(matches!(
            run(&negs, 1),
            Err(CqlError::FunctionFailure { .. })
        ));
        for body in [
            "if (a > 1) return a;",
            "return a > 1 ? a : 0;",
            "return \"x\\\"\";",
            "return;",
        ] {
            assert!(
                matches!(run(body, 1), Err(CqlError::FunctionFailure { .. })),
                "{body}"
            );
        }
    }
}
