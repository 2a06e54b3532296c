//! The inline tests of the former `lint/flow.rs` themes. Their cases live in the lint
//! corpus (`tests/data/lints`); what stays here checks a large input the corpus does not
//! hold.

use super::flow_lints as lint;
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;

/// The findings with code `n`.
fn with_code(diags: &[Diagnostic], n: u16) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| d.code == Code(n)).collect()
}

#[test]
fn long_chain_reports_only_the_unread_last_write() {
    // Speed is measured by `cargo bench -p dippin`; this checks the result on a
    // large input.
    use std::fmt::Write as _;
    let n: usize = 20_000;
    let mut src = String::from("workflow Big\n  goal: \"x\"\n  start: N0\n");
    let _ = writeln!(src, "  exit: N{}", n - 1);
    for i in 0..n {
        let _ = writeln!(src, "  tool N{i}\n    command: echo {i}\n    timeout: 5s");
        let _ = writeln!(src, "    writes: k{i}\n    reads: k{}", i.saturating_sub(1));
    }
    src.push_str("  edges\n");
    for i in 1..n {
        let _ = writeln!(src, "    N{} -> N{i}", i - 1);
    }
    let (wf, diags) = crate::parse_dip(&src);
    assert!(diags.is_empty());
    let mut out = Vec::new();
    lint(&Graph::new(&wf), &mut out);
    // N0 reads its own write (fine); the last write is never read.
    assert_eq!(
        with_code(&out, 112).len(),
        0,
        "{:?}",
        &out[..out.len().min(3)]
    );
    assert_eq!(with_code(&out, 107).len(), 1);
}
