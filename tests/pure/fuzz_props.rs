//! Property tests (proptest) for the parsers and the sanitizer: the guide
//! parser and the state parser never panic, on arbitrary text and on
//! mutated copies of real files, and every error they return is located
//! inside the input; any progress survives serialize-then-parse unchanged;
//! the sanitizer's output holds no control character and is idempotent.
//!
//! Default case counts keep this file quick; `CUTOVER_HEAVY=1` runs many
//! more (see docs/reliability.md for the counts and what they found).

use cutover::guide::catalog::BUILT_IN;
use cutover::guide::{GuideError, parse_guide};
use cutover::progress::store::{StoreError, from_toml, to_toml};
use cutover::progress::{CheckRecord, Event, GuideProgress, Progress, STATE_SCHEMA, Status, StepRecord, Verdict};
use cutover::sanitize;
use jiff::Timestamp;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn heavy() -> bool {
    std::env::var("CUTOVER_HEAVY").is_ok_and(|v| v == "1")
}

/// `quick` cases normally, `heavy` with CUTOVER_HEAVY=1. Failures are not
/// persisted to files: a found case is turned into a plain test instead.
fn config(quick: u32, heavy_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: if heavy() { heavy_cases } else { quick },
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

/// `line` and `col` (1-based, col in characters) point into `src`: at a
/// character of an existing line or just past its end.
fn located_within(src: &str, line: usize, col: usize) -> Result<(), String> {
    if line == 0 || col == 0 {
        return Err(format!("line {line} col {col}: not 1-based"));
    }
    let lines: Vec<&str> = src.split('\n').collect();
    let Some(l) = lines.get(line - 1) else {
        return Err(format!("line {line} is past the last line ({})", lines.len()));
    };
    let max = l.chars().count() + 1;
    if col > max {
        return Err(format!("col {col} is past the end of line {line} ({} chars)", max - 1));
    }
    Ok(())
}

fn check_guide_result(src: &str, result: Result<cutover::guide::Guide, Vec<GuideError>>) -> Result<(), TestCaseError> {
    match result {
        Ok(g) => {
            let ids: Vec<&str> = g.all_items().map(|s| s.id()).collect();
            let unique: BTreeSet<&str> = ids.iter().copied().collect();
            prop_assert_eq!(ids.len(), unique.len(), "an accepted guide has duplicate step ids");
            prop_assert!(!g.steps.is_empty(), "an accepted guide has no steps");
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty(), "Err with no errors");
            for e in &errors {
                prop_assert_eq!(&e.file, "fuzz.toml");
                prop_assert!(!e.message.trim().is_empty(), "empty message: {:?}", e);
                if let Err(why) = located_within(src, e.line, e.col) {
                    return Err(TestCaseError::fail(format!("{why}: {e:?}")));
                }
            }
        }
    }
    Ok(())
}

fn check_state_result(src: &str, result: Result<Progress, StoreError>) -> Result<(), TestCaseError> {
    match result {
        // Schema 1 files are still read (and migrate on their first write).
        Ok(p) => prop_assert!((1..=STATE_SCHEMA).contains(&p.schema), "schema {}", p.schema),
        Err(StoreError::Parse { line, col, message, .. }) => {
            prop_assert!(!message.trim().is_empty());
            prop_assert!(!message.chars().any(char::is_control), "unsanitized message: {:?}", message);
            // A leading byte-order mark is not counted.
            let body = src.strip_prefix('\u{feff}').unwrap_or(src);
            if let Err(why) = located_within(body, line, col) {
                return Err(TestCaseError::fail(format!("{why}: {message}")));
            }
        }
        Err(StoreError::NewerSchema { found, supported, .. }) => prop_assert!(found > supported),
        Err(other) => return Err(TestCaseError::fail(format!("a parse gave a non-parse error: {other:?}"))),
    }
    Ok(())
}

