//! Generates the lalrpop parsers from `src/*.lalrpop`.
//!
//! The generated code lands in `OUT_DIR` and is included by `src/parser.rs`
//! and `src/condition/mod.rs`; cargo reruns this only when a grammar changes.

fn main() {
    println!("cargo:rerun-if-changed=src/statement.lalrpop");
    println!("cargo:rerun-if-changed=src/condition/grammar.lalrpop");
    if let Err(err) = lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .process()
    {
        eprintln!("lalrpop failed: {err}");
        std::process::exit(1);
    }
}
