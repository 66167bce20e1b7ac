//! The hand-off report: the same facts in Markdown, HTML and JSON, nothing
//! secret or hostile in any of them, drift flagged, and evidence attached
//! safely.

use cutover::guide::{Guide, parse_guide, step_hash};
use cutover::progress::{CheckRecord, Op, Progress, Status, Verdict};
use cutover::report::evidence::{self, Attachment};
use cutover::report::{Format, ReportInput, render};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub(super) const KEY: &str = "FAKEKEY-0123456789abcdef";
const MASK: &str = "••••cdef";

const GUIDE: &str = r#"
schema = 1
id = "demo"
version = "2026-01"
carrier = "PostNL"
title = { en = "Demo migration", nl = "Demo migratie" }
languages = ["en", "nl"]

[environments.sandbox]
base_url = "https://api-sandbox.example.test"
label = "Sandbox"
sandbox = true

[environments.production]
base_url = "https://api.example.test"
label = "Production"

[[steps]]
id = "access"
number = 1
title = { en = "Get access", nl = "Toegang" }
body.en = "Ask the servicedesk for access."

[[steps.checks]]
kind = "manual"
label = { en = "Access requested", nl = "Toegang aangevraagd" }
proves = { en = "Someone confirms that the request is with the servicedesk." }

[[steps]]
id = "sandbox-key"
number = 2
title = { en = "Sandbox key" }

[[steps.checks]]
kind = "http"
label = { en = "Sandbox key works (status lookup)" }
envs = ["sandbox"]
method = "GET"
path = "/shipment/v2/status/barcode/3SDEVC000000000"
headers = { apikey = "{api_key}" }
expect_status = [200]
fresh_for = "7d"
proves = { en = "The sandbox accepts the key for a status lookup of a barcode that does not exist." }
does_not_prove = { en = "That your integration works." }

[[steps]]
id = "groups"
number = 3
title = { en = "API groups" }

[[steps.checks]]
kind = "probes"
label = { en = "The API groups answer" }
proves = { en = "For each group: the key is accepted for that group." }
does_not_prove = { en = "That every API within a group works." }

[[steps.checks.probes]]
group = "Track & Trace"
label = { en = "Shippingstatus v2: status lookup" }
method = "GET"
path = "/shipment/v2/status/barcode/3SDEVC000000000"

[[steps.checks.probes]]
group = "Delivery Options"
label = { en = "Locations v2_1: nearest locations" }
method = "GET"
path = "/shipment/v2_1/locations/nearest"

[[steps.checks.probes]]
group = "Shipping"
label = { en = "Barcode v1_1: request a barcode" }
method = "GET"
path = "/shipment/v1_1/barcode"

[[steps]]
id = "integration"
number = 4
title = { en = "Sandbox integration" }

[[steps.checks]]
kind = "command"
label = { en = "Your own smoke test passes" }
envs = ["sandbox"]
command = "smoke-test"
proves = { en = "Your command smoke-test finished without error." }

[[steps]]
id = "production"
number = 5
title = { en = "Production key" }

[[steps.checks]]
kind = "http"
label = { en = "Production key works" }
envs = ["production"]
method = "GET"
path = "/shipment/v2/status/barcode/3SDEVC000000000"
headers = { apikey = "{api_key}" }
expect_status = [200]

[[steps]]
id = "docs"
number = 6
title = { en = "Read the docs" }

[[steps]]
id = "go-live"
number = 7
title = { en = "Go live" }

[[troubleshooting]]
id = "rate-limit"
title = { en = "Rate limited" }

[[troubleshooting]]
id = "unused"
title = { en = "Never touched" }
"#;

pub(super) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn guide() -> Guide {
    match parse_guide(GUIDE, "demo.toml") {
        Ok(g) => g,
        Err(errs) => panic!(
            "test guide does not validate: {}",
            errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
        ),
    }
}

fn record(check: &str, env: Option<&str>, verdict: Verdict, message: &str, at: &str) -> CheckRecord {
    CheckRecord {
        at: ts(at),
        by: "alice".into(),
        env: env.map(str::to_string),
        check: check.into(),
        verdict,
        message: message.into(),
        hint: None,
        duration_ms: 312,
        request: None,
        http_status: None,
        excerpt: None,
        proved: None,
        not_proved: None,
        would_prove: None,
        trace_id: None,
        key_sent_to: None,
        details: vec![],
    }
}

