//! The core's modules form layers with no import loop: the model
//! (`src/model/`) below the wire's requests and decoders (`src/wire/`),
//! below the machines (`src/machine/`), below the endpoint
//! (`src/endpoint.rs`). Read from the sources: a file may name its own
//! layer or a lower one, never a higher one, and no two files of a layer
//! name each other in a loop. Unit-test files (`*_tests.rs`) are outside
//! the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const LAYERS: [&str; 4] = ["model", "wire", "machine", "endpoint"];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| *l == module)
        .unwrap_or_else(|| panic!("{module} is in no layer"))
}

/// `(layer, file)` for every source file of the core, with its text.
fn sources() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![(
        "endpoint".to_owned(),
        "endpoint".to_owned(),
        std::fs::read_to_string(src.join("endpoint.rs")).unwrap(),
    )];
    for layer in &LAYERS[..3] {
        for entry in std::fs::read_dir(src.join(layer)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if path.extension().is_some_and(|e| e == "rs") && !name.ends_with("_tests") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push(((*layer).to_owned(), name, text));
            }
        }
    }
    files
}

/// The names `lib.rs` re-exports at the crate root, and the module each
/// comes from (`crate::Error` is `model::error`).
fn root_names() -> BTreeMap<String, (String, String)> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let parts: Vec<&str> = rest.splitn(3, "::").collect();
        if parts.len() < 2 || !LAYERS.contains(&parts[0]) && parts[0] != "endpoint" {
            continue;
        }
        let (layer, file) = if parts[0] == "endpoint" {
            ("endpoint", "endpoint")
        } else {
            (parts[0], parts[1])
        };
        let tail = if parts[0] == "endpoint" {
            parts[1]
        } else {
            parts.get(2).copied().unwrap_or("")
        };
        for name in tail.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !name.is_empty() {
                names.insert(name.to_owned(), (layer.to_owned(), file.to_owned()));
            }
        }
    }
    names
}

/// The `(layer, file)` pairs a source names through `crate::…` in code
/// (comments, where docs may link anywhere, are left out).
fn imports(text: &str, roots: &BTreeMap<String, (String, String)>) -> BTreeSet<(String, String)> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let word = |s: &str| -> String {
            s.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        let first = word(rest);
        if LAYERS[..3].contains(&first.as_str()) {
            let file = word(&rest[first.len() + 2..]);
            found.insert((first, file));
        } else if first == "endpoint" {
            found.insert(("endpoint".to_owned(), "endpoint".to_owned()));
        } else if let Some(origin) = roots.get(&first) {
            found.insert(origin.clone());
        }
    }
    found
}

#[test]
fn no_module_imports_a_higher_layer_or_loops() {
    let roots = root_names();
    assert!(
        roots.contains_key("Error") && roots.contains_key("Operation"),
        "{roots:?}"
    );
    let files = sources();
    assert!(files.len() > 20, "{} files", files.len());
    // Nodes are `layer/file`; the loop search is the one the command's
    // check uses (and whose own test shows it finds loops).
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (layer, file, text) in &files {
        let node = graph.entry(format!("{layer}/{file}")).or_default();
        for (to_layer, to_file) in imports(text, &roots) {
            assert!(
                layer_of(&to_layer) <= layer_of(layer),
                "{layer}/{file} imports {to_layer}/{to_file}, a higher layer"
            );
            if (&to_layer, &to_file) != (layer, file) {
                node.insert(format!("{to_layer}/{to_file}"));
            }
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!("an import loop in the core: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_checker_reads_imports_by_module_and_through_root_names() {
    let roots = root_names();
    let found = imports("use crate::machine::call::Call; use crate::Error;", &roots);
    assert!(found.contains(&("machine".to_owned(), "call".to_owned())));
    assert!(found.contains(&("model".to_owned(), "error".to_owned())));
}

// The command (`cli/src/`): its modules name each other with no import
// loop. Separate from the core's layers above: the command's files are one
// flat directory, a file `x.rs` being module `x`.

/// The modules of the command's sources (`cli/src/*.rs`), each with the
/// other modules it names in code.
fn command_modules() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("cli/src");
    let mut texts = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            texts.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    let modules: BTreeSet<String> = texts.keys().cloned().collect();
    texts
        .iter()
        .map(|(name, text)| {
            let mut named = module_references(text, &modules);
            named.remove(name);
            (name.clone(), named)
        })
        .collect()
}

/// The modules of `modules` that `text` names in code (lines that are not
/// comments): `crate::y…` and `super::y…` (from a file module, its parent
/// is the crate root), and each first name of a `use crate::{a, b::c}`
/// list, however it is split over lines.
fn module_references(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let word = |s: &str| -> String { s.chars().take_while(|c| is_word(*c)).collect() };
    let mut found = BTreeSet::new();
    for prefix in ["crate::", "super::"] {
        for (at, _) in code.match_indices(prefix) {
            // `mycrate::` or `foo_super::` is another path.
            if code[..at].chars().next_back().is_some_and(is_word) {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            let names = match rest.strip_prefix('{') {
                Some(list) => list_heads(list),
                None => vec![word(rest)],
            };
            found.extend(names.into_iter().filter(|n| modules.contains(n)));
        }
    }
    found
}

/// The first name of each top-level item of a `{…}` list; `list` starts
/// just after its `{`.
fn list_heads(list: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let (mut depth, mut item_start) = (0usize, true);
    for (i, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                item_start = false;
                let head: String = list[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                heads.push(head);
            }
            _ => {}
        }
    }
    heads
}

/// A loop in `graph` (module to the modules it names; the core's layers
/// and the command's modules alike), as the path that
/// closes it (`["a", "b", "a"]`), or `None` when there is none.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_command_has_no_import_loop() {
    let graph = command_modules();
    // The files are found and their references read.
    assert!(graph.len() > 10, "{graph:?}");
    assert!(graph["run"].contains("args"), "{graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "an import loop in cli/src: {}\nthe modules: {graph:#?}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_command_checker_reads_references_and_finds_loops() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let text = "//! [`crate::d`] in a comment is no reference\n\
                use crate::{\n    a::X,\n    b::{Y, Z},\n};\n\
                fn f() { super::c::g(); mycrate::d::h(); }";
    assert_eq!(
        module_references(text, &modules),
        ["a", "b", "c"].map(String::from).into()
    );

    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph
                .entry((*from).into())
                .or_default()
                .insert((*to).into());
            graph.entry((*to).into()).or_default();
        }
        graph
    };
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])),
        Some(["a", "b", "c", "a"].map(String::from).to_vec())
    );
    assert_eq!(
        find_cycle(&graph(&[("x", "y"), ("y", "x")])).unwrap().len(),
        3
    );
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")])),
        None
    );
    assert_eq!(find_cycle(&BTreeMap::new()), None);
}
