//! The event archive `<stem>.archive.toml`: events moved out of the state
//! file, appended under the state lock, never rewritten; each entry carries
//! its sequence number, so an append cut short by a crash is recognised.

use super::super::model::{Event, Progress};
use super::format::decode;
use super::{MAX_STATE_BYTES, OpenMode, Store, StoreError, open_or_create, read_regular};
use crate::sanitize;
use jiff::Timestamp;
use serde::Deserialize;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

const ARCHIVE_HEADER: &str = "# cutover event archive: events moved out of the state file, oldest first. Appended by cutover, never rewritten.\n";
/// How much of the archive's end is read to find where it stops.
const ARCHIVE_TAIL_BYTES: u64 = 64 * 1024;

impl Store {
    /// The archived events, oldest first (for `cutover log`).
    pub fn archived_events(&self) -> Result<Vec<Event>, StoreError> {
        // The state is read first: see `archived_before`. An unreadable state
        // only means no entry can be recognised as still being in it.
        let state = match read_regular(&self.path, MAX_STATE_BYTES) {
            Ok(Some((bytes, _))) => decode(&bytes, &self.shown()).ok(),
            _ => None,
        };
        self.archived_before(state.as_ref().map(|(p, n)| (p.events.as_slice(), *n)))
    }

    /// Every event, oldest first: the archive, then the state file's. Each
    /// appears once, also when a save died between appending to the archive
    /// and replacing the state.
    pub fn all_events(&self) -> Result<Vec<Event>, StoreError> {
        let (p, n) = match read_regular(&self.path, MAX_STATE_BYTES)? {
            None => (Progress::default(), 0),
            Some((bytes, _)) => decode(&bytes, &self.shown())?,
        };
        let mut out = self.archived_before(Some((&p.events, n)))?;
        out.extend(p.events);
        Ok(out)
    }

    /// Every event of `guide`, oldest first: the archive's, then the state
    /// file's, each once (as [`Store::all_events`], for one guide). For the
    /// history view (`H`): only that guide's entries are read into memory.
    pub fn guide_events(&self, guide: &str) -> Result<Vec<Event>, StoreError> {
        let p = match read_regular(&self.path, MAX_STATE_BYTES)? {
            None => Progress::default(),
            Some((bytes, _)) => decode(&bytes, &self.shown())?.0,
        };
        self.guide_events_of(&p, guide)
    }

    /// As [`Store::guide_events`], with the state already read (`state`,
    /// read before this call: see `archived_of`), so it is not read twice.
    pub fn guide_events_of(&self, state: &Progress, guide: &str) -> Result<Vec<Event>, StoreError> {
        let mut out = self.archived_of(Some((&state.events, state.events_archived)), Some(guide))?;
        out.extend(state.events.iter().filter(|e| e.guide == guide).cloned());
        Ok(out)
    }

    fn archived_before(&self, state: Option<(&[Event], u64)>) -> Result<Vec<Event>, StoreError> {
        self.archived_of(state, None)
    }

    /// The archive's events, leaving out those that are also in `state`
    /// (its events, and the sequence number of the first): a save that died
    /// after appending to the archive leaves them in both until the next
    /// save. The state must have been read before the archive: a save in
    /// between only appends what that state still holds.
    /// With `guide`, only that guide's.
    fn archived_of(&self, state: Option<(&[Event], u64)>, guide: Option<&str>) -> Result<Vec<Event>, StoreError> {
        let path = self.archive_path();
        let Some((bytes, _)) = read_regular(&path, u64::MAX)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut next: Option<u64> = None;
        for (seq, event) in parse_archive_of(&bytes, false, guide) {
            // A repeated sequence number is an entry written twice; keep the first.
            if next.is_some_and(|n| seq < n) {
                continue;
            }
            next = Some(seq + 1);
            let in_state = state.is_some_and(|(events, first)| {
                seq.checked_sub(first).and_then(|i| usize::try_from(i).ok()).and_then(|i| events.get(i)) == Some(&event)
            });
            if !in_state {
                out.push(event);
            }
        }
        Ok(out)
    }

