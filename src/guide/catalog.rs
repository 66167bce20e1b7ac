//! The set of guides cutover knows: the built-in ones, embedded in the
//! binary, and the user's own from the config dir's `guides/` folder. A user
//! guide with the same id overrides the built-in one. A broken file is
//! reported and skipped; the others still load.

use super::model::Guide;
use super::parse::GuideError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod cell;
mod compact;
#[cfg(test)]
mod compact_encode;
pub use cell::GuideCell;

/// A built-in guide as `build.rs` made it from `assets/guides/`: validated,
/// in compact form, with its steps' content hashes.
struct Compact {
    file: &'static str,
    guide: &'static [u8],
    /// The compact form of its head ([`Guide::head`]).
    head: &'static [u8],
    /// (step id, [`super::step_hash`]) for every item, as at build time.
    hashes: &'static [(&'static str, &'static str)],
}

// `BUILT_IN` (file name, TOML text) and `COMPACT`, from build.rs.
include!(concat!(env!("OUT_DIR"), "/built_in.rs"));

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideSource {
    BuiltIn,
    File(PathBuf),
}

impl GuideSource {
    pub fn describe(&self) -> String {
        match self {
            GuideSource::BuiltIn => "built-in".to_string(),
            GuideSource::File(p) => p.display().to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadedGuide {
    /// Shared with the App's entries: decoded once, when first used, and
    /// copied nowhere.
    pub guide: GuideCell,
    pub source: GuideSource,
    /// A built-in guide this one replaces.
    pub overrides_built_in: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub guides: Vec<LoadedGuide>,
    /// Problems with files that were skipped.
    pub errors: Vec<GuideError>,
}

/// A guide file that replaces a built-in one cannot move the carrier's key
/// or lift a consent: it keeps the built-in's environments (base URLs,
/// names, limits; only the user's config or `CUTOVER_<GUIDE>_<ENV>_URL`
/// change a base URL), and cannot declare that a non-GET request creates no
/// data (`writes = false`).
fn restrict_replacement(guide: &mut Guide, built_in: &Guide) {
    guide.environments = built_in.environments.clone();
    for c in guide.steps.iter_mut().chain(guide.troubleshooting.iter_mut()).flat_map(|s| s.checks.iter_mut()) {
        if c.writes == Some(false) {
            c.writes = None;
        }
    }
}

/// The largest guide file read. The built-in guides are under 64 KB; a file
/// many times that size is a mistake (or an attack), not a guide.
pub const MAX_GUIDE_BYTES: u64 = 2 * 1024 * 1024;

/// Reads and parses one guide file: at most [`MAX_GUIDE_BYTES`], UTF-8,
/// every problem located as file:line:col.
pub fn read_guide_file(path: &Path) -> Result<Guide, Vec<GuideError>> {
    read_guide_file_with_warnings(path).map(|(g, _)| g)
}

/// As [`read_guide_file`], with the warnings of a file that loads.
pub fn read_guide_file_with_warnings(path: &Path) -> Result<(Guide, Vec<GuideError>), Vec<GuideError>> {
    use crate::paths::ReadRefused;
    let shown = path.display().to_string();
    let at_start = |message: String| vec![GuideError { file: shown.clone(), line: 1, col: 1, message }];
    let bytes = match crate::paths::read_regular_file(path, MAX_GUIDE_BYTES) {
        Ok(b) => b,
        Err(ReadRefused::TooLarge(_)) => {
            return Err(at_start(format!(
                "file is larger than {} MB, the most a guide may be; is this really a guide?",
                MAX_GUIDE_BYTES / (1024 * 1024)
            )));
        }
        Err(e) => return Err(at_start(e.to_string())),
    };
    let src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let (line, col) =
                super::parse::line_col(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to());
            return Err(vec![GuideError { file: shown, line, col, message: "file is not valid UTF-8".into() }]);
        }
    };
    super::parse::parse_guide_with_warnings(&src, &shown)
}

/// A built-in guide in full: its compact form, or should that not read,
/// its TOML parsed in full, which says where it fails.
fn decode(b: &Compact) -> Result<Guide, Vec<GuideError>> {
    compact::from_bytes::<Guide>(b.guide).or_else(|e| {
        tracing::warn!(guide = b.file, error = %e, "the compact built-in guide does not read; parsing its TOML");
        let src = BUILT_IN.iter().find(|(f, _)| *f == b.file).map(|(_, s)| *s).unwrap_or_default();
        super::parse::parse_guide(src, &format!("built-in:{}", b.file))
    })
}

impl LoadedGuide {
    /// The content hash of every step, by id: for a built-in guide as
    /// computed at build time, for any other computed now.
    pub fn step_hashes(&self) -> BTreeMap<String, String> {
        match self.guide.compact() {
            Some(c) => c.hashes.iter().map(|(s, h)| (s.to_string(), h.to_string())).collect(),
            None => self.guide.all_items().map(|s| (s.id().to_string(), super::step_hash(s))).collect(),
        }
    }
}

impl Catalog {
    /// Built-in guides only. `build.rs` validated them and made each into
    /// its compact form, so a start only reads that (no TOML). Should one
    /// not read, its TOML is parsed in full, which says where it fails.
    pub fn built_in() -> Self {
        let mut c = Catalog::default();
        for b in COMPACT {
            let guide = match GuideCell::built_in(b) {
                Some(cell) => Ok(cell),
                None => decode(b).map(|g| GuideCell::ready(Arc::new(g))),
            };
            match guide {
                Ok(guide) => {
                    c.guides.push(LoadedGuide { guide, source: GuideSource::BuiltIn, overrides_built_in: false })
                }
                Err(e) => c.errors.extend(e),
            }
        }
        c
    }

