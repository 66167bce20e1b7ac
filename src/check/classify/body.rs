//! What a body says, looked at once: JSON or not, a web page, its shape
//! against the declared success shape, the carrier's own error text, the
//! trace id, and the allow-listed excerpt kept as evidence.

use super::{EXCERPT_MAX, PAGE_TEXT_MAX, QUOTE_MAX, Response};
use crate::guide::Success;
use serde_json::Value;

/// What the body is, looked at once.
pub(super) struct Body {
    pub(super) json: Option<Value>,
    /// An HTML document: by its content type, or by its first character.
    pub(super) web_page: bool,
    pub(super) empty: bool,
    pub(super) media_type: String,
    /// A page's title, or the start of a text body, sanitized.
    pub(super) text: Option<String>,
}

impl Body {
    pub(super) fn read(resp: &Response<'_>) -> Body {
        let json: Option<Value> = serde_json::from_slice(resp.body).ok();
        let media_type = resp.media_type();
        let empty = resp.body.iter().all(u8::is_ascii_whitespace);
        let first = resp.body.iter().find(|b| !b.is_ascii_whitespace());
        let web_page = json.is_none() && (media_type.contains("html") || first == Some(&b'<'));
        let text = (json.is_none() && !empty).then(|| page_text(resp.body, web_page)).flatten();
        Body { json, web_page, empty, media_type, text }
    }

    /// How this body falls short of `success`, or None if it is in shape.
    /// Without a declared shape any JSON body is in shape.
    pub(super) fn off_shape(&self, success: Option<&Success>) -> Option<String> {
        let in_shape = match (success, &self.json) {
            _ if self.web_page => false,
            (None, json) => json.is_some(),
            (Some(s), _) if self.empty => s.empty,
            (Some(s), Some(j)) => {
                s.json.iter().any(|p| j.pointer(p).is_some_and(|v| !v.is_null())) || (s.json.is_empty() && s.text)
            }
            (Some(s), None) => s.text,
        };
        if in_shape {
            return None;
        }
        Some(if self.empty && self.media_type.contains("html") {
            "an empty web page".to_string()
        } else if self.empty {
            "an empty body".to_string()
        } else if self.web_page {
            match &self.text {
                Some(t) => format!("a web page (\"{t}\")"),
                None => "a web page".to_string(),
            }
        } else if self.json.is_some() {
            "JSON of another shape".to_string()
        } else {
            let mt = if self.media_type.is_empty() { "no content type" } else { self.media_type.as_str() };
            format!("a body that is not JSON ({mt})")
        })
    }
}

/// The title of a page, or the first characters of a text body, sanitized
/// and short: the one part of a non-JSON body that may be kept.
pub(super) fn page_text(body: &[u8], web_page: bool) -> Option<String> {
    let s = String::from_utf8_lossy(body);
    let raw = if web_page {
        let lower = s.to_ascii_lowercase();
        match (lower.find("<title"), lower.find("</title>")) {
            (Some(a), Some(b)) if a < b => {
                let open_end = lower[a..].find('>').map(|i| a + i + 1).unwrap_or(a);
                s.get(open_end..b).unwrap_or("").to_string()
            }
            _ => strip_tags(&s),
        }
    } else {
        s.to_string()
    };
    let clean = crate::sanitize::line(raw.split_whitespace().collect::<Vec<_>>().join(" ").trim());
    let clean = clean.trim();
    if clean.is_empty() { None } else { Some(truncate_chars(clean, PAGE_TEXT_MAX)) }
}

pub(super) fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(4096));
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
        if out.len() > 4096 {
            break;
        }
    }
    out
}

/// The carrier's correlation id: RFC 9457 problem details' `traceId` (in
/// any spelling PostNL's and Posti's bodies use), sanitized, short.
pub(super) fn trace_id(json: Option<&Value>) -> Option<String> {
    let j = json?.as_object()?;
    let v = ["traceId", "traceid", "TraceId", "trace_id", "correlationId"]
        .iter()
        .find_map(|k| j.get(*k).and_then(Value::as_str))?;
    let v = crate::sanitize::line(v.trim());
    let v: String = v.chars().filter(|c| !c.is_whitespace()).take(80).collect();
    (!v.is_empty()).then_some(v)
}

