//! Reading a guide file: TOML syntax and shape errors, then the rules a
//! guide must follow, each located as file:line:col.

use super::model::{CheckKind, CheckSpec, GUIDE_SCHEMA, Guide, Rule, RuleVerdict, Step, Success, Text};
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

/// One problem in a guide file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for GuideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
    }
}

impl std::error::Error for GuideError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

struct Errors<'a> {
    src: &'a str,
    file: &'a str,
    list: Vec<GuideError>,
    /// Problems that do not stop the guide from loading.
    warnings: Vec<GuideError>,
}

impl Errors<'_> {
    fn locate(&self, span: Option<Range<usize>>, message: String) -> GuideError {
        let (line, col) = span.map(|s| line_col(self.src, s.start)).unwrap_or((1, 1));
        GuideError { file: self.file.to_string(), line, col, message }
    }

    fn at(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        let e = self.locate(span, message.into());
        self.list.push(e);
    }

    fn warn(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        let e = self.locate(span, message.into());
        self.warnings.push(e);
    }
}

/// Parses and validates a guide. `file` names it in errors. All problems
/// found are returned, not only the first.
pub fn parse_guide(src: &str, file: &str) -> Result<Guide, Vec<GuideError>> {
    parse_guide_with_warnings(src, file).map(|(g, _)| g)
}

