//! The import graph of one crate's source files, read from its `use` lines and `crate::…` /
//! `super::…` / `self::…` paths, and the import cycles in it (strongly connected components of
//! more than one file). `cargo xtask tidy` refuses a cycle in the crates it checks.
//!
//! A file is a node (`a/mod.rs` and `a.rs` are the module `a`); an edge `a → b` means a names
//! something that lives in b (the longest module path a file exists for). `#[cfg(test)]`
//! modules, comments and string literals are left out, and `pub mod x;` declarations are not
//! imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The cycles of the crate whose `src` directory is `src`: each a sorted list of module paths
/// (`lib` for the crate root).
pub fn cycles(src: &Path) -> Result<Vec<Vec<String>>, String> {
    let files = module_files(src)?;
    let modules: BTreeSet<Vec<String>> = files.keys().cloned().collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let code = strip_tests(&strip_comments_and_strings(&text));
        let targets = edges.entry(module.clone()).or_default();
        for full in referenced_paths(&code) {
            let Some(absolute) = absolute(module, &full) else {
                continue;
            };
            if let Some(target) = longest_module(&modules, &absolute)
                && target != *module
                && !target.is_empty()
            {
                targets.insert(target);
            }
        }
    }
    Ok(strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut names: Vec<String> = c
                .iter()
                .map(|m| {
                    if m.is_empty() {
                        "lib".to_owned()
                    } else {
                        m.join("/")
                    }
                })
                .collect();
            names.sort();
            names
        })
        .collect())
}

/// Every `.rs` file under `src`, by module path.
fn module_files(src: &Path) -> Result<BTreeMap<Vec<String>, PathBuf>, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src).map_err(|e| e.to_string())?;
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if let Some(last) = parts.last_mut() {
                *last = last.trim_end_matches(".rs").to_owned();
            }
            if parts
                .last()
                .is_some_and(|l| matches!(l.as_str(), "mod" | "lib" | "main"))
            {
                parts.pop();
            }
            // A sibling test file (`foo/tests.rs`) is test code, as an inline test module is.
            if parts.last().is_some_and(|l| l == "tests") {
                continue;
            }
            out.insert(parts, path);
        }
    }
    Ok(out)
}

