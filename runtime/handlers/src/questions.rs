//! Interview questions: reading the questions an agent wrote (structured JSON,
//! or a markdown list as a fallback) and writing the answers back
//! (engine-semantics §5.4).

use serde::{Deserialize, Serialize};

/// At most this many questions are asked.
pub const MAX_QUESTIONS: usize = 100;

/// One question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// `q1`, `q2`, …
    pub id: String,
    /// The question.
    pub text: String,
    /// Background the asker gave.
    pub context: String,
    /// Offered answers (empty: free text).
    pub options: Vec<String>,
    /// Answerable with yes or no.
    pub is_yes_no: bool,
}

/// One answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// The answer; empty when skipped.
    pub answer: String,
    /// Anything the answerer added.
    pub elaboration: String,
}

#[derive(Deserialize)]
struct RawDoc {
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
struct RawQuestion {
    #[serde(default)]
    text: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    options: Vec<String>,
}

/// The questions in `text`: a `{"questions": [...]}` object if one can be found
/// (code fences are ignored), else numbered, bulleted or question-mark lines.
pub fn parse(text: &str) -> Vec<Question> {
    let structured = parse_structured(text);
    let raw = if structured.is_empty() {
        parse_markdown(text)
    } else {
        structured
    };
    raw.into_iter()
        .take(MAX_QUESTIONS)
        .enumerate()
        .map(|(i, (text, context, options))| {
            let options: Vec<String> = options
                .into_iter()
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty() && !is_other(o))
                .collect();
            let is_yes_no = is_yes_no(&text, &options);
            Question {
                id: format!("q{}", i + 1),
                text,
                context,
                options,
                is_yes_no,
            }
        })
        .collect()
}

type RawTuple = (String, String, Vec<String>);

fn parse_structured(text: &str) -> Vec<RawTuple> {
    let without_fences: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n");
    let Some(object) = first_balanced_object(&without_fences) else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_str::<RawDoc>(object) else {
        return Vec::new();
    };
    doc.questions
        .into_iter()
        .filter(|q| !q.text.trim().is_empty())
        .map(|q| (q.text.trim().to_string(), q.context, q.options))
        .collect()
}

/// The first `{…}` in `text` whose braces balance, skipping braces inside
/// strings.
pub fn first_balanced_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

const IMPERATIVES: [&str; 10] = [
    "describe", "explain", "list", "specify", "provide", "choose", "select", "confirm", "rate",
    "rank",
];

fn parse_markdown(text: &str) -> Vec<RawTuple> {
    let mut in_fence = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || line.is_empty() {
            continue;
        }
        let numbered = strip_number(line);
        let bullet = line.strip_prefix("- ").or_else(|| line.strip_prefix("* "));
        let body = numbered.or(bullet).unwrap_or(line).trim();
        let (question, options) = split_options(body);
        let lower = question.to_lowercase();
        let asks = question.ends_with('?');
        let take = match (numbered, bullet) {
            (Some(_), _) => asks || IMPERATIVES.iter().any(|v| lower.starts_with(v)),
            (None, Some(_)) => asks,
            (None, None) => asks,
        };
        if take {
            out.push((question.to_string(), String::new(), options));
        }
    }
    out
}

/// `1. text` / `1) text` → `text`.
fn strip_number(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let rest = &line[digits..];
    rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") "))
}

/// `Which one? (a, b)` → (`Which one?`, [a, b]).
fn split_options(text: &str) -> (&str, Vec<String>) {
    if let Some(open) = text.rfind('(') {
        if text.ends_with(')') {
            let head = text[..open].trim_end();
            if head.ends_with('?') {
                let inner = &text[open + 1..text.len() - 1];
                let options: Vec<String> = inner
                    .split([',', '/'])
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty())
                    .collect();
                if options.len() > 1 {
                    return (head, options);
                }
            }
        }
    }
    (text, Vec::new())
}

fn is_other(option: &str) -> bool {
    let lower = option.to_lowercase();
    lower == "other"
        || lower
            .strip_prefix("other")
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| !c.is_alphanumeric())
}