/// Text that looks like TOML often enough to get past the syntax: lines
/// taken from the built-in guides, in any order and number.
fn guide_like() -> impl Strategy<Value = String> {
    let lines: Vec<String> = BUILT_IN.iter().flat_map(|(_, src)| src.lines().map(str::to_string)).collect();
    let head = Just(
        "schema = 1\nid = \"fuzz\"\nversion = \"1\"\ntitle = { en = \"Fuzz\" }\nlanguages = [\"en\"]\n".to_string(),
    );
    (head, prop::collection::vec(prop::sample::select(lines), 0..80))
        .prop_map(|(head, body)| format!("{head}{}", body.join("\n")))
}

/// Small TOML-ish noise: brackets, quotes, keys, escapes, newlines.
fn toml_noise() -> impl Strategy<Value = String> {
    prop::string::string_regex(
        r#"([a-z_.\-]{0,6}|[\[\]{}="',#\\ ]|\n|\d{1,3}|"""|'''|\\u[0-9a-f]{0,5}|\u{1b}|\u{0}|é|配){0,60}"#,
    )
    .unwrap()
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipByte { at: usize, xor: u8 },
    Truncate { at: usize },
    DuplicateLines { at: usize, len: usize, times: usize },
    DeleteLines { at: usize, len: usize },
    SwapLines { a: usize, b: usize },
    Insert { at: usize, text: String },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, xor)| Mutation::FlipByte { at, xor }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1usize..8, 1usize..4).prop_map(|(at, len, times)| Mutation::DuplicateLines { at, len, times }),
        (any::<usize>(), 1usize..8).prop_map(|(at, len)| Mutation::DeleteLines { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (any::<usize>(), toml_noise()).prop_map(|(at, text)| Mutation::Insert { at, text }),
    ]
}

fn mutate(src: &str, m: &Mutation) -> String {
    let mut lines: Vec<&str> = src.split('\n').collect();
    let n = lines.len().max(1);
    match m {
        Mutation::FlipByte { at, xor } => {
            let mut b = src.as_bytes().to_vec();
            if !b.is_empty() {
                let i = at % b.len();
                b[i] ^= xor;
            }
            String::from_utf8_lossy(&b).into_owned()
        }
        Mutation::Truncate { at } => {
            let b = src.as_bytes();
            String::from_utf8_lossy(&b[..at % (b.len() + 1)]).into_owned()
        }
        Mutation::DuplicateLines { at, len, times } => {
            let start = at % n;
            let end = (start + len).min(lines.len());
            let block: Vec<&str> = lines[start..end].to_vec();
            for _ in 0..*times {
                for (k, l) in block.iter().enumerate() {
                    lines.insert(end + k, l);
                }
            }
            lines.join("\n")
        }
        Mutation::DeleteLines { at, len } => {
            let start = at % n;
            let end = (start + len).min(lines.len());
            lines.drain(start..end);
            lines.join("\n")
        }
        Mutation::SwapLines { a, b } => {
            if !lines.is_empty() {
                let len = lines.len();
                lines.swap(a % len, b % len);
            }
            lines.join("\n")
        }
        Mutation::Insert { at, text } => {
            let mut i = at % (src.len() + 1);
            while !src.is_char_boundary(i) {
                i -= 1;
            }
            format!("{}{text}{}", &src[..i], &src[i..])
        }
    }
}

// Generators for the state model.

fn text() -> impl Strategy<Value = String> {
    // Plenty of the characters that make TOML quoting hard.
    let special = prop::sample::select(vec![
        '\n', '\r', '\t', '"', '\'', '\\', '#', '=', '[', ']', '{', '}', '\u{0}', '\u{1b}', '\u{7f}', '\u{85}',
        '\u{2028}', '\u{feff}', 'é', '配', '😀', '\u{301}', ' ',
    ]);
    prop::collection::vec(prop_oneof![3 => any::<char>(), 2 => special, 3 => prop::char::range('a', 'z')], 0..24)
        .prop_map(String::from_iter)
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // Years 1900 to 2200, any nanosecond.
    (-2_208_988_800i64..7_258_118_400, 0i32..1_000_000_000)
        .prop_map(|(s, ns)| Timestamp::new(s, ns).unwrap_or(Timestamp::UNIX_EPOCH))
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop::sample::select(vec![Verdict::Pass, Verdict::Fail, Verdict::Indeterminate, Verdict::Error, Verdict::Skipped])
}

