//! The bottom lines: the last message (what changed, who did it) and the
//! key hints, or the search bar while searching.

use super::Theme;
use crate::app::keymap::footer_keys;
use crate::app::{App, LinePurpose, Mode, Tone};
use crate::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn height(_app: &App) -> u16 {
    2
}

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let width = area.width as usize;
    let msg_line = match (&app.mode, &app.message) {
        (Mode::Search { query, .. }, _) => Line::from(vec![
            Span::styled("/", theme.heading()),
            Span::raw(sanitize::line(query)),
            Span::styled("▏", theme.dim()),
        ]),
        (_, Some(m)) => {
            let style = match m.tone {
                Tone::Info => ratatui::style::Style::new(),
                Tone::Success => theme.ok(),
                Tone::Warning => theme.warn(),
                Tone::Error => theme.bad(),
            };
            Line::from(Span::styled(super::fit(&theme.ascii_text(&sanitize::line(&m.text)), width, theme), style))
        }
        _ => Line::default(),
    };
    let keys: String;
    let hints: &str = match &app.mode {
        Mode::Search { .. } => "type to search · Enter keep · Esc back",
        Mode::EditNote { .. } => "type freely · Enter new line · Ctrl-S or Esc save · Ctrl-C discard",
        Mode::Help { .. } => "↑↓ PgUp/PgDn scroll · any other key closes the help",
        Mode::Log { .. } => "↑↓ PgUp/PgDn scroll · any other key closes the history",
        Mode::Line(line) => match line.purpose {
            LinePurpose::Key { .. } => "type or paste the key (shown as dots) · Enter keep · Esc cancel",
            LinePurpose::Confirm { .. } => "type the name shown · Enter send · Esc cancel",
            LinePurpose::Evidence { .. } => "type what shows it · Enter confirm · Esc cancel",
            LinePurpose::BlockReason { .. } => "type the reason · Enter mark blocked · Esc cancel",
        },
        Mode::Normal => {
            let max = if width < 100 { 5 } else { 8 };
            let parts: Vec<String> = footer_keys(app, max).iter().map(|(k, w)| format!("{k} {w}")).collect();
            keys = parts.join(" · ");
            &keys
        }
    };
    let hint_line = Line::from(Span::styled(super::fit(&theme.ascii_text(hints), width, theme), theme.dim()));
    frame.render_widget(Paragraph::new(vec![msg_line, hint_line]), area);
}

