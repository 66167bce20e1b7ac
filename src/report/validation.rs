//! The validation set PostNL asks for before a production key: per API
//! group the calls of the user's own integration (attachments), then
//! cutover's own checks.

use super::*;
use crate::guide::{CheckKind, CheckSpec, Guide, Step};
use crate::progress::Verdict;
use crate::sanitize;
use std::collections::BTreeSet;

const WHAT_ATTACHMENT: &str =
    "a call made by your integration (a file you attached; keys were redacted when it was attached)";
const WHAT_CUTOVER: &str = "cutover's own request, not a call made by your integration";
const WHAT_COMMAND: &str = "your own command from your config, run by cutover";

/// An API group as the guide's probes name it, with the API paths that
/// belong to it.
pub(super) struct GroupDef {
    name: String,
    norm: String,
    paths: Vec<PathMatcher>,
    /// Probe labels, for the validation set.
    labels: Vec<String>,
}

pub(super) fn group_defs(g: &Guide, lang: &str) -> Vec<GroupDef> {
    let mut out: Vec<GroupDef> = Vec::new();
    for spec in g.all_items().flat_map(|s| s.checks.iter()) {
        if spec.kind() != CheckKind::Probes {
            continue;
        }
        for p in &spec.probes {
            let name = sanitize::line(p.group.trim());
            if name.is_empty() {
                continue;
            }
            let idx = match out.iter().position(|d| d.name == name) {
                Some(i) => i,
                None => {
                    out.push(GroupDef { norm: norm(&name), name, paths: Vec::new(), labels: Vec::new() });
                    out.len() - 1
                }
            };
            let Some(def) = out.get_mut(idx) else {
                continue;
            };
            if let Some(m) = p.path.as_deref().and_then(PathMatcher::new) {
                def.paths.push(m);
            }
            if let Some(l) = &p.label {
                let l = sanitize::line(l.get(lang, &g.languages));
                if !l.is_empty() && !def.labels.contains(&l) {
                    def.labels.push(l);
                }
            }
        }
    }
    out
}

/// Lower-case letters and digits only, "&" read as "and", and "and"
/// dropped, so that "Track & Trace", "track-and-trace" and "tracktrace"
/// compare equal.
fn norm(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c == '&' {
            out.push_str("and");
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out.replace("and", "")
}

/// Matches an API path in text whatever its version:
/// `/shipment/v2/status/...` gives `/shipment/` + any version + `/status`.
#[derive(Debug, Clone, PartialEq)]
enum PathMatcher {
    Versioned { before: String, resource: String },
    Literal(String),
}

fn is_version(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next() == Some('v')
        && chars.next().is_some_and(|c| c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_digit() || c == '_' || c == '.')
}

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl PathMatcher {
    fn new(path: &str) -> Option<PathMatcher> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(|s| s.to_ascii_lowercase()).collect();
        if let Some(i) = segs.iter().position(|s| is_version(s))
            && let Some(resource) = segs.get(i + 1)
            && !resource.contains('{')
        {
            let before = if i == 0 { "/".to_string() } else { format!("/{}/", segs[..i].join("/")) };
            return Some(PathMatcher::Versioned { before, resource: resource.clone() });
        }
        let fixed: Vec<&str> = segs.iter().take_while(|s| !s.contains('{')).map(String::as_str).collect();
        if fixed.is_empty() {
            return None;
        }
        Some(PathMatcher::Literal(format!("/{}", fixed.join("/"))))
    }

    /// Where the path first occurs in `hay` (lower-case).
    fn find(&self, hay: &str) -> Option<usize> {
        match self {
            PathMatcher::Versioned { before, resource } => hay.match_indices(before.as_str()).find_map(|(pos, _)| {
                let rest = hay.get(pos + before.len()..)?;
                let vlen = rest.find(|c: char| !(word_char(c) || c == '.'))?;
                let version = rest.get(..vlen)?;
                let after = rest.get(vlen..)?.strip_prefix('/')?;
                let tail = after.strip_prefix(resource.as_str())?;
                (is_version(version) && !tail.starts_with(word_char)).then_some(pos)
            }),
            PathMatcher::Literal(lit) => hay.match_indices(lit.as_str()).find_map(|(pos, _)| {
                let tail = hay.get(pos + lit.len()..)?;
                (!tail.starts_with(word_char)).then_some(pos)
            }),
        }
    }
}

/// The group whose API path occurs first in `text`, if any.
fn group_by_path<'a>(groups: &'a [GroupDef], text: &str) -> Option<&'a GroupDef> {
    let hay = text.to_ascii_lowercase();
    groups
        .iter()
        .filter_map(|d| d.paths.iter().filter_map(|m| m.find(&hay)).min().map(|p| (p, d)))
        .min_by_key(|(p, _)| *p)
        .map(|(_, d)| d)
}

