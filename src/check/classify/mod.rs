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

mod body;
mod defaults;
mod rules;
#[cfg(test)]
mod tests;

pub use body::excerpt;

use crate::guide::{Rule, Success};
use crate::progress::Verdict;
use body::{Body, excerpt_of, trace_id};
use jiff::Timestamp;

/// Most of a body kept as evidence, in bytes.
pub const EXCERPT_MAX: usize = 2048;

/// Most of a carrier's own error text quoted in a message, in characters.
pub(super) const QUOTE_MAX: usize = 160;

/// Most of a non-JSON body kept as evidence (its title or its start).
pub(super) const PAGE_TEXT_MAX: usize = 80;

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
    let fallback = defaults::defaults(resp, expect, &body, off_shape.as_deref(), retry_after);

    // The gateway's "Failed to resolve API Key variable" means the key
    // header never arrived: no rule can make it a refusal of the key.
    let header_lost = status == 401 && fallback.verdict == Verdict::Error;
    let ruled = if header_lost {
        None
    } else {
        let answer = rules::Answer { status, json, web_page: body.web_page, off_shape: two_xx && off_shape.is_some() };
        rules::first_match(&answer, expect, &fallback, retry_after)
    };
    let mut out = ruled.unwrap_or(fallback);
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
