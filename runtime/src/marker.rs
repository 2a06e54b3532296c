//! A tool's `marker_grep` marker, read from what its command printed: one
//! rule for the run's tool handler and for the scenario simulator, so that
//! `tracker test` routes on the marker a run would get.

use regex::Regex;

/// The marker `pattern` finds in `stdout`: the last line that matches gives
/// it (the match's first group, when the pattern has one, else the whole
/// match); `None` when no line matches.
pub fn find(pattern: &Regex, stdout: &str) -> Option<String> {
    stdout
        .lines()
        .rev()
        .map(|line| line.trim_end_matches('\r'))
        .find_map(|line| {
            pattern.captures(line).map(|found| {
                found
                    .get(1)
                    .or_else(|| found.get(0))
                    .map_or(String::new(), |m| m.as_str().to_string())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_matching_line_gives_its_first_group() {
        let re = Regex::new("^TESTS_(PASS|FAIL)$").expect("pattern");
        let stdout = "TESTS_PASS\nrunning again\r\nTESTS_FAIL\r\ndone\n";
        assert_eq!(find(&re, stdout).as_deref(), Some("FAIL"));
        let whole = Regex::new("DONE|WAIT").expect("pattern");
        assert_eq!(find(&whole, "x\nWAIT here\n").as_deref(), Some("WAIT"));
        assert_eq!(find(&whole, "nothing\n"), None);
    }
}
