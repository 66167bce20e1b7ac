//! A change that reads and writes only the guides it touches.
//!
//! Every state file cutover writes ends in a seal: a comment holding the
//! SHA-256 of the text above it. A file whose seal matches is, byte for
//! byte, what cutover wrote: each of its parts was serialized from a state
//! that read, or kept from a sealed file by a change like this one, so each
//! of its guides' tables still reads. A change to one guide (`cutover mark`,
//! `cutover check`) then decodes only the root keys, that guide's tables
//! and the events, applies its ops to that, serializes the result, and puts
//! it in place of the old guide and events, leaving every other guide's
//! text as it was. The output is the same text a whole read, apply and
//! write makes (tests prove it), sealed again.
//!
//! A file without a seal, or whose seal does not match (edited by hand, or
//! written by an older cutover), or laid out otherwise than cutover writes
//! it, is read whole as before, and any problem in it is located and left
//! exactly as it is. The seal is not a signature: anyone can compute it. It
//! only spares cutover reading what it wrote itself.

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::ops::Range;

use super::sections::Scan;

/// What the seal line starts with; the hex digest follows.
const SEAL: &str = "# sha256 of the text above (cutover's own check; an edit by hand makes it read the whole file): ";

/// `text` with its seal line after it.
pub fn seal(mut text: String) -> String {
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    text.push_str(SEAL);
    text.push_str(&digest);
    text.push('\n');
    text
}

/// The text above the seal, if `text` ends in a seal that matches it.
pub fn unsealed(text: &str) -> Option<&str> {
    let body = text.strip_suffix('\n')?;
    let start = body.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let digest = body[start..].strip_prefix(SEAL)?;
    let above = &text[..start];
    (digest.len() == 64 && hex::encode(Sha256::digest(above.as_bytes())) == digest).then_some(above)
}

/// A state file's text cut where cutover's writer puts its tables: the root
/// keys before the first table, each guide's tables (one run per guide, in
/// the order of their ids), then the events. Byte ranges of that text.
#[derive(Debug, PartialEq)]
struct Blocks {
    prelude: Range<usize>,
    /// The guide's id and its tables.
    guides: Vec<(Range<usize>, Range<usize>)>,
    events: Range<usize>,
}

