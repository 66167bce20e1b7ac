//! Drift, freshness, requirements and guide validation: what tells people
//! outside the terminal that the state can be trusted.

use crate::common;
use common::pty::Sandbox;
use common::*;
use cutover::app::{App, GuideEntry, Settings};
use cutover::guide::{parse_guide, step_hash};
use cutover::progress::{CheckRecord, Op, Progress, Status, Verdict};

const POSTNL: &str = include_str!("../../assets/guides/postnl.toml");

fn done_everything(g: &cutover::guide::Guide) -> Progress {
    let mut p = Progress::default();
    for s in g.all_items() {
        p.apply(
            &Op::SetStatus {
                guide: "postnl".into(),
                step: s.id().into(),
                status: Status::Done,
                hash: Some(step_hash(s)),
            },
            "alice",
            fixed_now(),
        );
    }
    p
}

#[test]
fn a_guide_edit_flags_only_the_step_it_touched_until_acknowledged() {
    let original = parse_guide(POSTNL, "postnl.toml").unwrap();
    let progress = done_everything(&original);
    // The user's copy of the guide changes one sentence of step 7.
    let sentence = "asterisk";
    assert!(POSTNL.contains(sentence));
    let edited_src = POSTNL.replacen(sentence, "asterisk (*)", 1);
    let edited = parse_guide(&edited_src, "postnl.toml").unwrap();
    let changed: Vec<&str> = original
        .all_items()
        .zip(edited.all_items())
        .filter(|(a, b)| step_hash(a) != step_hash(b))
        .map(|(a, _)| a.id())
        .collect();
    assert_eq!(changed.len(), 1, "the edit touched {changed:?}");
    let settings = Settings { lang_pref: vec!["en".into()], user: "alice".into(), ..Settings::default() };
    let mut app = App::new(vec![GuideEntry::new(edited, "user file".into())], progress, settings, fixed_now());
    let drifted: Vec<String> =
        app.items().iter().map(|i| i.step.id().to_string()).filter(|id| app.drifted("postnl", id)).collect();
    assert_eq!(drifted, vec![changed[0].to_string()]);
    // Reading it again and pressing `a` clears the flag, for that step only.
    enter(&mut app);
    while app.selected_step().map(|s| s.id()) != Some(changed[0]) {
        press(&mut app, 'j');
    }
    let effects = press(&mut app, 'a');
    assert!(
        matches!(effects.as_slice(), [cutover::app::Effect::Save(ops)] if matches!(ops[0], Op::Acknowledge { .. }))
    );
    assert!(!app.drifted("postnl", changed[0]));
}

fn record(at: jiff::Timestamp) -> CheckRecord {
    CheckRecord {
        at,
        by: "alice".into(),
        env: Some("sandbox".into()),
        check: "Sandbox key works".into(),
        verdict: Verdict::Pass,
        message: "Key accepted".into(),
        hint: None,
        duration_ms: 80,
        request: None,
        http_status: Some(200),
        excerpt: None,
        proved: None,
        not_proved: None,
        would_prove: None,
        trace_id: None,
        key_sent_to: None,
        details: vec![],
    }
}

#[test]
fn verdicts_age_into_stale_with_the_clock() {
    let mut p = Progress::default();
    p.apply(
        &Op::RecordCheck {
            guide: "postnl".into(),
            step: "sandbox-api-key".into(),
            record: Box::new(record(fixed_now())),
        },
        "alice",
        fixed_now(),
    );
    let mut app = app_with(p, "en");
    open(&mut app, "postnl");
    let step = app.guide().unwrap().item("sandbox-api-key").unwrap().clone();
    // The guide says the sandbox key check is fresh for a week.
    assert_eq!(app.fresh_window("postnl", &step), Some(7 * 86_400));
    assert!(!app.is_stale("postnl", &step));
    cutover::app::update(&mut app, cutover::app::Action::Tick(fixed_now() + jiff::SignedDuration::from_hours(6 * 24)));
    assert!(!app.is_stale("postnl", &step));
    cutover::app::update(&mut app, cutover::app::Action::Tick(fixed_now() + jiff::SignedDuration::from_hours(8 * 24)));
    assert!(app.is_stale("postnl", &step));
    // The user's config can lengthen (or shorten) the window.
    app.fresh_override.insert("postnl".into(), 9 * 86_400);
    assert!(!app.is_stale("postnl", &step));
    app.fresh_override.insert("postnl".into(), 3600);
    assert!(app.is_stale("postnl", &step));
}