fn check_record() -> impl Strategy<Value = CheckRecord> {
    (
        (timestamp(), text(), prop::option::of(text()), text(), verdict(), text(), prop::option::of(text())),
        (
            any::<u64>(),
            prop::option::of(text()),
            prop::option::of(any::<u16>()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::collection::vec(text(), 0..3),
        ),
    )
        .prop_map(
            |(
                (at, by, env, check, verdict, message, hint),
                (duration_ms, request, http_status, excerpt, proved, not_proved, details),
            )| CheckRecord {
                at,
                by,
                env,
                check,
                verdict,
                message,
                hint,
                duration_ms,
                request,
                http_status,
                excerpt,
                proved,
                would_prove: None,
                not_proved,
                trace_id: None,
                key_sent_to: None,
                details,
            },
        )
        .prop_map(|mut r| {
            // As every writer stores it: what a run proved only for a pass.
            r.normalize_proof();
            r
        })
}

fn step_record() -> impl Strategy<Value = StepRecord> {
    (
        status(),
        text(),
        prop::option::of(timestamp()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::collection::vec(check_record(), 0..3),
        prop::option::of(text()),
    )
        .prop_map(|(status, note, at, by, hash, checks, note_by)| StepRecord {
            status,
            note,
            note_by,
            at,
            by,
            hash,
            checks,
        })
}

fn event() -> impl Strategy<Value = Event> {
    (timestamp(), text(), text(), text(), text(), text()).prop_map(|(at, by, guide, step, what, detail)| Event {
        at,
        by,
        guide,
        step,
        what,
        detail,
    })
}

fn progress() -> impl Strategy<Value = Progress> {
    let steps = prop::collection::btree_map(text(), step_record(), 0..4).prop_map(|steps| GuideProgress { steps });
    (prop::collection::btree_map(text(), steps, 0..4), prop::collection::vec(event(), 0..4)).prop_map(
        |(guides, events): (BTreeMap<String, GuideProgress>, Vec<Event>)| Progress {
            schema: STATE_SCHEMA,
            guides,
            events,
            events_archived: 0,
        },
    )
}

/// Escape-heavy input for the sanitizer.
fn hostile() -> impl Strategy<Value = String> {
    let parts = prop::sample::select(vec![
        "\u{1b}", "\u{1b}[", "\u{1b}]", "\u{1b}P", "\u{1b}(", "\u{1b}\\", "\u{7}", "\u{9b}", "\u{9c}", "\u{9d}",
        "\u{90}", "\r", "\n", "\r\n", "\t", "[", "]", ";", "0", "31m", "2J", "H", "a", "é", "配", "😀", "\u{202e}",
        "\u{2066}", "\u{0}", "\u{7f}", "\u{85}", " ",
    ]);
    prop::collection::vec(
        prop_oneof![4 => parts.prop_map(str::to_string), 1 => any::<char>().prop_map(String::from)],
        0..40,
    )
    .prop_map(|v| v.concat())
}

fn no_controls(s: &str, allow_newline: bool) -> bool {
    s.chars().all(|c| !(c.is_control() && !(allow_newline && c == '\n')))
}

proptest! {
    #![proptest_config(config(256, 20_000))]

    #[test]
    fn guide_parser_survives_arbitrary_text(src in any::<String>()) {
        check_guide_result(&src, parse_guide(&src, "fuzz.toml"))?;
    }

    #[test]
    fn guide_parser_survives_toml_noise(src in toml_noise()) {
        check_guide_result(&src, parse_guide(&src, "fuzz.toml"))?;
    }

    #[test]
    fn guide_parser_survives_shuffled_guide_lines(src in guide_like()) {
        check_guide_result(&src, parse_guide(&src, "fuzz.toml"))?;
    }

    #[test]
    fn state_parser_survives_arbitrary_text(src in any::<String>()) {
        check_state_result(&src, from_toml(&src, "state.toml"))?;
    }

    #[test]
    fn state_parser_survives_toml_noise(noise in toml_noise()) {
        let src = format!("schema = 1\n{noise}");
        check_state_result(&src, from_toml(&src, "state.toml"))?;
    }

    #[test]
    fn sanitized_text_has_no_controls_and_is_stable(s in hostile()) {
        let line = sanitize::line(&s);
        let multi = sanitize::multiline(&s);
        prop_assert!(no_controls(&line, false), "line kept a control: {:?} -> {:?}", s, line);
        prop_assert!(no_controls(&multi, true), "multiline kept a control: {:?} -> {:?}", s, multi);
        prop_assert_eq!(sanitize::line(&line), line.clone(), "line is not idempotent on {:?}", s);
        prop_assert_eq!(sanitize::multiline(&multi), multi.clone(), "multiline is not idempotent on {:?}", s);
        prop_assert!(sanitize::is_clean(&multi));
    }

    #[test]
    fn sanitized_arbitrary_text_has_no_controls_and_is_stable(s in any::<String>()) {
        let line = sanitize::line(&s);
        let multi = sanitize::multiline(&s);
        prop_assert!(no_controls(&line, false), "{:?} -> {:?}", s, line);
        prop_assert!(no_controls(&multi, true), "{:?} -> {:?}", s, multi);
        prop_assert_eq!(sanitize::line(&line), line.clone());
        prop_assert_eq!(sanitize::multiline(&multi), multi.clone());
    }
}

proptest! {
    // Each case parses a whole built-in guide (hundreds of lines): fewer.
    #![proptest_config(config(96, 5_000))]

    #[test]
    fn guide_parser_survives_mutated_built_in_guides(
        which in 0..BUILT_IN.len(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut src = BUILT_IN[which].1.to_string();
        for m in &mutations {
            src = mutate(&src, m);
        }
        check_guide_result(&src, parse_guide(&src, "fuzz.toml"))?;
    }

    #[test]
    fn progress_survives_serialize_then_parse(p in progress()) {
        let text = to_toml(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = from_toml(&text, "state.toml").map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, p, "changed by a round trip through:\n{}", text);
    }

    #[test]
    fn state_parser_survives_mutated_states(
        p in progress(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut src = to_toml(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for m in &mutations {
            src = mutate(&src, m);
        }
        check_state_result(&src, from_toml(&src, "state.toml"))?;
    }
}

/// The mutations themselves must produce what they claim, or the tests
/// above prove less than they say.
#[test]
fn mutations_do_what_they_say() {
    let src = "a\nb\nc";
    assert_eq!(mutate(src, &Mutation::DuplicateLines { at: 1, len: 1, times: 2 }), "a\nb\nb\nb\nc");
    assert_eq!(mutate(src, &Mutation::DeleteLines { at: 0, len: 2 }), "c");
    assert_eq!(mutate(src, &Mutation::SwapLines { a: 0, b: 2 }), "c\nb\na");
    assert_eq!(mutate(src, &Mutation::Truncate { at: 3 }), "a\nb");
    assert_eq!(mutate(src, &Mutation::FlipByte { at: 0, xor: 2 }), "c\nb\nc");
    assert_eq!(mutate("é", &Mutation::Insert { at: 1, text: "x".into() }), "xé");
    assert!(located_within("ab\nc", 2, 2).is_ok());
    assert!(located_within("ab\nc", 2, 3).is_err());
    assert!(located_within("ab\nc", 3, 1).is_err());
}

// ------------------------------------------------------------ classifier

/// Every HTTP request the built-in guides declare (checks and probes), as
/// the classifier sees them.
fn built_in_requests() -> Vec<(String, cutover::guide::RequestSpec)> {
    let catalog = cutover::guide::Catalog::built_in();
    let mut out = Vec::new();
    for g in &catalog.guides {
        for s in g.guide.all_items() {
            for c in &s.checks {
                if c.kind() == cutover::guide::CheckKind::Http {
                    out.push((format!("{}/{}", g.guide.id(), s.id()), c.request()));
                }
                for p in &c.probes {
                    out.push((format!("{}/{} probe", g.guide.id(), s.id()), p.request()));
                }
            }
        }
    }
    out
}

fn status_code() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            200u16, 201, 204, 301, 302, 307, 400, 401, 403, 404, 405, 415, 422, 429, 500, 502, 503, 504
        ]),
        100u16..600,
        0u16..1000,
    ]
}

/// JSON shaped like the carriers' bodies (their member names, nested a
/// little), or anything at all.
fn json_body() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let names = prop::sample::select(vec![
        "errors",
        "Errors",
        "Warnings",
        "warnings",
        "fault",
        "faultstring",
        "detail",
        "errorcode",
        "message",
        "Message",
        "Error",
        "Description",
        "Code",
        "status",
        "CurrentStatus",
        "Shipment",
        "title",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        hostile().prop_map(Value::String),
        prop::sample::select(vec!["Invalid ApiKey", "No shipment found", "Unauthorized", "Forbidden"])
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(names.clone(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_body().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        prop::collection::vec(any::<u8>(), 0..600),
        hostile().prop_map(String::into_bytes),
        (hostile(), 0usize..5000).prop_map(|(s, n)| s.repeat(n / s.len().max(1) + 1).into_bytes()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop_oneof![
        (0u64..100_000).prop_map(|n| n.to_string()),
        Just("Wed, 23 Nov 2026 10:01:00 GMT".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        hostile(),
    ];
    prop::collection::vec((prop::sample::select(vec!["Retry-After", "retry-after", "content-type"]), value), 0..3)
        .prop_map(|v| v.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

proptest! {
    #![proptest_config(config(512, 50_000))]

    /// Whatever a server answers, the classifier gives a verdict without
    /// panicking; a rate limit, a server fault or a redirect is never a
    /// failure of the key; only a 429 carries a wait; what is kept of the
    /// body is bounded and free of control characters.
    #[test]
    fn classifier_survives_any_answer(
        which in any::<prop::sample::Index>(),
        status in status_code(),
        body in body(),
        headers in headers(),
    ) {
        use cutover::check::classify::{Expect, Response, classify};
        let requests = built_in_requests();
        prop_assert!(!requests.is_empty());
        let (name, req) = &requests[which.index(requests.len())];
        let fallbacks = vec!["en".to_string()];
        let expect = Expect { status: &req.expect_status, rules: &req.rules, keep: &req.keep, success: req.success.as_ref(), lang: "en", fallbacks: &fallbacks, carrier: None, proxy: None };
        let resp = Response { status, headers: &headers, body: &body, received_at: "2026-11-23T10:00:00Z".parse().unwrap() };
        let c = classify(&resp, &expect);
        if status == 429 || (500..600).contains(&status) || (300..400).contains(&status) {
            prop_assert!(c.verdict != Verdict::Fail, "{name}: {status} is {:?}: {}", c.verdict, c.message);
        }
        if (300..400).contains(&status) || status == 429 || (500..600).contains(&status) {
            prop_assert!(c.verdict != Verdict::Pass, "{name}: {status} passed: {}", c.message);
        }
        if status != 429 && !(500..600).contains(&status) {
            prop_assert!(c.retry_after.is_none(), "{name}: retry-after on {status}");
        }
        if status == 404 || status == 410 {
            prop_assert!(c.verdict != Verdict::Fail, "{name}: a gone path ({status}) failed: {}", c.message);
        }
        // Every verdict but a pass says what to do next.
        prop_assert_eq!(c.hint.is_some(), c.verdict != Verdict::Pass, "{}: {} {:?}: {:?}", name, status, c.verdict, c.hint);
        prop_assert!(no_controls(&c.message, false), "{name}: message {:?}", c.message);
        if let Some(h) = &c.hint {
            prop_assert!(no_controls(h, true), "{name}: hint {h:?}");
        }
        if let Some(x) = &c.excerpt {
            prop_assert!(x.len() <= 2048 + 64, "{name}: excerpt of {} bytes", x.len());
            prop_assert!(no_controls(x, true), "{name}: excerpt {x:?}");
        }
    }
}
