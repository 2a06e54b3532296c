//! The built-in workflows, embedded from the repository's `workflows/` folder.

/// One embedded workflow.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// The name users type (`tracker run <name>`).
    pub name: &'static str,
    /// The `.dip` source.
    pub source: &'static str,
    /// Its scenario tests (`tracker test <name>`), if it has any.
    pub tests: Option<&'static str>,
}

/// Every built-in workflow, sorted by name.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "quickstart",
        source: include_str!("../../workflows/quickstart.dip"),
        tests: Some(include_str!("../../workflows/quickstart.test.json")),
    },
    Builtin {
        name: "review_loop",
        source: include_str!("../../workflows/review_loop.dip"),
        tests: Some(include_str!("../../workflows/review_loop.test.json")),
    },
];

/// The built-in called `name`, if any.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The names of all built-ins, for error messages.
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}