/// As [`parse_guide`], with the warnings of a guide that loads (an http
/// check without a success shape, say), each located.
pub fn parse_guide_with_warnings(src: &str, file: &str) -> Result<(Guide, Vec<GuideError>), Vec<GuideError>> {
    let mut errors = Errors { src, file, list: Vec::new(), warnings: Vec::new() };
    let guide: Guide = match toml::from_str(src) {
        Ok(g) => g,
        Err(e) => {
            // A guide for a newer cutover may not fit this build's fields:
            // say that, not which field it lacks.
            match newer_schema(src) {
                Some((span, found)) => errors.at(
                    Some(span),
                    format!("guide schema {found} is newer than this cutover reads; update cutover (this build reads schema {GUIDE_SCHEMA})"),
                ),
                None => errors.at(e.span(), e.message().trim().to_string()),
            }
            return Err(errors.list);
        }
    };
    validate(&guide, &mut errors);
    if errors.list.is_empty() { Ok((sanitized(guide), errors.warnings)) } else { Err(errors.list) }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

fn validate(g: &Guide, e: &mut Errors<'_>) {
    if g.schema != GUIDE_SCHEMA {
        let what = if g.schema > GUIDE_SCHEMA {
            "is newer than this cutover reads; update cutover"
        } else {
            "is not supported"
        };
        e.at(
            span_of(e.src, "schema"),
            format!("guide schema {} {what} (this build reads schema {GUIDE_SCHEMA})", g.schema),
        );
    }
    if !valid_id(g.id()) {
        e.at(Some(g.id.span()), format!("guide id {:?} must be lower-case letters, digits and dashes", g.id()));
    }
    if g.languages.is_empty() {
        e.at(span_of(e.src, "languages"), "`languages` must name at least one language");
    }
    let langs: BTreeSet<&str> = g.languages.iter().map(String::as_str).collect();
    for o in &g.originals {
        if !langs.contains(o.as_str()) {
            e.at(span_of(e.src, "originals"), format!("original language {o:?} is not in `languages`"));
        }
    }
    check_text(e, &langs, &g.title, "title", None, true);
    for (name, env) in &g.environments {
        if !valid_id(name) {
            e.at(
                span_of(e.src, name),
                format!("environment name {name:?} must be lower-case letters, digits and dashes"),
            );
        }
        if !(env.base_url.starts_with("https://") || env.base_url.starts_with("http://")) {
            e.at(
                span_of(e.src, &env.base_url),
                format!("environment {name}: base_url {:?} must start with https://", env.base_url),
            );
        }
    }
    for n in &g.notices {
        check_text(e, &langs, &n.text, "notice", None, true);
    }

    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut numbers: BTreeSet<u32> = BTreeSet::new();
    let step_ids: BTreeSet<&str> = g.steps.iter().map(|s| s.id()).collect();
    let trouble_ids: BTreeSet<&str> = g.troubleshooting.iter().map(|s| s.id()).collect();
    if g.steps.is_empty() {
        e.at(None, "a guide needs at least one [[steps]] entry");
    }
    for (i, s) in g.all_items().enumerate() {
        let is_step = i < g.steps.len();
        let id = s.id();
        if !valid_id(id) {
            e.at(Some(s.id.span()), format!("step id {id:?} must be lower-case letters, digits and dashes"));
        } else if id.chars().all(|c| c.is_ascii_digit()) {
            e.at(
                Some(s.id.span()),
                format!(
                    "step id {id:?} is only digits; a bare number names a step by its number, so an id needs a letter"
                ),
            );
        }
        if !seen.insert(id) {
            e.at(Some(s.id.span()), format!("duplicate step id {id:?}"));
        }
        if let Some(n) = s.number {
            if !is_step {
                e.at(Some(s.id.span()), format!("troubleshooting item {id:?} must not have a number"));
            } else if !numbers.insert(n) {
                e.at(Some(s.id.span()), format!("step {id:?}: number {n} is used twice"));
            }
        }
        check_text(e, &langs, &s.title, "title", Some(s), true);
        check_text(e, &langs, &s.body, "body", Some(s), false);
        for n in &s.notes {
            check_text(e, &langs, &n.text, "note", Some(s), true);
        }
        for l in &s.links {
            if !(l.url.starts_with("https://") || l.url.starts_with("http://") || l.url.starts_with("mailto:")) {
                e.at(Some(s.id.span()), format!("step {id:?}: link {:?} must be an http(s) URL", l.url));
            }
        }
        for t in &s.troubleshoot {
            if !trouble_ids.contains(t.get_ref().as_str()) {
                e.at(
                    Some(t.span()),
                    format!(
                        "step {id:?}: troubleshoot names {:?}, which is not a [[troubleshooting]] item",
                        t.get_ref()
                    ),
                );
            }
        }
        for r in &s.requires {
            if !step_ids.contains(r.get_ref().as_str()) {
                e.at(
                    Some(r.span()),
                    format!("step {id:?}: requires {:?}, which is not a step of this guide", r.get_ref()),
                );
            } else if r.get_ref() == id {
                e.at(Some(r.span()), format!("step {id:?} requires itself"));
            }
        }
        for c in &s.checks {
            validate_check(g, s, c, e);
        }
    }
}

fn check_text(e: &mut Errors<'_>, langs: &BTreeSet<&str>, t: &Text, what: &str, step: Option<&Step>, required: bool) {
    let at = step.map(|s| s.id.span());
    let whose = step.map(|s| format!("step {:?}: ", s.id())).unwrap_or_default();
    if required && t.is_empty() {
        e.at(at.clone(), format!("{whose}{what} is empty"));
    }
    for l in t.langs() {
        if !langs.contains(l) {
            e.at(at.clone(), format!("{whose}{what} has language {l:?}, which is not in the guide's `languages`"));
        }
    }
}

fn validate_check(g: &Guide, s: &Step, c: &CheckSpec, e: &mut Errors<'_>) {
    let at = Some(c.kind.span());
    let id = s.id();
    let kind = c.kind();
    let name = kind.as_str();
    for env in &c.envs {
        if !g.environments.contains_key(env.get_ref()) {
            e.at(
                Some(env.span()),
                format!("step {id:?}: check names environment {:?}, which the guide does not define", env.get_ref()),
            );
        }
    }
    let needs_env = matches!(kind, CheckKind::Http | CheckKind::Probes | CheckKind::Secret);
    if needs_env && g.environments.is_empty() {
        e.at(at.clone(), format!("step {id:?}: a {name} check needs the guide to define [environments]"));
    }
    let has_request = c.method.is_some()
        || c.path.is_some()
        || !c.query.is_empty()
        || !c.headers.is_empty()
        || c.body.is_some()
        || !c.expect_status.is_empty()
        || !c.rules.is_empty();
    let mut unused = |field: &str, present: bool| {
        if present {
            e.at(at.clone(), format!("step {id:?}: `{field}` does not apply to a {name} check"));
        }
    };
    if kind != CheckKind::Http {
        unused("method/path/query/headers/body/expect_status/rules", has_request);
        unused("success", c.success.is_some());
        unused("fallback", !c.fallback.is_empty());
    }
    if kind != CheckKind::Probes {
        unused("probes", !c.probes.is_empty());
    }
    if kind != CheckKind::Command {
        unused("command", c.command.is_some());
        unused("pass_key", c.pass_key);
    }
    if kind != CheckKind::Reachability {
        unused("host", c.host.is_some());
        unused("port", c.port.is_some());
    }
    if kind != CheckKind::Manual {
        unused("evidence", c.evidence.is_some());
    }
    if let Some(f) = &c.fresh_for
        && crate::guide::parse_duration(f).is_none()
    {
        e.at(at.clone(), format!("step {id:?}: fresh_for {f:?} must look like 30m, 12h or 7d"));
    }
    match kind {
        CheckKind::Http => {
            if c.path.is_none() {
                e.at(at.clone(), format!("step {id:?}: an http check needs `path`"));
            }
            validate_request(e, id, at.clone(), c.method.as_deref(), c.path.as_deref(), &c.rules);
            validate_success(e, id, at.clone(), "the http check", c.success.as_ref(), &c.rules);
            for f in &c.fallback {
                let what = format!("fallback {:?}", f.label.get("en", &g.languages));
                if f.path.is_none() {
                    e.at(at.clone(), format!("step {id:?}: {what} needs `path`"));
                }
                if let Some(m) = &f.method
                    && !(m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("HEAD"))
                {
                    e.at(at.clone(), format!("step {id:?}: {what} uses {m}; a fallback may only read (GET or HEAD)"));
                }
                validate_request(e, id, at.clone(), f.method.as_deref(), f.path.as_deref(), &f.rules);
                validate_success(e, id, at.clone(), &what, f.success.as_ref(), &f.rules);
            }
        }
        CheckKind::Probes => {
            if c.probes.is_empty() {
                e.at(at.clone(), format!("step {id:?}: a probes check needs at least one [[...probes]] entry"));
            }
            for p in &c.probes {
                if p.path.is_none() {
                    e.at(at.clone(), format!("step {id:?}: probe {:?} needs `path`", p.group));
                }
                validate_request(e, id, at.clone(), p.method.as_deref(), p.path.as_deref(), &p.rules);
                validate_success(e, id, at.clone(), &format!("probe {:?}", p.group), p.success.as_ref(), &p.rules);
            }
        }
        CheckKind::Command => {
            match &c.command {
                None => e.at(at.clone(), format!("step {id:?}: a command check needs `command`, the name of a command in the user's config")),
                Some(n) if !valid_id(n.get_ref()) => e.at(Some(n.span()), format!("step {id:?}: command name {:?} must be lower-case letters, digits and dashes (it names a command in the user's config; a guide cannot give a command line)", n.get_ref())),
                _ => {}
            }
        }
        CheckKind::Reachability => {
            if c.host.is_none() && g.environments.is_empty() {
                e.at(at.clone(), format!("step {id:?}: a reachability check needs `host` or guide environments"));
            }
            if let Some(h) = &c.host
                && (h.contains('/') || h.contains(' ') || h.is_empty())
            {
                e.at(at.clone(), format!("step {id:?}: host {h:?} must be a bare host name"));
            }
        }
        _ => {}
    }
}

fn validate_request(
    e: &mut Errors<'_>,
    id: &str,
    at: Option<Range<usize>>,
    method: Option<&str>,
    path: Option<&str>,
    rules: &[super::model::Rule],
) {
    if let Some(m) = method
        && !matches!(m.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE")
    {
        e.at(at.clone(), format!("step {id:?}: method {m:?} is not one of GET, HEAD, POST, PUT, PATCH, DELETE"));
    }
    if let Some(p) = path
        && !p.starts_with('/')
    {
        e.at(
            at.clone(),
            format!("step {id:?}: path {p:?} must start with / (it is joined to the environment's base URL)"),
        );
    }
    for r in rules {
        if let Some(p) = &r.pointer
            && !(p.is_empty() || p.starts_with('/'))
        {
            e.at(at.clone(), format!("step {id:?}: rule pointer {p:?} must be a JSON pointer starting with /"));
        }
        if r.pointer.is_none() && (r.contains.is_some() || r.equals.is_some() || r.exists.is_some()) {
            e.at(at.clone(), format!("step {id:?}: a rule with contains/equals/exists needs `pointer`"));
        }
    }
}

/// The success shape: pointers are JSON pointers; a pass rule for a 2xx
/// whose pointer lies outside the shape can never match (a 2xx passes only
/// in that shape). Without a shape the guide still loads, with a warning.
fn validate_success(
    e: &mut Errors<'_>,
    id: &str,
    at: Option<Range<usize>>,
    what: &str,
    success: Option<&Success>,
    rules: &[Rule],
) {
    let Some(s) = success else {
        e.warn(
            at,
            format!(
                "step {id:?}: {what} declares no `success` shape, so a 2xx passes with any JSON body; declare the API's success shape (docs/guide-format.md)"
            ),
        );
        return;
    };
    for p in &s.json {
        if !p.starts_with('/') {
            e.at(
                at.clone(),
                format!("step {id:?}: {what}: success pointer {p:?} must be a JSON pointer starting with /"),
            );
        }
    }
    if s.json.is_empty() && !s.empty && !s.text {
        e.at(
            at.clone(),
            format!("step {id:?}: {what}: `success` needs `json` pointers, `empty = true` or `text = true`"),
        );
    }
    let within = |p: &str| {
        s.json
            .iter()
            .any(|shape| p == shape || p.strip_prefix(shape.as_str()).is_some_and(|rest| rest.starts_with('/')))
    };
    for r in rules {
        let for_2xx = r.status.is_empty() || r.status.iter().all(|st| (200..300).contains(st));
        if r.verdict != RuleVerdict::Pass || !for_2xx || r.exists == Some(false) {
            continue;
        }
        if let Some(p) = &r.pointer
            && !within(p)
        {
            let shape = if s.json.is_empty() { "no JSON pointers".to_string() } else { s.json.join(", ") };
            e.at(
                at.clone(),
                format!(
                    "step {id:?}: {what}: the pass rule's pointer {p:?} lies outside the success shape ({shape}); a 2xx passes only in that shape, so the rule cannot decide on its own: point it inside the shape or widen the shape"
                ),
            );
        }
    }
}

/// Best-effort location of a key or value in the source, for errors about
/// things that carry no span of their own.
/// The span and value of a top-level `schema` newer than this build's.
fn newer_schema(src: &str) -> Option<(Range<usize>, i64)> {
    #[derive(serde::Deserialize)]
    struct Probe {
        schema: Option<toml::Spanned<i64>>,
    }
    let schema = toml::from_str::<Probe>(src).ok()?.schema?;
    (*schema.get_ref() > i64::from(GUIDE_SCHEMA)).then(|| (schema.span(), *schema.get_ref()))
}

fn span_of(src: &str, needle: &str) -> Option<Range<usize>> {
    src.find(needle).map(|i| i..i + needle.len())
}

fn clean_text(t: &mut Text, multiline: bool) {
    for v in t.values_mut() {
        *v = if multiline { crate::sanitize::multiline(v) } else { crate::sanitize::line(v) };
    }
}

/// Guide text is untrusted: strip control and escape sequences once, at load.
fn sanitized(mut g: Guide) -> Guide {
    clean_text(&mut g.title, false);
    if let Some(s) = g.source.as_mut() {
        clean_text(s, false);
    }
    for n in &mut g.notices {
        clean_text(&mut n.text, true);
    }
    for s in g.steps.iter_mut().chain(g.troubleshooting.iter_mut()) {
        clean_text(&mut s.title, false);
        clean_text(&mut s.body, true);
        for n in &mut s.notes {
            clean_text(&mut n.text, true);
        }
        for c in &mut s.contacts {
            c.value = if c.kind == crate::guide::ContactKind::Web {
                crate::sanitize::url(&c.value)
            } else {
                crate::sanitize::line(&c.value)
            };
            if let Some(l) = c.label.as_mut() {
                clean_text(l, false);
            }
        }
        for l in &mut s.links {
            l.url = crate::sanitize::url(&l.url);
            if let Some(t) = l.label.as_mut() {
                clean_text(t, false);
            }
        }
        for c in &mut s.checks {
            for t in [&mut c.label, &mut c.proves, &mut c.does_not_prove, &mut c.evidence].into_iter().flatten() {
                clean_text(t, true);
            }
        }
    }
    g
}