#[cfg(test)]
mod tests {
    use crate::app::input::{Code, Key};
    use crate::app::{Action, App, Effect, Settings, update};
    use crate::guide::{BudgetWait, Catalog, CheckRequest};
    use crate::progress::Progress;
    use crate::ui::{Theme, render};
    use jiff::Timestamp;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn screen(app: &App, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        t.draw(|f| render(app, &Theme::default(), f)).unwrap_or_else(|e| panic!("{e}"));
        let buf = t.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..h {
            for x in 0..w {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// The built-in PostNL guide open, run all started: its requests.
    fn running_all() -> (App, Vec<CheckRequest>) {
        let catalog = Catalog::built_in();
        let settings = Settings { lang_pref: vec!["en".into()], user: "alice".into(), ..Settings::default() };
        let mut app = App::new(crate::app::entries(&catalog), Progress::default(), settings, at(0));
        let idx = app.guides.iter().position(|g| g.guide.id() == "postnl").unwrap_or_else(|| panic!("no postnl"));
        app.picker = idx;
        update(&mut app, Action::Key(Key::plain(Code::Enter)));
        let reqs = update(&mut app, Action::Key(Key::ch('C')))
            .into_iter()
            .filter_map(|e| if let Effect::StartCheck(r) = e { Some(r) } else { None })
            .collect();
        (app, reqs)
    }

    fn waiting(req: &CheckRequest, until: Timestamp) -> Action {
        let wait = BudgetWait { until, env: "sandbox".into(), per_minute: Some(15) };
        Action::CheckWaiting { run_id: req.run_id, guide: "postnl".into(), step: req.step.clone(), wait: Some(wait) }
    }

    /// A check of run all that waits for the call budget: the footer's
    /// progress line and the step's strip count the wait down with the
    /// clock, and say when it is over.
    #[test]
    fn a_wait_for_the_call_budget_counts_down_on_the_step_and_in_the_progress_line() {
        let (mut app, reqs) = running_all();
        assert!(reqs.len() >= 2, "{reqs:?}");
        let req = &reqs[1];
        let idx = app.items().iter().position(|i| i.step.id() == req.step).unwrap_or_else(|| panic!("no step"));
        update(&mut app, Action::Select(idx));
        let n = reqs.len();

        // Before any wait: no countdown anywhere.
        let s = screen(&app, 80, 24);
        assert!(!s.contains("waiting for"), "{s}");

        update(&mut app, waiting(req, at(23)));
        let s = screen(&app, 80, 24);
        let footer = s.lines().nth(22).unwrap_or_default();
        assert_eq!(
            footer.trim_end(),
            format!("run all: waiting for the rate limit · 23 s · 0/{n} checks · {n} running")
        );
        assert!(s.contains("│⠋ waiting for the rate limit · 23 s "), "{s}");
        assert!(s.contains("│sandbox allows 15 calls a minute "), "{s}");

        // The clock moves: both count down.
        update(&mut app, Action::Tick(at(5)));
        let s = screen(&app, 80, 24);
        assert!(
            s.lines().nth(22).unwrap_or_default().starts_with("run all: waiting for the rate limit · 18 s · "),
            "{s}"
        );
        assert!(s.contains("waiting for the rate limit · 18 s     "), "the strip: {s}");

        // A key clears the footer; the next tick says the line again.
        update(&mut app, Action::Key(Key::plain(Code::Down)));
        update(&mut app, Action::Key(Key::plain(Code::Up)));
        assert!(app.message.is_none(), "{:?}", app.message);
        update(&mut app, Action::Tick(at(6)));
        let s = screen(&app, 80, 24);
        assert!(
            s.lines().nth(22).unwrap_or_default().starts_with("run all: waiting for the rate limit · 17 s · "),
            "{s}"
        );

        // A stale run's word changes nothing.
        let stale = CheckRequest { run_id: req.run_id + 1000, ..req.clone() };
        update(&mut app, waiting(&stale, at(50)));
        assert!(screen(&app, 80, 24).contains("rate limit · 17 s "), "a stale run's wait was shown");

        // The wait is over: the check runs again, and the line says so.
        update(
            &mut app,
            Action::CheckWaiting { run_id: req.run_id, guide: "postnl".into(), step: req.step.clone(), wait: None },
        );
        let s = screen(&app, 80, 24);
        assert!(!s.contains("waiting for"), "{s}");
        assert_eq!(s.lines().nth(22).unwrap_or_default().trim_end(), format!("run all: 0/{n} checks · {n} running"));
        assert!(s.contains("checking…"), "{s}");
    }

    /// Cancelling the waiting check (Esc on its step) cancels its run and
    /// the countdown goes with it.
    #[test]
    fn esc_cancels_a_check_that_waits_for_the_call_budget() {
        let (mut app, reqs) = running_all();
        let req = &reqs[0];
        let idx = app.items().iter().position(|i| i.step.id() == req.step).unwrap_or_else(|| panic!("no step"));
        update(&mut app, Action::Select(idx));
        update(&mut app, waiting(req, at(40)));
        assert!(screen(&app, 80, 24).contains("waiting for the rate limit · 40 s"));
        let effects = update(&mut app, Action::Key(Key::plain(Code::Esc)));
        assert_eq!(effects, vec![Effect::CancelCheck { run_id: req.run_id }]);
        update(&mut app, Action::Tick(at(1)));
        let s = screen(&app, 80, 24);
        assert!(!s.contains("waiting for"), "{s}");
    }
}