fn hashes(g: &Guide) -> BTreeMap<String, String> {
    g.all_items().map(|s| (s.id().to_string(), step_hash(s))).collect()
}

/// Mixed statuses and verdicts; step 1 was ticked against older content.
fn progress(g: &Guide) -> Progress {
    let h = hashes(g);
    let mut p = Progress::default();
    let mut apply = |op: Op, by: &str, at: &str| {
        p.apply(&op, by, ts(at));
        // The state keeps a run slim; a report reads it in full from the
        // check archive (`Store::with_full_records`): so does this fixture.
        if let Op::RecordCheck { guide, step, record } = &op
            && let Some(r) = p.guides.get_mut(guide).and_then(|g| g.steps.get_mut(step))
            && let Some(c) = r.checks.iter_mut().find(|c| c.same_run(record))
        {
            let mut full = (**record).clone();
            full.normalize_proof();
            *c = full;
        }
    };
    let status = |step: &str, status: Status, hash: Option<String>| Op::SetStatus {
        guide: "demo".into(),
        step: step.into(),
        status,
        hash,
    };
    let check =
        |step: &str, r: CheckRecord| Op::RecordCheck { guide: "demo".into(), step: step.into(), record: Box::new(r) };
    let note =
        |step: &str, note: &str| Op::SetNote { guide: "demo".into(), step: step.into(), note: note.into(), base: None };

    // 1: done, but the guide changed the step since (drift).
    apply(status("access", Status::Done, Some("0000stalehash0000".into())), "alice", "2026-11-20T09:00:00Z");
    apply(note("access", "Ticket 4711 | opened by *bob* on the phone"), "alice", "2026-11-20T09:01:00Z");
    apply(
        check(
            "access",
            record("Access requested", None, Verdict::Pass, "confirmed: ticket 4711", "2026-11-20T09:02:00Z"),
        ),
        "alice",
        "2026-11-20T09:02:00Z",
    );

    // 2: done with the current hash; an old fail, then a pass with excerpt.
    apply(status("sandbox-key", Status::Done, h.get("sandbox-key").cloned()), "alice", "2026-11-21T10:00:00Z");
    let mut old = record(
        "Sandbox key works (status lookup)",
        Some("sandbox"),
        Verdict::Fail,
        "PostNL refused the key (401 Invalid ApiKey).",
        "2026-11-21T09:00:00Z",
    );
    old.http_status = Some(401);
    apply(check("sandbox-key", old), "alice", "2026-11-21T09:00:00Z");
    let mut pass = record(
        "Sandbox key works (status lookup)",
        Some("sandbox"),
        Verdict::Pass,
        "Key accepted: PostNL answered 200 with \"No shipment found\" for the test barcode, as expected.",
        "2026-11-21T09:58:00Z",
    );
    pass.http_status = Some(200);
    pass.request = Some("GET https://api-sandbox.example.test/shipment/v2/status/barcode/3SDEVC000000000".into());
    pass.excerpt =
        Some("{\n  \"Warnings\": [{\"Code\": \"2\", \"Message\": \"No shipment found ```` here\"}]\n}".into());
    apply(check("sandbox-key", pass), "alice", "2026-11-21T09:58:00Z");

    // 3: in progress; the probes failed for one group, with a hint.
    apply(status("groups", Status::InProgress, h.get("groups").cloned()), "bob", "2026-11-22T08:00:00Z");
    let mut probes = record(
        "The API groups answer",
        Some("sandbox"),
        Verdict::Fail,
        "2 of 3 API groups enabled; not: Shipping",
        "2026-11-22T08:05:00Z",
    );
    probes.by = "bob".into();
    probes.hint = Some("Ask the servicedesk to link the Barcode API to your key.".into());
    probes.details = vec![
        "Track & Trace     enabled (200)".into(),
        "Delivery Options  enabled (200)".into(),
        "Shipping          not enabled (401)".into(),
    ];
    probes.duration_ms = 2450;
    apply(check("groups", probes), "bob", "2026-11-22T08:05:00Z");

    // 4: blocked; the smoke test could not run; a hostile note.
    apply(status("integration", Status::Blocked, h.get("integration").cloned()), "bob", "2026-11-22T09:00:00Z");
    apply(
        note(
            "integration",
            "Waiting for `smoke-test` | pipes | <script>alert(1)</script>\n# not a heading\n- [click](javascript:alert(1)) ```` \u{1b}[31mred\u{1b}[0m\u{7}",
        ),
        "bob",
        "2026-11-22T09:01:00Z",
    );
    let mut cmd = record(
        "Your own smoke test passes",
        Some("sandbox"),
        Verdict::Error,
        "no command \"smoke-test\" in config.toml",
        "2026-11-22T09:02:00Z",
    );
    cmd.by = "bob".into();
    cmd.hint = Some("Add [commands.smoke-test] to your config.".into());
    apply(check("integration", cmd), "bob", "2026-11-22T09:02:00Z");

    // 5: in progress; production was rate limited (indeterminate, retry).
    apply(status("production", Status::InProgress, h.get("production").cloned()), "alice", "2026-11-23T09:00:00Z");
    let mut limited = record(
        "Production key works",
        Some("production"),
        Verdict::Indeterminate,
        "Rate limit reached (429); this says nothing about your key.",
        "2026-11-23T09:30:00Z",
    );
    limited.http_status = Some(429);
    limited.hint = Some("Wait a minute and run the check again.".into());
    limited.request = Some("GET https://api.example.test/shipment/v2/status/barcode/3SDEVC000000000".into());
    apply(check("production", limited), "alice", "2026-11-23T09:30:00Z");

    // 6: skipped.
    apply(status("docs", Status::Skipped, h.get("docs").cloned()), "alice", "2026-11-23T09:40:00Z");
    // Troubleshooting item in use; a step the guide no longer has.
    apply(status("rate-limit", Status::InProgress, h.get("rate-limit").cloned()), "alice", "2026-11-23T09:31:00Z");
    apply(status("old-step", Status::Done, Some("abc".into())), "carol", "2026-01-02T03:04:05Z");
    p
}

