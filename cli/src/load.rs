//! Loading a pipeline for execution: the file (or built-in), its validation,
//! its spawn plan, and every child workflow its subgraph and manager-loop nodes
//! name, loaded once each.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use dippin::{Diagnostic, Document};
use tracker_handlers::child::Subgraphs;
use tracker_runtime::plan::{PlanError, SpawnPlan};
use tracker_runtime::supervision::SupervisionPolicy;

use crate::pipeline::{self, PipelineSource};

/// A pipeline ready to run.
#[derive(Debug)]
pub struct Loaded {
    /// How to name it in messages.
    pub name: String,
    /// The file, when it came from one.
    pub file: Option<PathBuf>,
    /// Its text as written.
    pub text: String,
    /// The compiled workflow.
    pub plan: SpawnPlan,
    /// Its child workflows by reference.
    pub subgraphs: Subgraphs,
}

/// `doc` compiled into a plan; a node setting the runtime cannot use is
/// reported at the node's line and column.
fn compile(doc: &Document, name: &str) -> Result<SpawnPlan> {
    SpawnPlan::compile(&doc.workflow).map_err(|e| match e {
        PlanError::Setting(setting) => {
            let at = doc.source.position(setting.offset);
            anyhow!("{name}:{}:{}: {setting}", at.line, at.column)
        }
        other => anyhow!("{name}: {other}"),
    })
}

/// The supervision policy `plan`'s nodes ask for (`params.supervise`, checked
/// when the plan was built, so every setting applies).
pub fn node_supervision(plan: &SpawnPlan) -> SupervisionPolicy {
    let mut policy = SupervisionPolicy::default();
    for node in &plan.nodes {
        if let Some(settings) = &node.spec.common.supervise {
            let _ = policy.apply(&format!("{}:{settings}", node.id));
        }
    }
    policy
}

/// How diagnostics are reported while loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnostics {
    /// Errors and warnings to stderr (runs).
    Print,
    /// Say nothing; errors become the load error's text (the conformance
    /// harness, which ignores lint).
    Quiet,
    /// Say nothing; every error becomes a line of the load error's text (the
    /// service, whose client sees no stderr).
    Listed,
}

/// Loads `source` for running. Invalid pipelines are errors (after their
/// diagnostics are printed, with [`Diagnostics::Print`]).
pub fn load(source: &PipelineSource, diagnostics: Diagnostics) -> Result<Loaded> {
    load_as(source, diagnostics, source.display_name())
}

/// [`load`], naming the pipeline `name` in messages (a text submitted to the
/// service has no file of its user's to name).
pub fn load_as(source: &PipelineSource, diagnostics: Diagnostics, name: String) -> Result<Loaded> {
    let doc = pipeline::load(source)?;
    let base_dir = source.base_dir();
    check(&doc, base_dir.as_deref(), &name, diagnostics)?;
    let plan = compile(&doc, &name)?;
    let mut subgraphs = BTreeMap::new();
    let dir = base_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut chain = vec![canonical(source)];
    load_children(&plan, &dir, &mut subgraphs, &mut chain, diagnostics, false)?;
    Ok(Loaded {
        name,
        file: source.file().map(Path::to_path_buf),
        text: doc.source.text().to_string(),
        plan,
        subgraphs,
    })
}

