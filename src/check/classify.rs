//! PURE: an HTTP response (status, headers, body) and what the guide expects
//! of it -> a verdict, a message, a hint and an allow-listed excerpt.
//!
//! Order: the guide's rules first (the first that matches wins), then the
//! defaults. What each answer means, and why, is in docs/verdicts.md. In
//! short: only an answer that says "no" to the key fails (401, 403, a 2xx
//! whose body reports errors); a 2xx passes only in the API's declared
//! success shape; a path that is gone (404, 410), a rate limit, a server
//! fault or a redirect is indeterminate; a refusal of cutover's own request
//! (400, 405, 422) is an error in the check. Every verdict but a pass
//! carries a hint: the next thing to do.

use crate::guide::{Rule, RuleVerdict, Success};
use crate::progress::Verdict;
use jiff::Timestamp;
use serde_json::Value;

/// Most of a body kept as evidence, in bytes.
pub const EXCERPT_MAX: usize = 2048;
/// Most of a carrier's own error text quoted in a message, in characters.
const QUOTE_MAX: usize = 160;
/// Most of a non-JSON body kept as evidence (its title or its start).
const PAGE_TEXT_MAX: usize = 80;

/// What came back, as plain data.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    pub status: u16,
    /// Header names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// When the response arrived (for a Retry-After given as a date).
    pub received_at: Timestamp,
}

/// What the check expects of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect<'a> {
    /// Statuses that mean accepted; empty means any 2xx.
    pub status: &'a [u16],
    pub rules: &'a [Rule],
    /// JSON pointers whose values may be kept; nothing else is.
    pub keep: &'a [String],
    /// The API's success shape; None: any JSON body (and the message says
    /// that no shape was declared).
    pub success: Option<&'a Success>,
    /// Language of messages from rules, then the fallbacks.
    pub lang: &'a str,
    pub fallbacks: &'a [String],
    /// Who answers, for messages ("PostNL asks to wait 42 s").
    pub carrier: Option<&'a str>,
    /// The name of the proxy variable set for this request (HTTPS_PROXY),
    /// if one is: something in between may change the request.
    pub proxy: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub verdict: Verdict,
    pub message: String,
    /// The next thing to do; always set unless the verdict is a pass.
    pub hint: Option<String>,
    /// Seconds the server asks to wait before the next call (Retry-After).
    pub retry_after: Option<u64>,
    pub excerpt: Option<String>,
    /// The carrier's correlation id (RFC 9457 `traceId`), sanitized.
    pub trace_id: Option<String>,
}

impl Response<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The media type without parameters, lower case ("application/json").
    fn media_type(&self) -> String {
        // Untrusted: sanitized and short, as anything a server says.
        self.header("content-type")
            .map(|t| crate::sanitize::line(t.split(';').next().unwrap_or("").trim()).to_ascii_lowercase())
            .map(|t| t.chars().filter(|c| !c.is_control()).take(60).collect::<String>())
            .unwrap_or_default()
    }
}

/// What the body is, looked at once.
struct Body {
    json: Option<Value>,
    /// An HTML document: by its content type, or by its first character.
    web_page: bool,
    empty: bool,
    media_type: String,
    /// A page's title, or the start of a text body, sanitized.
    text: Option<String>,
}

