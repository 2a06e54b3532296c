//! Server-sent events: turning a byte stream into events, whatever the chunk
//! boundaries (a chunk may end inside a line, inside a UTF-8 character, or
//! between `\r` and `\n`).
//!
//! Lines end at `\n`, `\r\n` or `\r`. `data:` lines accumulate (joined with
//! `\n`), `event:` names the event, `:` lines are comments (keep-alives), and a
//! blank line dispatches. There is no line-length cap. A body that ends without
//! a final blank line still dispatches what it had (Gemini ends that way).

/// One event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, if any.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// An incremental parser. Lines are found with `memchr` and read where they
/// lie in the chunk; only a line a chunk boundary cuts is copied aside.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The start of a line a chunk boundary cut.
    line: Vec<u8>,
    /// The previous byte was a `\r` that ended a line: a `\n` next is part of it.
    after_cr: bool,
    /// The event being read (its buffers are kept from event to event).
    current: SseEvent,
    has_data: bool,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// Feeds `bytes`; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.push_each(bytes, |event| out.push(event.clone()));
        out
    }

    /// Feeds `bytes`, handing each event they complete to `each` (lent, not
    /// given: the parser reuses its buffers for the next event).
    pub fn push_each(&mut self, mut bytes: &[u8], mut each: impl FnMut(&SseEvent)) {
        if self.after_cr && !bytes.is_empty() {
            // (An empty chunk leaves it for the next.)
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(at) = memchr::memchr2(b'\n', b'\r', bytes) {
            let (line, rest) = bytes.split_at(at);
            let mut rest = &rest[1..];
            if bytes[at] == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    // The `\n` of a `\r\n` may start the next chunk.
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                self.end_line(line, &mut each);
            } else {
                let mut whole = std::mem::take(&mut self.line);
                whole.extend_from_slice(line);
                self.end_line(&whole, &mut each);
                whole.clear();
                self.line = whole;
            }
            bytes = rest;
        }
        self.line.extend_from_slice(bytes);
    }

    /// The body ended: dispatches an event left without its blank line.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.end_line(&line, &mut |_| {});
        }
        let dispatched = self.has_data || !self.current.event.is_empty();
        self.has_data = false;
        dispatched.then(|| std::mem::take(&mut self.current))
    }

    fn end_line(&mut self, line: &[u8], each: &mut impl FnMut(&SseEvent)) {
        if line.is_empty() {
            if self.has_data || !self.current.event.is_empty() {
                each(&self.current);
            }
            self.current.event.clear();
            self.current.data.clear();
            self.has_data = false;
            return;
        }
        let line = String::from_utf8_lossy(line);
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "event" => {
                self.current.event.clear();
                self.current.event.push_str(value);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = ": keep-alive\r\nevent: message_start\r\ndata: {\"a\":\r\ndata: \"é\"}\r\n\r\nevent: ping\ndata: {}\n\ndata: [DONE]\r\r";

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut events: Vec<SseEvent> = chunks.iter().flat_map(|c| parser.push(c)).collect();
        events.extend(parser.finish());
        events
    }

    #[test]
    fn events_fields_and_comments() {
        let events = parse_all(&[STREAM.as_bytes()]);
        assert_eq!(
            events,
            [
                SseEvent {
                    event: "message_start".into(),
                    data: "{\"a\":\n\"é\"}".into()
                },
                SseEvent {
                    event: "ping".into(),
                    data: "{}".into()
                },
                SseEvent {
                    event: String::new(),
                    data: "[DONE]".into()
                },
            ]
        );
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        let whole = parse_all(&[bytes]);
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let split = parse_all(&[&bytes[..i], &bytes[i..j], &bytes[j..]]);
                assert_eq!(split, whole, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn a_body_without_a_final_blank_line_still_dispatches() {
        assert_eq!(
            parse_all(&[b"data: {\"x\":1}"]),
            [SseEvent {
                event: String::new(),
                data: "{\"x\":1}".into()
            }]
        );
        assert!(parse_all(&[b""]).is_empty());
    }
}