#[test]
fn guides_validate_locates_every_error_in_every_file() {
    let sb = Sandbox::new();
    let dup = sb.path().join("dup.toml");
    std::fs::write(
        &dup,
        "schema = 1\nid = \"rb\"\nversion = \"1\"\ntitle = { en = \"R\" }\nlanguages = [\"en\"]\n\n[[steps]]\nid = \"a\"\ntitle = { en = \"A\" }\n\n[[steps]]\nid = \"a\"\ntitle = { en = \"B\" }\n",
    )
    .unwrap();
    let unknown = sb.path().join("unknown.toml");
    std::fs::write(
        &unknown,
        "schema = 1\nid = \"x\"\nversion = \"1\"\ntitle = { en = \"X\" }\nlanguages = [\"en\"]\ncolour = \"red\"\n",
    )
    .unwrap();
    let binary = sb.path().join("binary.toml");
    std::fs::write(&binary, b"schema = 1\n\xff\xfe\x00garbage").unwrap();
    let command = sb.path().join("command.toml");
    std::fs::write(
        &command,
        "schema = 1\nid = \"c\"\nversion = \"1\"\ntitle = { en = \"C\" }\nlanguages = [\"en\"]\n\n[[steps]]\nid = \"s\"\ntitle = { en = \"S\" }\n[[steps.checks]]\nkind = \"command\"\ncommand = \"rm -rf /\"\n",
    )
    .unwrap();
    let good = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/runbook.toml");
    let out = sb
        .command(&[
            "guides",
            "validate",
            dup.to_str().unwrap(),
            unknown.to_str().unwrap(),
            binary.to_str().unwrap(),
            command.to_str().unwrap(),
            good.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dup.toml:12:6: duplicate step id \"a\""), "{text}");
    assert!(text.contains("unknown.toml:6:1:") && text.contains("colour"), "{text}");
    assert!(text.contains("binary.toml:2:1: file is not valid UTF-8"), "{text}");
    assert!(text.contains("command.toml:12:11:") && text.contains("command name"), "{text}");
    assert!(text.contains("runbook.toml: ok"), "{text}");
}

#[test]
fn mark_warns_on_stderr_when_a_step_is_ticked_ahead() {
    let sb = Sandbox::new();
    let out = sb.command(&["mark", "postnl", "go-live", "done"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    // The warning names the step it needs by its title.
    assert!(err.contains("warning") && err.contains("API key for the production environment"), "{err}");
    let out = sb.command(&["mark", "postnl", "go-live", "finished"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = sb.command(&["mark", "nope", "go-live", "done"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A note holding a configured key is refused, and the key not echoed.
    let out = sb
        .command(&["mark", "postnl", "go-live", "done", "--note", "key: canary-key-998877"])
        .env("POSTNL_PRODUCTION_API_KEY", "canary-key-998877")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("canary-key-998877"));
    assert!(!std::fs::read_to_string(sb.state_file()).unwrap().contains("canary-key-998877"));
    let status = sb.command(&["status", "postnl", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let steps = json["guides"][0]["steps"].as_array().unwrap();
    let go_live = steps.iter().find(|s| s["id"] == "go-live").unwrap();
    assert_eq!(go_live["status"], "done");
    assert_eq!(go_live["by"], "tester");
}
