//! The guide's rules: which answer a rule matches, and the gates a rule's
//! verdict must pass (a pass needs a status that can say "yes" and the
//! success shape; a fail only an answer that can say "no" to the key).

use super::body::value_text;
use super::{Classified, Expect, generic_hint};
use crate::guide::{Rule, RuleVerdict};
use crate::progress::Verdict;
use serde_json::Value;

/// The answer as the rules see it.
pub(super) struct Answer<'a> {
    pub status: u16,
    pub json: Option<&'a Value>,
    pub web_page: bool,
    /// A 2xx whose body is not in the declared success shape.
    pub off_shape: bool,
}

/// The first of the guide's rules that matches the answer and whose
/// verdict the answer allows, as a result; None: the defaults decide.
/// `fallback` is the defaults' result (a rule without a hint borrows its
/// next step).
pub(super) fn first_match(
    a: &Answer<'_>,
    expect: &Expect<'_>,
    fallback: &Classified,
    retry_after: Option<u64>,
) -> Option<Classified> {
    let status = a.status;
    for rule in expect.rules {
        let allowed = match rule.verdict {
            RuleVerdict::Pass => can_pass(status, expect.status) && !a.off_shape,
            RuleVerdict::Fail => can_fail(status),
            RuleVerdict::Indeterminate | RuleVerdict::Error => true,
        };
        if !allowed || !rule_matches(rule, status, a.json) || rule.html.is_some_and(|h| h != a.web_page) {
            continue;
        }
        let verdict = match rule.verdict {
            RuleVerdict::Pass => Verdict::Pass,
            RuleVerdict::Fail => Verdict::Fail,
            RuleVerdict::Indeterminate => Verdict::Indeterminate,
            RuleVerdict::Error => Verdict::Error,
        };
        // `{status}` in a rule's message is the status that matched.
        let message = crate::sanitize::line(
            &rule.message.get(expect.lang, expect.fallbacks).replace("{status}", &status.to_string()),
        );
        let message = if message.trim().is_empty() { format!("{} ({})", verdict, status) } else { message };
        let hint = rule
            .hint
            .as_ref()
            .map(|h| crate::sanitize::line(h.get(expect.lang, expect.fallbacks)))
            .filter(|h| !h.trim().is_empty());
        // A rule without a hint borrows the default's next step, so that no
        // verdict but a pass comes without one.
        let hint = match (verdict, hint) {
            (Verdict::Pass, h) => h,
            (_, Some(h)) => Some(h),
            (_, None) => fallback.hint.clone().or_else(|| Some(generic_hint(verdict).to_string())),
        };
        // The server's own word on waiting is said whatever the rule says.
        let message = match retry_after {
            Some(s) if s > 0 && !message.contains("wait") => {
                format!("{message}; {} asks to wait {s} s", expect.carrier.unwrap_or("the server"))
            }
            _ => message,
        };
        return Some(Classified { verdict, message, hint, retry_after, excerpt: None, trace_id: None });
    }
    None
}

/// A rule may pass this status: a 2xx, a status the check expects, or a
/// 4xx that can say something about the key (not 404/410: a path that is
/// gone says nothing).
pub(super) fn can_pass(status: u16, expected: &[u16]) -> bool {
    decisive(status) && (expected.contains(&status) || !matches!(status, 404 | 410))
}

/// A rule may fail this status: only an answer that can say "no" to the key.
pub(super) fn can_fail(status: u16) -> bool {
    decisive(status) && !matches!(status, 404 | 410)
}

/// Statuses that can say something about the key: 2xx, and 4xx but 407
/// (a proxy's), 408 and 429.
pub(super) fn decisive(status: u16) -> bool {
    matches!(status, 200..=299 | 400..=406 | 409..=428 | 430..=499)
}

pub(super) fn rule_matches(rule: &Rule, status: u16, json: Option<&Value>) -> bool {
    if !rule.status.is_empty() && !rule.status.contains(&status) {
        return false;
    }
    let Some(pointer) = &rule.pointer else {
        return true;
    };
    let value = json.and_then(|j| j.pointer(pointer)).filter(|v| !v.is_null());
    let mut any_condition = false;
    if let Some(want) = rule.exists {
        any_condition = true;
        if value.is_some() != want {
            return false;
        }
    }
    if let Some(needle) = &rule.contains {
        any_condition = true;
        let Some(v) = value else { return false };
        if !value_text(v).to_lowercase().contains(&needle.to_lowercase()) {
            return false;
        }
    }
    if let Some(want) = &rule.equals {
        any_condition = true;
        let Some(v) = value else { return false };
        if !equals(v, want) {
            return false;
        }
    }
    // A pointer alone asks that the value be there.
    any_condition || value.is_some()
}

pub(super) fn equals(v: &Value, want: &toml::Value) -> bool {
    match (v, want) {
        (Value::String(a), toml::Value::String(b)) => a == b,
        (Value::Bool(a), toml::Value::Boolean(b)) => a == b,
        (Value::Number(a), toml::Value::Integer(b)) => a.as_i64() == Some(*b) || a.as_f64() == Some(*b as f64),
        (Value::Number(a), toml::Value::Float(b)) => a.as_f64() == Some(*b),
        // Carriers send codes as strings or numbers ("2" vs 2): compare the text.
        (Value::String(a), toml::Value::Integer(b)) => a.trim() == b.to_string(),
        (Value::Number(a), toml::Value::String(b)) => a.to_string() == b.trim(),
        _ => false,
    }
}