    /// Appends `overflow` to the archive. `archived` is the state's count of
    /// events already archived (None: no state file). Returns the new count.
    pub(super) fn append_archive(&self, archived: Option<u64>, overflow: &[Event]) -> Result<u64, StoreError> {
        let path = self.archive_path();
        let mut file = open_or_create(&path, OpenMode::Append)?;
        let first = archived.unwrap_or(0);
        let tail = read_archive_tail(&mut file, first).map_err(|e| StoreError::io(&path, &e))?;
        let k = overflow.len() as u64;
        // Where the new entries go, and how many of `overflow` are already there.
        let (skip, first_seq) = match tail.last_seq {
            None => (0, first),
            Some(last) if last < first => (0, first),
            Some(last) => {
                let upto = last.min(first + k - 1);
                let same = archived.is_some()
                    && (first..=upto).all(|seq| {
                        let i = (seq - first) as usize;
                        tail.entries.iter().find(|(s, _)| *s == seq).is_some_and(|(_, e)| overflow.get(i) == Some(e))
                    });
                if same {
                    // An earlier save appended these and died before the state was renamed.
                    ((upto - first + 1) as usize, first)
                } else {
                    // The archive belongs to an earlier history (a reset or restored state): continue after it.
                    (0, last + 1)
                }
            }
        };
        let mut text = String::new();
        if tail.len == 0 {
            text.push_str(ARCHIVE_HEADER);
        } else if !tail.ends_with_newline {
            text.push('\n');
        }
        for (i, event) in overflow.iter().enumerate().skip(skip) {
            text.push_str(&archive_entry(first_seq + i as u64, event));
        }
        if skip < overflow.len() || tail.len == 0 {
            file.write_all(text.as_bytes()).map_err(|e| StoreError::io(&path, &e))?;
            file.sync_all().map_err(|e| StoreError::io(&path, &e))?;
        }
        Ok(first_seq + k)
    }
}

/// One archive entry: `[[events]]` with every string on one line. A string
/// comes last: any part of an entry cut short by a crash is either missing
/// a field or ends in an unterminated string, so it is never read as a
/// complete entry (a number last could be cut to a shorter number).
fn archive_entry(seq: u64, e: &Event) -> String {
    format!(
        "\n[[events]]\nseq = {seq}\nat = {}\nby = {}\nguide = {}\nstep = {}\nwhat = {}\ndetail = {}\n",
        quote(&e.at.to_string()),
        quote(&e.by),
        quote(&e.guide),
        quote(&e.step),
        quote(&e.what),
        quote(&e.detail)
    )
}

/// A TOML basic string on one line (also the note history's).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchivedEvent {
    at: Timestamp,
    by: String,
    guide: String,
    step: String,
    what: String,
    detail: String,
    seq: u64,
}

const ENTRY_HEADER: &[u8] = b"[[events]]\n";

/// The complete entries in archive bytes, in file order. An entry torn by
/// a crash (or damaged by hand) is skipped: it was never part of a saved
/// state, and the save that follows writes it again. With `partial_start`,
/// the bytes start in the middle of the file and everything before the
/// first entry header is ignored.
#[cfg(test)]
fn parse_archive(bytes: &[u8], partial_start: bool) -> Vec<(u64, Event)> {
    parse_archive_of(bytes, partial_start, None)
}

/// As [`parse_archive`], with `guide`: only that guide's entries. An entry
/// whose `guide` line names another guide in a plain string is skipped
/// unread ([`plain_guide`]); any other is read and then judged.
fn parse_archive_of(bytes: &[u8], partial_start: bool, guide: Option<&str>) -> Vec<(u64, Event)> {
    entries(bytes, partial_start).filter_map(|chunk| parse_entry(chunk, guide)).collect()
}

/// The guide an archive entry names on its `guide = "…"` line, among the
/// keys before any table (a leading `[[…]]` header aside), when that is a
/// plain basic string: nothing in it to unescape, so it can be compared
/// without parsing the entry. Both archives' readers skip another guide's
/// entries by it.
pub(super) fn plain_guide(entry: &str) -> Option<&str> {
    let mut lines = entry.split('\n').skip_while(|l| l.trim().is_empty()).peekable();
    lines.next_if(|l| l.starts_with("[["));
    let line = lines.take_while(|l| !l.starts_with('[')).find_map(|l| l.strip_prefix("guide = "))?;
    let inner = line.trim_end_matches('\r').strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains(['"', '\\'])).then_some(inner)
}

