//! PURE: an HTTP response (status, headers, body) and what the guide expects
//! of it -> a verdict, a message, a hint and an allow-listed excerpt.
//!
//! Order: the guide's rules first (the first that matches wins), then the
//! defaults. A 429, a 5xx, a redirect or anything unexpected never becomes a
//! `Fail`: only an answer that says "no" does.

use crate::guide::{Rule, RuleVerdict};
use crate::progress::Verdict;
use jiff::Timestamp;
use serde_json::Value;

/// Most of a body kept as evidence, in bytes.
pub const EXCERPT_MAX: usize = 2048;
/// Most of a carrier's own error text quoted in a message, in characters.
const QUOTE_MAX: usize = 160;

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
    /// Language of messages from rules, then the fallbacks.
    pub lang: &'a str,
    pub fallbacks: &'a [String],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub verdict: Verdict,
    pub message: String,
    pub hint: Option<String>,
    /// Seconds to wait before trying again (429).
    pub retry_after: Option<u64>,
    pub excerpt: Option<String>,
}

impl Response<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Classifies `resp` against `expect`.
pub fn classify(resp: &Response<'_>, expect: &Expect<'_>) -> Classified {
    let json: Option<Value> = serde_json::from_slice(resp.body).ok();
    let excerpt = excerpt(resp.body, json.as_ref(), expect.keep);
    let retry_after = if resp.status == 429 {
        resp.header("retry-after").and_then(|v| parse_retry_after(v, resp.received_at))
    } else {
        None
    };

    let decisive = decisive(resp.status);
    // A web page where the API should answer (a proxy's or a hotel
    // network's login page, a portal) proves nothing about the key, even
    // with a 200.
    let web_page = json.is_none() && is_web_page(resp);
    for rule in expect.rules {
        if web_page && rule.verdict == RuleVerdict::Pass {
            continue;
        }
        // No rule can turn an answer that proves nothing about the key (a
        // redirect, a rate limit, a server fault, a status outside HTTP's
        // range) into a pass or a fail.
        if !decisive && matches!(rule.verdict, RuleVerdict::Pass | RuleVerdict::Fail) {
            continue;
        }
        if rule_matches(rule, resp.status, json.as_ref()) {
            let verdict = match rule.verdict {
                RuleVerdict::Pass => Verdict::Pass,
                RuleVerdict::Fail => Verdict::Fail,
                RuleVerdict::Indeterminate => Verdict::Indeterminate,
                RuleVerdict::Error => Verdict::Error,
            };
            let message = crate::sanitize::line(rule.message.get(expect.lang, expect.fallbacks));
            let message = if message.trim().is_empty() { format!("{} ({})", verdict, resp.status) } else { message };
            let hint = rule
                .hint
                .as_ref()
                .map(|h| crate::sanitize::line(h.get(expect.lang, expect.fallbacks)))
                .filter(|h| !h.trim().is_empty());
            return Classified { verdict, message, hint, retry_after, excerpt };
        }
    }

    let said = carrier_said(json.as_ref());
    let with_said = |base: String| match &said {
        Some(s) => format!("{base}: \"{s}\""),
        None => base,
    };
    let status = resp.status;
    let accepted = decisive
        && if expect.status.is_empty() { (200..300).contains(&status) } else { expect.status.contains(&status) };
    let (verdict, message, hint) = if accepted && web_page {
        (
            Verdict::Indeterminate,
            format!("the answer ({status}) is a web page, not the carrier's API"),
            Some("A proxy or a network login page may be in between: open the URL in a browser, or run the check from another network.".to_string()),
        )
    } else if accepted {
        if status == 200 && has_errors_member(json.as_ref()) {
            (
                Verdict::Fail,
                with_said("the server answered 200 but its body reports errors".to_string()),
                Some("The carrier accepted the call but refused its content; see the error above.".to_string()),
            )
        } else {
            (Verdict::Pass, format!("accepted ({status})"), None)
        }
    } else {
        match status {
            401 | 403 => (
                Verdict::Fail,
                with_said(format!("the key was refused ({status})")),
                Some(if status == 401 {
                    "Check that the key belongs to this environment and was copied whole.".to_string()
                } else {
                    "The key may be valid but not allowed to use this API: check which APIs are enabled for it."
                        .to_string()
                }),
            ),
            404 => (
                Verdict::Fail,
                with_said("not found (404)".to_string()),
                Some("Check the path and API version, and that this API is enabled for the key.".to_string()),
            ),
            429 => {
                let wait = match retry_after {
                    Some(s) => format!("; try again in {s} s"),
                    None => String::new(),
                };
                (
                    Verdict::Indeterminate,
                    format!("rate limited by the server (429){wait}"),
                    Some("Wait before the next call; the result says nothing about the key yet.".to_string()),
                )
            }
            500..=599 => (
                Verdict::Indeterminate,
                with_said(format!("the server had a problem ({status})")),
                Some("Try again later; a server error says nothing about the key.".to_string()),
            ),
            300..=399 => {
                let to = resp.header("location").map(location_host).unwrap_or_else(|| "an unnamed place".to_string());
                (
                    Verdict::Indeterminate,
                    format!("redirect ({status}) to {to} not followed; the key was not sent there"),
                    Some("Check the base URL: the carrier's API should answer directly.".to_string()),
                )
            }
            400..=499 => (
                Verdict::Fail,
                with_said(format!("the request was refused ({status})")),
                Some("The server understood the call and said no; see its message.".to_string()),
            ),
            200..=299 => (Verdict::Indeterminate, format!("unexpected status {status}"), None),
            _ => (Verdict::Indeterminate, format!("unexpected status {status}"), None),
        }
    };
    Classified { verdict, message, hint, retry_after, excerpt }
}

