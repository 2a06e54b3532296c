//! `tracker steer <run-id> <node> <message>`: queue a message for a running
//! agent node. The session delivers it as a `[STEERING]` user message before
//! its next LLM call (see `tracker_runtime::agent::steering`).

use anyhow::{anyhow, bail, Result};
use tracker_runtime::agent::steering::{SteeringDir, STEERING_DIR};

use super::run::find_run;
use crate::args::SteerArgs;
use crate::exit;

/// Writes the message into the node's steering directory.
pub fn run(args: &SteerArgs) -> Result<u8> {
    let cwd = std::env::current_dir()?;
    let workdir = args
        .workdir
        .as_ref()
        .map_or_else(|| cwd.clone(), |w| cwd.join(w));
    let artifacts = args
        .artifact_dir
        .as_ref()
        .map_or_else(|| workdir.join(".tracker").join("runs"), |a| cwd.join(a));
    let run_dir = find_run(&artifacts, &args.run_id)?;
    let node = args.node.trim();
    if node.is_empty() || node.contains(['/', '\\']) || node == "." || node == ".." {
        bail!("invalid node id {node:?}");
    }
    if args.message.trim().is_empty() {
        bail!("the steering message is empty");
    }
    // A message for a node the run does not have would never be delivered.
    let copy = run_dir.join(super::run::WORKFLOW_COPY);
    if let Ok(text) = std::fs::read_to_string(copy) {
        let (workflow, _) = dippin::parse_dip(&text);
        if !workflow.nodes.is_empty() && !workflow.nodes.iter().any(|n| n.id == node) {
            let ids: Vec<&str> = workflow.nodes.iter().map(|n| n.id.as_str()).collect();
            bail!(
                "run {} has no node {node:?} (its nodes: {})",
                args.run_id,
                ids.join(", ")
            );
        }
    }
    let steering = SteeringDir::new(run_dir.join(node).join(STEERING_DIR));
    let path = steering.send(&args.message).map_err(|e| {
        anyhow!(
            "cannot queue the message in {}: {e}",
            steering.path().display()
        )
    })?;
    println!(
        "queued for {node} in run {}: {}",
        args.run_id,
        path.display()
    );
    Ok(exit::OK)
}
