//! `--json`: one event per line on stdout, in the reference's `StreamEvent`
//! field order.

use std::io::Write;

use actix::prelude::*;
use tracker_actors::bus::Deliver;

/// Prints events as NDJSON.
#[derive(Default)]
pub struct NdjsonPrinter;

impl Actor for NdjsonPrinter {
    type Context = Context<Self>;
}

impl Handler<Deliver> for NdjsonPrinter {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        let mut text = String::new();
        for event in msg.0.iter() {
            text.push_str(&event.to_ndjson_line());
            text.push('\n');
        }
        let mut out = std::io::stdout().lock();
        // A closed stdout (the reader went away) must not stop the run.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}