/// As [`parse_archive`], read from the end back to the first entry before
/// sequence number `from` (cutover appends entries in sequence order, so
/// those before it are older still): for an append, which only needs the
/// last entries, not every one in the window.
fn parse_archive_back(bytes: &[u8], partial_start: bool, from: u64) -> Vec<(u64, Event)> {
    let mut out = Vec::new();
    for chunk in entries(bytes, partial_start).rev() {
        if let Some((seq, event)) = parse_entry(chunk, None) {
            out.push((seq, event));
            if seq < from {
                break;
            }
        }
    }
    out.reverse();
    out
}

/// Each entry's bytes after its header, in file order.
fn entries(bytes: &[u8], partial_start: bool) -> impl DoubleEndedIterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(pos) = find(&bytes[i..], ENTRY_HEADER) {
        let at = i + pos;
        if at == 0 && !partial_start || at > 0 && bytes[at - 1] == b'\n' {
            starts.push(at + ENTRY_HEADER.len());
        }
        i = at + ENTRY_HEADER.len();
    }
    let ends: Vec<usize> = starts.iter().skip(1).map(|s| s - ENTRY_HEADER.len()).chain([bytes.len()]).collect();
    starts.into_iter().zip(ends).map(move |(start, end)| &bytes[start..end])
}

