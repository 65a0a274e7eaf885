//! The "no module import cycles" check: within a library crate, the modules that name each
//! other through `crate::`, `super::` and `self::` paths form no cycle.
//!
//! Each non-test source file under the crate's `src/` is one module (`a/b.rs` and `a/b/mod.rs`
//! are `a::b`, `lib.rs` is the crate root). Every such path in a file's code (comments, string
//! literals and `#[cfg(test)]` items left out; `use` groups expanded) names the deepest file
//! module it reaches, and that is an edge, unless the module named is the file's own, one of
//! its ancestors (a child naming its parent is structure, not a dependency) or one of its
//! descendants. Every strongly connected component of more than one module is a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{Workspace, cfg_test_ranges, is_test_module, rust_files, strip_comments_and_literals};

/// Library crates whose module cycles are not broken yet: (crate, why it is exempt). The
/// check still looks at them and fails once one has no cycle left, so that its entry goes.
const CYCLE_EXEMPT: &[(&str, &str)] = &[];

/// How to fix what [`module_cycles`] finds.
pub(super) const FIX: &str = "break each cycle by removing one of its edges: move the item \
    both modules need into a leaf module that depends on neither (or into their common parent, \
    which children may name), or move the code that needs both modules into a child module of \
    one of them; `crate::a::X`, `super::X` and `self::x::X` paths all count, `use` or not. A \
    crate that cannot be fixed yet goes in CYCLE_EXEMPT (xtask/src/tidy/cycles.rs), with why";

/// A module: its path below the crate root, empty for the root.
type Module = Vec<String>;

/// One source file of a crate: its module, its name as reported, its text.
struct SourceFile {
    module: Module,
    name: String,
    text: String,
}

/// Where a module names another: the path (groups expanded), file and 1-based line.
#[derive(Debug)]
struct Example {
    path: String,
    file: String,
    line: usize,
}

/// The modules of one crate and, for each, the modules it names with a first example each.
#[derive(Default)]
struct Graph {
    modules: BTreeSet<Module>,
    edges: BTreeMap<Module, BTreeMap<Module, Example>>,
}

/// Every library crate under crates/ (less [`CYCLE_EXEMPT`]) has no module cycle.
pub(super) fn module_cycles(ws: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    let mut names = Vec::new();
    for (package, lib) in ws.libraries() {
        let name = package["name"].as_str().unwrap_or("?");
        names.push(name);
        let src = PathBuf::from(lib["src_path"].as_str().unwrap_or_default());
        let Some(src_dir) = src.parent() else {
            continue;
        };
        let graph = crate_graph(ws, src_dir);
        if graph.modules.is_empty() {
            problems.push(format!(
                "{name}: no source files under {}",
                ws.rel(src_dir).display()
            ));
        }
        let cycles = graph.cycles();
        let exempt = CYCLE_EXEMPT.iter().any(|(k, _)| *k == name);
        if exempt && cycles.is_empty() {
            problems.push(format!(
                "{name} has no module cycle any more: remove it from CYCLE_EXEMPT"
            ));
        } else if !exempt {
            problems.extend(
                cycles
                    .iter()
                    .map(|c| format!("{name}: {}", graph.describe(c))),
            );
        }
    }
    for (k, _) in CYCLE_EXEMPT {
        if !names.contains(k) {
            problems.push(format!(
                "CYCLE_EXEMPT names {k}, which is not a library crate under crates/"
            ));
        }
    }
    if names.is_empty() {
        problems.push("no library crate found under crates/".to_owned());
    }
    problems
}

