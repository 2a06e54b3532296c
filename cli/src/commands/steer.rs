//! `tracker steer <run-id> <node> <message>`: queue a message for a running
//! agent node. The session delivers it as a `[STEERING]` user message before
//! its next LLM call (see `tracker_runtime::agent::steering`).

use std::io::Write;

use anyhow::{anyhow, bail, Result};
use tracker_runtime::agent::steering::{SteeringDir, STEERING_DIR};

use crate::args::SteerArgs;
use crate::exit;
use tracker_actors::run_dir;

/// Writes the message into the node's steering directory.
pub fn run(args: &SteerArgs) -> Result<u8> {
    let cwd = std::env::current_dir()?;
    let workdir = args
        .workdir
        .as_ref()
        .map_or_else(|| cwd.clone(), |w| cwd.join(w));
    let root = args
        .artifact_dir
        .as_ref()
        .map_or_else(|| run_dir::default_root(&workdir), |a| cwd.join(a));
    let run_dir = run_dir::find(&root, &args.run_id)?;
    let node = args.node.trim();
    if node.is_empty() || node.contains(['/', '\\']) || node == "." || node == ".." {
        bail!("invalid node id {node:?}");
    }
    if args.message.trim().is_empty() {
        bail!("the steering message is empty");
    }
    // A message for a node the run does not have would never be delivered.
    let copy = run_dir::workflow_copy(&run_dir);
    let is_dot = copy.extension().is_some_and(|e| e == "dot");
    if let Ok(text) = std::fs::read_to_string(copy) {
        let (workflow, _) = if is_dot {
            dippin::dot::parse_dot(&text)
        } else {
            dippin::parse_dip(&text)
        };
        match workflow.nodes.iter().find(|n| n.id == node) {
            None if !workflow.nodes.is_empty() => {
                let ids: Vec<&str> = workflow.nodes.iter().map(|n| n.id.as_str()).collect();
                bail!(
                    "run {} has no node {node:?} (its nodes: {})",
                    args.run_id,
                    ids.join(", ")
                );
            }
            // Only an agent's session reads its steering directory.
            Some(found) if found.kind() != dippin::ir::NodeKind::Agent => bail!(
                "node {node:?} is a {} node: only an agent node takes steering messages",
                found.kind().as_str()
            ),
            _ => {}
        }
    }
    if tracker_actors::activity::completed(&run_dir) {
        bail!(
            "run {} has completed: no node of it will read the message",
            args.run_id
        );
    }
    let steering = SteeringDir::new(run_dir.join(node).join(STEERING_DIR));
    let path = steering.send(&args.message).map_err(|e| {
        anyhow!(
            "cannot queue the message in {}: {e}",
            steering.path().display()
        )
    })?;
    writeln!(
        std::io::stdout(),
        "queued for {node} in run {}: {}",
        args.run_id,
        path.display()
    )?;
    Ok(exit::OK)
}
