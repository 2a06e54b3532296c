//! The code's shape, checked: no source file over 1,000 lines and no import
//! circle between the modules of any crate (issue 9), so that the layering the
//! architecture document describes stays true as the code grows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use tracker_tests::workspace_root;

/// The longest a non-test source file may be.
const MAX_LINES: usize = 1000;

/// Every crate of the workspace: a directory with a `Cargo.toml` and a `src/`.
fn crates() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![workspace_root()];
    while let Some(dir) = pending.pop() {
        if dir.join("Cargo.toml").is_file() && dir.join("src").is_dir() {
            found.push(dir.clone());
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let skip = matches!(
                name.to_str(),
                Some("target" | ".git" | "src" | "data" | "node_modules" | "fuzz")
            );
            if path.is_dir() && !skip {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The `.rs` files under `dir` that are not tests: not a `tests.rs`, not in a
/// `tests/` directory.
fn source_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if entry.file_name() != "tests" {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") && entry.file_name() != "tests.rs"
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level module a file under `src` belongs to (`None` for the crate
/// root).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The code of `text` before its inline test module, without comment lines.
fn code_of(text: &str) -> String {
    let inline_tests = Regex::new(r"#\[cfg\(test\)\]\s*mod tests \{").expect("pattern");
    let code = inline_tests.split(text).next().unwrap_or("");
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which top-level modules each top-level module of the crate at `src` uses
/// through `crate::…` paths.
fn module_uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let single = Regex::new(r"\bcrate::([a-z_][a-z0-9_]*)").expect("pattern");
    let group = Regex::new(r"\bcrate::\{([^}]*)\}").expect("pattern");
    let first_names = Regex::new(r"(?:^|,)\s*([a-z_][a-z0-9_]*)").expect("pattern");
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in source_files(src) {
        let Some(module) = top_module(src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let code = code_of(&text);
        let mut used: Vec<String> = single
            .captures_iter(&code)
            .map(|c| c[1].to_string())
            .collect();
        for g in group.captures_iter(&code) {
            used.extend(first_names.captures_iter(&g[1]).map(|c| c[1].to_string()));
        }
        let entry = uses.entry(module.clone()).or_default();
        entry.extend(used.into_iter().filter(|m| *m != module));
    }
    uses
}

/// A circle in `uses`, as the modules along it, if there is one.
fn find_circle(uses: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        module: &str,
        uses: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(module) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|m| m == module).unwrap_or(0);
                let mut circle = path[start..].to_vec();
                circle.push(module.to_string());
                return Some(circle);
            }
            None => {}
        }
        marks.insert(module.to_string(), Mark::Open);
        path.push(module.to_string());
        for next in uses.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, uses, marks, path) {
                return Some(circle);
            }
        }
        path.pop();
        marks.insert(module.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    uses.keys()
        .find_map(|module| visit(module, uses, &mut marks, &mut Vec::new()))
}

#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let crates = crates();
    assert!(crates.len() >= 9, "found only {crates:?}");
    let mut long = Vec::new();
    for krate in &crates {
        for file in source_files(&krate.join("src")) {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            let lines = text.lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn no_crate_has_an_import_circle_between_its_modules() {
    let mut circles = Vec::new();
    for krate in crates() {
        if let Some(circle) = find_circle(&module_uses(&krate.join("src"))) {
            circles.push(format!("{}: {}", krate.display(), circle.join(" → ")));
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

#[test]
fn the_circle_finder_finds_circles_and_only_circles() {
    let uses = |pairs: &[(&str, &str)]| {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in pairs {
            map.entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        map
    };
    assert_eq!(
        find_circle(&uses(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    assert_eq!(
        find_circle(&uses(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let code =
        code_of("use crate::x;\n// crate::y\n#[cfg(test)]\nmod tests {\n    use crate::z;\n}\n");
    assert!(code.contains("crate::x") && !code.contains("crate::y") && !code.contains("crate::z"));
}