/// An HTML document: by its content type, or by its first character.
fn is_web_page(resp: &Response<'_>) -> bool {
    let typed_html = resp.header("content-type").is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    let first = resp.body.iter().find(|b| !b.is_ascii_whitespace());
    typed_html || first == Some(&b'<')
}

/// Statuses that can say something about the key: 2xx, and 4xx but 429.
fn decisive(status: u16) -> bool {
    matches!(status, 200..=299 | 400..=428 | 430..=499)
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
    let candidates: [Option<String>; 8] = [
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
        classify(&resp, &Expect { status: expect_status, rules, keep: &keep, lang: "en", fallbacks: &fallbacks })
    }

    fn rule(status: &[u16], pointer: Option<&str>, verdict: RuleVerdict, message: &str) -> Rule {
        Rule {
            status: status.to_vec(),
            pointer: pointer.map(str::to_string),
            contains: None,
            equals: None,
            exists: None,
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
        Verdict::Fail,
        "Failed to resolve API Key variable"
    )]
    #[case::method_not_allowed(
        405,
        r#"{"message": "Only GET & POST requests allowed", "http_status_code": 405}"#,
        Verdict::Fail,
        "refused (405)"
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
        Verdict::Fail,
        "no barcode supplied in path"
    )]
    #[case::barcode_400(
        400,
        r#"{"errors":[{"ErrorMsg":"Too many numbers in series","ErrorNumber":"8"}]}"#,
        Verdict::Fail,
        "Too many numbers in series"
    )]
    #[case::delivery_options_400(400, r#"{"Date":"2019-08-24T14:15:22Z","Error":{"ErrorCode":"3000","ErrorMessage":"Request format is invalid"},"RequestId":"09fd"}"#, Verdict::Fail, "Request format is invalid")]
    #[case::postalcode_400(400, r#"{"errors":[{"status":"400","title":"Bad Request","detail":"PostalCode has the wrong format. It should be: 1234AB"}]}"#, Verdict::Fail, "PostalCode has the wrong format")]
    #[case::confirming_400(400, r#"{"ResponseShipments":[{"Errors":[{"code":"10302","description":"Length of 3S type barcode must be between 13 and 15"}],"Warnings":[],"Barcode":"3SDEVC281677095"}]}"#, Verdict::Fail, "Length of 3S type barcode")]
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
        if verdict == Verdict::Fail {
            assert!(c.hint.is_some(), "{c:?}");
        }
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
        Verdict::Fail,
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
    #[case::gateway_validation(400, r#"{"errorCode":"VALIDATION_ERROR","message":"Extra inputs are not permitted","details":[{"loc":["searchCriteria"]}]}"#, Verdict::Fail, "Extra inputs are not permitted")]
    #[case::gateway_missing_header(
        400,
        r#"{"errorCode":"MISSING_HEADER","message":"Missing header","details":null}"#,
        Verdict::Fail,
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
        Verdict::Fail,
        "not found (404)"
    )]
    #[case::shipment_not_found(404, r#"{"message":"Shipment not found"}"#, Verdict::Fail, "Shipment not found")]
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
        "the key was refused (403)"
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
            "the key was refused (403): \"Invalid ApiKey for given resource\""
        );

        let mut eq_num = rule(&[], Some("/n"), RuleVerdict::Pass, "seven");
        eq_num.equals = Some(toml::Value::Integer(7));
        assert_eq!(run(418, body, &[], &[], &[eq_num.clone()], &[]).verdict, Verdict::Pass);
        eq_num.equals = Some(toml::Value::Integer(8));
        assert_eq!(run(418, body, &[], &[], &[eq_num], &[]).verdict, Verdict::Fail);
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
        // A pointer into a non-JSON body matches nothing.
        let p = rule(&[], Some("/fault"), RuleVerdict::Fail, "x");
        assert_eq!(run(200, "plain text", &[], &[], std::slice::from_ref(&p), &[]).verdict, Verdict::Pass);
        // A web page where the API should answer proves nothing.
        assert_eq!(run(200, "<html>", &[], &[], &[p], &[]).verdict, Verdict::Indeterminate);
    }

    #[test]
    fn expect_status_overrides_defaults() {
        assert_eq!(run(404, "{}", &[], &[200, 404], &[], &[]).verdict, Verdict::Pass);
        assert_eq!(run(201, "{}", &[], &[200], &[], &[]).verdict, Verdict::Indeterminate);
        assert_eq!(run(204, "", &[], &[], &[], &[]).verdict, Verdict::Pass);
    }

    #[rstest]
    #[case::seconds("120", Some(120))]
    #[case::date("Tue, 14 Nov 2023 22:15:00 GMT", Some(100))]
    #[case::past_date("Tue, 14 Nov 2023 22:00:00 GMT", Some(0))]
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
        assert_eq!(c.excerpt.as_deref(), Some("(non-JSON body, 25 bytes, not kept)"));
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
}