/// An attachment's group: by an API path in its content, else by the
/// group's name in its file name (the longest such name).
pub(super) fn attachment_group(groups: &[GroupDef], name: &str, content: &str) -> Option<String> {
    if let Some(d) = group_by_path(groups, content) {
        return Some(d.name.clone());
    }
    let n = norm(name);
    groups
        .iter()
        .filter(|d| !d.norm.is_empty() && n.contains(&d.norm))
        .max_by_key(|d| d.norm.len())
        .map(|d| d.name.clone())
}

/// True if the text holds an HTTP request or response (a request line, a
/// status line, a curl command, a HAR file).
pub(super) fn looks_like_call(text: &str) -> bool {
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let by_line = text.lines().take(5000).any(|l| {
        let t = l.trim_start();
        if t.starts_with("HTTP/") || t.to_ascii_lowercase().starts_with("curl ") {
            return true;
        }
        METHODS.iter().any(|m| {
            t.strip_prefix(m).and_then(|r| r.strip_prefix(' ')).is_some_and(|r| {
                let r = r.trim_start();
                r.starts_with('/') || r.to_ascii_lowercase().starts_with("http")
            })
        })
    });
    by_line || (text.contains("\"request\"") && text.contains("\"response\""))
}

// ------------------------------------------------------------------ validation set

pub(super) fn validation_set(g: &Guide, groups: &[GroupDef], steps: &[StepReport]) -> ValidationSet {
    // (group, item) pairs, in step order.
    let mut attachments: Vec<(Option<String>, AttachmentRef)> = Vec::new();
    let mut checks: Vec<(Option<String>, ValidationCheck)> = Vec::new();
    for s in steps {
        for e in s.evidence.iter().filter(|e| e.in_validation_set) {
            attachments.push((
                e.group.clone(),
                AttachmentRef {
                    what: WHAT_ATTACHMENT.to_string(),
                    step: s.step.clone(),
                    number: s.number,
                    name: e.name.clone(),
                    at: e.at,
                    by: e.by.clone(),
                    truncated: e.truncated,
                    content: e.content.clone(),
                },
            ));
        }
        let spec_step = g.item(&s.step);
        for c in &s.checks {
            let base = |what: &str, source: &str| ValidationCheck {
                what: what.to_string(),
                source: source.to_string(),
                step: s.step.clone(),
                number: s.number,
                check: c.check.clone(),
                probe: None,
                env: c.env.clone(),
                verdict: Some(c.verdict),
                message: c.message.clone(),
                request: c.request.clone(),
                http_status: c.http_status,
                hint: c.hint.clone(),
                at: c.at,
                by: c.by.clone(),
                duration_ms: Some(c.duration_ms),
                proved: c.proved.clone(),
                would_prove: c.would_prove.clone(),
                does_not_prove: c.does_not_prove.clone(),
                trace_id: c.trace_id.clone(),
            };
            match c.kind {
                Some(CheckKind::Probes) => {
                    for row in &c.details {
                        let Some((def, result)) = groups.iter().find_map(|d| {
                            let rest = row.strip_prefix(d.name.as_str())?;
                            (rest.is_empty() || rest.starts_with("  ")).then(|| (d, rest.trim().to_string()))
                        }) else {
                            continue;
                        };
                        let mut item = base(WHAT_CUTOVER, "cutover");
                        item.probe = def.labels.first().cloned();
                        item.verdict = row_verdict(&result);
                        // What the row proves follows the row's own verdict.
                        let text = item.proved.take().or(item.would_prove.take());
                        if item.verdict == Some(Verdict::Pass) {
                            item.proved = text;
                        } else {
                            item.would_prove = text;
                        }
                        item.http_status = row_status(&result);
                        item.message = result;
                        item.request = None;
                        item.hint = None;
                        item.duration_ms = None;
                        checks.push((Some(def.name.clone()), item));
                    }
                }
                Some(CheckKind::Http) => {
                    let path = spec_step
                        .and_then(|st| spec_for(st, &c.check))
                        .and_then(|(_, sp)| sp.path.clone())
                        .or_else(|| c.request.clone())
                        .unwrap_or_default();
                    let group = group_by_path(groups, &path).map(|d| d.name.clone());
                    checks.push((group, base(WHAT_CUTOVER, "cutover")));
                }
                Some(CheckKind::Command) => checks.push((None, base(WHAT_COMMAND, "command"))),
                None if c.request.is_some() => {
                    let group = c.request.as_deref().and_then(|r| group_by_path(groups, r)).map(|d| d.name.clone());
                    checks.push((group, base(WHAT_CUTOVER, "cutover")));
                }
                _ => {}
            }
        }
    }

    let mut in_scope: BTreeSet<&str> = BTreeSet::new();
    in_scope.extend(attachments.iter().filter_map(|(g, _)| g.as_deref()));
    in_scope.extend(checks.iter().filter_map(|(g, _)| g.as_deref()));
    let named: Vec<&GroupDef> = if in_scope.is_empty() {
        groups.iter().collect()
    } else {
        groups.iter().filter(|d| in_scope.contains(d.name.as_str())).collect()
    };

    let take = |group: Option<&str>| ValidationGroup {
        group: group.map(str::to_string),
        attachments: attachments.iter().filter(|(g, _)| g.as_deref() == group).map(|(_, a)| a.clone()).collect(),
        checks: checks.iter().filter(|(g, _)| g.as_deref() == group).map(|(_, c)| c.clone()).collect(),
    };
    let mut out: Vec<ValidationGroup> = named.iter().map(|d| take(Some(&d.name))).collect();
    let rest = take(None);
    if groups.is_empty() || !rest.attachments.is_empty() || !rest.checks.is_empty() {
        out.push(rest);
    }
    ValidationSet { groups: out }
}