    /// Built-ins plus every `*.toml` in `user_dir` (if it exists), sorted by
    /// file name; later files with the same id replace earlier ones.
    pub fn load(user_dir: Option<&Path>) -> Self {
        let mut c = Self::built_in();
        let Some(dir) = user_dir else { return c };
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect(),
            Err(_) => return c,
        };
        files.sort();
        for path in files {
            match read_guide_file(&path) {
                Ok(g) => c.insert(g, GuideSource::File(path)),
                Err(e) => c.errors.extend(e),
            }
        }
        c
    }

    fn insert(&mut self, mut guide: Guide, source: GuideSource) {
        if let Some(existing) = self.guides.iter_mut().find(|l| l.guide.id() == guide.id()) {
            let overrides_built_in = existing.source == GuideSource::BuiltIn || existing.overrides_built_in;
            if overrides_built_in {
                restrict_replacement(&mut guide, &existing.guide);
            }
            *existing = LoadedGuide { guide: GuideCell::ready(Arc::new(guide)), source, overrides_built_in };
        } else {
            self.guides.push(LoadedGuide {
                guide: GuideCell::ready(Arc::new(guide)),
                source,
                overrides_built_in: false,
            });
        }
    }

    pub fn get(&self, id: &str) -> Option<&LoadedGuide> {
        self.guides.iter().find(|l| l.guide.id() == id)
    }

