//! The real runtime loop in process, without a pseudo-terminal: the
//! checklist of `cutover demo` exactly as the composition root builds it
//! (store, runner, key store, the demo's fake carriers on loopback), on a
//! `TestBackend`, driven by a scripted stream of key events. From `c` on a
//! step to the verdict on screen and the record in the state file.

use crate::common::backend::SharedBackend;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use cutover::cli::{Env, Global, root};
use cutover::paths::Paths;
use cutover::runtime::Context;
use futures::channel::mpsc::UnboundedSender;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

fn env_in(dir: &std::path::Path) -> Env {
    let vars: HashMap<String, String> = [
        ("HOME", dir.join("home").display().to_string()),
        ("USER", "alice".to_string()),
        ("LANG", "C.UTF-8".to_string()),
        ("TERM", "xterm-256color".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Env {
        paths: Paths { config_dir: dir.join("config"), data_dir: dir.join("data") },
        vars: Arc::new(move |k: &str| vars.get(k).cloned()),
        clock: cutover::clock::from_env(Some("2026-11-23T10:00:00Z".to_string())),
    }
}

fn send(tx: &UnboundedSender<std::io::Result<Event>>, keys: &str) {
    for c in keys.chars() {
        let _ = tx.unbounded_send(Ok(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
    }
}

/// Waits until the screen shows `text`; fails with the screen if not.
async fn wait_for(screen: &SharedBackend, text: &str) {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if screen.screen().contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("screen never showed {text:?}; it shows:\n{}", screen.screen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_runs_the_check_through_the_real_loop_and_the_verdict_lands_on_screen_and_in_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_in(dir.path());
    let mut told = Vec::new();
    let root::Checklist { mut app, store, checks, loaded_from, demo } =
        root::checklist(&env, &Global { lang: Some("en".into()), ..Global::default() }, true, &mut told).unwrap();
    assert!(demo.is_some(), "the demo's fake carriers run");
    let postnl = app.guides.iter().position(|e| e.guide.id() == "postnl").unwrap();
    cutover::app::open_guide(&mut app, postnl);
    let state_path = store.path().to_path_buf();
    assert_eq!(state_path, dir.path().join("data/demo-state.toml"), "the demo keeps its own state");

    let ctx = Context {
        store,
        checks,
        clock: env.clock.clone(),
        theme: cutover::ui::Theme::default(),
        shutdown: None,
        watch: false,
        loaded_from,
        clipboard: None,
        presence: None,
        report_fallback_dir: None,
        peers: None,
        frame_filter: None,
        hyperlinks: false,
    };
    let screen = SharedBackend::new(100, 30);
    let mut term = ratatui::Terminal::new(screen.clone()).unwrap();
    let (tx, rx) = futures::channel::mpsc::unbounded::<std::io::Result<Event>>();
    let driver = {
        let screen = screen.clone();
        tokio::spawn(async move {
            wait_for(&screen, "0/10 steps done").await;
            // Step 5: the sandbox key, checked against the fake sandbox.
            send(&tx, "jjjj");
            wait_for(&screen, "Step 5 ").await;
            send(&tx, "c");
            wait_for(&screen, "Key accepted").await;
            let at_verdict = screen.screen();
            send(&tx, "q");
            at_verdict
        })
    };
    tokio::time::timeout(DEADLINE * 2, cutover::runtime::run(&mut term, &mut app, rx, ctx))
        .await
        .expect("the loop quit")
        .unwrap();
    let at_verdict = driver.await.unwrap();
    // The verdict strip and the step list say it.
    assert!(at_verdict.contains("✓ pass · just now"), "{at_verdict}");
    assert!(at_verdict.contains("mark the step done"), "{at_verdict}");
    assert!(app.unsaved.is_none(), "nothing left unsaved: {:?}", app.unsaved);

    // The loop waits for queued saves before it returns: the record is in
    // the file now.
    let state = std::fs::read_to_string(&state_path).unwrap();
    assert!(state.contains("[[guides.postnl.steps.sandbox-api-key.checks]]"), "{state}");
    assert!(state.contains("verdict = \"pass\""), "{state}");
    assert!(state.contains("by = \"alice\""), "{state}");
    assert!(state.contains("2026-11-23T10:00:00Z"), "the injected clock stamps the record: {state}");
    // The key reached neither the file nor anything ever drawn.
    let key = cutover::demo::FakeOptions::DEMO_POSTNL_SANDBOX_KEY;
    assert!(!state.contains(key), "the key reached the state file");
    assert!(!screen.drawn().contains(key), "the key reached the screen");
    assert!(!String::from_utf8_lossy(&told).contains(key));
}

/// A start decodes only what its first frame shows: the picker reads the
/// built-in guides' heads (titles, step counts, notices), and `open
/// postnl`'s first frame the one step it shows, as the composition root
/// builds them.
#[test]
fn the_first_frame_decodes_only_the_guide_it_shows() {
    use cutover::app::App;
    let dir = tempfile::tempdir().unwrap();
    let env = env_in(dir.path());
    let mut told = Vec::new();
    let global = Global { lang: Some("en".into()), ..Global::default() };
    let mut app = root::checklist(&env, &global, false, &mut told).unwrap().app;
    let decoded = |app: &App| -> Vec<String> {
        app.guides.iter().filter(|e| e.guide.is_decoded()).map(|e| e.guide.head().id().to_string()).collect()
    };
    let draw = |app: &App| -> String {
        let backend = SharedBackend::new(100, 30);
        let mut t = ratatui::Terminal::new(backend.clone()).unwrap();
        t.draw(|f| cutover::ui::render(app, &cutover::ui::Theme::default(), f)).unwrap();
        backend.screen()
    };
    assert_eq!(decoded(&app), Vec::<String>::new(), "building the App decodes no guide");
    let picker = draw(&app);
    assert!(picker.contains("postnl · 10 steps") && picker.contains("posti · 8 steps"), "{picker}");
    assert!(picker.contains("0/10 done") && picker.contains("Source:"), "{picker}");
    assert_eq!(decoded(&app), Vec::<String>::new(), "the picker's frame decodes no guide");

    let postnl = app.guides.iter().position(|e| e.guide.head().id() == "postnl").unwrap();
    cutover::app::open_guide(&mut app, postnl);
    assert_eq!(decoded(&app), Vec::<String>::new(), "opening a guide decodes none");
    // The first frame (as `cutover open postnl` draws it) decodes the step
    // it shows, not the guide.
    let first = app.with_shown_guide(|a| draw(a));
    assert!(first.contains("Steps (10)") && first.contains("Account details"), "{first}");
    assert!(first.contains("Historical: this step"), "the selected step in full: {first}");
    assert_eq!(decoded(&app), Vec::<String>::new(), "the first frame decodes the step it shows");
    let checklist = draw(&app);
    assert_eq!(checklist, first);
    assert_eq!(decoded(&app), ["postnl"], "a frame after the first reads the guide it shows in full");
    // Whatever reads posti in full gets it in full.
    let posti = app.guides.iter().find(|e| e.guide.head().id() == "posti").unwrap();
    assert!(posti.guide.steps.iter().any(|s| !s.body.is_empty()), "posti in full");
    assert_eq!(decoded(&app), ["postnl", "posti"]);
}