/// A bare TOML key, as cutover's writer leaves a guide id unquoted.
fn bare(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The guide a table header belongs to, as the range of its id within the
/// header: `[guides.ID.steps…]`, `[[guides.ID.steps…]]`. `Some(None)` for
/// `[[events]]`; None for anything else.
fn owner(header: &str) -> Option<Option<Range<usize>>> {
    if header == "[[events]]" {
        return Some(None);
    }
    let open = if header.starts_with("[[") { 2 } else { 1 };
    let rest = header[open..].strip_prefix("guides.")?;
    let end = rest.find(['.', ']'])?;
    let start = open + "guides.".len();
    (bare(&rest[..end]) && rest[end..].starts_with(".steps")).then_some(Some(start..start + end))
}

/// Cuts `body` (text as cutover writes it), or None if it is laid out
/// otherwise: a header this does not know, a guide's tables not in one run
/// or out of order, events before a guide, a string left open.
fn blocks(body: &str) -> Option<Blocks> {
    let mut scan = Scan::default();
    let mut at = 0;
    let mut prelude_end = None;
    let mut events_start = None;
    // Each guide's id and where its tables start.
    let mut guides: Vec<(Range<usize>, usize)> = Vec::new();
    for line in body.split_inclusive('\n') {
        if let Some(header) = scan.header(line) {
            prelude_end.get_or_insert(at);
            // The header's place in `body`: it is `line` trimmed at the start.
            let offset = at + (line.len() - line.trim_start_matches([' ', '\t']).len());
            match owner(header)? {
                None => {
                    events_start.get_or_insert(at);
                }
                Some(_) if events_start.is_some() => return None,
                Some(id) => {
                    let id = offset + id.start..offset + id.end;
                    match guides.last() {
                        Some((last, _)) if body[last.clone()] == body[id.clone()] => {}
                        Some((last, _)) if body[last.clone()] >= body[id.clone()] => return None,
                        _ => guides.push((id, at)),
                    }
                }
            }
        } else {
            scan.line(line)?;
        }
        at += line.len();
    }
    if scan.open() {
        return None;
    }
    let end = body.len();
    let prelude_end = prelude_end.unwrap_or(end);
    let events_start = events_start.unwrap_or(end);
    let ends: Vec<usize> = guides.iter().skip(1).map(|(_, s)| *s).chain([events_start]).collect();
    Some(Blocks {
        prelude: 0..prelude_end,
        guides: guides.into_iter().zip(ends).map(|((id, s), e)| (id, s..e)).collect(),
        events: events_start..end,
    })
}

/// A sealed state file, cut, for a change to some of its guides.
pub struct Sealed {
    /// The text above the seal.
    text: String,
    blocks: Blocks,
    touched: BTreeSet<String>,
}

impl Sealed {
    /// `text` if its seal matches and it is laid out as cutover writes it,
    /// for a change to the guides `touched` (each a bare key); if not, the
    /// text back, to be read whole.
    pub fn cut<'a>(mut text: String, touched: impl IntoIterator<Item = &'a str>) -> Result<Sealed, String> {
        let touched: BTreeSet<String> = touched.into_iter().map(str::to_string).collect();
        if !touched.iter().all(|g| bare(g)) {
            return Err(text);
        }
        let Some(above) = unsealed(&text).map(str::len) else { return Err(text) };
        let Some(blocks) = blocks(&text[..above]) else { return Err(text) };
        text.truncate(above);
        Ok(Sealed { text, blocks, touched })
    }

    /// The text above the seal, to be read whole after all.
    pub fn into_text(self) -> String {
        self.text
    }

    fn id(&self, r: &Range<usize>) -> &str {
        &self.text[r.clone()]
    }

    /// What the change reads: the root keys, the touched guides' tables,
    /// the events. It is valid TOML as the whole is.
    pub fn part(&self) -> String {
        let b = &self.blocks;
        let mut out = Joined::new(&self.text[b.prelude.clone()]);
        for (id, text) in &b.guides {
            if self.touched.contains(self.id(id)) {
                out.push(&self.text[text.clone()]);
            }
        }
        out.push(&self.text[b.events.clone()]);
        out.done()
    }

    /// The whole file again: `new` (the changed part, serialized, unsealed)
    /// gives the root keys, the touched guides and the events, the old text
    /// every other guide. None if `new` is not laid out as cutover writes.
    pub fn splice(&self, new: &str) -> Option<String> {
        let fresh = blocks(new)?;
        if fresh.guides.iter().any(|(id, _)| !self.touched.contains(&new[id.clone()])) {
            return None;
        }
        let old = self
            .blocks
            .guides
            .iter()
            .filter(|(id, _)| !self.touched.contains(self.id(id)))
            .map(|(id, text)| (self.id(id), &self.text[text.clone()]));
        let mut all: Vec<(&str, &str)> =
            old.chain(fresh.guides.iter().map(|(id, text)| (&new[id.clone()], &new[text.clone()]))).collect();
        all.sort_by_key(|(id, _)| *id);
        let mut out = Joined::new(&new[fresh.prelude.clone()]);
        for (_, text) in all {
            out.push(text);
        }
        out.push(&new[fresh.events.clone()]);
        Some(out.done())
    }
}

/// Blocks put together as the writer separates tables: one blank line
/// between two, one newline at the end.
struct Joined(String);

impl Joined {
    fn new(prelude: &str) -> Joined {
        Joined(prelude.to_string())
    }

    fn push(&mut self, block: &str) {
        let block = block.trim_end_matches('\n');
        if block.is_empty() {
            return;
        }
        if !self.0.is_empty() && !self.0.ends_with("\n\n") {
            if !self.0.ends_with('\n') {
                self.0.push('\n');
            }
            self.0.push('\n');
        }
        self.0.push_str(block);
        self.0.push('\n');
    }