/// Blanks out comments and the insides of string and char literals (keeping line structure),
/// so that a path in a doc comment or a message is not read as an import.
fn strip_comments_and_strings(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            continue;
        }
        if c == 'r' && matches!(next, Some('"' | '#')) && !is_ident(b.get(i.wrapping_sub(1))) {
            // Raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) == Some(&'"') {
                j += 1;
                'raw: while j < b.len() {
                    if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                        j += 1 + hashes;
                        break 'raw;
                    }
                    if b[j] == '\n' {
                        out.push('\n');
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
                continue;
            }
        }
        if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                } else if b[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            let close = if next == Some('\\') {
                (i + 2..b.len().min(i + 12)).find(|&k| b[k] == '\'')
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            if let Some(k) = close {
                out.push_str("' '");
                i = k + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn is_ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// Drops `#[cfg(test)]` items (a test module's `use super::*` is not an import of the crate).
fn strip_tests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // Skip to the item's body and past its matching brace (or its `;`).
        let open = after.find('{');
        let semi = after.find(';');
        match (open, semi) {
            (Some(o), Some(s)) if s < o => {
                rest = &after[s + 1..];
            }
            (Some(o), _) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (k, ch) in after[o..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = o + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            _ => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every path a file names: the expanded trees of its `use` items and the `crate::…`,
/// `super::…` and `self::…` paths in its code.
fn referenced_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // `use` items, with nested groups.
    let mut rest = code;
    while let Some(at) = find_keyword(rest, "use") {
        let after = &rest[at + 3..];
        let Some(end) = after.find(';') else { break };
        let tree: String = after[..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        expand_use_tree(&tree, &mut Vec::new(), &mut out);
        rest = &after[end..];
    }
    // Inline paths.
    for head in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(head) {
            let start = from + found;
            from = start + head.len();
            if start > 0 && is_ident(code[..start].chars().last().as_ref()) {
                continue;
            }
            let path: String = code[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segs: Vec<String> = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            out.push(segs);
        }
    }
    out
}

fn find_keyword(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().last();
        let after = text[at + word.len()..].chars().next();
        if !is_ident(before.as_ref()) && after.is_some_and(char::is_whitespace) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e` (`self` in a group is its
/// prefix; `as` renames are dropped).
fn expand_use_tree(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let head = &tree[..open];
        let inner = tree[open + 1..]
            .strip_suffix('}')
            .unwrap_or(&tree[open + 1..]);
        let pushed: Vec<String> = head
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let n = pushed.len();
        prefix.extend(pushed);
        for part in split_top_level(inner) {
            if part == "self" {
                out.push(prefix.clone());
            } else if !part.is_empty() {
                expand_use_tree(&part, prefix, out);
            }
        }
        prefix.truncate(prefix.len() - n);
    } else {
        let path = tree.split("as").next().unwrap_or(tree);
        let mut full = prefix.clone();
        full.extend(
            path.split("::")
                .filter(|s| !s.is_empty() && *s != "*")
                .map(str::to_owned),
        );
        if full.last().is_some_and(|s| s == "self") {
            full.pop();
        }
        out.push(full);
    }
}

fn split_top_level(inner: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// The absolute module path a path names from inside `module` (`super` is the parent module,
/// for `a/mod.rs` and `a/b.rs` alike).
fn absolute(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let (head, rest) = path.split_first()?;
    let mut base: Vec<String> = match head.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => {
            let mut m = module.to_vec();
            m.pop();
            m
        }
        _ => return None,
    };
    let mut rest = rest;
    while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
        base.pop();
        rest = tail;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

fn longest_module(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (0..=path.len())
        .rev()
        .map(|k| path[..k].to_vec())
        .find(|p| modules.contains(p))
}

/// Tarjan's algorithm, iteratively (a crate's graph is small, but recursion is not needed).
fn strongly_connected(
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<Vec<Vec<String>>> {
    let nodes: Vec<&Vec<String>> = edges.keys().collect();
    let index_of: BTreeMap<&Vec<String>, usize> =
        nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            edges[*n]
                .iter()
                .filter_map(|t| index_of.get(t).copied())
                .collect()
        })
        .collect();
    let n = nodes.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut child)) = work.last_mut() {
            if *child == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = succ[v].get(*child) {
                *child += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(nodes[w].clone());
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let p = dir.join(file);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-graph-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_cycle_through_a_group_import_is_found() {
        let d = temp("cycle");
        write(&d, "lib.rs", "//! x\nmod a;\nmod b;\n");
        write(&d, "a.rs", "//! a\nuse crate::{b::{Thing, other}, c};\n");
        write(&d, "b.rs", "//! b\nfn f() { crate::a::g(); }\n");
        let c = cycles(&d).expect("graph");
        assert_eq!(c, vec![vec!["a".to_owned(), "b".to_owned()]]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn comments_strings_tests_and_declarations_are_not_imports() {
        let d = temp("clean");
        write(&d, "lib.rs", "//! x\npub mod a;\npub mod b;\n");
        write(
            &d,
            "a/mod.rs",
            "//! a\npub mod inner;\nuse crate::b::Thing; // crate::a::x\n",
        );
        write(&d, "a/inner.rs", "//! inner\nuse super::super::b::Other;\n");
        write(
            &d,
            "b.rs",
            "//! b\n/// see [`crate::a::Thing`]\nconst S: &str = \"crate::a::x\";\n#[cfg(test)]\nmod tests { use crate::a::inner::*; }\n",
        );
        assert_eq!(cycles(&d).expect("graph"), Vec::<Vec<String>>::new());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn super_from_a_child_reaching_its_mod_file_is_an_edge() {
        let d = temp("super");
        write(&d, "lib.rs", "//! x\npub mod a;\n");
        write(
            &d,
            "a/mod.rs",
            "//! a\npub mod c;\npub use self::c::C;\npub struct M;\n",
        );
        write(&d, "a/c.rs", "//! c\nuse super::M;\npub struct C;\n");
        assert_eq!(
            cycles(&d).expect("graph"),
            vec![vec!["a".to_owned(), "a/c".to_owned()]]
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
