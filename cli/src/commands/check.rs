//! `tracker check <pipeline> [--json]`: validate plus machine-dependent lints.

use std::io::Write;

use anyhow::Result;

use crate::args::CheckArgs;
use crate::exit;
use crate::report::CheckReport;

/// Prints the check report; exit 1 when any error-severity diagnostic is found.
pub fn run(args: &CheckArgs) -> Result<u8> {
    if !args.json {
        let (source, doc, diags) = super::analyse(&args.pipeline, true)?;
        return super::validate::verdict(&source, &doc, &diags);
    }
    let (report, failed) = match super::analyse(&args.pipeline, true) {
        Ok((_, doc, diags)) => {
            let report = CheckReport::new(&doc, &diags);
            let failed = report.errors > 0;
            (serde_json::to_string(&report)?, failed)
        }
        // Load failures still answer in JSON so scripts can parse every outcome.
        Err(err) => (
            serde_json::json!({ "error": format!("{err:#}") }).to_string(),
            true,
        ),
    };
    writeln!(std::io::stdout().lock(), "{report}")?;
    Ok(if failed { exit::FAILURE } else { exit::OK })
}
