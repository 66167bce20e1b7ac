//! Reading a large state file a few tables at a time.
//!
//! The TOML parser builds the whole document (its tokens, its events and a
//! tree of every key and value) before the typed state: about 20 times the
//! file's size. For a 3 MB schema-1 file that is over 50 MiB at once, for a
//! 500 KB state 9 MiB, on top of the state a checklist already holds. So a
//! file over [`BATCH_BYTES`] is cut at its table headers into pieces of
//! about that size, each piece is parsed on its own into the typed model,
//! and the pieces are put together: a step's fields from the piece with its
//! table, its check runs and the events in file order.
//!
//! Only the result of a whole-file parse counts: anything this cannot read
//! as cutover writes it (a table defined twice, a step's fields split over
//! two pieces, a piece that does not parse) makes it give up, and the
//! caller parses the whole file, which accepts or locates the problem
//! exactly as before.

use super::super::model::{Event, GuideProgress, StepRecord};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// Files up to this size are parsed whole; larger ones in pieces of about it.
pub const BATCH_BYTES: usize = 32 * 1024;

/// What a state file holds, read in pieces.
pub struct Sections {
    pub schema: u32,
    pub events_archived: u64,
    pub guides: BTreeMap<String, GuideProgress>,
    pub events: Vec<Event>,
}

/// One piece: the root keys come only in the first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Piece {
    schema: Option<u32>,
    events_archived: Option<u64>,
    #[serde(default)]
    guides: BTreeMap<String, GuideProgress>,
    #[serde(default)]
    events: Vec<Event>,
}

/// `body` read piece by piece, or None: then parse it whole.
pub fn read(body: &str) -> Option<Sections> {
    let cuts = cuts(body)?;
    let mut out = Sections { schema: 0, events_archived: 0, guides: BTreeMap::new(), events: Vec::new() };
    let mut schema = None;
    for (n, piece) in cuts.windows(2).map(|w| &body[w[0]..w[1]]).enumerate() {
        let p: Piece = toml::from_str(piece).ok()?;
        if n > 0 && (p.schema.is_some() || p.events_archived.is_some()) {
            return None;
        }
        if n == 0 {
            schema = p.schema;
            out.events_archived = p.events_archived.unwrap_or(0);
        }
        for (gid, g) in p.guides {
            let guide = out.guides.entry(gid).or_default();
            for (sid, step) in g.steps {
                match guide.steps.get_mut(&sid) {
                    None => {
                        guide.steps.insert(sid, step);
                    }
                    Some(known) => merge(known, step)?,
                }
            }
        }
        out.events.extend(p.events);
    }
    out.schema = schema?;
    Some(out)
}

/// A step seen in two pieces: one may hold its fields, the other only
/// check runs (a table's array of checks going on past a cut).
fn merge(known: &mut StepRecord, mut more: StepRecord) -> Option<()> {
    let checks = std::mem::take(&mut more.checks);
    let known_checks = std::mem::take(&mut known.checks);
    let fields_known = !known.is_default();
    if fields_known && !more.is_default() {
        return None;
    }
    if !fields_known {
        *known = more;
    }
    known.checks = known_checks;
    known.checks.extend(checks);
    Some(())
}

/// Where `body` is cut: byte offsets from 0 to its length, each cut at the
/// start of a table header line, pieces of at least [`BATCH_BYTES`]. None
/// if the text is not as cutover writes it (a table header twice, a string
/// or bracket left open at the end).
fn cuts(body: &str) -> Option<Vec<usize>> {
    let mut cuts = vec![0];
    let mut scan = Scan::default();
    let mut tables: HashSet<&str> = HashSet::new();
    let mut at = 0;
    for line in body.split_inclusive('\n') {
        if let Some(header) = scan.header(line) {
            // `[a]` may be defined once; `[[a]]` adds an entry each time.
            if !header.starts_with("[[") && !tables.insert(header) {
                return None;
            }
            if at - cuts[cuts.len() - 1] >= BATCH_BYTES {
                cuts.push(at);
            }
        } else {
            scan.line(line)?;
        }
        at += line.len();
    }
    if scan.open() {
        return None;
    }
    cuts.push(body.len());
    Some(cuts)
}

/// What is open at the end of a line: a multi-line string, brackets.
#[derive(Default)]
pub(super) struct Scan {
    /// Inside `"""` (`Some(true)`) or `'''` (`Some(false)`).
    multiline: Option<bool>,
    /// Open `[` and `{` of values.
    depth: usize,
}

impl Scan {
    pub(super) fn open(&self) -> bool {
        self.multiline.is_some() || self.depth > 0
    }

