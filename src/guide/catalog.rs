//! The set of guides cutover knows: the built-in ones, embedded in the
//! binary, and the user's own from the config dir's `guides/` folder. A user
//! guide with the same id overrides the built-in one. A broken file is
//! reported and skipped; the others still load.

use super::model::Guide;
use super::parse::GuideError;
use std::path::{Path, PathBuf};

/// The guides shipped in the binary: (file name, text).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("postnl.toml", include_str!("../../assets/guides/postnl.toml")),
    ("posti.toml", include_str!("../../assets/guides/posti.toml")),
];

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
    pub guide: Guide,
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

impl Catalog {
    /// Built-in guides only. They are valid and clean by construction
    /// (proven at build time by the test below), so a start only reads them.
    pub fn built_in() -> Self {
        let mut c = Catalog::default();
        for (name, src) in BUILT_IN {
            match super::parse::parse_proven(src, &format!("built-in:{name}")) {
                Ok(g) => {
                    c.guides.push(LoadedGuide { guide: g, source: GuideSource::BuiltIn, overrides_built_in: false })
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
            *existing = LoadedGuide { guide, source, overrides_built_in };
        } else {
            self.guides.push(LoadedGuide { guide, source, overrides_built_in: false });
        }
    }

    pub fn get(&self, id: &str) -> Option<&LoadedGuide> {
        self.guides.iter().find(|l| l.guide.id() == id)
    }

    /// Each guide's id with its environment names (for finding keys).
    pub fn environments(&self) -> Vec<(String, Vec<String>)> {
        self.guides.iter().map(|l| (l.guide.id().to_string(), l.guide.environments.keys().cloned().collect())).collect()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.guides.iter().map(|l| l.guide.id()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guide::parse_guide;

    /// What lets a start skip validating and sanitizing the built-in
    /// guides: for each, the full parse accepts it, and what it returns
    /// equals what the plain read returns (nothing to clean, no default
    /// filled in differently).
    #[test]
    fn built_in_guides_are_valid_and_clean_as_embedded() {
        for (name, src) in BUILT_IN {
            let file = format!("built-in:{name}");
            let full = parse_guide(src, &file).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let plain: Guide = toml::from_str(src).unwrap_or_else(|e| panic!("{name}: {e}"));
            let json = |g: &Guide| serde_json::to_string(g).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(json(&full), json(&plain), "{name}: validation or sanitizing changes the embedded guide");
        }
        let c = Catalog::built_in();
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.ids(), vec!["postnl", "posti"]);
    }
}
