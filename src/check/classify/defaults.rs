//! What an answer means without any rule of the guide's (docs/verdicts.md).

use super::body::{Body, carrier_said, has_errors_member};
use super::rules::decisive;
use super::{Classified, Expect, Response};
use crate::progress::Verdict;

/// What the answer means without any rule of the guide's.
pub(super) fn defaults(
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

/// The carrier's own words say the key is bad (some APIs answer a bad key
/// with a 400: "API key not valid").
pub(super) fn says_key_refused(said: &str) -> bool {
    let s = said.to_ascii_lowercase();
    let names_key = ["api key", "apikey", "api-key", "api_key"].iter().any(|k| s.contains(k));
    let refuses = ["invalid", "not valid", "unknown", "expired", "revoked"].iter().any(|k| s.contains(k));
    names_key && refuses
}

/// The request itself was refused as malformed: cutover built it.
pub(super) fn own_request_refused(status: u16) -> bool {
    matches!(status, 400 | 405 | 406 | 411 | 413 | 414 | 415 | 422)
}

/// The host a `Location` header points at (a relative one stays on the same
/// host), sanitized; never the path or query.
pub(super) fn location_host(loc: &str) -> String {
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