/// The module graph of the library whose root file is in `src_dir`.
fn crate_graph(ws: &Workspace, src_dir: &Path) -> Graph {
    let mut paths = Vec::new();
    rust_files(src_dir, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    for path in &paths {
        let rel = ws.rel(path);
        if is_test_module(rel) {
            continue;
        }
        let Some(module) = path.strip_prefix(src_dir).ok().and_then(module_of) else {
            continue;
        };
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let name = rel.display().to_string();
        files.push(SourceFile { module, name, text });
    }
    graph_of(&files)
}

/// The module of a file at `in_src` below `src/`; `None` for the binaries' `main.rs` and `bin/`.
fn module_of(in_src: &Path) -> Option<Module> {
    let mut parts: Vec<String> = in_src
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    match (parts.is_empty(), stem) {
        (true, "main") => return None,
        (true, "lib") | (_, "mod") => {}
        _ => parts.push(stem.to_owned()),
    }
    (parts.first().map(String::as_str) != Some("bin")).then_some(parts)
}

/// The graph of `files`: modules that only a `#[cfg(test)] mod x;` declares are left out.
fn graph_of(files: &[SourceFile]) -> Graph {
    struct Parsed<'a> {
        file: &'a SourceFile,
        code: String,
        tests: Vec<Range<usize>>,
        inline: Vec<(String, Range<usize>)>,
    }
    let mut parsed = Vec::new();
    let mut test_only: Vec<Module> = Vec::new();
    for file in files {
        let code = strip_comments_and_literals(&file.text);
        let tests = cfg_test_ranges(&code);
        let mut inline = Vec::new();
        for (at, name, body) in mod_items(&code) {
            let in_test = tests.iter().any(|r| r.contains(&at));
            match body {
                Some(body) if !in_test => inline.push((name, body)),
                None if in_test => {
                    let mut module = file.module.clone();
                    module.extend(enclosing(&inline, at));
                    module.push(name);
                    test_only.push(module);
                }
                _ => {}
            }
        }
        parsed.push(Parsed {
            file,
            code,
            tests,
            inline,
        });
    }
    let mut graph = Graph::default();
    parsed.retain(|p| !test_only.iter().any(|t| p.file.module.starts_with(t)));
    graph.modules = parsed.iter().map(|p| p.file.module.clone()).collect();
    for p in &parsed {
        let from = &p.file.module;
        for (at, segments) in paths(&p.code) {
            if p.tests.iter().any(|r| r.contains(&at)) || in_visibility(&p.code, at) {
                continue;
            }
            let mut here = from.clone();
            here.extend(enclosing(&p.inline, at));
            let Some(to) = resolve(&segments, &here, &graph.modules) else {
                continue;
            };
            if from.starts_with(&to) || to.starts_with(from) {
                continue; // itself, an ancestor or a descendant
            }
            let line = p.code.as_bytes()[..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            let example = Example {
                path: segments.join("::"),
                file: p.file.name.clone(),
                line,
            };
            graph
                .edges
                .entry(from.clone())
                .or_default()
                .entry(to)
                .or_insert(example);
        }
    }
    graph
}

impl Graph {
    /// The strongly connected components of more than one module, each sorted.
    fn cycles(&self) -> Vec<Vec<&Module>> {
        let nodes: Vec<&Module> = self.modules.iter().collect();
        let index = |m: &Module| nodes.binary_search(&m).ok();
        let adjacency: Vec<Vec<usize>> = nodes
            .iter()
            .map(|m| {
                let out = self.edges.get(*m).into_iter().flat_map(BTreeMap::keys);
                out.filter_map(&index).collect()
            })
            .collect();
        let mut cycles: Vec<Vec<&Module>> = strongly_connected(&adjacency)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut c: Vec<&Module> = c.into_iter().map(|i| nodes[i]).collect();
                c.sort();
                c
            })
            .collect();
        cycles.sort();
        cycles
    }

    /// A cycle's modules and every edge between them, each with an example.
    fn describe(&self, cycle: &[&Module]) -> String {
        let mut text = format!(
            "{} modules import each other in a cycle: {}",
            cycle.len(),
            cycle
                .iter()
                .map(|m| display(m))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for from in cycle {
            for (to, e) in self.edges.get(*from).into_iter().flatten() {
                if cycle.contains(&to) {
                    text.push_str(&format!(
                        "\n      {} -> {}: `{}` at {}:{}",
                        display(from),
                        display(to),
                        e.path,
                        e.file,
                        e.line
                    ));
                }
            }
        }
        text
    }
}

fn display(module: &Module) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