pub(super) fn redact(s: &str) -> String {
    s.replace(KEY, MASK)
}

/// Attaches a call of "the customer's own integration" (with the key and
/// escape sequences in it) and a non-call email, through `add`.
fn attachments(dir: &Path, state: &Path) -> Vec<Attachment> {
    let call = dir.join("track-and-trace-call.txt");
    let body = format!(
        "GET /shipment/v2/status/barcode/3SABCD1234567 HTTP/1.1\r\nHost: api-sandbox.postnl.nl\r\napikey: {KEY}\r\n\u{1b}]0;owned\u{7}\u{1b}[2J\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{{\"CurrentStatus\": {{\"Shipment\": {{\"Barcode\": \"3SABCD1234567\"}}}}}}\r\n"
    );
    std::fs::write(&call, body).unwrap_or_else(|e| panic!("write: {e}"));
    let mail = dir.join("servicedesk mail.txt");
    std::fs::write(&mail, "Dear customer,\n\nyour access request has ticket 4711.\n```\nnot a fence break\n```\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let a = evidence::add(state, "demo", "integration", &call, "alice", ts("2026-11-22T10:00:00Z"), &redact)
        .unwrap_or_else(|e| panic!("add: {e}"));
    assert!(!a.content.contains(KEY));
    evidence::add(state, "demo", "access", &mail, "alice", ts("2026-11-20T09:05:00Z"), &redact)
        .unwrap_or_else(|e| panic!("add: {e}"));
    evidence::list(state, "demo").unwrap_or_else(|e| panic!("list: {e}"))
}

struct Fixture {
    guide: Guide,
    progress: Progress,
    hashes: BTreeMap<String, String>,
    evidence: Vec<Attachment>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let state = dir.path().join("state.toml");
    let guide = guide();
    let progress = progress(&guide);
    let hashes = hashes(&guide);
    let evidence = attachments(dir.path(), &state);
    Fixture { guide, progress, hashes, evidence, _dir: dir }
}

fn render_all(f: &Fixture) -> [(Format, String); 3] {
    let input = ReportInput {
        guide: &f.guide,
        lang: "en",
        progress: &f.progress,
        hashes: &f.hashes,
        evidence: &f.evidence,
        now: ts("2026-11-23T10:00:00Z"),
        generated_by: "alice",
        state_path: "~/.local/share/cutover/state.toml",
    };
    [Format::Markdown, Format::Html, Format::Json].map(|fmt| (fmt, render(&input, fmt)))
}

fn markdown(f: &Fixture) -> String {
    render_all(f)[0].1.clone()
}

fn json(f: &Fixture) -> Value {
    let text = render_all(f)[2].1.clone();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("report JSON does not parse: {e}\n{text}"))
}