/// A 200 body that is an object with a non-empty `errors` member (any case):
/// Posti's shipping API answers failures this way.
pub(super) fn has_errors_member(json: Option<&Value>) -> bool {
    let Some(Value::Object(map)) = json else {
        return false;
    };
    map.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("errors")
            && match v {
                Value::Null => false,
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                Value::String(s) => !s.trim().is_empty(),
                Value::Bool(b) => *b,
                Value::Number(_) => true,
            }
    })
}

/// The carrier's own error text from the fields the known error bodies use
/// (PostNL's `fault.faultstring`, `message`, `errors[].ErrorMsg`,
/// `Error.ErrorMessage`; Posti's `errorCode`/`message`, `errors[].message`,
/// `error_description`), sanitized and short. Nothing else of the body.
pub(super) fn carrier_said(json: Option<&Value>) -> Option<String> {
    let j = json?;
    let first_error = |list: &Value| -> Option<String> {
        let e = match list {
            Value::Array(a) => a.first()?,
            other => other,
        };
        if let Value::String(s) = e {
            return Some(s.clone());
        }
        for f in ["ErrorMsg", "ErrorMessage", "Description", "description", "detail", "message", "Message", "title"] {
            if let Some(Value::String(s)) = e.get(f) {
                return Some(s.clone());
            }
        }
        None
    };
    // RFC 9457 problem details: title and detail together.
    let problem = match (j.get("title").and_then(Value::as_str), j.get("detail").and_then(Value::as_str)) {
        (Some(t), Some(d)) if !d.trim().is_empty() => Some(format!("{t}: {d}")),
        (Some(t), _) if j.get("status").is_some() || j.get("type").is_some() => Some(t.to_string()),
        (None, Some(d)) if j.get("status").is_some() => Some(d.to_string()),
        _ => None,
    };
    let candidates: [Option<String>; 9] = [
        problem,
        j.pointer("/fault/faultstring").and_then(Value::as_str).map(str::to_string),
        match (j.get("errorCode").and_then(Value::as_str), j.get("message").and_then(Value::as_str)) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (Some(c), None) => Some(c.to_string()),
            _ => None,
        },
        j.get("message").and_then(Value::as_str).map(str::to_string),
        j.get("errors").and_then(first_error),
        j.get("Errors").and_then(first_error),
        j.get("Error").and_then(first_error),
        j.pointer("/ResponseShipments/0/Errors").and_then(first_error),
        match (j.get("error").and_then(Value::as_str), j.get("error_description").and_then(Value::as_str)) {
            (Some(e), Some(d)) => Some(format!("{e}: {d}")),
            (Some(e), None) => Some(e.to_string()),
            _ => None,
        },
    ];
    let s = candidates.into_iter().flatten().next()?;
    let s = crate::sanitize::line(&s);
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Some(truncate_chars(s, QUOTE_MAX))
}

pub(super) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max).collect::<String>()) }
}

/// The evidence kept of a body: for JSON, the values at `keep` pointers,
/// one per line; for anything else only its content type, its length and
/// its title or first characters (the one exception to the allow-list: it
/// says what answered instead of the API). Sanitized, at most
/// [`EXCERPT_MAX`] bytes; redacted by the runner.
pub(super) fn excerpt_of(raw: &[u8], body: &Body, keep: &[String]) -> Option<String> {
    match &body.json {
        Some(j) => excerpt(raw, Some(j), keep),
        None if body.empty => None,
        None => {
            let mt = if body.media_type.is_empty() { "no content type" } else { body.media_type.as_str() };
            let what = if body.web_page { "title" } else { "starts" };
            let text = body.text.as_ref().map(|t| format!("; {what}: {t}")).unwrap_or_default();
            Some(format!("(non-JSON body: {mt}, {} bytes{text})", raw.len()))
        }
    }
}

/// The values at `keep` pointers, one per line, sanitized, at most
/// [`EXCERPT_MAX`] bytes; for a body that is not JSON, only its size.
pub fn excerpt(body: &[u8], json: Option<&Value>, keep: &[String]) -> Option<String> {
    let Some(j) = json else {
        if body.is_empty() {
            return None;
        }
        return Some(format!("(non-JSON body, {} bytes, not kept)", body.len()));
    };
    let mut out = String::new();
    for p in keep {
        let Some(v) = j.pointer(p) else { continue };
        let line = crate::sanitize::line(&format!("{p} = {}", value_text(v)));
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
    }
    if out.is_empty() {
        return None;
    }
    if out.len() > EXCERPT_MAX {
        let mut cut = EXCERPT_MAX - "…".len();
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    Some(out)
}

pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
