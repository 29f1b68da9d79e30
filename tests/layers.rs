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
    let mut graph: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    for (layer, file, text) in &files {
        for (to_layer, to_file) in imports(text, &roots) {
            assert!(
                layer_of(&to_layer) <= layer_of(layer),
                "{layer}/{file} imports {to_layer}/{to_file}, a higher layer"
            );
            if (&to_layer, &to_file) != (layer, file) {
                graph
                    .entry((layer.clone(), file.clone()))
                    .or_default()
                    .insert((to_layer, to_file));
            }
        }
    }
    // No loop: a depth-first search never meets a file on its own path.
    fn visit(
        node: &(String, String),
        graph: &BTreeMap<(String, String), BTreeSet<(String, String)>>,
        path: &mut Vec<(String, String)>,
        done: &mut BTreeSet<(String, String)>,
    ) {
        if done.contains(node) {
            return;
        }
        assert!(
            !path.contains(node),
            "an import loop: {path:?} back to {node:?}"
        );
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.clone());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_checker_sees_a_higher_import_and_a_loop() {
    let roots = root_names();
    let found = imports("use crate::machine::call::Call; use crate::Error;", &roots);
    assert!(found.contains(&("machine".to_owned(), "call".to_owned())));
    assert!(found.contains(&("model".to_owned(), "error".to_owned())));
}