    /// The header, if `line` is a table header (`[a.b]`, `[[a.b]]`) outside
    /// any string or value, trimmed of its comment.
    pub(super) fn header<'a>(&self, line: &'a str) -> Option<&'a str> {
        if self.open() {
            return None;
        }
        let t = line.trim_start_matches([' ', '\t']);
        if !t.starts_with('[') {
            return None;
        }
        // A quoted key may hold `]` or `#`: the header ends at the last `]`
        // before any comment, and cutover's own headers have neither.
        let end = t.rfind(']')?;
        let rest = t[end + 1..].trim();
        (rest.is_empty() || rest.starts_with('#')).then(|| &t[..=end])
    }

    /// Follows a line that is not a header: strings, comments, brackets.
    /// None for what a header-free reading cannot follow.
    pub(super) fn line(&mut self, line: &str) -> Option<()> {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if let Some(basic) = self.multiline {
                let q = if basic { b'"' } else { b'\'' };
                if basic && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i..].starts_with(&[q, q, q]) {
                    // Up to two more quotes belong to the string.
                    i += 3;
                    let mut extra = 0;
                    while extra < 2 && b.get(i) == Some(&q) {
                        i += 1;
                        extra += 1;
                    }
                    self.multiline = None;
                    continue;
                }
                i += 1;
                continue;
            }
            match b[i] {
                b'#' => return Some(()),
                b'"' | b'\'' => {
                    let q = b[i];
                    if b[i..].starts_with(&[q, q, q]) {
                        self.multiline = Some(q == b'"');
                        i += 3;
                        continue;
                    }
                    // A one-line string ends on this line.
                    i += 1;
                    loop {
                        match b.get(i) {
                            None | Some(b'\n') => return None,
                            Some(b'\\') if q == b'"' => i += 2,
                            Some(c) if *c == q => {
                                i += 1;
                                break;
                            }
                            Some(_) => i += 1,
                        }
                    }
                }
                b'[' | b'{' => {
                    self.depth += 1;
                    i += 1;
                }
                b']' | b'}' => {
                    self.depth = self.depth.checked_sub(1)?;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schema, events archived, guides and events, as read.
    type Read = Option<(u32, u64, BTreeMap<String, GuideProgress>, Vec<Event>)>;

    fn whole(body: &str) -> Read {
        #[derive(Deserialize)]
        struct All {
            schema: u32,
            #[serde(default)]
            events_archived: u64,
            #[serde(default)]
            guides: BTreeMap<String, GuideProgress>,
            #[serde(default)]
            events: Vec<Event>,
        }
        let a: All = toml::from_str(body).ok()?;
        Some((a.schema, a.events_archived, a.guides, a.events))
    }

    fn pieces(body: &str) -> Read {
        read(body).map(|s| (s.schema, s.events_archived, s.guides, s.events))
    }

    /// A state with every kind of value cutover writes, in tables of many
    /// sizes, and strings that look like headers.
    fn state(steps: usize) -> String {
        let mut s = String::from("# cutover progress state\nschema = 2\nevents_archived = 7\n");
        for i in 0..steps {
            s.push_str(&format!(
                "\n[guides.g{}.steps.\"s.{i}\"]\nstatus = \"done\"\nnote = \"\"\"\n[guides.fake]\n[[events]]\nline ''' \\\"\"\" \nend\"\"\"\nat = \"2026-01-01T00:00:00Z\"\nby = \"a # not a comment\"\n",
                i % 3
            ));
            for c in 0..(i % 4) {
                s.push_str(&format!(
                    "\n[[guides.g{}.steps.\"s.{i}\".checks]]\nat = \"2026-01-01T00:00:0{c}Z\"\nby = 'b[x]'\ncheck = \"http\"\nverdict = \"pass\"\nmessage = \"ok [1] {{2}}\"\ndetails = [\n    \"dns 1 ms\",\n    \"[tls]\",\n]\n",
                    i % 3
                ));
            }
        }
        for e in 0..40 {
            s.push_str(&format!(
                "\n[[events]]\nat = \"2026-01-01T00:00:00Z\"\nby = \"a\"\nguide = \"g\"\nstep = \"s{e}\"\nwhat = \"note\"\ndetail = '''x'''\n"
            ));
        }
        s
    }

    #[test]
    fn pieces_read_as_the_whole_file_does() {
        for steps in [0, 3, 400, 2000] {
            let body = state(steps);
            let want = whole(&body);
            assert!(want.is_some(), "{steps}: the sample is valid TOML");
            if body.len() > BATCH_BYTES {
                assert!(cuts(&body).is_some_and(|c| c.len() > 3), "{steps}: cut in pieces");
            }
            assert_eq!(pieces(&body), want, "{steps} steps");
        }
    }

    #[test]
    fn what_it_cannot_follow_it_leaves_to_the_whole_parse() {
        let body = state(400);
        // A table twice, a string or an array left open, a root key late.
        let twice = format!("{body}\n[guides.g0.steps.\"s.0\"]\nstatus = \"todo\"\n");
        assert!(read(&twice).is_none());
        assert!(whole(&twice).is_none(), "the whole parse refuses it too");
        assert!(read(&format!("{body}\nx = \"\"\"\nopen")).is_none());
        assert!(read(&format!("{body}\nx = [\n1,\n")).is_none());
        assert!(read(&body.replacen("schema = 2\n", "", 1)).is_none(), "no schema");
        // Every truncation either reads as the whole file does, or not at all.
        for cut in (0..body.len()).step_by(997).filter(|c| body.is_char_boundary(*c)) {
            let part = &body[..cut];
            if let Some(got) = pieces(part) {
                assert_eq!(Some(got), whole(part), "cut at {cut}");
            }
        }
    }
}