/// Fails when `doc` has errors; prints diagnostics first when asked.
fn check(
    doc: &Document,
    base_dir: Option<&Path>,
    name: &str,
    diagnostics: Diagnostics,
) -> Result<()> {
    let mut diags: Vec<Diagnostic> = doc.diagnostics.clone();
    if !doc.has_errors() {
        let options = dippin::lint::LintOptions {
            base_dir: base_dir.map(Path::to_path_buf),
            environment: false,
        };
        diags.extend(dippin::analyze(doc, &options));
    }
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    let located = |d: &Diagnostic| {
        let position = d
            .span
            .map(|s| doc.source.position(s.start))
            .map(|p| format!(":{}:{}", p.line, p.column))
            .unwrap_or_default();
        format!(
            "{name}{position}: {} [{}]",
            dippin::diagnostic::printable_line(&d.message),
            d.code
        )
    };
    if diagnostics == Diagnostics::Print && errors.is_empty() {
        let mut err = std::io::stderr().lock();
        for d in diags
            .iter()
            .filter(|d| d.severity == dippin::Severity::Warning)
        {
            writeln!(err, "warning: {}", located(d))?;
        }
    }
    if diagnostics == Diagnostics::Listed && !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(|d| located(d)).collect();
        bail!("{}", lines.join("\n"));
    }
    if let Some(first) = errors.first() {
        let more = match errors.len() {
            1 => String::new(),
            n => format!(
                " (and {} more; `tracker validate {name}` lists them)",
                n - 1
            ),
        };
        bail!("{}{more}", located(first));
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn canonical(source: &PipelineSource) -> String {
    match source {
        PipelineSource::File(path) | PipelineSource::RunCopy { copy: path, .. } => {
            std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string()
        }
        PipelineSource::Builtin(b) => format!("builtin:{}", b.name),
    }
}

/// Loads the children `plan` names, relative to `dir` (then the working
/// directory, with `.dip` appended when missing), each once; a reference back
/// to a workflow being loaded is an error.
/// Whether the child workflows of `plan` (the pipeline `source`) that are
/// there would run: each is checked and compiled as `run` does, a missing
/// one skipped (`tracker validate` does not look for files; `check` warns).
pub fn children_runnable(plan: &SpawnPlan, source: &PipelineSource) -> Result<()> {
    let dir = source.base_dir().unwrap_or_else(|| PathBuf::from("."));
    let mut chain = vec![canonical(source)];
    let mut out = BTreeMap::new();
    load_children(plan, &dir, &mut out, &mut chain, Diagnostics::Quiet, true)
}

fn load_children(
    plan: &SpawnPlan,
    dir: &Path,
    out: &mut Subgraphs,
    chain: &mut Vec<String>,
    diagnostics: Diagnostics,
    missing_ok: bool,
) -> Result<()> {
    for node in &plan.nodes {
        let Some(reference) = node.spec.child_reference() else {
            continue;
        };
        if out.contains_key(reference) {
            continue;
        }
        let located = locate(dir, reference);
        if located.is_none() && missing_ok {
            continue;
        }
        let path = located.ok_or_else(|| {
            anyhow!(
                "subgraph {reference:?} (node {:?}): no such file relative to {} or the working directory",
                node.id,
                dir.display()
            )
        })?;
        let key = std::fs::canonicalize(&path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string();
        if chain.contains(&key) {
            bail!(
                "subgraph {reference:?} (node {:?}) refers back to a workflow that includes it",
                node.id
            );
        }
        // The workflow names this file: it may be a link to a FIFO or a
        // device, so only a bounded regular file is read.
        let doc = dippin::load_file_limited(&path, dippin::MAX_CHILD_WORKFLOW_BYTES)
            .map_err(|e| anyhow!("subgraph {reference:?} (node {:?}): {e}", node.id))?;
        let name = path.display().to_string();
        check(&doc, Some(&parent_dir(&path)), &name, diagnostics)
            .map_err(|e| anyhow!("subgraph {reference:?} (node {:?}): {e}", node.id))?;
        let child = compile(&doc, &name)?;
        chain.push(key);
        load_children(
            &child,
            &parent_dir(&path),
            out,
            chain,
            diagnostics,
            missing_ok,
        )?;
        chain.pop();
        out.insert(reference.to_string(), Arc::new(child));
    }
    Ok(())
}

fn locate(dir: &Path, reference: &str) -> Option<PathBuf> {
    let mut candidates = vec![dir.join(reference), PathBuf::from(reference)];
    if !reference.ends_with(".dip") {
        candidates.push(dir.join(format!("{reference}.dip")));
        candidates.push(PathBuf::from(format!("{reference}.dip")));
    }
    candidates.into_iter().find(|p| p.is_file())
}
