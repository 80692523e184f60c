//! The source keeps its layers one way: each top-level module uses only the ones below it
//! (proto ← server; proto ← media ← client ← settings ← ctl ← tui ← cli; `sys` under any
//! that needs the operating system, `clock` under any that reads the time), and no two
//! files of a module import each other, directly or round a longer circle. Read from the
//! source itself, so a new `use` that breaks the rule fails `make test`.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::items_after_statements)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may use besides itself.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("proto", &[][..]),
        ("sys", &[][..]),
        ("clock", &[][..]),
        ("server", &["proto", "sys", "clock"][..]),
        ("media", &["proto", "sys"][..]),
        ("client", &["proto", "media", "clock"][..]),
        ("settings", &["proto", "client", "clock"][..]),
        ("ctl", &["proto", "media", "client", "settings"][..]),
        (
            "tui",
            &[
                "proto", "media", "client", "settings", "ctl", "sys", "clock",
            ][..],
        ),
        (
            "cli",
            &[
                "proto", "server", "media", "client", "settings", "ctl", "tui", "sys", "clock",
            ][..],
        ),
    ])
}

type ModPath = Vec<String>;

/// Every source file with its module path (`src/server/ws.rs` is `server::ws`).
fn modules(src: &Path) -> BTreeMap<ModPath, PathBuf> {
    fn walk(dir: &Path, prefix: &ModPath, out: &mut BTreeMap<ModPath, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut p = prefix.clone();
                p.push(name);
                walk(&path, &p, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if name == "main" {
                    continue;
                }
                let mut p = prefix.clone();
                if name != "mod" && name != "lib" {
                    p.push(name);
                }
                out.insert(p, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &Vec::new(), &mut out);
    out
}

/// The code of a file without comments and without its `#[cfg(test)]` part (tests may
/// reach across layers to set things up).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let body = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    body.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a file names, as paths of the ones that exist.
fn references(me: &ModPath, code: &str, all: &BTreeMap<ModPath, PathBuf>) -> BTreeSet<ModPath> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    let ident = |i: usize| {
        let end = (i..bytes.len())
            .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
            .unwrap_or(bytes.len());
        (code[i..end].to_owned(), end)
    };
    let mut resolve = |mut base: ModPath, mut at: usize| {
        // Follow `a::b::c` as long as it names modules; keep the deepest that exists.
        let mut best: Option<ModPath> = None;
        loop {
            let (name, end) = ident(at);
            if name.is_empty() {
                break;
            }
            base.push(name);
            if all.contains_key(&base) {
                best = Some(base.clone());
            } else {
                break;
            }
            if code[end..].starts_with("::") {
                at = end + 2;
            } else {
                break;
            }
        }
        if let Some(b) = best {
            out.insert(b);
        }
    };
    let mut i = 0;
    while let Some(pos) = code[i..].find("crate::") {
        let at = i + pos + "crate::".len();
        resolve(Vec::new(), at);
        i = at;
    }
    let mut i = 0;
    while let Some(pos) = code[i..].find("super::") {
        let start = i + pos;
        // Count `super::super::...`.
        let mut at = start;
        let mut ups = 0;
        while code[at..].starts_with("super::") {
            ups += 1;
            at += "super::".len();
        }
        // The module of `a/mod.rs` is `a`, of `a/b.rs` it is `a::b`: either way each
        // `super` goes one up from the file's own module.
        let mut base = me.clone();
        for _ in 0..ups {
            base.pop();
        }
        resolve(base, at);
        i = at;
    }
    out.remove(me);
    out
}

#[test]
fn layers_are_one_way_and_files_import_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let all = modules(&src);
    let allowed = allowed();
    let mut wrong = Vec::new();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (me, path) in &all {
        let Some(top) = me.first() else {
            continue; // lib.rs declares the modules
        };
        for r in references(me, &code(path), &all) {
            let other = &r[0];
            if other != top {
                let ok = allowed
                    .get(top.as_str())
                    .is_some_and(|list| list.contains(&other.as_str()));
                if !ok {
                    wrong.push(format!("{} uses {}", me.join("::"), r.join("::")));
                }
                continue;
            }
            // Within a module: a file naming one of its own ancestors (its mod.rs) is how
            // Rust modules work; only other edges can make a circle.
            if me.starts_with(&r) {
                continue;
            }
            edges.entry(me.clone()).or_default().insert(r);
        }
    }
    assert!(
        wrong.is_empty(),
        "uses against the layers:\n{}",
        wrong.join("\n")
    );

    // A circle among files: depth-first search for a back edge.
    fn visit(
        n: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        stack: &mut Vec<ModPath>,
        done: &mut BTreeSet<ModPath>,
        found: &mut Vec<String>,
    ) {
        if done.contains(n) {
            return;
        }
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut circle: Vec<String> = stack[i..].iter().map(|m| m.join("::")).collect();
            circle.push(n.join("::"));
            found.push(circle.join(" → "));
            return;
        }
        stack.push(n.clone());
        for next in edges.get(n).into_iter().flatten() {
            // A child module naming its parent's siblings through the parent is fine;
            // an edge into a module's own descendants counts (parent using child).
            visit(next, edges, stack, done, found);
        }
        stack.pop();
        done.insert(n.clone());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        visit(n, &edges, &mut Vec::new(), &mut done, &mut found);
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_what_it_must() {
    // A file of `tui` naming `cli` is against the layers; one naming `client` is not.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let all = modules(&src);
    let me: ModPath = vec!["tui".into(), "run".into()];
    let refs = references(
        &me,
        "use crate::cli::config;\nuse crate::client::Rest;\nuse super::app::App;",
        &all,
    );
    let names: BTreeSet<String> = refs.iter().map(|r| r.join("::")).collect();
    assert!(names.contains("cli::config"), "{names:?}");
    assert!(names.contains("client"), "{names:?}");
    assert!(names.contains("tui::app"), "{names:?}");
}
