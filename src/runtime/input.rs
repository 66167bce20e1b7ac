//! Terminal events to app actions.

use crate::app::Action;
use crate::app::input::{Code, Key};
use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};

/// What the loop does with one terminal event.
pub enum Input {
    Action(Action),
    Resize,
    /// Paint the whole screen again (a served session whose output was
    /// dropped while its client stalled; a terminal regaining focus).
    Redraw,
    Ignore,
}

pub fn convert(ev: Event) -> Input {
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
        Event::Mouse(m) => match m.kind {
            crossterm::event::MouseEventKind::ScrollDown => Input::Action(Action::Key(Key::plain(Code::Down))),
            crossterm::event::MouseEventKind::ScrollUp => Input::Action(Action::Key(Key::plain(Code::Up))),
            _ => Input::Ignore,
        },
        _ => Input::Ignore,
    }
}
