//! The layer order `src/lib.rs` states, held against the code: every `crate::…` path in a
//! module of `src/` names a module of its own layer or of one below. A new import that runs
//! back up (the domain reaching for an HTTP answer, the store for the domain) fails here with
//! the file and the line.

use std::path::Path;

/// Each top-level module of `src/` and its layer, as `src/lib.rs` lists them (higher is
/// further from the database; `rate_limit` beside `state`, as item 5 of the list says). Modules
/// of one layer may use each other.
const LAYERS: &[(&str, u8)] = &[
    ("cli", 10),
    ("server", 9),
    ("client", 9),
    ("bootstrap", 8),
    ("config", 7),
    ("openapi", 7),
    ("docs", 7),
    ("routes", 6),
    ("state", 5),
    ("auth", 4),
    ("models", 3),
    ("domain", 3),
    ("secrets", 2),
    ("db", 1),
    ("api", 0),
    ("role", 0),
    ("group_roles", 0),
    ("credentials", 0),
    ("limits", 0),
    ("ids", 0),
    ("metrics", 0),
    ("rate_limit", 5),
];

fn layer_of(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
}

/// Every `.rs` file under `dir`, with the top-level module it belongs to.
fn sources(dir: &Path, module: Option<&str>, found: &mut Vec<(String, std::path::PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let owner = module.map(str::to_owned).unwrap_or_else(|| stem.clone());
        if path.is_dir() {
            sources(&path, Some(&owner), found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push((owner, path));
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, None, &mut files);
    let mut upward = Vec::new();
    let mut checked = 0;

    for (module, path) in &files {
        if module == "lib" || module == "main" {
            continue;
        }
        let own = layer_of(module)
            .unwrap_or_else(|| panic!("{} is in no layer: add {module} to LAYERS", path.display()));
        let text = std::fs::read_to_string(path).unwrap();
        for (number, line) in text.lines().enumerate() {
            // Comments may name any module; only code ties layers.
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let used: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let Some(layer) = layer_of(&used) else {
                    continue;
                };
                checked += 1;
                if layer > own {
                    upward.push(format!(
                        "{}:{}: {module} (layer {own}) uses {used} (layer {layer})",
                        path.strip_prefix(&src).unwrap().display(),
                        number + 1
                    ));
                }
            }
        }
    }

    assert!(checked > 100, "only {checked} imports read");
    assert!(
        upward.is_empty(),
        "imports running back up:\n{}",
        upward.join("\n")
    );
}

/// The code of a Rust source: its text before the unit tests, without `//` comments (a
/// comment may name anything).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The texts of the string literals in `code`, cut at each `{…}` placeholder and each line
/// continuation, so a sentence of a `format!` is found in pieces.
fn literal_pieces(code: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match (&mut current, c) {
            (None, '"') => current = Some(String::new()),
            (None, _) => {}
            (Some(text), '"') => {
                pieces.push(std::mem::take(text));
                current = None;
            }
            (Some(text), '\\') => match chars.next() {
                Some('\n') => pieces.push(std::mem::take(text)),
                Some(escaped) => text.push(escaped),
                None => {}
            },
            (Some(text), '{' | '}') => pieces.push(std::mem::take(text)),
            (Some(text), c) => text.push(c),
        }
    }
    pieces
        .into_iter()
        .map(|piece| piece.trim().to_owned())
        .collect()
}

/// Each dialect words every error itself from the neutral `ApiError`: the nscale dialect names
/// nothing of the Onlive renderer (its module, its constants, its sentences), so changing an
/// Onlive message cannot change an nscale answer; and the Onlive renderer names nothing of the
/// nscale one.
#[test]
fn the_nscale_dialect_reads_none_of_the_onlive_answers_words() {
    let routes = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let onlive = code_of(&routes.join("onlive/error.rs"));
    let constants: Vec<String> = onlive
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub const "))
        .filter_map(|rest| rest.split(':').next())
        .map(str::to_owned)
        .collect();
    assert!(
        constants.iter().any(|c| c == "GROUP_NOT_FOUND"),
        "{constants:?}"
    );
    // The Onlive sentences begin with a capital; the nscale ones do not.
    let sentences: Vec<String> = literal_pieces(&onlive)
        .into_iter()
        .filter(|p| p.len() >= 12 && p.contains(' '))
        .filter(|p| p.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    assert!(
        sentences.iter().any(|s| s == "User group not found"),
        "{sentences:?}"
    );

    let mut files = Vec::new();
    sources(&routes.join("nscale"), Some("nscale"), &mut files);
    assert!(files.len() >= 4, "{files:?}");
    let mut found = Vec::new();
    for (_, path) in &files {
        let code = code_of(path);
        let name = path.strip_prefix(&routes).unwrap().display();
        if code.contains("onlive::") {
            found.push(format!("{name} uses the onlive module"));
        }
        for constant in &constants {
            if code.contains(constant.as_str()) {
                found.push(format!("{name} uses {constant}"));
            }
        }
        for sentence in &sentences {
            if code.contains(sentence.as_str()) {
                found.push(format!("{name} has the Onlive text {sentence:?}"));
            }
        }
    }
    if onlive.contains("nscale") {
        found.push("onlive/error.rs names the nscale dialect".to_owned());
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_store_and_the_domain_run_without_the_web_framework() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, None, &mut files);
    let offending: Vec<String> = files
        .iter()
        .filter(|(module, _)| module == "db" || module == "domain")
        .filter(|(_, path)| code_of(path).contains("actix_web"))
        .map(|(_, path)| path.display().to_string())
        .collect();
    assert!(
        offending.is_empty(),
        "these files of the store or the domain use actix_web: {offending:?}"
    );
}
