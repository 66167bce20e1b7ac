//! The first frame of a checklist is drawn from the guide decoded only as
//! far as it shows (`App::with_shown_guide`: the head, and the selected
//! item in full). It must be the frame the guide in full draws, for every
//! built-in guide, item, language and screen size, fresh or with progress.

use crate::common;
use common::*;
use cutover::app::App;
use cutover::guide::Catalog;
use cutover::progress::{Op, Progress, Status, Verdict};
use cutover::ui::{Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn frame(app: &App, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, theme, f)).unwrap();
    t.backend().buffer().clone()
}

fn record(check: &str, verdict: Verdict, mins_ago: i64) -> cutover::progress::CheckRecord {
    let at = fixed_now() - jiff::SignedDuration::from_mins(mins_ago);
    serde_json::from_value(serde_json::json!({
        "at": at.to_string(), "by": "alice", "env": "sandbox", "check": check,
        "verdict": verdict.as_str(), "message": "recorded", "duration_ms": 5,
    }))
    .unwrap()
}

/// Progress on `guide`: statuses, notes and a drifted tick on some items;
/// with `verdicts_on`, runs of that item's checks too (three days old:
/// stale where a check says how long it stays fresh).
fn progress(guide: &cutover::guide::Guide, verdicts_on: Option<usize>) -> Progress {
    let mut p = Progress::default();
    let gid = guide.id().to_string();
    for (i, s) in guide.all_items().enumerate() {
        let step = s.id().to_string();
        let op = match i % 4 {
            0 => Op::SetStatus { guide: gid.clone(), step, status: Status::Done, hash: Some("older".into()) },
            1 => Op::SetNote { guide: gid.clone(), step, note: format!("note on item {i}\nsecond line"), base: None },
            2 => Op::SetStatus { guide: gid.clone(), step, status: Status::Blocked, hash: None },
            _ => continue,
        };
        p.apply(&op, "bob", fixed_now());
    }
    if let Some(s) = verdicts_on.and_then(|i| guide.all_items().nth(i)) {
        for (k, c) in s.checks.iter().enumerate() {
            let name = c.label.as_ref().map(|l| l.get("en", &[]).to_string()).unwrap_or_default();
            let verdict = if k % 2 == 0 { Verdict::Pass } else { Verdict::Fail };
            let r = record(&name, verdict, 60 * 24 * 3);
            p.apply(
                &Op::RecordCheck { guide: gid.clone(), step: s.id().into(), record: Box::new(r) },
                "alice",
                fixed_now(),
            );
        }
    }
    p
}

#[test]
fn the_first_frame_from_the_shown_guide_is_the_frame_of_the_guide_in_full() {
    let catalog = Catalog::built_in();
    let mut compared = 0;
    for loaded in &catalog.guides {
        let guide = &*loaded.guide;
        let items = guide.all_items().count();
        let has_runs = |i: usize| guide.all_items().nth(i).is_some_and(|s| !s.checks.is_empty());
        for lang in &guide.languages {
            for selected in 0..items {
                // Fresh; progress; runs on the selected item; runs on
                // another (the step list then reads that item's checks,
                // and the guide is read in full).
                let next = (selected + 1) % items;
                for (fresh, verdicts_on) in [(true, None), (false, None), (false, Some(selected)), (false, Some(next))]
                {
                    let p = if fresh { Progress::default() } else { progress(guide, verdicts_on) };
                    let light = !verdicts_on.is_some_and(|i| i != selected && has_runs(i));
                    // Opened on `selected`, the guide not yet read in full.
                    let opened = |p: Progress| {
                        let mut app = app_with(p, lang);
                        open(&mut app, guide.id());
                        app.selected = selected;
                        app
                    };
                    let mut app = opened(p);
                    for (w, h, theme) in [
                        (80, 24, Theme::default()),
                        (100, 30, Theme::default()),
                        (200, 50, Theme { color: false, ascii: false }),
                        (100, 30, Theme { color: true, ascii: true }),
                    ] {
                        let shown = app.with_shown_guide(|a| frame(a, &theme, w, h));
                        let what = format!(
                            "{} [{lang}] item {selected} fresh={fresh} runs on {verdicts_on:?} {w}x{h}",
                            guide.id()
                        );
                        let decoded = app.entry().unwrap().guide.is_decoded();
                        assert_eq!(decoded, !light, "{what}: decoded in full");
                        assert_eq!(shown, frame(&app, &theme, w, h), "{what}");
                        // The comparison decoded it: the next case starts afresh.
                        app = opened(app.progress.clone());
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 100, "{compared} frames compared");
}