impl Body {
    fn read(resp: &Response<'_>) -> Body {
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
    fn off_shape(&self, success: Option<&Success>) -> Option<String> {
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
fn page_text(body: &[u8], web_page: bool) -> Option<String> {
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

fn strip_tags(s: &str) -> String {
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

/// Classifies `resp` against `expect`.
pub fn classify(resp: &Response<'_>, expect: &Expect<'_>) -> Classified {
    let body = Body::read(resp);
    let json = body.json.as_ref();
    let trace_id = trace_id(json);
    let mut excerpt = excerpt_of(resp.body, &body, expect.keep);
    if let Some(t) = &trace_id
        && !excerpt.as_deref().is_some_and(|e| e.contains(t.as_str()))
    {
        let line = format!("traceId = {t}");
        excerpt = Some(match excerpt {
            Some(e) => format!("{e}\n{line}"),
            None => line,
        });
    }
    // A wait of 0 s (a date already past) is no wait at all.
    let retry_after = match resp.status {
        429 | 500..=599 => {
            resp.header("retry-after").and_then(|v| parse_retry_after(v, resp.received_at)).filter(|s| *s > 0)
        }
        _ => None,
    };
    let status = resp.status;
    let two_xx = (200..300).contains(&status);
    let off_shape = if two_xx { body.off_shape(expect.success) } else { None };
    let fallback = defaults(resp, expect, &body, off_shape.as_deref(), retry_after);

    let mut out = fallback.clone();
    // The gateway's "Failed to resolve API Key variable" means the key
    // header never arrived: no rule can make it a refusal of the key.
    let header_lost = status == 401 && fallback.verdict == Verdict::Error;
    for rule in expect.rules.iter().filter(|_| !header_lost) {
        let allowed = match rule.verdict {
            RuleVerdict::Pass => can_pass(status, expect.status) && !(two_xx && off_shape.is_some()),
            RuleVerdict::Fail => can_fail(status),
            RuleVerdict::Indeterminate | RuleVerdict::Error => true,
        };
        if !allowed || !rule_matches(rule, status, json) || rule.html.is_some_and(|h| h != body.web_page) {
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
        out = Classified { verdict, message, hint, retry_after, excerpt: None, trace_id: None };
        break;
    }
    if out.verdict != Verdict::Pass
        && let Some(t) = &trace_id
    {
        let who = expect.carrier.unwrap_or("the carrier");
        let quote = format!("Quote traceId {t} when you contact {who}.");
        out.hint = Some(match out.hint.take() {
            Some(h) if !h.contains(t.as_str()) => format!("{h} {quote}"),
            Some(h) => h,
            None => quote,
        });
    }
    if out.verdict != Verdict::Pass && out.hint.is_none() {
        out.hint = Some(generic_hint(out.verdict).to_string());
    }
    out.excerpt = excerpt;
    out.trace_id = trace_id;
    out.retry_after = retry_after;
    out
}

/// The next step for a verdict no rule or default had a better one for.
fn generic_hint(v: Verdict) -> &'static str {
    match v {
        Verdict::Fail => "Read the carrier's answer above and fix what it names, then run the check again.",
        Verdict::Error => "Report this as a bug in cutover with the kept excerpt; your key was not tested.",
        Verdict::Indeterminate | Verdict::Skipped | Verdict::Pass => {
            "Run the check again later; this answer says nothing certain about the key."
        }
    }
}

/// The carrier's own words say the key is bad (some APIs answer a bad key
/// with a 400: "API key not valid").
fn says_key_refused(said: &str) -> bool {
    let s = said.to_ascii_lowercase();
    let names_key = ["api key", "apikey", "api-key", "api_key"].iter().any(|k| s.contains(k));
    let refuses = ["invalid", "not valid", "unknown", "expired", "revoked"].iter().any(|k| s.contains(k));
    names_key && refuses
}

/// The request itself was refused as malformed: cutover built it.
fn own_request_refused(status: u16) -> bool {
    matches!(status, 400 | 405 | 406 | 411 | 413 | 414 | 415 | 422)
}

/// What the answer means without any rule of the guide's.
fn defaults(
    resp: &Response<'_>,
    expect: &Expect<'_>,
    body: &Body,
    off_shape: Option<&str>,
    retry_after: Option<u64>,
) -> Classified {
    let json = body.json.as_ref();
    let said = carrier_said(json);
    let with_said = |base: String| match &said {
        Some(s) => format!("{base}: \"{s}\""),
        None => base,
    };
    let status = resp.status;
    let who = expect.carrier.unwrap_or("the server");
    let api = expect.success.and_then(|s| s.api.as_deref()).map(|a| format!("the {a} API")).unwrap_or_else(|| {
        match expect.carrier {
            Some(c) => format!("{c}'s API"),
            None => "the carrier's API".to_string(),
        }
    });
    let accepted = decisive(status)
        && if expect.status.is_empty() { (200..300).contains(&status) } else { expect.status.contains(&status) };
    let (verdict, message, hint): (Verdict, String, Option<String>) = if accepted && (200..300).contains(&status) {
        if has_errors_member(json) {
            (
                Verdict::Fail,
                with_said(format!("the server answered {status} but its body reports errors")),
                Some("Read the carrier's error above and fix what it names, then run the check again.".into()),
            )
        } else if let Some(what) = off_shape {
            (
                Verdict::Indeterminate,
                format!(
                    "something answered {status} that is not {api}: {what}; a proxy, a login portal or a wrong base URL"
                ),
                Some(
                    "Check the base URL; open it in a browser or run the check from another network to see what answers instead."
                        .into(),
                ),
            )
        } else if expect.success.is_none() {
            (
                Verdict::Pass,
                format!("accepted ({status}); the guide declares no success shape, so any JSON answer counts"),
                None,
            )
        } else {
            (Verdict::Pass, format!("accepted ({status})"), None)
        }
    } else if accepted {
        // A non-2xx the check declares as its success (expect_status).
        (Verdict::Pass, format!("accepted ({status})"), None)
    } else {
        match status {
            401 if said.as_deref().is_some_and(|s| s.contains("Failed to resolve API Key variable")) => {
                let hint = match expect.proxy {
                    Some(var) => format!(
                        "cutover sent the key header, but it did not arrive: {var} is set, and the proxy may strip it. Run the check without the proxy or ask its admin to pass the header on."
                    ),
                    None => "cutover sent the key header, but it did not arrive: something in between (a proxy or a TLS-inspecting gateway) may strip it. Run the check from another network, or report it with the kept excerpt."
                        .to_string(),
                };
                (
                    Verdict::Error,
                    with_said("the key header did not reach the API (401)".to_string()),
                    Some(hint),
                )
            }
            401 => (
                Verdict::Fail,
                with_said("the key was refused (401)".to_string()),
                Some("Copy the key again from the carrier's portal, and check that it belongs to this environment.".into()),
            ),
            403 if body.web_page => (
                Verdict::Fail,
                format!(
                    "the request was blocked before it reached {api} (403, a web page{})",
                    body.text.as_ref().map(|t| format!(": \"{t}\"")).unwrap_or_default()
                ),
                Some(
                    "A CDN or firewall in front of the API refused the call: check the base URL and whether the gateway needs more than the key."
                        .into(),
                ),
            ),
            403 => (
                Verdict::Fail,
                with_said("access refused (403)".to_string()),
                Some("Check which APIs are enabled for the key: it may be valid but not allowed to use this one.".into()),
            ),
            404 | 410 => (
                Verdict::Indeterminate,
                with_said(format!("the path is not there (any more) ({status})")),
                Some(
                    "Check the base URL and the API version: this version may be retired. The answer says nothing about the key."
                        .into(),
                ),
            ),
            s if own_request_refused(s) && said.as_deref().is_some_and(says_key_refused) => (
                Verdict::Fail,
                with_said(format!("the key was refused ({s})")),
                Some("Copy the key again from the carrier's portal, and check that it belongs to this environment.".into()),
            ),
            s if own_request_refused(s) => (
                Verdict::Error,
                with_said(format!("cutover's own request was refused ({s})")),
                Some(
                    "This is a bug in this check, not in your key: report it with the kept excerpt.".into(),
                ),
            ),
            407 => (
                Verdict::Indeterminate,
                "a proxy between this machine and the carrier asks for its own login (407); the carrier was not reached"
                    .to_string(),
                Some(
                    "Check the proxy settings (HTTPS_PROXY and its credentials) and the base URL, or run the check from another network."
                        .into(),
                ),
            ),
            408 => (
                Verdict::Indeterminate,
                with_said("the server gave up waiting for the request (408)".to_string()),
                Some("Run the check again later; a timeout says nothing about the key.".into()),
            ),
            429 => {
                let message = match retry_after {
                    Some(s) => format!("rate limited (429): {who} asks to wait {s} s"),
                    None => "rate limited (429)".to_string(),
                };
                let hint = match retry_after {
                    Some(s) => format!("Wait {s} s before the next call; the answer says nothing about the key yet."),
                    None => "Wait a minute before the next call; the answer says nothing about the key yet.".into(),
                };
                (Verdict::Indeterminate, message, Some(hint))
            }
            500..=599 => {
                let wait = retry_after.map(|s| format!("; {who} asks to wait {s} s")).unwrap_or_default();
                (
                    Verdict::Indeterminate,
                    format!("{}{wait}", with_said(format!("the server had a problem ({status})"))),
                    Some("Run the check again later; a server error says nothing about the key.".into()),
                )
            }
            300..=399 => {
                let to = resp.header("location").map(location_host).unwrap_or_else(|| "an unnamed place".to_string());
                (
                    Verdict::Indeterminate,
                    format!("redirect ({status}) to {to} not followed; the key was not sent there"),
                    Some("Check the base URL: the carrier's API should answer directly.".into()),
                )
            }
            400..=499 => (
                Verdict::Indeterminate,
                with_said(format!("the server refused the request ({status})")),
                Some("Check the base URL and the check; this answer says nothing certain about the key.".into()),
            ),
            200..=299 => (
                Verdict::Indeterminate,
                format!("unexpected status {status}"),
                Some("Check the base URL and the statuses the check expects.".into()),
            ),
            _ => (
                Verdict::Indeterminate,
                format!("unexpected status {status}"),
                Some("Check the base URL; this answer says nothing about the key.".into()),
            ),
        }
    };
    Classified { verdict, message, hint, retry_after: None, excerpt: None, trace_id: None }
}

/// A rule may pass this status: a 2xx, a status the check expects, or a
/// 4xx that can say something about the key (not 404/410: a path that is
/// gone says nothing).
fn can_pass(status: u16, expected: &[u16]) -> bool {
    decisive(status) && (expected.contains(&status) || !matches!(status, 404 | 410))
}

/// A rule may fail this status: only an answer that can say "no" to the key.
fn can_fail(status: u16) -> bool {
    decisive(status) && !matches!(status, 404 | 410)
}

/// The carrier's correlation id: RFC 9457 problem details' `traceId` (in
/// any spelling PostNL's and Posti's bodies use), sanitized, short.
fn trace_id(json: Option<&Value>) -> Option<String> {
    let j = json?.as_object()?;
    let v = ["traceId", "traceid", "TraceId", "trace_id", "correlationId"]
        .iter()
        .find_map(|k| j.get(*k).and_then(Value::as_str))?;
    let v = crate::sanitize::line(v.trim());
    let v: String = v.chars().filter(|c| !c.is_whitespace()).take(80).collect();
    (!v.is_empty()).then_some(v)
}

/// Statuses that can say something about the key: 2xx, and 4xx but 407
/// (a proxy's), 408 and 429.
fn decisive(status: u16) -> bool {
    matches!(status, 200..=299 | 400..=406 | 409..=428 | 430..=499)
}

fn rule_matches(rule: &Rule, status: u16, json: Option<&Value>) -> bool {
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

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn equals(v: &Value, want: &toml::Value) -> bool {
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

/// A 200 body that is an object with a non-empty `errors` member (any case):
/// Posti's shipping API answers failures this way.
fn has_errors_member(json: Option<&Value>) -> bool {
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
fn carrier_said(json: Option<&Value>) -> Option<String> {
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

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max).collect::<String>()) }
}

/// The host a `Location` header points at (a relative one stays on the same
/// host), sanitized; never the path or query.
fn location_host(loc: &str) -> String {
    let loc = loc.trim();
    let host = loc
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .map(|h| h.rsplit('@').next().unwrap_or(h).to_string());
    match host {
        Some(h) if !h.is_empty() => crate::sanitize::line(&h),
        _ if loc.starts_with("//") => {
            crate::sanitize::line(loc.trim_start_matches('/').split(['/', '?', '#']).next().unwrap_or(""))
        }
        _ => "the same host".to_string(),
    }
}

/// `Retry-After`: seconds, or an HTTP date (RFC 9110) from which the wait is
/// counted from `now`.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<u64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs);
    }
    let when = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(v).ok()?;
    let secs = when.as_second() - now.as_second();
    Some(secs.max(0) as u64)
}

/// The evidence kept of a body: for JSON, the values at `keep` pointers,
/// one per line; for anything else only its content type, its length and
/// its title or first characters (the one exception to the allow-list: it
/// says what answered instead of the API). Sanitized, at most
/// [`EXCERPT_MAX`] bytes; redacted by the runner.
fn excerpt_of(raw: &[u8], body: &Body, keep: &[String]) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guide::Text;
    use rstest::rstest;

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn run(
        status: u16,
        body: &str,
        headers: &[(&str, &str)],
        expect_status: &[u16],
        rules: &[Rule],
        keep: &[&str],
    ) -> Classified {
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let keep: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
        let resp = Response { status, headers: &headers, body: body.as_bytes(), received_at: now() };
        let fallbacks = vec!["en".to_string()];
        classify(
            &resp,
            &Expect {
                status: expect_status,
                rules,
                keep: &keep,
                lang: "en",
                fallbacks: &fallbacks,
                carrier: Some("PostNL"),
                ..Expect::default()
            },
        )
    }

    /// As `run`, with a declared success shape.
    fn shaped(status: u16, body: &str, headers: &[(&str, &str)], success: &Success, rules: &[Rule]) -> Classified {
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let resp = Response { status, headers: &headers, body: body.as_bytes(), received_at: now() };
        let fallbacks = vec!["en".to_string()];
        classify(
            &resp,
            &Expect {
                rules,
                lang: "en",
                fallbacks: &fallbacks,
                carrier: Some("PostNL"),
                success: Some(success),
                ..Expect::default()
            },
        )
    }

    fn status_shape() -> Success {
        Success {
            api: Some("Shippingstatus".into()),
            json: vec!["/CurrentStatus".into(), "/CompleteStatus".into(), "/Warnings".into()],
            ..Success::default()
        }
    }

    fn rule(status: &[u16], pointer: Option<&str>, verdict: RuleVerdict, message: &str) -> Rule {
        Rule {
            status: status.to_vec(),
            pointer: pointer.map(str::to_string),
            contains: None,
            equals: None,
            exists: None,
            html: None,
            verdict,
            message: Text::one("en", message),
            hint: Some(Text::one("en", "hint from the guide")),
        }
    }

    // Every documented PostNL body (research: postnl-api.md §2), defaults only.
    #[rstest]
    #[case::status_no_shipment(
        200,
        r#"{"CurrentStatus":{},"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#,
        Verdict::Pass,
        "accepted"
    )]
    #[case::status_known(200, r#"{"CurrentStatus":{"Shipment":{"MainBarcode":"3SDEVC288882229","Customer":{"CustomerCode":"DEVC","CustomerNumber":"11223344","Name":"Testaccount API PNP"}}}}"#, Verdict::Pass, "accepted")]
    #[case::barcode(200, r#"{"Barcode": "3SDEVC903942795"}"#, Verdict::Pass, "accepted")]
    #[case::deliverydate(
        200,
        r#"{"DeliveryDate": "30-06-2016", "Options": ["Daytime","Evening"]}"#,
        Verdict::Pass,
        "accepted"
    )]
    #[case::postalcode_empty(200, "[]", Verdict::Pass, "accepted")]
    #[case::invalid_key(
        401,
        r#"{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}"#,
        Verdict::Fail,
        "the key was refused (401): \"Invalid ApiKey\""
    )]
    #[case::missing_key(
        401,
        r#"{"message": "Failed to resolve API Key variable 'request.header.apikey'", "http_status_code": 401}"#,
        Verdict::Error,
        "Failed to resolve API Key variable"
    )]
    #[case::method_not_allowed(
        405,
        r#"{"message": "Only GET & POST requests allowed", "http_status_code": 405}"#,
        Verdict::Error,
        "cutover's own request was refused (405)"
    )]
    #[case::rate_limited(
        429,
        r#"{"message": "Too many requests. Rate limit exceeded!", "http_status_code": 429}"#,
        Verdict::Indeterminate,
        "rate limited"
    )]
    #[case::server_fault(500, r#"{"fault":{"faultstring":"Unexpected EOF at target","detail":{"errorcode":"messaging.adaptors.http.flow.UnexpectedEOFAtTarget"}}}"#, Verdict::Indeterminate, "server had a problem (500)")]
    #[case::validation_fault(
        400,
        r#"{"fault":{"faultstring":"no barcode supplied in path","detail":{"errorcode":"Validation Fault"}}}"#,
        Verdict::Error,
        "no barcode supplied in path"
    )]
    #[case::barcode_400(
        400,
        r#"{"errors":[{"ErrorMsg":"Too many numbers in series","ErrorNumber":"8"}]}"#,
        Verdict::Error,
        "Too many numbers in series"
    )]
    #[case::delivery_options_400(400, r#"{"Date":"2019-08-24T14:15:22Z","Error":{"ErrorCode":"3000","ErrorMessage":"Request format is invalid"},"RequestId":"09fd"}"#, Verdict::Error, "Request format is invalid")]
    #[case::postalcode_400(400, r#"{"errors":[{"status":"400","title":"Bad Request","detail":"PostalCode has the wrong format. It should be: 1234AB"}]}"#, Verdict::Error, "PostalCode has the wrong format")]
    #[case::confirming_400(400, r#"{"ResponseShipments":[{"Errors":[{"code":"10302","description":"Length of 3S type barcode must be between 13 and 15"}],"Warnings":[],"Barcode":"3SDEVC281677095"}]}"#, Verdict::Error, "Length of 3S type barcode")]
    #[case::cendris_bad_key_400(
        400,
        r#"{"errors":[{"status":"400","title":"Bad Request","detail":"API key not valid"}]}"#,
        Verdict::Fail,
        "API key not valid"
    )]
    #[case::soap_fault(
        500,
        "<s:Envelope><s:Body><s:Fault><faultcode>s:CIF Framework Message Interceptor</faultcode><faultstring>Check CIFException in the detail section</faultstring></s:Fault></s:Body></s:Envelope>",
        Verdict::Indeterminate,
        "server had a problem (500)"
    )]
    fn postnl_bodies(#[case] status: u16, #[case] body: &str, #[case] verdict: Verdict, #[case] message_part: &str) {
        let c = run(status, body, &[("content-type", "application/json")], &[], &[], &[]);
        assert_eq!(c.verdict, verdict, "{c:?}");
        assert!(c.message.contains(message_part), "{c:?}");
        assert_eq!(c.hint.is_some(), verdict != Verdict::Pass, "every result but a pass has a hint: {c:?}");
    }

    // Every documented Posti body (research: posti-api.md §1-§2.5).
    #[rstest]
    #[case::shipping_200_errors(
        200,
        r#"{"errors":[{"message":"Invalid sender contract"}]}"#,
        Verdict::Fail,
        "body reports errors: \"Invalid sender contract\""
    )]
    #[case::shipping_200_ok(
        200,
        r#"[{"id":"1","status":"PRINTED","shipmentNo":"JJFI1","parcels":[{"parcelNo":"JJFI1"}]}]"#,
        Verdict::Pass,
        "accepted"
    )]
    #[case::shipping_200_empty_errors(200, r#"{"errors":[],"shipmentNo":"X"}"#, Verdict::Pass, "accepted")]
    #[case::v2_error_code(
        400,
        r#"{"errorCode":"E123","message":"Receiver postcode missing"}"#,
        Verdict::Error,
        "E123: Receiver postcode missing"
    )]
    #[case::gateway_unauthorized(
        401,
        r#"{"errorCode":"UNAUTHORIZED","message":"Missing token","details":null}"#,
        Verdict::Fail,
        "UNAUTHORIZED"
    )]
    #[case::gateway_expired(
        401,
        r#"{"errorCode":"EXPIRED","message":"Token expired","details":null}"#,
        Verdict::Fail,
        "EXPIRED"
    )]
    #[case::gateway_invalid_token(
        401,
        r#"{"errorCode":"INVALID_TOKEN","message":"Invalid token","details":null}"#,
        Verdict::Fail,
        "INVALID_TOKEN"
    )]
    #[case::gateway_forbidden(
        403,
        r#"{"errorCode":"FORBIDDEN","message":"Forbidden","details":null}"#,
        Verdict::Fail,
        "refused (403)"
    )]
    #[case::gateway_validation(400, r#"{"errorCode":"VALIDATION_ERROR","message":"Extra inputs are not permitted","details":[{"loc":["searchCriteria"]}]}"#, Verdict::Error, "Extra inputs are not permitted")]
    #[case::gateway_missing_header(
        400,
        r#"{"errorCode":"MISSING_HEADER","message":"Missing header","details":null}"#,
        Verdict::Error,
        "MISSING_HEADER"
    )]
    #[case::gateway_500(
        500,
        r#"{"errorCode":"INTERNAL_SERVER_ERROR","message":"Internal error","details":null}"#,
        Verdict::Indeterminate,
        "server had a problem"
    )]
    #[case::sending_code_404(
        404,
        r#"{"message":"Shipment not allowed for helposti code generation, Additional service 3196 is missing"}"#,
        Verdict::Indeterminate,
        "not there (any more) (404)"
    )]
    #[case::shipment_not_found(
        404,
        r#"{"message":"Shipment not found"}"#,
        Verdict::Indeterminate,
        "Shipment not found"
    )]
    #[case::token_error(
        401,
        r#"{"error":"invalid_client","error_description":"Bad client credentials"}"#,
        Verdict::Fail,
        "invalid_client: Bad client credentials"
    )]
    #[case::legacy_bad_credentials(
        401,
        r#"{"error":"Unauthorized","message":"Bad credentials"}"#,
        Verdict::Fail,
        "Bad credentials"
    )]
    #[case::cloudfront_403(
        403,
        "<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>403 ERROR</BODY></HTML>",
        Verdict::Fail,
        "blocked before it reached"
    )]
    #[case::token_ok(200, r#"{"access_token":"","token_type":"Bearer","expires_in":3600,"posti_fi":{"targets":{"2025-04":{"url":"https://gateway.posti.fi/2025-04","tier":0}}}}"#, Verdict::Pass, "accepted")]
    #[case::pickup_points(
        200,
        r#"{"pickupPoints":[{"id":"1","publicName":"K-Market"}],"pagingContinuationToken":"abc"}"#,
        Verdict::Pass,
        "accepted"
    )]
    fn posti_bodies(#[case] status: u16, #[case] body: &str, #[case] verdict: Verdict, #[case] message_part: &str) {
        let c = run(status, body, &[], &[], &[], &[]);
        assert_eq!(c.verdict, verdict, "{c:?}");
        assert!(c.message.contains(message_part), "{c:?}");
        assert_eq!(c.hint.is_some(), verdict != Verdict::Pass, "every result but a pass has a hint: {c:?}");
    }

    #[test]
    fn labelling_200_with_nested_errors_needs_a_rule() {
        let body = r#"{"MergedLabels":[],"ResponseShipments":[{"Barcode":"3SDEVC1","Errors":[{"Code":"111","Description":"No label available, Direct Infeed"}]}]}"#;
        // The defaults only look at a top-level `errors` member...
        assert_eq!(run(200, body, &[], &[], &[], &[]).verdict, Verdict::Pass);
        // ...a guide rule catches the nested one.
        let r = rule(&[200], Some("/ResponseShipments/0/Errors/0"), RuleVerdict::Fail, "label refused");
        let c = run(200, body, &[], &[], &[r], &[]);
        assert_eq!(c.verdict, Verdict::Fail);
        assert_eq!(c.message, "label refused");
        assert_eq!(c.hint.as_deref(), Some("hint from the guide"));
    }

    #[test]
    fn rules_first_match_wins_and_matchers() {
        let body = r#"{"fault":{"faultstring":"Invalid ApiKey for given resource","detail":{"errorcode":"oauth.v2.InvalidApiKeyForGivenResource"}},"n":7,"ok":true,"code":"2"}"#;
        let mut contains = rule(&[401], Some("/fault/faultstring"), RuleVerdict::Fail, "API not enabled");
        contains.contains = Some("FOR GIVEN RESOURCE".into());
        let generic = rule(&[401], None, RuleVerdict::Fail, "key refused");
        assert_eq!(run(401, body, &[], &[], &[contains.clone(), generic.clone()], &[]).message, "API not enabled");
        assert_eq!(run(401, body, &[], &[], &[generic.clone(), contains.clone()], &[]).message, "key refused");
        // Status set filters.
        assert_eq!(
            run(403, body, &[], &[], &[contains.clone()], &[]).message,
            "access refused (403): \"Invalid ApiKey for given resource\""
        );

        let mut eq_num = rule(&[], Some("/n"), RuleVerdict::Pass, "seven");
        eq_num.equals = Some(toml::Value::Integer(7));
        assert_eq!(run(418, body, &[], &[], &[eq_num.clone()], &[]).verdict, Verdict::Pass);
        eq_num.equals = Some(toml::Value::Integer(8));
        assert_eq!(run(418, body, &[], &[], &[eq_num], &[]).verdict, Verdict::Indeterminate);
        let mut eq_code = rule(&[], Some("/code"), RuleVerdict::Pass, "code two");
        eq_code.equals = Some(toml::Value::Integer(2));
        assert_eq!(run(418, body, &[], &[], &[eq_code], &[]).message, "code two");
        let mut eq_bool = rule(&[], Some("/ok"), RuleVerdict::Indeterminate, "bool");
        eq_bool.equals = Some(toml::Value::Boolean(true));
        assert_eq!(run(418, body, &[], &[], &[eq_bool], &[]).verdict, Verdict::Indeterminate);

        let mut absent = rule(&[], Some("/nope"), RuleVerdict::Error, "absent");
        absent.exists = Some(false);
        assert_eq!(run(200, body, &[], &[], &[absent.clone()], &[]).verdict, Verdict::Error);
        absent.exists = Some(true);
        assert_eq!(run(200, body, &[], &[], &[absent], &[]).verdict, Verdict::Pass);
        // A pointer into a non-JSON body matches nothing, and without a
        // declared shape a 2xx passes only with JSON.
        let p = rule(&[], Some("/fault"), RuleVerdict::Fail, "x");
        assert_eq!(run(200, "plain text", &[], &[], std::slice::from_ref(&p), &[]).verdict, Verdict::Indeterminate);
        // A web page where the API should answer proves nothing.
        assert_eq!(run(200, "<html>", &[], &[], &[p], &[]).verdict, Verdict::Indeterminate);
    }

    #[test]
    fn expect_status_overrides_defaults() {
        assert_eq!(run(404, "{}", &[], &[200, 404], &[], &[]).verdict, Verdict::Pass);
        assert_eq!(run(201, "{}", &[], &[200], &[], &[]).verdict, Verdict::Indeterminate);
        assert_eq!(run(204, "", &[], &[], &[], &[]).verdict, Verdict::Indeterminate);
        let empty_ok = Success { empty: true, ..Success::default() };
        assert_eq!(shaped(204, "", &[], &empty_ok, &[]).verdict, Verdict::Pass);
    }

    #[rstest]
    #[case::seconds("120", Some(120))]
    #[case::date("Tue, 14 Nov 2023 22:15:00 GMT", Some(100))]
    #[case::past_date("Tue, 14 Nov 2023 22:00:00 GMT", None)]
    #[case::garbage("soon", None)]
    fn retry_after(#[case] header: &str, #[case] want: Option<u64>) {
        let c = run(429, "{}", &[("Retry-After", header)], &[], &[], &[]);
        assert_eq!(c.verdict, Verdict::Indeterminate);
        assert_eq!(c.retry_after, want);
        assert!(c.message.contains("429"));
    }

    #[test]
    fn never_fail_on_transient() {
        for s in [429, 500, 502, 503, 504, 301, 302, 307] {
            let c =
                run(s, "{\"errors\":[\"x\"]}", &[("location", "https://elsewhere.example/x?apikey=1")], &[], &[], &[]);
            assert_eq!(c.verdict, Verdict::Indeterminate, "{s}");
        }
    }

    #[rstest]
    #[case("https://evil.example:8443/path?q=1", "evil.example:8443")]
    #[case("http://user:pw@host.test/x", "host.test")]
    #[case("/relative/path", "the same host")]
    #[case("//other.test/x", "other.test")]
    fn redirect_names_only_the_host(#[case] location: &str, #[case] host: &str) {
        let c = run(302, "", &[("Location", location)], &[], &[], &[]);
        assert_eq!(c.verdict, Verdict::Indeterminate);
        assert_eq!(c.message, format!("redirect (302) to {host} not followed; the key was not sent there"));
    }

    #[test]
    fn excerpt_keeps_only_allow_listed_values() {
        let body = r#"{"CurrentStatus":{"Shipment":{"Customer":{"Name":"Jan Jansen","Street":"Dorpsstraat 1"}}},"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#;
        let c = run(200, body, &[], &[], &[], &["/Warnings/0/Message", "/Warnings/0/Code", "/missing"]);
        assert_eq!(c.excerpt.as_deref(), Some("/Warnings/0/Message = No shipment found\n/Warnings/0/Code = 2"));
        let c = run(200, body, &[], &[], &[], &[]);
        assert_eq!(c.excerpt, None);
        let c = run(500, "<html>secret stuff</html>", &[], &[], &[], &["/x"]);
        assert_eq!(c.excerpt.as_deref(), Some("(non-JSON body: no content type, 25 bytes; title: secret stuff)"));
    }

    #[test]
    fn excerpt_is_bounded_and_clean() {
        let long = "é".repeat(5000);
        let body = format!(r#"{{"a":"{long}","b":"x\u001b[31mred\u0007"}}"#);
        let c = run(200, &body, &[], &[], &[], &["/a", "/b"]);
        let e = c.excerpt.unwrap_or_default();
        assert!(e.len() <= EXCERPT_MAX, "{}", e.len());
        assert!(e.ends_with('…'));
        let c = run(200, &body, &[], &[], &[], &["/b"]);
        assert_eq!(c.excerpt.as_deref(), Some("/b = xred"));
    }

    #[test]
    fn messages_are_sanitized() {
        let body = "{\"fault\":{\"faultstring\":\"bad\\u001b]0;pwned\\u0007 key\\u001b[2J\"}}";
        let c = run(401, body, &[], &[], &[], &[]);
        assert!(!c.message.chars().any(|ch| ch.is_control()), "{:?}", c.message);
        assert!(c.message.contains("bad key"), "{:?}", c.message);
        let long = format!("{{\"message\":\"{}\"}}", "x".repeat(1000));
        assert!(run(400, &long, &[], &[], &[], &[]).message.chars().count() < 250);
        let mut r = rule(&[], None, RuleVerdict::Fail, "evil\u{1b}[31m rule");
        r.hint = Some(Text::one("en", "hint\u{7}"));
        let c = run(400, "{}", &[], &[], &[r], &[]);
        assert_eq!(c.message, "evil rule");
        assert_eq!(c.hint.as_deref(), Some("hint"));
    }

    /// Found by the classifier property test: Posti's catch-all "key not
    /// refused" rule passed a 505.
    #[rstest]
    fn a_catch_all_rule_cannot_pass_or_fail_an_answer_that_proves_nothing(
        #[values(0, 99, 101, 302, 304, 429, 500, 505, 599, 600, 999)] status: u16,
        #[values(RuleVerdict::Pass, RuleVerdict::Fail)] verdict: RuleVerdict,
    ) {
        let rules = [rule(&[], None, verdict, "matched")];
        let c = run(status, "{}", &[], &[status], &rules, &[]);
        assert_eq!(c.verdict, Verdict::Indeterminate, "{status}: {}", c.message);
        let c = run(status, "{}", &[], &[], &[rule(&[status], None, RuleVerdict::Indeterminate, "said")], &[]);
        assert_eq!((c.verdict, c.message.as_str()), (Verdict::Indeterminate, "said"));
    }

    #[rstest]
    #[case::no_shipment(r#"{"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#, "application/json", None)]
    #[case::current(r#"{"CurrentStatus":{"Shipment":{}}}"#, "application/json;charset=UTF-8", None)]
    #[case::empty("", "application/json", Some("an empty body"))]
    #[case::other_json(r#"{"GetLocationsResult":{}}"#, "application/json", Some("JSON of another shape"))]
    #[case::null_member(r#"{"Warnings":null}"#, "application/json", Some("JSON of another shape"))]
    #[case::portal(
        "<html><head><title>Log in | Hotel WiFi</title></head></html>",
        "text/html",
        Some("a web page (\"Log in | Hotel WiFi\")")
    )]
    #[case::json_as_html(r#"{"Warnings":[]}"#, "text/html", None)]
    #[case::html_as_json("<!doctype html><p>proxy</p>", "application/json", Some("a web page"))]
    #[case::text("OK", "text/plain", Some("a body that is not JSON (text/plain)"))]
    fn a_2xx_passes_only_in_the_declared_shape(
        #[case] body: &str,
        #[case] content_type: &str,
        #[case] off: Option<&str>,
    ) {
        let c = shaped(200, body, &[("Content-Type", content_type)], &status_shape(), &[]);
        match off {
            None => assert_eq!(c.verdict, Verdict::Pass, "{c:?}"),
            Some(what) => {
                assert_eq!(c.verdict, Verdict::Indeterminate, "{c:?}");
                assert!(c.message.starts_with("something answered 200 that is not the Shippingstatus API"), "{c:?}");
                assert!(c.message.contains(what), "{c:?}");
                assert!(c.hint.as_deref().is_some_and(|h| h.contains("base URL")), "{c:?}");
            }
        }
    }

    #[test]
    fn the_shape_gates_only_a_pass() {
        // A pass rule does not fire outside the shape...
        let pass = rule(&[200], None, RuleVerdict::Pass, "key accepted");
        let c = shaped(200, r#"{"foo":1}"#, &[], &status_shape(), std::slice::from_ref(&pass));
        assert_eq!(c.verdict, Verdict::Indeterminate);
        // ...while a rule that fails a 2xx is tried first, whatever the shape.
        let mut errors = rule(&[200], Some("/errors/0"), RuleVerdict::Fail, "order refused");
        errors.exists = Some(true);
        let c = shaped(200, r#"{"errors":[{"message":"x"}]}"#, &[], &status_shape(), &[errors, pass.clone()]);
        assert_eq!((c.verdict, c.message.as_str()), (Verdict::Fail, "order refused"));
        let text_ok = Success { text: true, ..Success::default() };
        assert_eq!(shaped(200, "pong", &[], &text_ok, &[]).verdict, Verdict::Pass);
        assert_eq!(shaped(200, "<html></html>", &[], &text_ok, &[]).verdict, Verdict::Indeterminate);
    }

    #[rstest]
    fn a_gone_path_is_never_a_fail(#[values(404, 410)] status: u16) {
        let any_fail = rule(&[], None, RuleVerdict::Fail, "key refused");
        let c = run(status, r#"{"fault":{"faultstring":"Unable to identify proxy"}}"#, &[], &[], &[any_fail], &[]);
        assert_eq!(c.verdict, Verdict::Indeterminate, "{c:?}");
        let hint = c.hint.unwrap_or_default();
        assert!(hint.contains("retired") && hint.contains("base URL"), "{hint}");
        assert!(!hint.to_lowercase().contains("copy"), "{hint}");
        // A guide may still say more about it (PostNL: the phase-out).
        let said = rule(&[404, 410], None, RuleVerdict::Indeterminate, "retired? ({status})");
        let c = run(status, "", &[], &[], &[said], &[]);
        assert_eq!(c.message, format!("retired? ({status})"));
        assert_eq!(c.hint.as_deref(), Some("hint from the guide"));
    }

    #[rstest]
    #[case(405, r#"{"message": "Only GET & POST requests allowed", "http_status_code": 405}"#)]
    #[case(405, r#"{"fault":{"faultstring":"Method not allowed","detail":{"errorcode":"Method not allowed"}}}"#)]
    #[case(405, "<html><body>405 Not Allowed</body></html>")]
    #[case(405, r#"{"title":"Method Not Allowed","status":405}"#)]
    #[case(400, r#"{"fault":{"faultstring":"no barcode supplied in path","detail":{"errorcode":"Validation Fault"}}}"#)]
    #[case(
        422,
        r#"{"type":"about:blank","title":"Unprocessable","status":422,"detail":"pickUpDate must be today or later"}"#
    )]
    fn a_refusal_of_cutovers_own_request_is_an_error(#[case] status: u16, #[case] body: &str) {
        let c = run(status, body, &[], &[], &[], &[]);
        assert_eq!(c.verdict, Verdict::Error, "{c:?}");
        assert!(c.message.starts_with(&format!("cutover's own request was refused ({status})")), "{c:?}");
        let hint = c.hint.unwrap_or_default();
        assert!(hint.contains("bug in this check") && hint.contains("kept excerpt"), "{hint}");
    }

    #[test]
    fn a_stripped_key_header_names_the_proxy() {
        let body =
            r#"{"message": "Failed to resolve API Key variable 'request.header.apikey'", "http_status_code": 401}"#;
        let headers: Vec<(String, String)> = vec![];
        let resp = Response { status: 401, headers: &headers, body: body.as_bytes(), received_at: now() };
        let fallbacks = vec!["en".to_string()];
        let with_proxy = Expect { lang: "en", fallbacks: &fallbacks, proxy: Some("HTTPS_PROXY"), ..Expect::default() };
        let c = classify(&resp, &with_proxy);
        assert_eq!(c.verdict, Verdict::Error);
        assert!(c.message.contains("did not reach the API"), "{c:?}");
        assert!(c.hint.as_deref().is_some_and(|h| h.contains("HTTPS_PROXY is set")), "{c:?}");
        let c = classify(&resp, &Expect { proxy: None, ..with_proxy });
        assert!(c.hint.as_deref().is_some_and(|h| h.contains("something in between")), "{c:?}");
    }

    #[test]
    fn problem_details_give_the_message_and_keep_the_trace_id() {
        let body = r#"{"type":"https://problems.postnl.nl/unauthorized","title":"Unauthorized","status":401,"detail":"apiKey header missing or invalid","traceId":"trace-abc\u001b[2J"}"#;
        let c = run(401, body, &[("content-type", "application/problem+json")], &[], &[], &[]);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.message.contains("Unauthorized: apiKey header missing or invalid"), "{c:?}");
        assert_eq!(c.trace_id.as_deref(), Some("trace-abc"));
        assert!(c.excerpt.as_deref().is_some_and(|e| e.contains("traceId = trace-abc")), "{c:?}");
        assert!(
            c.hint.as_deref().is_some_and(|h| h.contains("Quote traceId trace-abc when you contact PostNL")),
            "{c:?}"
        );
        // A pass does not ask anyone to quote anything.
        let ok = run(200, r#"{"locations":[],"traceId":"t-1"}"#, &[], &[], &[], &[]);
        assert_eq!((ok.verdict, ok.hint), (Verdict::Pass, None));
    }

    #[rstest]
    #[case::seconds(429, "42", "PostNL asks to wait 42 s")]
    #[case::date(429, "Tue, 14 Nov 2023 22:15:00 GMT", "PostNL asks to wait 100 s")]
    #[case::unavailable(503, "30", "the server had a problem (503); PostNL asks to wait 30 s")]
    fn retry_after_is_said_and_returned(#[case] status: u16, #[case] header: &str, #[case] said: &str) {
        let c = run(status, "{}", &[("Retry-After", header)], &[], &[], &[]);
        assert_eq!(c.verdict, Verdict::Indeterminate);
        assert!(c.message.contains(said), "{c:?}");
        assert!(c.retry_after.is_some());
    }

    #[rstest]
    fn a_server_fault_names_its_code(#[values(500, 502, 503, 504, 520, 521, 522, 523, 524)] status: u16) {
        let c = run(status, "", &[], &[], &[], &[]);
        assert_eq!(c.verdict, Verdict::Indeterminate);
        assert!(c.message.contains(&format!("({status})")), "{c:?}");
        let r = rule(&[500, 502, 503, 504], None, RuleVerdict::Indeterminate, "PostNL had a server error ({status})");
        let c = run(status, "", &[], &[], &[r], &[]);
        assert!(c.message.contains(&status.to_string()), "{c:?}");
    }

    #[test]
    fn a_rule_without_a_hint_borrows_the_defaults_next_step() {
        let mut r = rule(&[405], None, RuleVerdict::Error, "method refused");
        r.hint = None;
        let c = run(405, "{}", &[], &[], &[r], &[]);
        assert_eq!(c.message, "method refused");
        assert!(c.hint.as_deref().is_some_and(|h| h.contains("bug in this check")), "{c:?}");
    }

    #[test]
    fn a_non_json_body_keeps_only_its_type_length_and_title() {
        let page = format!("<html><head><title>Sign in</title></head><body>{}</body></html>", "secret ".repeat(50));
        let c = run(200, &page, &[("Content-Type", "text/html; charset=utf-8")], &[], &[], &["/x"]);
        let e = c.excerpt.unwrap_or_default();
        assert_eq!(e, format!("(non-JSON body: text/html, {} bytes; title: Sign in)", page.len()));
        let text = "x".repeat(500);
        let c = run(502, &text, &[("Content-Type", "text/plain")], &[], &[], &[]);
        let e = c.excerpt.unwrap_or_default();
        assert!(e.starts_with("(non-JSON body: text/plain, 500 bytes; starts: xxx"), "{e}");
        assert!(e.chars().filter(|ch| *ch == 'x').count() <= PAGE_TEXT_MAX + 1, "{e}");
    }
}
