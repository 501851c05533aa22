//! The layering rules of README's "Architecture" section, checked on the source: the lower layers import
//! nothing of the upper ones, and no two files import each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `src/sim/run.rs` -> `["sim", "run"]`, `src/sim/mod.rs` -> `["sim"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// Code without comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Every module path the file refers to through `crate::` or `super::` (braces expanded one level).
fn references(module: &[String], text: &str) -> BTreeSet<Vec<String>> {
    let text = code(text);
    let mut out = BTreeSet::new();
    let parent = module[..module.len().saturating_sub(1)].to_vec();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = text.as_str();
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            let mut parts: Vec<String> = base.clone();
            parts.extend(path.split("::").filter(|s| !s.is_empty()).map(str::to_string));
            if rest[path.len()..].starts_with('{') {
                let inner: String = rest[path.len() + 1..].chars().take_while(|c| *c != '}').collect();
                for name in inner.split(',') {
                    let mut p = parts.clone();
                    p.extend(name.trim().split("::").filter(|s| !s.is_empty()).map(|s| s.trim().to_string()));
                    out.insert(p);
                }
            } else {
                out.insert(parts);
            }
        }
    }
    out
}

/// The file a module path lands in: the longest prefix that is a file of `files`.
fn resolve(files: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| files.contains_key(p))
}

#[test]
fn lower_layers_import_nothing_above_and_no_two_files_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    rust_files(&src, &mut all);
    let files: BTreeMap<Vec<String>, PathBuf> =
        all.iter().filter(|f| !f.ends_with("main.rs")).map(|f| (module_of(&src, f), f.clone())).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, f) in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for r in references(m, &text) {
            if let Some(target) = resolve(&files, &r)
                && &target != m
            {
                edges.entry(m.clone()).or_default().insert(target);
            }
        }
    }
    let forbidden: [(&str, &[&str]); 6] = [
        ("net", &["protocol", "sim", "models", "experiment", "attacks", "cli", "plot", "analysis", "data", "deploy"]),
        ("protocol", &["sim", "models", "experiment", "attacks", "cli", "plot", "deploy"]),
        ("analysis", &["sim", "models", "experiment", "attacks", "cli", "plot", "protocol", "net", "deploy"]),
        // The simulator, the models and the experiments never depend on the real deployment.
        ("sim", &["deploy", "cli"]),
        ("models", &["deploy", "cli", "experiment"]),
        ("experiment", &["deploy", "cli"]),
    ];
    let mut problems = Vec::new();
    for (from, targets) in &edges {
        for (layer, banned) in &forbidden {
            if from.first().is_some_and(|f| f == layer) {
                for t in targets {
                    if t.first().is_some_and(|t0| banned.contains(&t0.as_str())) {
                        problems.push(format!("{} imports {}", from.join("::"), t.join("::")));
                    }
                }
            }
        }
        for t in targets {
            if edges.get(t).is_some_and(|back| back.contains(from)) && from < t {
                problems.push(format!("{} and {} import each other", from.join("::"), t.join("::")));
            }
        }
    }
    // The error type is the floor every module stands on: it imports no other module of the crate.
    if let Some(up) = edges.get(&vec!["error".to_string()]) {
        problems.extend(up.iter().map(|t| format!("error imports {}", t.join("::"))));
    }
    assert!(files.contains_key(&vec!["error".to_string()]), "the scan did not find src/error.rs");
    assert!(edges.len() > 30, "the scan found too few files with imports: {}", edges.len());
    assert!(problems.is_empty(), "layering violations:\n{}", problems.join("\n"));
}

/// With `autotests = false` a test file that is neither a `[[test]]` target in Cargo.toml nor a module of
/// tests/suite.rs would never compile or run, silently. Every file at the top of tests/ is one or the other.
#[test]
fn every_test_file_is_compiled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let suite = std::fs::read_to_string(root.join("tests/suite.rs")).unwrap();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(root.join("tests")).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() || p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let target = manifest.contains(&format!("path = \"tests/{name}\""));
        let module = suite.contains(&format!("#[path = \"{name}\"]"));
        if !target && !module {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "test files that never run (add them to tests/suite.rs or Cargo.toml): {missing:?}");
}
