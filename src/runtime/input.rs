//! Terminal events to app actions.

use crate::app::input::{Code, Key};
use crate::app::{Action, App, Mode};
use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};
use ratatui::layout::Rect;

/// Rows one notch of the mouse wheel scrolls the detail pane.
pub const WHEEL_ROWS: i16 = 3;

/// What the loop does with one terminal event.
pub enum Input {
    Action(Action),
    Resize,
    /// Paint the whole screen again (a served session whose output was
    /// dropped while its client stalled; a terminal regaining focus).
    Redraw,
    Ignore,
}

/// `area`: the screen's size, asked for only when a mouse event needs it
/// (to find what is under the pointer, as `ui` lays it out).
pub fn convert(ev: Event, app: &App, area: impl FnOnce() -> Option<Rect>) -> Input {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            let code = match k.code {
                KeyCode::Char(c) => Code::Char(c),
                KeyCode::Enter => Code::Enter,
                KeyCode::Esc => Code::Esc,
                KeyCode::Backspace => Code::Backspace,
                KeyCode::Delete => Code::Delete,
                KeyCode::Left => Code::Left,
                KeyCode::Right => Code::Right,
                KeyCode::Up => Code::Up,
                KeyCode::Down => Code::Down,
                KeyCode::Home => Code::Home,
                KeyCode::End => Code::End,
                KeyCode::PageUp => Code::PageUp,
                KeyCode::PageDown => Code::PageDown,
                KeyCode::Tab => Code::Tab,
                KeyCode::BackTab => Code::BackTab,
                KeyCode::F(n) => Code::F(n),
                _ => return Input::Ignore,
            };
            Input::Action(Action::Key(Key {
                code,
                ctrl: k.modifiers.contains(KeyModifiers::CONTROL),
                alt: k.modifiers.contains(KeyModifiers::ALT),
            }))
        }
        Event::Paste(s) => Input::Action(Action::Paste(s)),
        Event::Resize(..) => Input::Resize,
        Event::FocusGained => Input::Redraw,
        Event::Mouse(m) => mouse(m, app, area),
        _ => Input::Ignore,
    }
}

/// The wheel scrolls the pane under the pointer: the detail by a few rows,
/// the list by a step (as the arrow keys do). A left click on a step
/// selects it. Outside the checklist's normal mode the wheel is the arrow
/// keys (the help and the history scroll with them) and a click does
/// nothing.
fn mouse(m: crossterm::event::MouseEvent, app: &App, area: impl FnOnce() -> Option<Rect>) -> Input {
    let arrow = |down: bool| Input::Action(Action::Key(Key::plain(if down { Code::Down } else { Code::Up })));
    let wheel = match m.kind {
        MouseEventKind::ScrollDown => Some(true),
        MouseEventKind::ScrollUp => Some(false),
        _ => None,
    };
    let click = matches!(m.kind, MouseEventKind::Down(MouseButton::Left));
    if wheel.is_none() && !click {
        return Input::Ignore;
    }
    let normal = matches!(app.mode, Mode::Normal);
    let hit = match area() {
        Some(a) if normal => crate::ui::hit(app, a, m.column, m.row),
        _ => crate::ui::Hit::Elsewhere,
    };
    match (wheel, hit) {
        (Some(down), crate::ui::Hit::Detail) => {
            Input::Action(Action::ScrollDetail(if down { WHEEL_ROWS } else { -WHEEL_ROWS }))
        }
        (Some(down), _) => arrow(down),
        (None, crate::ui::Hit::List(Some(i))) => Input::Action(Action::Select(i)),
        (None, _) => Input::Ignore,
    }
}