/// The verdict behind a probes row ("enabled (200)", "not enabled (401)",
/// "unknown (429): ...", "error: ...", "skipped ...").
fn row_verdict(result: &str) -> Option<Verdict> {
    let r = result.to_ascii_lowercase();
    if r.starts_with("enabled") {
        Some(Verdict::Pass)
    } else if r.starts_with("not enabled") {
        Some(Verdict::Fail)
    } else if r.starts_with("could not tell") || r.starts_with("unknown") {
        Some(Verdict::Indeterminate)
    } else if r.starts_with("error") {
        Some(Verdict::Error)
    } else if r.starts_with("skipped") {
        Some(Verdict::Skipped)
    } else {
        None
    }
}

/// "enabled (200)" gives 200.
fn row_status(result: &str) -> Option<u16> {
    let open = result.find('(')?;
    let rest = result.get(open + 1..)?;
    let close = rest.find(')')?;
    rest.get(..close)?.trim().parse().ok()
}

/// The step's check a record came from: by label in any language, or by
/// kind for a check without a label.
pub(super) fn spec_for<'a>(step: &'a Step, check: &str) -> Option<(usize, &'a CheckSpec)> {
    step.checks.iter().enumerate().find(|(_, c)| match c.label.as_ref().filter(|l| !l.is_empty()) {
        Some(l) => l.values().any(|v| sanitize::line(v) == check),
        None => c.kind().as_str() == check,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_whatever_the_version() {
        let m = PathMatcher::new("/shipment/v2/status/barcode/3SDEVC000000000");
        assert_eq!(m, Some(PathMatcher::Versioned { before: "/shipment/".into(), resource: "status".into() }));
        let Some(m) = m else { return };
        assert_eq!(m.find("get https://api-sandbox.postnl.nl/shipment/v2_2/status/barcode/x"), Some(33));
        assert_eq!(m.find("/shipment/v2/statusx"), None);
        assert_eq!(m.find("/shipment/latest/status"), None);
    }

    #[test]
    fn literal_paths_stop_at_placeholders() {
        assert_eq!(PathMatcher::new("/api/{customer}/x"), Some(PathMatcher::Literal("/api".into())));
        assert_eq!(PathMatcher::new("/{x}"), None);
    }

    #[test]
    fn group_names_compare_loosely() {
        assert_eq!(norm("Track & Trace"), norm("track-and-trace"));
        assert_eq!(norm("Track & Trace"), norm("TrackTrace"));
        assert_ne!(norm("Shipping"), norm("Delivery Options"));
    }

    #[test]
    fn calls_are_recognised() {
        assert!(looks_like_call("POST /shipment/v2_2/label HTTP/1.1\nHost: x"));
        assert!(looks_like_call("  curl -X GET https://x"));
        assert!(looks_like_call("HTTP/1.1 200 OK"));
        assert!(!looks_like_call("Dear customer, your ticket 4711 was closed."));
        assert!(!looks_like_call("GETTING started"));
    }

    #[test]
    fn probe_rows_read_back() {
        assert_eq!(row_verdict("enabled (200)"), Some(Verdict::Pass));
        assert_eq!(row_verdict("not enabled (401)"), Some(Verdict::Fail));
        assert_eq!(row_status("not enabled (401)"), Some(401));
        assert_eq!(row_status("error: timed out"), None);
    }
}