/// Tarjan's algorithm, iterative: the strongly connected components of the graph whose node
/// `i` has edges to `adjacency[i]`, each a list of nodes.
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = adjacency.len();
    let (mut index, mut low, mut on_stack) = (vec![UNSEEN; n], vec![0; n], vec![false; n]);
    let (mut stack, mut components, mut next) = (Vec::new(), Vec::new(), 0);
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, how many of its edges have been followed)
        let mut calls = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&(v, followed)) = calls.last() {
            if let Some(&w) = adjacency[v].get(followed) {
                let top = calls.len() - 1;
                calls[top].1 += 1;
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The module a path names, from module `here`: the deepest module of `modules` it reaches.
/// `None` if it does not start with `crate`, `super` or `self`, or climbs above the root.
fn resolve(segments: &[String], here: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let (first, rest) = segments.split_first()?;
    let mut target: Module = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => {
            let mut t = here.to_vec();
            t.pop()?;
            t
        }
        _ => return None,
    };
    let mut leading = true;
    for segment in rest {
        if leading && segment == "super" {
            target.pop()?;
        } else {
            leading = false;
            target.push(segment.clone());
        }
    }
    (0..=target.len())
        .rev()
        .map(|n| &target[..n])
        .find(|m| modules.contains(*m))
        .map(<[String]>::to_vec)
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn ident_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ident_byte(b[i]) {
        i += 1;
    }
    i
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Every word (identifier, keyword or number) of `code`, with its byte offset.
fn words(code: &str) -> impl Iterator<Item = (usize, &str)> {
    let b = code.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !is_ident_byte(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return None;
        }
        let start = i;
        i = ident_end(b, i);
        Some((start, &code[start..i]))
    })
}

/// Every `crate::`, `super::` and `self::` path in `code` (already passed through
/// [`strip_comments_and_literals`]), as (byte offset, segments), `use` groups expanded:
/// `use crate::{a::X, b::{self, c::*}}` gives `crate::a::X` (at `a`), `crate::b` (at `self`)
/// and `crate::b::c` (at `c`).
fn paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut resume = 0;
    for (at, word) in words(code) {
        if at < resume || !matches!(word, "crate" | "super" | "self") {
            continue;
        }
        let after = skip_ws(b, at + word.len());
        if b[after..].starts_with(b"::") {
            resume = parse_tree(code, at, &[], &mut out);
        }
    }
    out
}

/// Parses the path or use tree at `start`, below `prefix`, into `out`; returns where it ends.
fn parse_tree(
    code: &str,
    start: usize,
    prefix: &[String],
    out: &mut Vec<(usize, Vec<String>)>,
) -> usize {
    let b = code.as_bytes();
    let mut segments = prefix.to_vec();
    let mut i = start;
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'{') => return parse_group(code, i + 1, &segments, out),
            Some(b'*') => {
                out.push((start, segments));
                return i + 1;
            }
            _ => {}
        }
        let end = ident_end(b, i);
        if end == i {
            // `crate::f::<T>`, or no tree at all
            if segments.len() > prefix.len() {
                out.push((start, segments));
            }
            return i;
        }
        let word = &code[i..end];
        if word != "self" || segments.is_empty() {
            segments.push(word.to_owned()); // a `self` in a group is the group's prefix
        }
        i = skip_ws(b, end);
        if !b[i..].starts_with(b"::") {
            out.push((start, segments));
            if b[i..].starts_with(b"as") && ident_end(b, i) == i + 2 {
                return ident_end(b, skip_ws(b, i + 2)); // `X as Y`
            }
            return i;
        }
        i += 2;
    }
}

/// Parses the trees of a `{ .. }` group whose `{` is just before `i`; returns where it ends.
fn parse_group(
    code: &str,
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(usize, Vec<String>)>,
) -> usize {
    let b = code.as_bytes();
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            None | Some(b';') => return i,
            Some(b'}') => return i + 1,
            Some(b',') => i += 1,
            Some(_) => {
                let end = parse_tree(code, i, prefix, out);
                i = if end > i { end } else { i + 1 };
            }
        }
    }
}

