//! Shared test helpers: an app over the built-in guides with a fixed clock,
//! a fixed user and a pinned language.
#![allow(dead_code)]

use cutover::app::input::{Code, Key};
use cutover::app::{Action, App, Effect, Settings, update};
use cutover::guide::Catalog;
use cutover::progress::Progress;
use jiff::Timestamp;

pub fn fixed_now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

pub fn app_with(progress: Progress, lang: &str) -> App {
    let catalog = Catalog::built_in();
    assert!(catalog.errors.is_empty(), "built-in guides must load: {:?}", catalog.errors);
    let settings = Settings {
        lang_pref: vec![lang.to_string()],
        user: "alice".into(),
        observe: false,
        state_path: "/state/state.toml".into(),
        demo: false,
        rights: Default::default(),
    };
    App::new(cutover::app::entries(&catalog), progress, settings, fixed_now())
}

pub fn app() -> App {
    app_with(Progress::default(), "en")
}

pub fn key(app: &mut App, k: Key) -> Vec<Effect> {
    update(app, Action::Key(k))
}

pub fn press(app: &mut App, c: char) -> Vec<Effect> {
    key(app, Key::ch(c))
}

pub fn enter(app: &mut App) -> Vec<Effect> {
    key(app, Key::plain(Code::Enter))
}

/// Opens the guide with this id from the picker.
pub fn open(app: &mut App, id: &str) {
    let idx = app.guides.iter().position(|g| g.guide.id() == id).unwrap();
    while app.picker < idx {
        press(app, 'j');
    }
    enter(app);
}
pub mod accounts;
pub mod backend;
pub mod pty;
pub mod sandbox;
pub mod ssh;
