//! Finding steps by text: titles first, then the instructions.

use super::state::App;
use super::steps::select;

/// 2: the id or title matches, 1: only the body does, 0: no match.
fn match_rank(app: &App, idx: usize, q: &str) -> u8 {
    let Some(g) = app.guide() else { return 0 };
    let items = app.items();
    let Some(item) = items.get(idx) else { return 0 };
    let q = q.to_lowercase();
    let s = item.step;
    if s.id().contains(&q) || app.text(g, &s.title).to_lowercase().contains(&q) {
        2
    } else if app.text(g, &s.body).to_lowercase().contains(&q) {
        1
    } else {
        0
    }
}

/// The next item from `from` (wrapping) whose title matches, else whose body
/// matches.
pub(super) fn find_match(app: &App, q: &str, from: usize, wrap: bool) -> Option<usize> {
    let n = app.items().len();
    if q.is_empty() || n == 0 {
        return None;
    }
    let order: Vec<usize> = if wrap { (0..n).map(|i| (from + i) % n).collect() } else { (from..n).collect() };
    let ranks: Vec<(usize, u8)> = order.into_iter().map(|i| (i, match_rank(app, i, q))).collect();
    ranks.iter().find(|(_, r)| *r == 2).or_else(|| ranks.iter().find(|(_, r)| *r == 1)).map(|(i, _)| *i)
}

pub(super) fn jump_to_match(app: &mut App, q: &str, from: usize) {
    match find_match(app, q, from, true) {
        Some(i) => select(app, i),
        None => select(app, from),
    }
}