/// Whether the path at `at` is the scope of a `pub(in ..)` visibility, which names no item.
fn in_visibility(code: &str, at: usize) -> bool {
    let Some(rest) = code[..at].trim_end().strip_suffix("in") else {
        return false;
    };
    !rest.ends_with(|c: char| c.is_alphanumeric() || c == '_')
        && rest
            .trim_end()
            .strip_suffix('(')
            .is_some_and(|r| r.trim_end().ends_with("pub"))
}

/// Every `mod name;` and `mod name { .. }` of `code`: (offset of `mod`, name, the byte range of
/// an inline module's body).
fn mod_items(code: &str) -> Vec<(usize, String, Option<Range<usize>>)> {
    let b = code.as_bytes();
    let mut items = Vec::new();
    for (at, word) in words(code) {
        if word != "mod" {
            continue;
        }
        let start = skip_ws(b, at + 3);
        let end = ident_end(b, start);
        let after = skip_ws(b, end);
        if end == start {
            continue;
        }
        let name = code[start..end].to_owned();
        match b.get(after) {
            Some(b';') => items.push((at, name, None)),
            Some(b'{') => {
                let mut depth = 0usize;
                let mut close = b.len();
                for (i, &c) in b.iter().enumerate().skip(after) {
                    match c {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                close = i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                items.push((at, name, Some(after..close)));
            }
            _ => {}
        }
    }
    items
}

/// The names of the inline modules of `inline` around offset `at`, outermost first.
fn enclosing(inline: &[(String, Range<usize>)], at: usize) -> Vec<String> {
    inline
        .iter()
        .filter(|(_, body)| body.contains(&at))
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> Module {
        path.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn found(code: &str) -> Vec<String> {
        let code = strip_comments_and_literals(code);
        paths(&code)
            .into_iter()
            .map(|(_, s)| s.join("::"))
            .collect()
    }

    /// A graph of in-memory files, given as (module, source).
    fn graph(files: &[(&str, &str)]) -> Graph {
        let files: Vec<SourceFile> = files
            .iter()
            .map(|(m, text)| SourceFile {
                module: module(m),
                name: format!("{}.rs", if m.is_empty() { "lib" } else { m }),
                text: (*text).to_owned(),
            })
            .collect();
        graph_of(&files)
    }

    fn edges(g: &Graph) -> Vec<String> {
        let mut out = Vec::new();
        for (from, tos) in &g.edges {
            for to in tos.keys() {
                out.push(format!("{} -> {}", display(from), display(to)));
            }
        }
        out
    }

    #[test]
    fn use_groups_are_expanded() {
        assert_eq!(
            found("use crate::{errors::E, statement::S};"),
            ["crate::errors::E", "crate::statement::S"]
        );
        assert_eq!(
            found(
                "use crate::{\n    a::{self, b::X},\n    c::*,\n    d::{e::{F, G as H}},\n};\n\
                 pub use super::{x::Y};"
            ),
            [
                "crate::a",
                "crate::a::b::X",
                "crate::c",
                "crate::d::e::F",
                "crate::d::e::G",
                "super::x::Y"
            ]
        );
        assert_eq!(
            found("let v = crate::a::f::<u8>(self::b::C, super::super::d::E { x });"),
            ["crate::a::f", "self::b::C", "super::super::d::E"]
        );
    }

    #[test]
    fn comments_strings_and_other_selves_are_not_paths() {
        let code = "/// See [`crate::a::X`] and [super::b].\n// use crate::c;\n/* self::d */\n\
                    const S: &str = \"crate::e::F\";\nfn f(&self) -> Self { self.g; Self::new() }\n\
                    pub(crate) fn h() {}\nmacro_rules! m { () => { $crate::i::J } }";
        assert_eq!(found(code), ["crate::i::J"]);
    }

    #[test]
    fn super_and_self_resolve_from_the_file_module() {
        let modules: BTreeSet<Module> = ["", "a", "a::b", "a::b::e", "a::c", "d"]
            .iter()
            .map(|m| module(m))
            .collect();
        let r =
            |p: &str, here: &str| resolve(&module(p), &module(here), &modules).map(|m| display(&m));
        assert_eq!(r("super::c::X", "a::b").as_deref(), Some("a::c"));
        assert_eq!(r("super::super::d::Y", "a::b").as_deref(), Some("d"));
        assert_eq!(r("self::e::Z", "a::b").as_deref(), Some("a::b::e"));
        assert_eq!(r("crate::a::b::nope::W", "d").as_deref(), Some("a::b"));
        assert_eq!(r("crate::X", "d").as_deref(), Some("crate"));
        assert_eq!(r("super::X", "").as_deref(), None);
        assert_eq!(r("std::X", "a").as_deref(), None);
    }

    #[test]
    fn edges_skip_self_ancestors_descendants_tests_and_visibility() {
        let g = graph(&[
            ("", "pub mod a; pub mod b; use crate::a::X;"),
            (
                "a",
                "mod inner; use self::inner::Y; use super::b::Z; use crate::Root;",
            ),
            (
                "a::inner",
                "use super::X; use crate::a::W; pub(in crate::b) fn f() {}",
            ),
            (
                "b",
                "#[cfg(test)]\nuse crate::a::T;\n#[cfg(test)]\nmod tests { use crate::a::U; }\n\
                 #[cfg(test)]\nmod helpers;\nmod private { use super::super::a::inner::V; }\n\
                 fn g() { for x in crate::a::inner::iter() {} }",
            ),
            ("b::helpers", "use crate::a::Q;"),
        ]);
        assert_eq!(
            g.modules.iter().map(display).collect::<Vec<_>>(),
            ["crate", "a", "a::inner", "b"]
        );
        assert_eq!(edges(&g), ["a -> b", "b -> a::inner"]);
        let e = &g.edges[&module("b")][&module("a::inner")];
        assert_eq!((e.path.as_str(), e.line), ("super::super::a::inner::V", 7));
    }

    #[test]
    fn tarjan_finds_the_cycle_and_not_the_acyclic_part() {
        // 0 -> 1 -> 2 -> 0 is a cycle; 2 -> 3 -> 4 and 5 -> 4 are not.
        let adjacency = vec![vec![1], vec![2], vec![0, 3], vec![4], vec![], vec![4]];
        let mut components: Vec<Vec<usize>> = strongly_connected(&adjacency)
            .into_iter()
            .map(|mut c| {
                c.sort_unstable();
                c
            })
            .collect();
        components.sort();
        assert_eq!(components, [vec![0, 1, 2], vec![3], vec![4], vec![5]]);
    }

    #[test]
    fn cycles_are_reported_with_their_edges() {
        let g = graph(&[
            ("", "mod a; mod b; mod c; mod d;"),
            ("a", "use crate::b::B;"),
            ("b", "\nuse crate::{\n    c::C,\n    d::D,\n};"),
            ("c", "fn f() -> super::a::A { loop {} }"),
            ("d", "use crate::a::A;"),
        ]);
        let cycles = g.cycles();
        assert_eq!(cycles.len(), 1);
        let text = g.describe(&cycles[0]);
        assert!(
            text.starts_with("4 modules import each other in a cycle: a, b, c, d"),
            "{text}"
        );
        for edge in [
            "a -> b: `crate::b::B` at a.rs:1",
            "b -> c: `crate::c::C` at b.rs:3",
            "b -> d: `crate::d::D` at b.rs:4",
            "c -> a: `super::a::A` at c.rs:1",
            "d -> a: `crate::a::A` at d.rs:1",
        ] {
            assert!(text.contains(edge), "{edge} not in {text}");
        }
        let acyclic = graph(&[
            ("a", "use crate::b::B;"),
            ("b", "use crate::c::C;"),
            ("c", ""),
        ]);
        assert!(acyclic.cycles().is_empty());
    }

    #[test]
    fn files_map_to_modules() {
        let m = |p: &str| module_of(Path::new(p)).map(|m| display(&m));
        assert_eq!(m("lib.rs").as_deref(), Some("crate"));
        assert_eq!(m("a/b.rs").as_deref(), Some("a::b"));
        assert_eq!(m("a/b/mod.rs").as_deref(), Some("a::b"));
        assert_eq!(m("main.rs"), None);
        assert_eq!(m("bin/tool.rs"), None);
    }
}
