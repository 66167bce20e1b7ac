//! What another instance's change says in the footer, and what our own
//! note save found (another's text kept beside ours).

use crate::progress::Progress;

/// "bob: versioning → blocked" for what another instance just did, also
/// when it repeats an earlier change (the same status set again): events
/// are compared with their time. Our own changes are not news: `me`'s
/// events are left out.
/// `title` names a step (guide id, step id) as people read it: "3. Create
/// a password".
pub fn describe_new_events(
    old: &Progress,
    new: &Progress,
    me: &str,
    title: &dyn Fn(&str, &str) -> String,
) -> Option<String> {
    let known: Vec<&crate::progress::Event> = old.events.iter().rev().take(200).collect();
    let fresh: Vec<&crate::progress::Event> =
        new.events.iter().rev().take(50).filter(|e| e.by != me && !known.contains(e)).collect();
    let latest = fresh.first()?;
    let by = crate::sanitize::line(&latest.by);
    let step = crate::sanitize::line(&title(&latest.guide, &latest.step));
    let what = match latest.what.as_str() {
        "status" => format!("{by}: {step} → {}", crate::sanitize::line(&latest.detail)),
        "note" => format!("{by} edited the note of {step}"),
        "check" => format!("{by} ran the check of {step}: {}", crate::sanitize::line(&latest.detail)),
        _ => format!("{by}: {step} {}", crate::sanitize::line(&latest.detail)),
    };
    Some(match fresh.len() - 1 {
        0 => what,
        1 => format!("{what} (+1 more change)"),
        n => format!("{what} (+{n} more changes)"),
    })
}

/// "bob changed this note while you edited it; both texts are kept", when
/// one of `me`'s note saves new in `new` found the note changed since its
/// editor opened (the store decided that under the lock, on the file).
pub fn own_note_conflict(old: &Progress, new: &Progress, me: &str) -> Option<String> {
    let known: Vec<&crate::progress::Event> = old.events.iter().rev().take(200).collect();
    new.events.iter().rev().take(50).filter(|e| e.by == me && e.what == "note" && !known.contains(e)).find_map(|e| {
        let (who, both) = crate::progress::note_changed_meanwhile(&e.detail)?;
        let who = crate::sanitize::line(who);
        Some(if both {
            format!("{who} changed this note while you edited it; both texts are kept")
        } else {
            format!("{who} changed this note while you edited it; it was not cleared, their text is kept")
        })
    })
}
