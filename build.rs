//! The built-in guides, made into data at build time: each file in
//! `assets/guides/` is parsed and validated as a user's guide would be (a
//! problem fails the build with its file:line:col), proven clean (the
//! validation and sanitizing change nothing), written in the compact form
//! that a start reads instead of the TOML (and read back to prove it comes
//! back equal), and its steps' content hashes computed. The crate includes
//! the result (`$OUT_DIR/built_in.rs`) in `src/guide/catalog.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

// The same model, parser and sanitizer as the crate's: one definition.
#[allow(dead_code)]
#[path = "src/sanitize.rs"]
mod sanitize;

#[allow(dead_code)]
#[path = "src/guide/model.rs"]
mod model;
#[allow(dead_code)]
#[path = "src/guide/parse.rs"]
mod parse;
/// Where the parser finds the model's helpers, as in the crate.
mod guide {
    pub use super::model::*;
}

#[allow(dead_code)]
#[path = "src/guide/catalog/compact.rs"]
mod compact;
#[path = "src/guide/catalog/compact_encode.rs"]
mod compact_encode;

/// The guides shipped in the binary, in the order the picker lists them.
const GUIDES: &[&str] = &["postnl.toml", "posti.toml"];

fn main() {
    for input in [
        "build.rs",
        "assets/guides",
        "src/sanitize.rs",
        "src/guide/model.rs",
        "src/guide/parse.rs",
        "src/guide/catalog/compact.rs",
        "src/guide/catalog/compact_encode.rs",
    ] {
        println!("cargo::rerun-if-changed={input}");
    }
    start_order();
    if let Err(e) = run() {
        // Fails the build, saying why.
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let dir = root.join("assets/guides");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    found.sort();
    let mut listed: Vec<String> = GUIDES.iter().map(|g| g.to_string()).collect();
    listed.sort();
    if found != listed {
        return Err(format!(
            "assets/guides holds {found:?}, build.rs ships {listed:?}: list every built-in guide in GUIDES"
        ));
    }

    let mut code = String::from(
        "/// The guides shipped in the binary: (file name, TOML text).\npub const BUILT_IN: &[(&str, &str)] = &[\n",
    );
    for name in GUIDES {
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/assets/guides/{name}\"))),"
        );
    }
    code.push_str("];\n\n/// The same guides as made at build time: compact, with their steps' hashes.\nconst COMPACT: &[Compact] = &[\n");
    for name in GUIDES {
        let (bytes, head, hashes) = make(&dir.join(name), name)?;
        let stem = name.trim_end_matches(".toml");
        let (file, head_file) = (format!("{stem}.bin"), format!("{stem}.head.bin"));
        std::fs::write(out.join(&file), &bytes).map_err(|e| format!("{file}: {e}"))?;
        std::fs::write(out.join(&head_file), &head).map_err(|e| format!("{head_file}: {e}"))?;
        let _ = writeln!(
            code,
            "    Compact {{\n        file: {name:?},\n        guide: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\")),\n        head: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{head_file}\")),\n        hashes: &["
        );
        for (step, hash) in hashes {
            let _ = writeln!(code, "            ({step:?}, {hash:?}),");
        }
        code.push_str("        ],\n    },\n");
    }
    code.push_str("];\n");
    std::fs::write(out.join("built_in.rs"), code).map_err(|e| format!("built_in.rs: {e}"))
}

/// The functions a start runs, in `assets/link/start-order.txt`, are laid
/// out together at the front of the code, so that the first frame faults
/// in a few windows of code instead of one for every function it meets
/// (docs/benchmarks.md, "The start's code together"). Only for release
/// builds linked by rust-lld, the default linker of x86_64 Linux since
/// Rust 1.90: another linker may not know the option, and a debug build's
/// names are not the file's. A name the binary lacks (the file made by
/// another toolchain) is skipped without a word: the order is a layout,
/// never a change to what the program does.
fn start_order() {
    const FILE: &str = "assets/link/start-order.txt";
    println!("cargo::rerun-if-changed={FILE}");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let own_linker = std::env::var_os("RUSTC_LINKER").is_some()
        || ["linker", "fuse-ld", "link-self-contained", "linker-features"]
            .iter()
            .any(|flag| var("CARGO_ENCODED_RUSTFLAGS").contains(flag));
    let rust_lld = || var("TARGET") == "x86_64-unknown-linux-gnu" && !own_linker && rustc_minor() >= Some(90);
    if var("PROFILE") != "release" || !rust_lld() {
        return;
    }
    let file = PathBuf::from(var("CARGO_MANIFEST_DIR")).join(FILE);
    if file.is_file() {
        println!("cargo::rustc-link-arg-bin=cutover=-Wl,--symbol-ordering-file={}", file.display());
        println!("cargo::rustc-link-arg-bin=cutover=-Wl,--no-warn-symbol-ordering");
    }
}

/// The compiler's minor version (`rustc 1.95.0 (…)` gives 95).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var_os("RUSTC")?;
    let out = std::process::Command::new(rustc).arg("-V").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace().nth(1)?.split('.').nth(1)?.parse().ok()
}

type Made = (Vec<u8>, Vec<u8>, Vec<(String, String)>);

/// One guide: its compact form, that of its head
/// (`Guide::head`) and its steps' hashes.
fn make(path: &Path, name: &str) -> Result<Made, String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let shown = format!("assets/guides/{name}");
    let guide = parse::parse_guide(&src, &shown).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        format!("a built-in guide does not validate:\n{}", lines.join("\n"))
    })?;
    let json = |g: &guide::Guide| serde_json::to_string(g).map_err(|e| format!("{shown}: {e}"));
    let plain: guide::Guide = toml::from_str(&src).map_err(|e| format!("{shown}: {e}"))?;
    if json(&guide)? != json(&plain)? {
        return Err(format!("{shown}: validating or sanitizing changes it; a built-in guide must be clean as written"));
    }
    let bytes = compact_encode::to_bytes(&guide).map_err(|e| format!("{shown}: {e}"))?;
    let back: guide::Guide =
        compact::from_bytes(&bytes).map_err(|e| format!("{shown}: compact form unreadable: {e}"))?;
    if json(&back)? != json(&guide)? {
        return Err(format!("{shown}: the compact form does not read back as the guide"));
    }
    let head = compact_encode::to_bytes(&guide.head()).map_err(|e| format!("{shown}: {e}"))?;
    let head_back: guide::Guide =
        compact::from_bytes(&head).map_err(|e| format!("{shown}: compact head unreadable: {e}"))?;
    if json(&head_back)? != json(&guide.head())? {
        return Err(format!("{shown}: the compact head does not read back as the guide's head"));
    }
    let hashes = guide.all_items().map(|s| (s.id().to_string(), guide::step_hash(s))).collect();
    Ok((bytes, head, hashes))
}
