//! Front-end throughput: parse + validate + lint over the corpus, and how parse time
//! grows with file size (1x / 10x / 100x).
//!
//! Run with `cargo bench -p dippin --bench front_end`. Prints a Markdown table for
//! `docs/performance.md`. Timing uses the best of several runs to damp noise from
//! other processes on the machine.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "dip") {
            out.push(path);
        }
    }
}

/// The best wall time of `runs` calls of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn analyse(text: &str) {
    let (wf, diags) = dippin::parse_dip(text);
    black_box(&diags);
    black_box(dippin::validate::validate(&wf));
    black_box(dippin::lint::lint(
        &wf,
        &dippin::lint::LintOptions::default(),
    ));
}

/// A realistic workflow of `nodes` agent/tool pairs with multi-line prompts,
/// conditional edges and loops.
fn synthetic(nodes: usize) -> String {
    let mut text = String::from("workflow Synthetic\n  goal: \"benchmark\"\n  start: N0\n  exit: Done\n\n  defaults\n    model: claude-sonnet-4-6\n    provider: anthropic\n\n");
    for i in 0..nodes {
        text.push_str(&format!(
            "  agent N{i}\n    label: \"Step {i}\"\n    auto_status: true\n    prompt:\n      Read the previous result and continue with step {i}.\n      Report STATUS: success or STATUS: fail.\n\n  tool T{i}\n    timeout: 30s\n    command:\n      echo step-{i} && test -f out/{i}.txt || echo missing\n\n"
        ));
    }
    text.push_str("  agent Done\n    prompt: done\n\n  edges\n");
    for i in 0..nodes {
        let next = if i + 1 == nodes {
            "Done".to_string()
        } else {
            format!("N{}", i + 1)
        };
        text.push_str(&format!(
            "    N{i} -> T{i}  when ctx.outcome = success\n    N{i} -> Done  when ctx.outcome = fail\n    T{i} -> {next}\n"
        ));
    }
    text
}

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let mut files = Vec::new();
    corpus_files(&corpus, &mut files);
    let texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let rounds = 20;
    let time = best_of(5, || {
        for _ in 0..rounds {
            for text in &texts {
                analyse(text);
            }
        }
    });
    let secs = time.as_secs_f64() / rounds as f64;
    println!("## Corpus: parse + validate + lint\n");
    println!("| files | bytes | time per pass | MB/s | files/s |");
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {} | {:.2} ms | {:.1} | {:.0} |\n",
        texts.len(),
        bytes,
        secs * 1e3,
        bytes as f64 / secs / 1e6,
        texts.len() as f64 / secs
    );

    println!("## Scaling: one synthetic file, by phase\n");
    println!("| size | bytes | nodes | parse | validate | lint | total | ns/byte |");
    println!("|---|---|---|---|---|---|---|---|");
    for (label, pairs) in [("1x", 250), ("10x", 2_500), ("100x", 25_000)] {
        let text = synthetic(pairs);
        let runs = if pairs > 10_000 { 3 } else { 7 };
        let parse = best_of(runs, || {
            black_box(dippin::parse_dip(&text));
        });
        let (wf, _) = dippin::parse_dip(&text);
        let validate = best_of(runs, || {
            black_box(dippin::validate::validate(&wf));
        });
        let lint = best_of(runs, || {
            black_box(dippin::lint::lint(
                &wf,
                &dippin::lint::LintOptions::default(),
            ));
        });
        let total = parse + validate + lint;
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {:.1} |",
            text.len(),
            pairs * 2 + 1,
            ms(parse),
            ms(validate),
            ms(lint),
            ms(total),
            total.as_nanos() as f64 / text.len() as f64
        );
    }
}