    fn done(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# h\nschema = 2\nevents_archived = 3\n\n[guides.a.steps.s1]\nstatus = \"done\"\n\n[[guides.a.steps.s1.checks]]\nat = \"x\"\n\n[guides.b.steps.s1]\nnote = \"\"\"\n[guides.z.steps.x]\n[[events]]\n\"\"\"\n\n[guides.c.steps.\"s.2\"]\nstatus = \"todo\"\n\n[[events]]\nat = \"y\"\n\n[[events]]\nat = \"z\"\n";

    fn ids(text: &str) -> Vec<&str> {
        blocks(text).map(|b| b.guides.into_iter().map(|(id, _)| &text[id]).collect()).unwrap_or_default()
    }

    #[test]
    fn a_seal_matches_its_text_and_nothing_else() {
        let sealed = seal(TEXT.to_string());
        assert_eq!(unsealed(&sealed), Some(TEXT));
        assert_eq!(unsealed(TEXT), None, "no seal");
        assert_eq!(unsealed(&sealed.replacen("todo", "done", 1)), None, "an edit above the seal");
        assert_eq!(unsealed(&format!("{sealed}x = 1\n")), None, "text after the seal");
        assert_eq!(unsealed(sealed.trim_end()), None, "the seal's newline cut off");
    }

    #[test]
    fn blocks_follow_the_writer_and_refuse_the_rest() {
        let b = blocks(TEXT).unwrap();
        assert_eq!(&TEXT[b.prelude.clone()], "# h\nschema = 2\nevents_archived = 3\n\n");
        assert_eq!(ids(TEXT), ["a", "b", "c"], "the header-like lines in b's note are its text");
        assert!(TEXT[b.guides[0].1.clone()].contains("[[guides.a.steps.s1.checks]]"));
        let events = &TEXT[b.events.clone()];
        assert!(events.starts_with("[[events]]") && events.ends_with("at = \"z\"\n"));
        // Out of order, split, after the events, unknown, quoted id, open string.
        for bad in [
            TEXT.replace("guides.c.", "guides.0."),
            format!("{}[guides.a.steps.s9]\n", TEXT.replace("[[events]]\nat = \"y\"\n\n[[events]]\nat = \"z\"\n", "")),
            format!("{TEXT}\n[guides.d.steps.s1]\n"),
            format!("{TEXT}\n[other]\n"),
            TEXT.replace("guides.c.", "guides.\"c\"."),
            format!("{TEXT}x = \"\"\"\n"),
        ] {
            assert_eq!(blocks(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_part_holds_the_touched_guides_and_the_splice_puts_them_back() {
        let sealed = seal(TEXT.to_string());
        let s = Sealed::cut(sealed.clone(), ["b"]).ok().unwrap();
        let part = s.part();
        assert!(part.contains("[guides.b.steps.s1]") && part.contains("[[events]]"));
        assert!(!part.contains("[guides.a.") && !part.contains("steps.\"s.2\""));
        // Putting the part back unchanged gives the text it came from.
        assert_eq!(s.splice(&part).as_deref(), Some(TEXT));
        // A new guide goes where its id sorts.
        let s = Sealed::cut(sealed.clone(), ["bb"]).ok().unwrap();
        let new = "# h\nschema = 2\nevents_archived = 3\n\n[guides.bb.steps.s1]\nstatus = \"done\"\n";
        let whole = s.splice(new).unwrap();
        assert_eq!(ids(&whole), ["a", "b", "bb", "c"]);
        assert!(blocks(&whole).unwrap().events.is_empty(), "the new text says the events: none");
        // The new text may not bring a guide it was not given.
        assert_eq!(s.splice(&format!("{new}\n[guides.a.steps.s1]\n")), None);
        // Not sealed, or a touched id that needs quotes: read whole.
        assert_eq!(Sealed::cut(TEXT.to_string(), ["b"]).err().as_deref(), Some(TEXT), "given back whole");
        assert_eq!(Sealed::cut(sealed.clone(), ["b.c"]).err(), Some(sealed));
    }
}