    /// Each guide's id with its environment names (for finding keys).
    pub fn environments(&self) -> Vec<(String, Vec<String>)> {
        self.guides
            .iter()
            .map(|l| (l.guide.id().to_string(), l.guide.head().environments.keys().cloned().collect()))
            .collect()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.guides.iter().map(|l| l.guide.id()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guide::parse_guide;

    /// What lets a start read the compact form instead of the TOML: each
    /// built-in guide read from it is the guide the full parse of its TOML
    /// gives (validated, sanitized), and so are the step hashes made at
    /// build time. (`build.rs` proves it too, before the build can finish.)
    #[test]
    fn built_in_guides_read_from_the_compact_form_are_the_parsed_guides() {
        let c = Catalog::built_in();
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.ids(), vec!["postnl", "posti"]);
        // Until a guide is read in full only its head is decoded, and it
        // is the parsed guide's head.
        for ((name, src), loaded) in BUILT_IN.iter().zip(&c.guides) {
            assert!(!loaded.guide.is_decoded(), "{name}: decoded before use");
            let head = parse_guide(src, name).unwrap_or_else(|e| panic!("{name}: {e:?}")).head();
            let json = |g: &Guide| serde_json::to_string(g).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(json(loaded.guide.head()), json(&head), "{name}: the compact head");
            assert!(head.steps.iter().all(|s| s.body.is_empty() && s.checks.is_empty()), "{name}: a head");
            assert!(!loaded.guide.is_decoded(), "{name}: reading the head decodes the guide");
        }
        assert_eq!(BUILT_IN.iter().map(|(f, _)| *f).collect::<Vec<_>>(), vec!["postnl.toml", "posti.toml"]);
        for ((name, src), loaded) in BUILT_IN.iter().zip(&c.guides) {
            let file = format!("built-in:{name}");
            let full = parse_guide(src, &file).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let json = |g: &Guide| serde_json::to_string(g).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(json(&loaded.guide), json(&full), "{name}: the compact form reads back differently");
            let now: BTreeMap<String, String> =
                full.all_items().map(|s| (s.id().to_string(), crate::guide::step_hash(s))).collect();
            assert_eq!(loaded.step_hashes(), now, "{name}: step hashes");
            assert_eq!(now.len(), full.all_items().count());
        }
    }

    /// Every built-in item read alone (`compact::element_of`) is the
    /// guide's item; bytes cut short give an error or that item, never
    /// another.
    #[test]
    fn an_item_read_alone_is_the_item_of_the_guide_in_full() {
        use crate::guide::model::Step;
        let json = |s: &Step| serde_json::to_string(s).unwrap();
        for c in COMPACT {
            let full = decode(c).unwrap_or_else(|e| panic!("{}: {e:?}", c.file));
            for (field, items) in [("steps", &full.steps), ("troubleshooting", &full.troubleshooting)] {
                for (i, item) in items.iter().enumerate() {
                    let alone: Option<Step> = compact::element_of(c.guide, field, i).unwrap();
                    assert_eq!(alone.as_ref().map(json), Some(json(item)), "{} {field}[{i}]", c.file);
                }
                let past: Option<Step> = compact::element_of(c.guide, field, items.len()).unwrap();
                assert!(past.is_none(), "{}: past the end of {field}", c.file);
            }
            let none: Option<Step> = compact::element_of(c.guide, "no-such-field", 0).unwrap();
            assert!(none.is_none());
            // Cut short anywhere: an error, never a panic or a wrong item.
            for cut in (0..c.guide.len()).step_by(97) {
                let last = full.steps.len() - 1;
                if let Ok(Some(s)) = compact::element_of::<Step>(&c.guide[..cut], "steps", last) {
                    assert_eq!(json(&s), json(&full.steps[last]), "{}: cut at {cut}", c.file);
                }
            }
        }
    }

    /// The compact form keeps every kind of value the model can hold,
    /// TOML values included, and refuses bytes cut short.
    #[test]
    fn the_compact_form_round_trips_and_refuses_truncation() {
        use super::compact_encode::to_bytes;
        let (_, src) = BUILT_IN[0];
        let full = parse_guide(src, "g").unwrap_or_else(|e| panic!("{e:?}"));
        let bytes = to_bytes(&full).unwrap_or_else(|e| panic!("{e}"));
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(compact::from_bytes::<Guide>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let value: toml::Table = toml::from_str(
            "s = \"x\"\ni = -42\nf = 1.5\nb = true\na = [1, 2]\nt = { k = \"v\" }\nd = 1979-05-27T07:32:00Z\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let bytes = to_bytes(&value).unwrap_or_else(|e| panic!("{e}"));
        let back: toml::Table = compact::from_bytes(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, value);
        let nums: (u8, i16, u32, i64, u64, Option<i8>, Option<String>, char) =
            (255, -300, 70_000, i64::MIN, u64::MAX, None, Some("ü".into()), '✓');
        let bytes = to_bytes(&nums).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(compact::from_bytes::<(u8, i16, u32, i64, u64, Option<i8>, Option<String>, char)>(&bytes), Ok(nums));
    }
}
