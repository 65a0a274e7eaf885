//! Tidy checks: the rules of `shared/DESIGN.md` that a machine can check.
//!
//! Each check returns the list of problems it found, each one a message that tells a contributor
//! what to change. They run three ways: as `#[test]`s (so `cargo test --workspace` runs them), as
//! `cargo xtask tidy`, and as the `tidy` section of `cargo xtask ci`.
//!
//! Dependencies are read from `cargo metadata` (the resolved graph, not manifest text); the
//! `[lints]` table, which cargo metadata does not expose, from each manifest parsed as TOML.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

mod cycles;

/// Source files longer than this must be split (pure test modules excepted).
const MAX_LINES: usize = 800;

/// A dependency-direction rule of DESIGN.md section 1.
struct DepRule {
    krate: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

/// Checked over normal, build and dev dependencies of the crate, and the normal and build
/// dependencies of those, transitively: what `cargo tree -p <crate>` shows. No dev-dependency
/// is exempt: DESIGN.md says "never", and none of today's dev-dependencies needs one.
const DEP_RULES: &[DepRule] = &[
    DepRule {
        krate: "cql-proto",
        forbidden: &["tokio", "cql-transport", "cql-session", "cql-sim"],
        why: "cql-proto is the sans-IO wire layer (DESIGN.md section 1 and invariant 1)",
    },
    DepRule {
        krate: "cql-transport",
        forbidden: &["cql-session"],
        why: "dependencies point down: cql-session uses cql-transport, never the reverse \
              (DESIGN.md section 1)",
    },
    DepRule {
        krate: "cql-sim",
        forbidden: &["cql-transport", "cql-session"],
        why: "the simulator must not share code with the driver it tests (DESIGN.md invariant 2)",
    },
];

/// Wire arithmetic that cql-session must leave to cql-proto ("must not: bytes-level parsing",
/// DESIGN.md section 1): integer byte conversions, and the `bytes::Buf`/`BufMut` methods that
/// read or write the protocol's fixed-width integers and length-prefixed slices.
const WIRE_ARITHMETIC: &[&str] = &[
    "from_be_bytes",
    "to_be_bytes",
    "put_u8",
    "put_i8",
    "put_u16",
    "put_i16",
    "put_u32",
    "put_i32",
    "put_u64",
    "put_i64",
    "put_f32",
    "put_f64",
    "put_slice",
    "get_u8",
    "get_i8",
    "get_u16",
    "get_i16",
    "get_u32",
    "get_i32",
    "get_u64",
    "get_i64",
    "get_f32",
    "get_f64",
];

/// The workspace as `cargo metadata` describes it.
pub(crate) struct Workspace {
    root: PathBuf,
    meta: Value,
}

impl Workspace {
    /// Runs `cargo metadata --format-version 1 --locked --all-features` in `root`.
    pub(crate) fn load(root: &Path) -> Result<Self> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--locked",
                "--all-features",
            ])
            .current_dir(root)
            .output()
            .context("running cargo metadata")?;
        if !out.status.success() {
            bail!(
                "cargo metadata failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let meta: Value =
            serde_json::from_slice(&out.stdout).context("parsing cargo metadata's JSON")?;
        let root = PathBuf::from(
            meta["workspace_root"]
                .as_str()
                .context("no workspace_root")?,
        );
        Ok(Self { root, meta })
    }

    fn packages(&self) -> impl Iterator<Item = &Value> {
        self.meta["packages"].as_array().into_iter().flatten()
    }

    fn members(&self) -> impl Iterator<Item = &Value> {
        let ids: HashSet<&str> = self.meta["workspace_members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        self.packages()
            .filter(move |p| p["id"].as_str().is_some_and(|id| ids.contains(id)))
    }

    /// The library crates under crates/: each member package with a lib or proc-macro target
    /// (binary-only packages such as cql-bench are not libraries), with that target.
    fn libraries(&self) -> impl Iterator<Item = (&Value, &Value)> {
        let crates_dir = self.root.join("crates");
        self.members().filter_map(move |p| {
            let manifest = Path::new(p["manifest_path"].as_str()?);
            if !manifest.starts_with(&crates_dir) {
                return None;
            }
            let lib = p["targets"].as_array()?.iter().find(|t| {
                let mut kinds = t["kind"].as_array().into_iter().flatten();
                kinds.any(|k| matches!(k.as_str(), Some("lib" | "rlib" | "proc-macro")))
            })?;
            Some((p, lib))
        })
    }

    fn rel<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

/// Runs every check, prints what it finds, fails if any check found a problem.
pub(crate) fn run(root: &Path) -> Result<()> {
    let ws = Workspace::load(root)?;
    let mut failed = 0;
    for check in &CHECKS {
        let problems = (check.run)(&ws);
        if problems.is_empty() {
            eprintln!("tidy: {}: ok", check.name);
        } else {
            failed += 1;
            eprintln!("{}", report(check, &problems));
        }
    }
    anyhow::ensure!(failed == 0, "tidy: {failed} check(s) failed");
    Ok(())
}

/// One tidy check: what it is called, how to fix what it finds, and the check itself.
struct Check {
    name: &'static str,
    fix: &'static str,
    run: fn(&Workspace) -> Vec<String>,
}

static CHECKS: [Check; 5] = [
    Check {
        name: "dependency direction",
        fix: "remove the dependency (or the crate that pulls it in) from that crate's Cargo.toml; \
              `cargo tree -p <crate> -i <dependency>` shows the path",
        run: dependency_direction,
    },
    Check {
        name: "library crates inherit the workspace lints and forbid unsafe code",
        fix: "give the crate's Cargo.toml `[lints]` with `workspace = true` (change a lint for \
              everyone in the root Cargo.toml's [workspace.lints]), and put \
              `#![forbid(unsafe_code)]` among the crate attributes at the top of its lib.rs",
        run: lints_and_forbid_unsafe,
    },
    Check {
        name: "source files at most 800 lines",
        fix: "split each file into submodules by responsibility; unit tests can move to a \
              sibling `tests.rs` (or a `tests/` directory), which is exempt",
        run: file_size,
    },
    Check {
        name: "no wire arithmetic in cql-session",
        fix: "cql-session parses and writes no bytes (DESIGN.md section 1, \"must not: \
              bytes-level parsing\"): move the encoding or decoding into cql-proto, behind a \
              typed API, and call that; test-only code (#[cfg(test)], tests.rs) is exempt",
        run: session_wire_arithmetic,
    },
    Check {
        name: "no module import cycles in library crates",
        fix: cycles::FIX,
        run: cycles::module_cycles,
    },
];

/// The text a failing check prints: its name, every problem, then how to fix them.
fn report(check: &Check, problems: &[String]) -> String {
    format!(
        "tidy: {}: {} problem(s):\n  {}\nfix: {}",
        check.name,
        problems.len(),
        problems.join("\n  "),
        check.fix
    )
}

/// DESIGN.md section 1: each rule of [`DEP_RULES`], and no package depends on xtask.
fn dependency_direction(ws: &Workspace) -> Vec<String> {
    let name_of: HashMap<&str, &str> = ws
        .packages()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    // id -> [(dependency id, is a dev-only edge)]
    let mut edges: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
    for node in ws.meta["resolve"]["nodes"].as_array().into_iter().flatten() {
        let Some(id) = node["id"].as_str() else {
            continue;
        };
        let deps = node["deps"].as_array().into_iter().flatten();
        let list = deps
            .filter_map(|d| {
                let kinds = d["dep_kinds"].as_array()?;
                let dev_only = kinds.iter().all(|k| k["kind"].as_str() == Some("dev"));
                Some((d["pkg"].as_str()?, dev_only))
            })
            .collect();
        edges.insert(id, list);
    }
    let mut problems = Vec::new();
    if ws.meta["resolve"]["nodes"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        problems.push("cargo metadata returned no resolve graph".to_owned());
    }
    for rule in DEP_RULES {
        let Some((&root, _)) = name_of.iter().find(|(_, n)| **n == rule.krate) else {
            problems.push(format!(
                "package {} not found in cargo metadata",
                rule.krate
            ));
            continue;
        };
        // Breadth-first from the crate: its own dev edges count, its dependencies' do not.
        let mut parent: HashMap<&str, &str> = HashMap::new();
        let mut queue = VecDeque::from([root]);
        let mut seen = HashSet::from([root]);
        while let Some(at) = queue.pop_front() {
            for &(dep, dev_only) in edges.get(at).map(Vec::as_slice).unwrap_or_default() {
                if (dev_only && at != root) || !seen.insert(dep) {
                    continue;
                }
                parent.insert(dep, at);
                queue.push_back(dep);
                if rule
                    .forbidden
                    .contains(&name_of.get(dep).copied().unwrap_or_default())
                {
                    let mut chain = vec![name_of[dep]];
                    let mut cur = dep;
                    while let Some(&up) = parent.get(cur) {
                        chain.push(name_of[up]);
                        cur = up;
                    }
                    chain.reverse();
                    problems.push(format!(
                        "{} must not depend on {}, but does: {} ({})",
                        rule.krate,
                        name_of[dep],
                        chain.join(" -> "),
                        rule.why,
                    ));
                }
            }
        }
    }
    for p in ws.packages() {
        for d in p["dependencies"].as_array().into_iter().flatten() {
            if d["name"].as_str() == Some("xtask") {
                problems.push(format!(
                    "{} depends on xtask, which is project automation and must not be a \
                     dependency of anything (DESIGN.md section 1): move the shared code into a \
                     library crate",
                    p["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    problems
}

/// Every library crate under crates/ inherits the workspace lints (`[lints] workspace = true`)
/// and its lib.rs says `#![forbid(unsafe_code)]`.
fn lints_and_forbid_unsafe(ws: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    let mut libs = 0;
    for (p, lib) in ws.libraries() {
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        libs += 1;
        let rel = ws.rel(&manifest).display().to_string();
        match fs::read_to_string(&manifest).map(|t| t.parse::<toml::Table>()) {
            Ok(Ok(table)) => {
                let inherits = table
                    .get("lints")
                    .and_then(|l| l.get("workspace"))
                    .and_then(toml::Value::as_bool)
                    == Some(true);
                if !inherits {
                    problems.push(format!("{rel}: no `[lints] workspace = true`"));
                }
            }
            Ok(Err(e)) => problems.push(format!("{rel}: not valid TOML: {e}")),
            Err(e) => problems.push(format!("{rel}: cannot read: {e}")),
        }
        let src = PathBuf::from(lib["src_path"].as_str().unwrap_or_default());
        let has_forbid = fs::read_to_string(&src).is_ok_and(|s| {
            strip_comments_and_literals(&s)
                .lines()
                .any(|l| l.split_whitespace().collect::<String>() == "#![forbid(unsafe_code)]")
        });
        if !has_forbid {
            problems.push(format!(
                "{}: no `#![forbid(unsafe_code)]`",
                ws.rel(&src).display()
            ));
        }
    }
    if libs == 0 {
        problems.push("no library crate found under crates/".to_owned());
    }
    problems
}

/// No source file under crates/*/src or xtask/src is longer than [`MAX_LINES`], except pure
/// test modules: a file named `tests.rs` or one under a `tests/` directory.
fn file_size(ws: &Workspace) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(ws.root.join("crates"))
        .into_iter()
        .flatten()
        .filter_map(|e| Some(e.ok()?.path().join("src")))
        .collect();
    dirs.push(ws.root.join("xtask").join("src"));
    let mut files = Vec::new();
    for dir in &dirs {
        rust_files(dir, &mut files);
    }
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let rel = ws.rel(file);
        if is_test_module(rel) {
            continue;
        }
        let lines = fs::read_to_string(file).map_or(0, |s| s.lines().count());
        if lines > MAX_LINES {
            problems.push(format!("{}: {lines} lines", rel.display()));
        }
    }
    if files.is_empty() {
        problems.push("no source files found under crates/*/src".to_owned());
    }
    problems
}

/// `crates/cql-session/src` contains none of [`WIRE_ARITHMETIC`] outside test code
/// (`#[cfg(test)]` items, `tests.rs` files and `tests/` directories). Comments and string
/// literals are ignored.
fn session_wire_arithmetic(ws: &Workspace) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&ws.root.join("crates/cql-session/src"), &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let rel = ws.rel(file);
        if is_test_module(rel) {
            continue;
        }
        let Ok(src) = fs::read_to_string(file) else {
            continue;
        };
        for (line, word) in wire_arithmetic(&src) {
            problems.push(format!("{}:{line}: `{word}`", rel.display()));
        }
    }
    if files.is_empty() {
        problems.push("no source files found under crates/cql-session/src".to_owned());
    }
    problems
}

fn is_test_module(rel: &Path) -> bool {
    rel.file_name().is_some_and(|n| n == "tests.rs")
        || rel
            .parent()
            .is_some_and(|p| p.components().any(|c| c.as_os_str() == "tests"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// (1-based line, word) of every [`WIRE_ARITHMETIC`] word outside `#[cfg(test)]` items.
fn wire_arithmetic(src: &str) -> Vec<(usize, &'static str)> {
    let code = strip_comments_and_literals(src);
    let test_ranges = cfg_test_ranges(&code);
    let mut found = Vec::new();
    let mut offset = 0;
    for (n, line) in code.split('\n').enumerate() {
        for word in WIRE_ARITHMETIC {
            for (at, _) in line.match_indices(word) {
                let before = line[..at].chars().next_back();
                let after = line[at + word.len()..].chars().next();
                let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                let pos = offset + at;
                if !ident(before) && !ident(after) && !test_ranges.iter().any(|r| r.contains(&pos))
                {
                    found.push((n + 1, *word));
                }
            }
        }
        offset += line.len() + 1;
    }
    found
}

/// Byte ranges of the items that follow a `#[cfg(test)]` attribute, in code already passed
/// through [`strip_comments_and_literals`]: up to the item's `;` or its matching `}`.
fn cfg_test_ranges(code: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = code.as_bytes();
    let mut ranges = Vec::new();
    for (start, _) in code.match_indices("#[cfg(test)]") {
        // `;` ends the item only outside brackets: `fn f() -> [u8; 4] { .. }` goes on to `}`.
        let (mut braces, mut brackets) = (0usize, 0usize);
        let mut end = bytes.len();
        for (i, &b) in bytes.iter().enumerate().skip(start + "#[cfg(test)]".len()) {
            match b {
                b'(' | b'[' => brackets += 1,
                b')' | b']' => brackets = brackets.saturating_sub(1),
                b'{' => braces += 1,
                b'}' => {
                    braces = braces.saturating_sub(1);
                    if braces == 0 {
                        end = i + 1;
                        break;
                    }
                }
                b';' if braces == 0 && brackets == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        ranges.push(start..end);
    }
    ranges
}

/// `src` with comments and the contents of string and char literals replaced by spaces, so
/// that words and braces in them are not taken for code. Lengths and newlines are kept, so
/// byte offsets and line numbers still match `src`.
fn strip_comments_and_literals(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, ch: char| {
        if ch == '\n' {
            out.push('\n');
        } else {
            out.extend(std::iter::repeat_n(' ', ch.len_utf8()));
        }
    };
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        let ident = |k: usize| c[k].is_alphanumeric() || c[k] == '_';
        // Before a raw string's `r`: nothing of an identifier, or a byte string's lone `b`.
        let prev_ident = i > 0 && ident(i - 1) && !(c[i - 1] == 'b' && (i < 2 || !ident(i - 2)));
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    blank(&mut out, c[i]);
                    i += 1;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    blank(&mut out, c[i]);
                    i += 1;
                    if depth == 0 {
                        blank(&mut out, c[i]);
                        i += 1;
                        break;
                    }
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == 'r' && !prev_ident && matches!(next, Some('"' | '#')) {
            // Raw string r"..." or r#"..."#; `r#ident` (a raw identifier) is left alone.
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            out.push('r');
            out.extend(std::iter::repeat_n('#', hashes));
            out.push('"');
            i = j + 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|h| c.get(i + h) == Some(&'#')) {
                    out.push('"');
                    out.extend(std::iter::repeat_n('#', hashes));
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' && i + 1 < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
            if i < c.len() {
                out.push('"');
                i += 1;
            }
        } else if c[i] == '\'' && (next == Some('\\') || c.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\u{..}'); a lone quote is a lifetime.
            out.push('\'');
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' && i + 1 < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
            if i < c.len() {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn workspace() -> &'static Workspace {
        static WS: OnceLock<Workspace> = OnceLock::new();
        WS.get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            Workspace::load(&root).expect("cargo metadata")
        })
    }

    fn assert_clean(index: usize) {
        let check = &CHECKS[index];
        let problems = (check.run)(workspace());
        assert!(problems.is_empty(), "{}", report(check, &problems));
    }

    #[test]
    fn tidy_dependency_direction() {
        assert_clean(0);
    }

    #[test]
    fn tidy_library_crates_inherit_lints_and_forbid_unsafe() {
        assert_clean(1);
    }

    #[test]
    fn tidy_source_file_size() {
        assert_clean(2);
    }

    #[test]
    fn tidy_no_wire_arithmetic_in_cql_session() {
        assert_clean(3);
    }

    #[test]
    fn tidy_no_module_cycles() {
        assert_clean(4);
    }

    /// A made-up graph: cql-proto -> helper -> tokio, and cql-sim -dev-> cql-session.
    #[test]
    fn dependency_direction_finds_transitive_and_dev_edges() {
        let dep = |pkg: &str, kind: Option<&str>| serde_json::json!({ "pkg": pkg, "dep_kinds": [{ "kind": kind }] });
        let names = [
            "cql-proto",
            "helper",
            "tokio",
            "cql-transport",
            "cql-sim",
            "cql-session",
        ];
        let packages: Vec<Value> = names
            .iter()
            .map(|n| serde_json::json!({ "id": n, "name": n, "dependencies": [] }))
            .collect();
        let meta = serde_json::json!({
            "packages": packages,
            "resolve": { "nodes": [
                { "id": "cql-proto", "deps": [dep("helper", None)] },
                { "id": "helper", "deps": [dep("tokio", None)] },
                { "id": "cql-sim", "deps": [dep("cql-session", Some("dev"))] },
                { "id": "cql-session", "deps": [dep("cql-transport", None)] },
                { "id": "cql-transport", "deps": [dep("cql-sim", Some("dev"))] },
            ] },
        });
        let ws = Workspace {
            root: PathBuf::from("/"),
            meta,
        };
        let problems = dependency_direction(&ws);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("cql-proto -> helper -> tokio"));
        assert!(problems[1].contains("cql-sim -> cql-session"));
        assert!(problems[2].contains("cql-sim -> cql-session -> cql-transport"));
    }

    #[test]
    fn wire_arithmetic_skips_comments_strings_and_cfg_test() {
        let src = r#"
fn a(b: &mut BytesMut) { b.put_i32(1); } // put_u16 in a comment
const S: &str = "to_be_bytes";
const C: char = '{';
fn d() -> i32 { i32::from_be_bytes([0; 4]) }
fn e() { let x = my_put_i32_thing; }
#[cfg(test)]
mod tests {
    fn f() { let _ = 1u32.to_be_bytes(); { } }
}
#[cfg(test)]
use bytes::put_u8;
fn g(b: &mut BytesMut) { b.put_slice(&[]); }
#[cfg(test)]
fn h() -> [u8; 4] { 1u32.to_be_bytes() }
fn i() -> [u8; 4] { 1u32.to_be_bytes() }
"#;
        assert_eq!(
            wire_arithmetic(src),
            vec![
                (2, "put_i32"),
                (5, "from_be_bytes"),
                (13, "put_slice"),
                (16, "to_be_bytes")
            ]
        );
    }

    #[test]
    fn strip_keeps_offsets_and_lifetimes() {
        let src = "fn f<'a>(x: &'a str) -> char { /* é */ let _ = r#\"}\"#; 'é' }\n// x\n";
        let out = strip_comments_and_literals(src);
        assert_eq!(out.len(), src.len());
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(out.contains("<'a>") && out.contains("&'a str"));
        assert_eq!(out.matches('}').count(), 1);
    }

    #[test]
    fn test_modules_are_exempt_from_size() {
        assert!(is_test_module(Path::new("crates/x/src/a/tests.rs")));
        assert!(is_test_module(Path::new("crates/x/src/tests/big.rs")));
        assert!(!is_test_module(Path::new("crates/x/src/session.rs")));
    }
}