#[test]
fn markdown_snapshot() {
    let f = fixture();
    insta::assert_snapshot!("report_markdown", markdown(&f));
}

#[test]
fn markdown_fences_and_escapes_hostile_content() {
    let f = fixture();
    let md = markdown(&f);
    // The excerpt holds a run of four backticks: its fence is longer.
    assert!(md.contains("`````\n{\n  \"Warnings\""), "{md}");
    // The note cannot open raw HTML, a table cell or a heading.
    assert!(md.contains("\\<script\\>"));
    // Outside code fences, every '<' is escaped.
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(f) if ticks.len() >= f.len() && line.trim_end() == ticks => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                for (i, _) in line.match_indices('<') {
                    assert!(line[..i].ends_with('\\'), "unescaped '<' in {line:?}");
                }
            }
        }
    }
    assert!(md.contains("> \\# not a heading"));
    assert!(md.contains("Waiting for \\`smoke-test\\` \\| pipes \\|"));
}

#[test]
fn json_has_the_documented_fields() {
    let f = fixture();
    let v = json(&f);
    for k in [
        "schema",
        "guide",
        "title",
        "version",
        "carrier",
        "lang",
        "generated_at",
        "generated_by",
        "state_path",
        "summary",
        "blockers",
        "validation_set",
        "steps",
    ] {
        assert!(v.get(k).is_some(), "missing top-level {k}");
    }
    assert_eq!(v["schema"], 1);
    assert_eq!(v["guide"], "demo");
    assert_eq!(v["generated_at"], "2026-11-23T10:00:00Z");
    let s = &v["summary"];
    assert_eq!(
        [&s["done"], &s["in_progress"], &s["blocked"], &s["skipped"], &s["todo"], &s["total"]],
        [&Value::from(2), &Value::from(2), &Value::from(1), &Value::from(1), &Value::from(1), &Value::from(7)]
    );
    let blockers = v["blockers"].as_array().cloned().unwrap_or_default();
    assert_eq!(blockers.len(), 1);
    assert_eq!(blockers[0]["step"], "integration");
    assert!(blockers[0]["note"].as_str().is_some_and(|n| n.contains("Waiting for") && !n.contains('\n')));

    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["step"].as_str()).collect();
    assert_eq!(
        ids,
        ["access", "sandbox-key", "groups", "integration", "production", "docs", "go-live", "rate-limit", "old-step"]
    );
    let kinds: Vec<&str> = steps.iter().filter_map(|s| s["kind"].as_str()).collect();
    assert_eq!(kinds[7], "troubleshooting");
    assert_eq!(kinds[8], "removed");
    for s in &steps {
        for k in ["step", "number", "title", "kind", "status", "by", "at", "drift", "note", "checks", "evidence"] {
            assert!(s.get(k).is_some(), "step field {k} missing in {s}");
        }
    }
    // The latest run per label: the pass replaced the earlier fail.
    let key = &steps[1]["checks"];
    assert_eq!(key.as_array().map(Vec::len), Some(1));
    let c = &key[0];
    for k in [
        "check",
        "kind",
        "env",
        "verdict",
        "message",
        "hint",
        "at",
        "by",
        "duration_ms",
        "request",
        "http_status",
        "excerpt",
        "details",
        "proved",
        "would_prove",
        "does_not_prove",
        "trace_id",
        "stale",
        "fresh_for",
    ] {
        assert!(c.get(k).is_some(), "check field {k} missing in {c}");
    }
    assert_eq!(c["verdict"], "pass");
    assert_eq!(c["kind"], "http");
    assert_eq!(c["env"], "sandbox");
    assert_eq!(c["http_status"], 200);
    assert_eq!(c["duration_ms"], 312);
    assert_eq!(c["stale"], false);
    // A pass claims what it proved; nothing is left to "would prove".
    assert!(c["proved"].as_str().is_some_and(|p| p.contains("does not exist")));
    assert!(c["would_prove"].is_null());
    let verdicts: Vec<String> = steps
        .iter()
        .flat_map(|s| s["checks"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["verdict"].as_str().map(str::to_string))
        .collect();
    assert_eq!(verdicts, ["pass", "pass", "fail", "error", "indeterminate"]);

    // Evidence: the call went to the validation set under its group.
    let ev = &steps[3]["evidence"][0];
    assert_eq!(ev["name"], "track-and-trace-call.txt");
    assert_eq!(ev["in_validation_set"], true);
    assert_eq!(ev["group"], "Track & Trace");
    assert_eq!(ev["by"], "alice");
    assert!(ev["content"].as_str().is_some_and(|c| c.contains(MASK)));
    let mail = &steps[0]["evidence"][0];
    assert_eq!(mail["in_validation_set"], false);

    // Validation set: groups in scope, the customer's call first.
    let groups = v["validation_set"]["groups"].as_array().cloned().unwrap_or_default();
    let names: Vec<Value> = groups.iter().map(|g| g["group"].clone()).collect();
    assert_eq!(
        names,
        [Value::from("Track & Trace"), Value::from("Delivery Options"), Value::from("Shipping"), Value::Null]
    );
    let tt = &groups[0];
    assert_eq!(tt["attachments"][0]["name"], "track-and-trace-call.txt");
    assert!(tt["attachments"][0].get("content").is_none());
    let tt_checks: Vec<(&str, &str)> = tt["checks"]
        .as_array()
        .map(|a| a.iter().map(|c| (c["check"].as_str().unwrap_or(""), c["source"].as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    assert_eq!(
        tt_checks,
        [
            ("Sandbox key works (status lookup)", "cutover"),
            ("The API groups answer", "cutover"),
            ("Production key works", "cutover")
        ]
    );
    assert!(tt["checks"][0]["what"].as_str().is_some_and(|w| w.contains("not a call made by your integration")));
    assert_eq!(groups[2]["checks"][0]["verdict"], "fail");
    assert_eq!(groups[2]["checks"][0]["http_status"], 401);
    assert_eq!(groups[3]["checks"][0]["source"], "command");
}

#[test]
fn html_is_self_contained_and_escaped() {
    let f = fixture();
    let html = render_all(&f)[1].1.clone();
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script in the HTML");
    for bad in ["src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object"] {
        assert!(!lower.contains(bad), "the HTML loads or links something: {bad}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Every '<' opens one of the report's own tags.
    const TAGS: [&str; 22] = [
        "!DOCTYPE",
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "h3",
        "h4",
        "table",
        "tr",
        "th",
        "td",
        "p",
        "ul",
        "li",
        "code",
        "pre",
        "blockquote",
        "strong",
    ];
    for (i, _) in html.match_indices('<') {
        let rest = &html[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let ok = TAGS.iter().any(|t| rest.starts_with(t) && rest[t.len()..].starts_with(['>', ' ']))
            || rest.starts_with("span");
        assert!(ok, "unexpected '<' at {i}: {}", &html[i..(i + 40).min(html.len())]);
    }
    assert!(html.contains("Changed since it was marked done"));
}

#[test]
fn no_format_holds_the_key_or_control_characters() {
    let f = fixture();
    for (fmt, text) in render_all(&f) {
        assert!(!text.contains(KEY), "{fmt} holds the key");
        assert!(!text.contains("owned"), "{fmt} kept an OSC title");
        let bad: Vec<char> =
            text.chars().filter(|c| (c.is_control() && *c != '\n') || ('\u{80}'..='\u{9f}').contains(c)).collect();
        assert!(bad.is_empty(), "{fmt} holds control characters: {bad:?}");
    }
    // And the stored file is redacted and clean as well.
    let stored = f.evidence.iter().map(|a| a.content.clone()).collect::<String>();
    assert!(!stored.contains(KEY) && !stored.contains('\u{1b}') && !stored.contains('\r'));
}

#[test]
fn drift_is_flagged_only_where_the_hash_differs() {
    let f = fixture();
    let v = json(&f);
    let drifted: Vec<&str> = v["steps"]
        .as_array()
        .map(|a| a.iter().filter(|s| s["drift"] == true).filter_map(|s| s["step"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(drifted, ["access"]);
    let md = markdown(&f);
    assert_eq!(md.matches("Changed since it was marked").count(), 1);
    let access = md.find("### 1. Get access").unwrap_or(usize::MAX);
    let key = md.find("### 2. Sandbox key").unwrap_or(0);
    let flag = md.find("Changed since it was marked done").unwrap_or(0);
    assert!(access < flag && flag < key, "the flag belongs to step 1");
}

#[test]
fn stale_verdicts_are_marked() {
    let f = fixture();
    let input = ReportInput {
        guide: &f.guide,
        lang: "en",
        progress: &f.progress,
        hashes: &f.hashes,
        evidence: &f.evidence,
        now: ts("2026-12-23T10:00:00Z"),
        generated_by: "alice",
        state_path: "state.toml",
    };
    let v: Value = serde_json::from_str(&render(&input, Format::Json)).unwrap_or_default();
    assert_eq!(v["steps"][1]["checks"][0]["stale"], true);
    assert_eq!(v["steps"][1]["checks"][0]["fresh_for"], "7d");
    assert!(render(&input, Format::Markdown).contains("Stale: older than 7d"));
}

#[test]
fn the_postnl_guide_gets_a_validation_set_per_api_group() {
    let (file, src) =
        cutover::guide::catalog::BUILT_IN.iter().find(|(f, _)| f.contains("postnl")).copied().unwrap_or(("", ""));
    let g = parse_guide(src, file).unwrap_or_else(|_| panic!("postnl guide"));
    let mut p = Progress::default();
    let mut status = record(
        "Sandbox key works (status lookup)",
        Some("sandbox"),
        Verdict::Pass,
        "Key accepted",
        "2026-11-23T09:00:00Z",
    );
    status.http_status = Some(200);
    p.apply(
        &Op::RecordCheck { guide: "postnl".into(), step: "sandbox-api-key".into(), record: Box::new(status) },
        "alice",
        ts("2026-11-23T09:00:00Z"),
    );
    let mut probes = record(
        "The API groups answer",
        Some("sandbox"),
        Verdict::Pass,
        "1 of 1 API groups enabled",
        "2026-11-23T09:01:00Z",
    );
    probes.details = vec!["Delivery Options  enabled (200)".into()];
    p.apply(
        &Op::RecordCheck { guide: "postnl".into(), step: "manage-apis".into(), record: Box::new(probes) },
        "alice",
        ts("2026-11-23T09:01:00Z"),
    );
    let h = hashes(&g);
    let input = ReportInput {
        guide: &g,
        lang: "nl",
        progress: &p,
        hashes: &h,
        evidence: &[],
        now: ts("2026-11-23T10:00:00Z"),
        generated_by: "alice",
        state_path: "state.toml",
    };
    let v: Value = serde_json::from_str(&render(&input, Format::Json)).unwrap_or_default();
    assert_eq!(v["title"], "Stappenkaart Nieuw API platform");
    let groups: Vec<Value> = v["validation_set"]["groups"]
        .as_array()
        .map(|a| a.iter().map(|g| g["group"].clone()).collect())
        .unwrap_or_default();
    // Only the groups with something to show: the status lookup belongs to
    // Track & Trace, the probe ran for Delivery Options.
    assert_eq!(groups, [Value::from("Track & Trace"), Value::from("Delivery Options")]);
    let md = render(&input, Format::Markdown);
    assert!(md.contains("PostNL asks for \"a validation set"));
    assert!(md.contains("cutover's own request, not a call made by your integration"));
    assert!(md.contains("None attached yet"));
    // The Dutch proves text of the guide, in the report's language.
    assert!(md.contains("De Sandbox van PostNL accepteert de sleutel"));
}
