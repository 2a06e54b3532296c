//! Cutting text to a byte budget without splitting a character.

/// At most the first `max` bytes of `text`, ending on a character boundary.
pub fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// At most the last `max` bytes of `text`, starting on a character boundary.
pub fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// `text` if it fits in `max` bytes; otherwise its head cut back to the last
/// whitespace, followed by `...`.
pub fn cut_at_whitespace(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let head = head(text, max);
    let head = head.rfind(char::is_whitespace).map_or(head, |i| &head[..i]);
    format!("{head}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_respect_character_boundaries() {
        let text = "é".repeat(10);
        assert_eq!(head(&text, 5), "éé");
        assert_eq!(tail(&text, 5), "éé");
        assert_eq!(head("short", 10), "short");
        assert_eq!(tail("short", 10), "short");
    }

    #[test]
    fn whitespace_cuts_add_an_ellipsis() {
        assert_eq!(cut_at_whitespace("one two three", 9), "one two...");
        assert_eq!(cut_at_whitespace("fits", 9), "fits");
        assert_eq!(cut_at_whitespace("nowhitespacehere", 6), "nowhit...");
    }
}