fn is_yes_no(text: &str, options: &[String]) -> bool {
    if options.is_empty() {
        const STARTS: [&str; 10] = [
            "do ", "does ", "is ", "are ", "can ", "will ", "would ", "should ", "have ", "has ",
        ];
        let lower = text.to_lowercase();
        return STARTS.iter().any(|s| lower.starts_with(s));
    }
    let mut lower: Vec<String> = options.iter().map(|o| o.to_lowercase()).collect();
    lower.sort();
    lower == ["no", "yes"]
}

/// The response an interviewer gives with an interview's answers when the
/// person canceled it: the answers given so far stand, marked canceled.
pub const CANCELED: &str = "canceled";

/// The answers document stored in the context.
#[derive(Serialize)]
struct AnswersDoc<'a> {
    questions: Vec<AnsweredQuestion<'a>>,
    incomplete: bool,
    canceled: bool,
}

#[derive(Serialize)]
struct AnsweredQuestion<'a> {
    id: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    options: &'a [String],
    answer: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    elaboration: &'a str,
}

/// The answers as JSON (`{"questions": [...], "incomplete": …, "canceled": …}`).
pub fn answers_json(questions: &[Question], answers: &[Answer], canceled: bool) -> String {
    let empty = Answer::default();
    let doc = AnswersDoc {
        questions: questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let a = answers.get(i).unwrap_or(&empty);
                AnsweredQuestion {
                    id: &q.id,
                    text: &q.text,
                    options: &q.options,
                    answer: &a.answer,
                    elaboration: &a.elaboration,
                }
            })
            .collect(),
        incomplete: answers.iter().filter(|a| !a.answer.is_empty()).count() < questions.len(),
        canceled,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

/// The answers as the markdown summary agents read.
pub fn answers_summary(questions: &[Question], answers: &[Answer]) -> String {
    let mut out = String::from("## Interview Answers\n");
    let mut answered = 0;
    for (i, q) in questions.iter().enumerate() {
        let a = answers.get(i).cloned().unwrap_or_default();
        out.push_str(&format!("\n**Q{}: {}**\n", i + 1, q.text));
        if a.answer.is_empty() {
            out.push_str("(skipped)");
        } else {
            answered += 1;
            out.push_str(&a.answer);
        }
        if !a.elaboration.is_empty() {
            out.push_str(&format!(" — {}", a.elaboration));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n---\n*{answered} of {} questions answered*",
        questions.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_questions_parse_and_classify() {
        let qs = parse(tracker_runtime::llm::stub::INTERVIEW_QUESTIONS);
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].id, "q1");
        assert_eq!(qs[0].options, ["postgres", "sqlite"]);
        assert!(!qs[0].is_yes_no);
        assert!(qs[1].is_yes_no);
    }

    #[test]
    fn fenced_json_and_other_options() {
        let text = "Here:\n```json\n{\"questions\":[{\"text\":\"Pick\",\"options\":[\"a\",\"Other (specify)\",\"b\"]}]}\n```";
        let qs = parse(text);
        assert_eq!(qs[0].options, ["a", "b"]);
    }

    #[test]
    fn markdown_fallback() {
        let qs = parse("Some intro.\n1. Which database should we use? (postgres, sqlite)\n2. Describe the deployment target\n- Is this urgent?\nNot a question.");
        let texts: Vec<&str> = qs.iter().map(|q| q.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Which database should we use?",
                "Describe the deployment target",
                "Is this urgent?"
            ]
        );
        assert_eq!(qs[0].options, ["postgres", "sqlite"]);
        assert!(qs[2].is_yes_no);
    }

    #[test]
    fn answers_render_as_json_and_summary() {
        let qs = parse(tracker_runtime::llm::stub::INTERVIEW_QUESTIONS);
        let answers = [
            Answer {
                answer: "postgres".into(),
                elaboration: String::new(),
            },
            Answer::default(),
        ];
        let json = answers_json(&qs, &answers, false);
        assert!(json.contains(r#""answer":"postgres""#));
        assert!(json.contains(r#""incomplete":true"#));
        let summary = answers_summary(&qs, &answers);
        assert!(summary
            .starts_with("## Interview Answers\n\n**Q1: Which storage backend?**\npostgres\n"));
        assert!(summary.ends_with("*1 of 2 questions answered*"));
    }
}
