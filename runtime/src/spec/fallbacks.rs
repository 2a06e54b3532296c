//! `llm_fallbacks`: the `provider/model` lanes an agent moves to when its
//! provider is out of credit (user-surface §6), read where the node is
//! compiled so that a lane that cannot work is refused before the run starts.

/// One provider and model to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The provider (`openai`, …).
    pub provider: String,
    /// The model.
    pub model: String,
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// The providers a lane may name: the four an agent can use, and the offline
/// stub.
const PROVIDERS: [&str; 5] = ["anthropic", "openai", "gemini", "openai-compat", "stub"];

/// The lanes `text` lists, comma-separated (`anthropic/claude-haiku-4-5,
/// openai/gpt-5.4`), or what is wrong with them, worded to follow the text
/// (`"gpt-5.4" is not provider/model …`): an entry that is not a known
/// provider, a `/` and a model with no spaces in it.
pub fn lanes(text: &str) -> Result<Vec<Lane>, String> {
    let entries: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    let several = entries.len() > 1;
    let which = |entry: &str| {
        if several {
            format!("has a lane, {entry:?}, that ")
        } else {
            String::new()
        }
    };
    entries
        .into_iter()
        .map(|entry| {
            let (provider, model) = entry
                .split_once('/')
                .map(|(p, m)| (p.trim(), m.trim()))
                .filter(|(p, m)| !p.is_empty() && !m.is_empty())
                .ok_or_else(|| {
                    format!(
                        "{}is not provider/model (for example openai/gpt-5.4)",
                        which(entry)
                    )
                })?;
            if !PROVIDERS.contains(&provider) {
                return Err(format!(
                    "{}names no provider tracker knows ({})",
                    which(entry),
                    PROVIDERS.join(", ")
                ));
            }
            if model.contains(char::is_whitespace) {
                return Err("has a space in a model; separate lanes with commas".to_string());
            }
            Ok(Lane {
                provider: provider.to_string(),
                model: model.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_provider_slash_model_separated_by_commas() {
        let read = lanes(" openai/gpt-5.4 ,gemini/gemini-2.5-flash,, ").expect("lanes");
        let shown: Vec<String> = read.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["openai/gpt-5.4", "gemini/gemini-2.5-flash"]);
        assert_eq!(lanes("").expect("none"), []);
        for (bad, said) in [
            ("gpt-5.4", "is not provider/model"),
            ("openai/", "is not provider/model"),
            ("/gpt-5.4", "is not provider/model"),
            ("opnai/gpt-5.4", "names no provider tracker knows"),
            (
                "openai/gpt-5.4 gemini/gemini-2.5-flash",
                "separate lanes with commas",
            ),
            (
                "openai/gpt-5.4, x",
                "has a lane, \"x\", that is not provider/model",
            ),
        ] {
            let error = lanes(bad).expect_err(bad);
            assert!(error.contains(said), "{bad}: {error}");
        }
    }
}