/// One entry, if it is complete (and of `guide`, when given).
fn parse_entry(chunk: &[u8], guide: Option<&str>) -> Option<(u64, Event)> {
    let Ok(text) = std::str::from_utf8(chunk) else {
        tracing::warn!("skipping an archive entry that is not UTF-8");
        return None;
    };
    // An entry ends at its first blank line: what follows it there is a
    // fragment of a torn header, not part of the entry.
    let text = match text.find("\n\n") {
        Some(blank) => &text[..blank + 1],
        None => text,
    };
    if let Some(g) = guide
        && plain_guide(text).is_some_and(|other| other != g)
    {
        return None;
    }
    match toml::from_str::<ArchivedEvent>(text) {
        Ok(a) if guide.is_some_and(|g| a.guide != g) => None,
        Ok(a) => {
            Some((a.seq, Event { at: a.at, by: a.by, guide: a.guide, step: a.step, what: a.what, detail: a.detail }))
        }
        Err(e) => {
            tracing::warn!(error = %sanitize::line(e.message()), "skipping an unreadable archive entry");
            None
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

struct ArchiveTail {
    len: u64,
    ends_with_newline: bool,
    last_seq: Option<u64>,
    entries: Vec<(u64, Event)>,
}

/// Reads the end of the archive: enough to see its last entries from
/// sequence number `from` on (the whole file if need be).
fn read_archive_tail(file: &mut File, from: u64) -> io::Result<ArchiveTail> {
    let len = file.metadata()?.len();
    let mut start = len.saturating_sub(ARCHIVE_TAIL_BYTES);
    loop {
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        Read::by_ref(file).take(len - start).read_to_end(&mut bytes)?;
        let entries = parse_archive_back(&bytes, start > 0, from);
        let enough = start == 0
            || entries.first().is_some_and(|(s, _)| *s <= from)
            || entries.last().is_some_and(|(s, _)| *s < from);
        if enough {
            let last_seq = entries.iter().map(|(s, _)| *s).max();
            let ends_with_newline = bytes.last().is_none_or(|b| *b == b'\n');
            return Ok(ArchiveTail { len, ends_with_newline, last_seq, entries });
        }
        start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn ev(i: u64, detail: &str) -> Event {
        Event {
            at: t(i as i64),
            by: format!("u{i}"),
            guide: "g".into(),
            step: "s".into(),
            what: "note".into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn quote_round_trips_through_toml() {
        for s in [
            "plain",
            "with \"quotes\" and \\back",
            "new\nline\r\n",
            "tab\there",
            "\u{1b}[31mred\u{7f}",
            "ünïcødé ✓",
            "",
        ] {
            let text = format!("v = {}\n", quote(s));
            assert!(!text.trim_end().contains('\n'), "{text}");
            let table: toml::Table = toml::from_str(&text).unwrap_or_default();
            assert_eq!(table.get("v").and_then(|v| v.as_str()), Some(s));
        }
    }

    #[test]
    fn archive_entries_parse_and_torn_tail_is_skipped() {
        let mut bytes = ARCHIVE_HEADER.as_bytes().to_vec();
        for i in 0..3 {
            bytes.extend_from_slice(archive_entry(i, &ev(i, "line\n[[events]]\nseq = 99")).as_bytes());
        }
        let full = parse_archive(&bytes, false);
        assert_eq!(full.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(full[1].1, ev(1, "line\n[[events]]\nseq = 99"));
        // Every truncation of the last entry yields exactly the two before it,
        // or all three once the entry is complete.
        let whole = bytes.len();
        let last_start = whole - archive_entry(2, &ev(2, "line\n[[events]]\nseq = 99")).len();
        for cut in last_start..whole {
            let torn = &bytes[..cut];
            let got = parse_archive(torn, false);
            // Only the final newline missing: the entry is complete.
            assert_eq!(got.len(), if cut == whole - 1 { 3 } else { 2 }, "cut at {cut}");
            // The next append starts on a new line, after the torn entry.
            let mut resumed = torn.to_vec();
            if !resumed.ends_with(b"\n") {
                resumed.push(b'\n');
            }
            resumed.extend_from_slice(archive_entry(2, &ev(2, "again \"quoted\"")).as_bytes());
            let got = parse_archive(&resumed, false);
            if cut < whole - 1 {
                assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![0, 1, 2], "cut at {cut}");
                assert_eq!(got[2].1, ev(2, "again \"quoted\""), "cut at {cut}");
            }
        }
    }

    #[test]
    fn tail_window_finds_the_last_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        let mut text = ARCHIVE_HEADER.to_string();
        let long = "x".repeat(500);
        for i in 0..400 {
            text.push_str(&archive_entry(i, &ev(i, &long)));
        }
        fs::write(&path, &text).unwrap();
        let mut f = File::open(&path).unwrap();
        let tail = read_archive_tail(&mut f, 395).unwrap();
        assert_eq!(tail.last_seq, Some(399));
        let seqs: Vec<u64> = tail.entries.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [394, 395, 396, 397, 398, 399], "from 395 on, and the one before: no more is read");
        // Further back than the window: the whole file is read, back to the entry before 3.
        let whole = read_archive_tail(&mut f, 3).unwrap();
        assert_eq!(whole.entries.len(), 398);
        assert_eq!((whole.entries[0].0, whole.last_seq), (2, Some(399)));
    }

    #[test]
    fn a_plain_guide_line_is_read_without_parsing_and_anything_else_is_left_to_the_parse() {
        let entry = archive_entry(3, &ev(3, "d"));
        let entry = entry.trim_start_matches('\n');
        assert_eq!(plain_guide(entry), Some("g"), "with its header");
        assert_eq!(plain_guide(&entry["[[events]]\n".len()..]), Some("g"), "after its header");
        let check = "[[check]]\nguide = \"postnl\"\nstep = \"s\"\n\n[check.record]\nguide = \"other\"\n";
        assert_eq!(plain_guide(check), Some("postnl"));
        // Only before the record's table; nothing to unescape, or no answer.
        assert_eq!(plain_guide("[[check]]\nstep = \"s\"\n[check.record]\nguide = \"other\"\n"), None);
        for odd in ["guide = 'literal'", "guide = \"a\\\"b\"", "guide = \"a\\u0041\"", "guide = \"open"] {
            assert_eq!(plain_guide(&format!("seq = 1\n{odd}\n")), None, "{odd}");
        }
        // Written by cutover with a quote in the id: parsed, and found.
        let quoted = Event { guide: "it's \"x\"".into(), ..ev(4, "d") };
        let text = format!("{ARCHIVE_HEADER}{}{}", archive_entry(4, &quoted), archive_entry(5, &ev(5, "d")));
        let got = parse_archive_of(text.as_bytes(), false, Some("it's \"x\""));
        assert_eq!(got, vec![(4, quoted)]);
    }

    #[test]
    fn read_from_the_end_it_finds_what_a_read_from_the_start_does() {
        let mut text = ARCHIVE_HEADER.to_string();
        for i in 0..40 {
            text.push_str(&archive_entry(i, &ev(i, "d")));
            if i % 7 == 3 {
                // A torn append, written again after it.
                let torn = archive_entry(i + 1, &ev(i + 1, "d"));
                text.push_str(&torn[..torn.len() - 5]);
            }
        }
        let all = parse_archive(text.as_bytes(), false);
        assert_eq!(all.len(), 40, "the torn entries are skipped");
        for from in [0, 1, 4, 5, 20, 39, 40, 41] {
            let back = parse_archive_back(text.as_bytes(), false, from);
            let first = all.iter().rposition(|(s, _)| *s < from).unwrap_or(0);
            assert_eq!(back, all[first..], "from {from}");
        }
    }
}
