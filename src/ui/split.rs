//! The screen's fixed splits as plain arithmetic. Each gives what ratatui's
//! `Layout` gives for the same constraints (the tests compare them over
//! small sizes and common screen sizes), but a `Layout` solves its constraints with
//! a solver that starts cold in the first frame; where the fixed parts do
//! not fit, the `Layout` decides as before.

use ratatui::layout::{Constraint, Layout, Rect};

/// `Layout::vertical([Length(head), Min(1), Length(foot)])`: a header,
/// the body, a footer.
pub fn header_body_footer(area: Rect, head: u16, foot: u16) -> [Rect; 3] {
    match area.height.checked_sub(head).and_then(|h| h.checked_sub(foot)) {
        Some(body) if body >= 1 => [
            Rect { height: head, ..area },
            Rect { y: area.y + head, height: body, ..area },
            Rect { y: area.y + head + body, height: foot, ..area },
        ],
        _ => Layout::vertical([Constraint::Length(head), Constraint::Min(1), Constraint::Length(foot)]).areas(area),
    }
}

/// `Layout::vertical([Length(top), Min(rest)])`.
pub fn top_rest(area: Rect, top: u16, rest: u16) -> [Rect; 2] {
    match area.height.checked_sub(top) {
        Some(below) if below >= rest => [Rect { height: top, ..area }, Rect { y: area.y + top, height: below, ..area }],
        _ => Layout::vertical([Constraint::Length(top), Constraint::Min(rest)]).areas(area),
    }
}

/// `Layout::horizontal([Length(left), Min(1)])`.
pub fn left_rest(area: Rect, left: u16) -> [Rect; 2] {
    match area.width.checked_sub(left) {
        Some(right) if right >= 1 => [Rect { width: left, ..area }, Rect { x: area.x + left, width: right, ..area }],
        _ => Layout::horizontal([Constraint::Length(left), Constraint::Min(1)]).areas(area),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size up to 40 cells and common screen sizes, at an offset,
    /// every part from 0 to the whole: the arithmetic and the solver agree,
    /// cell for cell.
    #[test]
    fn the_splits_are_what_the_layout_solver_gives() {
        for len in (0..=40u16).chain([59, 80, 100, 120, 200]) {
            let tall = Rect::new(3, 2, 50, len);
            let wide = Rect::new(3, 2, len, 20);
            for a in 0..=len.min(60) {
                assert_eq!(
                    left_rest(wide, a),
                    Layout::horizontal([Constraint::Length(a), Constraint::Min(1)]).areas(wide),
                    "left {a} of {len}"
                );
                for rest in [0, 1] {
                    assert_eq!(
                        top_rest(tall, a, rest),
                        Layout::vertical([Constraint::Length(a), Constraint::Min(rest)]).areas(tall),
                        "top {a}, rest {rest}, of {len}"
                    );
                }
                for b in 0..=3u16 {
                    assert_eq!(
                        header_body_footer(tall, a.min(6), b),
                        Layout::vertical([Constraint::Length(a.min(6)), Constraint::Min(1), Constraint::Length(b)])
                            .areas(tall),
                        "head {}, foot {b}, of {len}",
                        a.min(6)
                    );
                }
            }
        }
    }
}
