//! The one-line prompts, as one type: the confirmation typed before a check
//! that can create data, the evidence of a manual check, the reason a step
//! is blocked, and an API key. Each is a question, what was typed, the keys
//! shown under the input and what Enter does (`keys.rs` handles the keys,
//! `ui/prompt.rs` draws it).

use crate::guide::CheckRequest;

#[derive(Debug, Clone, PartialEq)]
pub struct LineInput {
    /// The question above the input line (may be more than one line).
    pub question: String,
    /// The keys shown under the input line.
    pub keys: String,
    pub typed: Typed,
    pub purpose: LinePurpose,
}

/// What Enter does.
#[derive(Debug, Clone, PartialEq)]
pub enum LinePurpose {
    /// Sends the check if what was typed is `expected` (the environment's
    /// name).
    Confirm { expected: String, then: Box<CheckRequest> },
    /// Runs the check with the evidence typed (empty: only the automated
    /// checks), asking for a confirmation next if it can create data.
    Evidence { then: Box<CheckRequest>, confirm_writes: bool },
    /// Marks the step blocked; the reason typed becomes its note.
    BlockReason { guide: String, step: String },
    /// Keeps the key typed in memory for this guide and environment.
    Key { guide: String, env: String },
}

/// The text typed. A key's is secret: shown as dots, never in `Debug`,
/// pasted as it is (trimmed) rather than sanitized.
#[derive(Clone, PartialEq, Default)]
pub struct Typed {
    text: String,
    secret: bool,
}

impl std::fmt::Debug for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.secret {
            write!(f, "Typed(secret, {} chars)", self.text.chars().count())
        } else {
            write!(f, "Typed({:?})", self.text)
        }
    }
}

impl Typed {
    /// Text that is typed in the open (already holding `text`).
    pub fn plain(text: &str) -> Typed {
        Typed { text: text.to_string(), secret: false }
    }

    /// A key: shown as dots, never printed.
    pub fn secret() -> Typed {
        Typed { text: String::new(), secret: true }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_secret(&self) -> bool {
        self.secret
    }

    pub fn push(&mut self, c: char) {
        self.text.push(c);
    }

    pub fn pop(&mut self) {
        self.text.pop();
    }

    /// Pasted text: one line, sanitized (a key: as it is, trimmed).
    pub fn paste(&mut self, text: &str) {
        if self.secret {
            self.text.push_str(text.trim());
        } else {
            self.text.push_str(&crate::sanitize::line(text));
        }
    }
}

impl LineInput {
    /// "Type sandbox to send it": before a check that can create data.
    pub fn confirm(then: CheckRequest) -> LineInput {
        let env = then.env.clone();
        LineInput {
            question: format!(
                "Sent to {env}, this check can create data at the carrier (cutover cannot rule it out). Type {env} to send it"
            ),
            keys: "Enter confirm · Esc cancel".into(),
            typed: Typed::default(),
            purpose: LinePurpose::Confirm { expected: env, then: Box::new(then) },
        }
    }

    /// The evidence of a manual check, then the run.
    pub fn evidence(question: String, keys: &str, then: CheckRequest, confirm_writes: bool) -> LineInput {
        LineInput {
            question,
            keys: keys.to_string(),
            typed: Typed::default(),
            purpose: LinePurpose::Evidence { then: Box::new(then), confirm_writes },
        }
    }

    /// Why `step` (shown as `title`) is blocked.
    pub fn block_reason(guide: String, step: String, title: &str) -> LineInput {
        LineInput {
            question: format!("Why is {title} blocked? Kept as the step's note, listed in the report."),
            keys: "Enter mark blocked (empty: no reason) · Esc cancel".into(),
            typed: Typed::default(),
            purpose: LinePurpose::BlockReason { guide, step },
        }
    }

    /// The API key for a guide's environment.
    pub fn key(guide: String, env: String) -> LineInput {
        LineInput {
            question: format!("API key for {guide} {env}: kept in memory only, never saved or shown."),
            keys: "Enter keep · Esc cancel".into(),
            typed: Typed::secret(),
            purpose: LinePurpose::Key { guide, env },
        }
    }
}
