//! The guide: what a carrier tells an engineer to do, as data.
//!
//! These types are what a guide TOML file deserializes into (see
//! docs/guide-format.md). They are plain data: no IO, no terminal.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// The guide format version this build reads.
pub const GUIDE_SCHEMA: u32 = 1;

/// Text in one or more languages, keyed by language code (`en`, `nl`, `sv`):
/// a map in the guide file, kept as a list sorted by language. A guide has
/// hundreds of texts in two or three languages each; a map's node would be
/// half a kilobyte each, most of a decoded guide's memory.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Text(Vec<(String, String)>);

impl Text {
    /// The text in `lang`, else in the first of `fallbacks` that has it, else
    /// any language, else "".
    pub fn get<'a>(&'a self, lang: &str, fallbacks: &[String]) -> &'a str {
        std::iter::once(lang)
            .chain(fallbacks.iter().map(String::as_str))
            .find_map(|l| self.in_lang(l))
            .or_else(|| self.values().next())
            .unwrap_or("")
    }

    /// The text in exactly `lang`.
    pub fn in_lang(&self, lang: &str) -> Option<&str> {
        self.0.binary_search_by(|(l, _)| l.as_str().cmp(lang)).ok().map(|i| self.0[i].1.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.values().all(|s| s.trim().is_empty())
    }

    pub fn langs(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(l, _)| l.as_str())
    }

    /// The texts, in the order of their languages.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, t)| t.as_str())
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut String> {
        self.0.iter_mut().map(|(_, t)| t)
    }

    /// A text with one language, for tests and generated content.
    pub fn one(lang: &str, text: &str) -> Self {
        Text(vec![(lang.to_string(), text.to_string())])
    }
}

/// As a map would: sorted by language, and a language given twice keeps
/// the last text.
impl FromIterator<(String, String)> for Text {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut all: Vec<(String, String)> = iter.into_iter().collect();
        if all.windows(2).all(|w| w[0].0 < w[1].0) {
            return Text(all);
        }
        // Stable: of equal languages the last given stays last, and is kept.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(all.len());
        for pair in all {
            match out.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => out.push(pair),
            }
        }
        Text(out)
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(l, t)| (l, t))).finish()
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(l, t)| (l, t)))
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Langs;
        impl<'de> serde::de::Visitor<'de> for Langs {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table of texts by language")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> Result<Text, M::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(0).min(8));
                while let Some(pair) = m.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        d.deserialize_map(Langs)
    }
}

/// One guide file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    /// Guide format version; must be [`GUIDE_SCHEMA`].
    pub schema: u32,
    /// Stable id, lower-case letters, digits and dashes (`postnl`).
    pub id: Spanned<String>,
    /// Revision of the guide's content, shown in reports (`2018-06`).
    pub version: String,
    pub title: Text,
    #[serde(default)]
    pub carrier: Option<String>,
    /// The languages the guide has, in order of preference when the user's
    /// choice is missing: the first is the default.
    pub languages: Vec<String>,
    /// Which of `languages` are the carrier's originals (the others are
    /// translations made for cutover).
    #[serde(default)]
    pub originals: Vec<String>,
    /// Where the text comes from (document name, URL).
    #[serde(default)]
    pub source: Option<Text>,
    /// Environments the guide's checks can run against.
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
    /// Notices shown above the steps (a "current status" note, say).
    #[serde(default)]
    pub notices: Vec<Notice>,
    pub steps: Vec<Step>,
    /// Items that are not numbered steps: they have ids and a status, but do
    /// not count towards progress. Steps link to them with `troubleshoot`.
    #[serde(default)]
    pub troubleshooting: Vec<Step>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub base_url: String,
    #[serde(default)]
    pub label: Option<String>,
    /// `sandbox` environments may receive test data freely; anything else is
    /// treated as production when deciding what counts as creating data.
    #[serde(default)]
    pub sandbox: bool,
    /// Calls per minute per key for this environment (PostNL sandbox: 15).
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Info,
    Status,
    Warning,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    #[serde(default = "notice_kind_default")]
    pub kind: NoticeKind,
    pub text: Text,
}

fn notice_kind_default() -> NoticeKind {
    NoticeKind::Info
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable id: progress is keyed by it. Never rename a shipped id.
    pub id: Spanned<String>,
    /// Step number as the carrier prints it; absent for troubleshooting items.
    #[serde(default)]
    pub number: Option<u32>,
    pub title: Text,
    /// The step is from an older edition of the carrier's process and may no
    /// longer exist as written: still an ordinary step (it can be marked and
    /// counts), shown as historical, with today's route in its notes.
    #[serde(default)]
    pub historical: bool,
    /// The instructions, in full. Blank lines separate paragraphs; lines
    /// starting with "- " are list items.
    #[serde(default)]
    pub body: Text,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub links: Vec<Link>,
    /// Remarks added by cutover's authors (where a seed and the research
    /// disagree, for example); shown apart from the carrier's text.
    #[serde(default)]
    pub notes: Vec<Notice>,
    /// Troubleshooting items that apply to this step, by id.
    #[serde(default)]
    pub troubleshoot: Vec<Spanned<String>>,
    /// Steps that should be done before this one, by id.
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    /// Automated or manual checks that prove the step.
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Phone,
    Email,
    Web,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub kind: ContactKind,
    pub value: String,
    #[serde(default)]
    pub label: Option<Text>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub url: String,
    #[serde(default)]
    pub label: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// A person confirms, optionally with evidence text (a ticket number).
    Manual,
    /// The environment's API key is configured and plausible.
    Secret,
    /// DNS, TCP and TLS to a host.
    Reachability,
    /// One HTTP request, classified by status and body rules.
    Http,
    /// Several HTTP requests, one per API group, shown as a table.
    Probes,
    /// A command the user named in their own config.
    Command,
    /// Offline: API versions in use against the current ones.
    Versions,
    /// Offline: contract numbers in the config against the guide's rules.
    Contracts,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Manual => "manual",
            CheckKind::Secret => "secret",
            CheckKind::Reachability => "reachability",
            CheckKind::Http => "http",
            CheckKind::Probes => "probes",
            CheckKind::Command => "command",
            CheckKind::Versions => "versions",
            CheckKind::Contracts => "contracts",
        }
    }
}

/// A check declared on a step. One flat table for every kind, so that unknown
/// keys are caught; validation says which fields a kind uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub kind: Spanned<CheckKind>,
    /// Short name shown in the detail pane ("Sandbox key works").
    #[serde(default)]
    pub label: Option<Text>,
    /// Environments the check runs in; empty means every environment of the
    /// guide, following the active one.
    #[serde(default)]
    pub envs: Vec<Spanned<String>>,
    /// Only runs when asked for by name (never in "run all").
    #[serde(default)]
    pub on_request: bool,
    /// `true` declares that the check creates data at the carrier (such a
    /// check needs a typed confirmation); `false` declares that a method
    /// other than GET/HEAD creates none (a read-only POST). Absent: any
    /// method but GET/HEAD counts as creating data. A guide that replaces a
    /// built-in one cannot declare `false`.
    #[serde(default)]
    pub writes: Option<bool>,
    /// Environments in which the check creates data although its method is
    /// GET (PostNL's barcode reservation in production).
    #[serde(default)]
    pub writes_in: Vec<String>,
    /// What a pass proves, and what it does not (shown with the verdict).
    #[serde(default)]
    pub proves: Option<Text>,
    #[serde(default)]
    pub does_not_prove: Option<Text>,
    /// A verdict older than this is stale ("30m", "12h", "7d").
    #[serde(default)]
    pub fresh_for: Option<String>,
    #[serde(default)]
    pub timeout_secs: Option<u64>,

    // manual
    /// Evidence a person types when confirming (e.g. a ticket number).
    #[serde(default)]
    pub evidence: Option<Text>,

    // reachability
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,

    // http
    #[serde(default)]
    pub method: Option<String>,
    /// Path on the environment's base URL; `{name}` placeholders come from the
    /// user's config (`{customer_code}`, `{customer_number}`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Header values may use `{api_key}`: the key for the environment.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// Statuses that mean the request was accepted.
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// Rules tried in order before the defaults; the first that matches wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// JSON pointers whose values may be kept in evidence; nothing else of
    /// the body is stored.
    #[serde(default)]
    pub keep: Vec<String>,
    /// What a 2xx answer of this API looks like; a 2xx passes only in that
    /// shape.
    #[serde(default)]
    pub success: Option<Success>,
    /// Read-only requests tried in order when the request answers 404 or
    /// 410 (its API may be retired): the first that concludes decides.
    #[serde(default)]
    pub fallback: Vec<Fallback>,

    // probes
    #[serde(default)]
    pub probes: Vec<Probe>,

    // command
    /// Name of a command in the user's config (`[commands.NAME]`).
    #[serde(default)]
    pub command: Option<Spanned<String>>,
    /// Pass the environment's key to the command in `CUTOVER_API_KEY`.
    #[serde(default)]
    pub pass_key: bool,

    // versions
    /// The current version of each API (`shippingstatus = "v2"`), compared
    /// with the versions the user's config says the integration uses.
    #[serde(default)]
    pub current_versions: BTreeMap<String, String>,
}

/// The parts of an HTTP request a check or probe describes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestSpec {
    #[serde(default)]
    pub method: Option<String>,
    /// Path on the environment's base URL; `{name}` placeholders come from the
    /// user's config (`{customer_code}`, `{customer_number}`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Header values may use `{api_key}`: the key for the environment.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// Statuses that mean the request was accepted.
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// Rules tried in order before the defaults; the first that matches wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// JSON pointers whose values may be kept in evidence; nothing else of
    /// the body is stored.
    #[serde(default)]
    pub keep: Vec<String>,
    #[serde(default)]
    pub success: Option<Success>,
}

/// The shape of an API's success answer. A 2xx passes only if its body is
/// JSON with at least one of `json` present, or empty when `empty` allows
/// it, or non-JSON text when `text` allows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Success {
    /// The API's name as messages say it ("Shippingstatus").
    #[serde(default)]
    pub api: Option<String>,
    /// JSON pointers; any one of them must exist.
    #[serde(default)]
    pub json: Vec<String>,
    /// An empty body is a success.
    #[serde(default)]
    pub empty: bool,
    /// A body that is not JSON is a success.
    #[serde(default)]
    pub text: bool,
}

/// A read-only request a check falls back on when its own request's path
/// is gone (404/410).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    /// Named in the message when it decides ("Locations v2_1").
    pub label: Text,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub expect_status: Vec<u16>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub keep: Vec<String>,
    #[serde(default)]
    pub success: Option<Success>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The API group as the carrier's portal names it ("Track & Trace").
    pub group: String,
    #[serde(default)]
    pub label: Option<Text>,
    /// The user's config lists the groups in use; a probe runs only for them.
    #[serde(default)]
    pub writes_in: Vec<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// Path on the environment's base URL; `{name}` placeholders come from the
    /// user's config (`{customer_code}`, `{customer_number}`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Header values may use `{api_key}`: the key for the environment.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// Statuses that mean the request was accepted.
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// Rules tried in order before the defaults; the first that matches wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// JSON pointers whose values may be kept in evidence; nothing else of
    /// the body is stored.
    #[serde(default)]
    pub keep: Vec<String>,
    #[serde(default)]
    pub success: Option<Success>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleVerdict {
    Pass,
    Fail,
    Indeterminate,
    Error,
}

/// A declarative classification rule: all given conditions must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Matches if the status is one of these (any status if empty).
    #[serde(default)]
    pub status: Vec<u16>,
    /// JSON pointer into the body (RFC 6901), e.g. `/fault/faultstring`.
    #[serde(default)]
    pub pointer: Option<String>,
    /// The value at `pointer` contains this text (case-insensitive).
    #[serde(default)]
    pub contains: Option<String>,
    /// The value at `pointer` equals this (string, number or bool).
    #[serde(default)]
    pub equals: Option<toml::Value>,
    /// The value at `pointer` exists (true) or does not (false).
    #[serde(default)]
    pub exists: Option<bool>,
    /// The body is a web page (true: an HTML document, such as a CDN's or
    /// a login portal's; false: anything else).
    #[serde(default)]
    pub html: Option<bool>,
    pub verdict: RuleVerdict,
    pub message: Text,
    /// What to do next, in the carrier's terms.
    #[serde(default)]
    pub hint: Option<Text>,
}

impl Guide {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// The guide as a list of guides shows it: everything but what its
    /// steps and troubleshooting items say and check (each keeps its id,
    /// number, title and whether it is historical). A start reads only
    /// this of the guides it does not open (`catalog::GuideCell`).
    pub fn head(&self) -> Guide {
        let outline = |s: &Step| Step {
            id: s.id.clone(),
            number: s.number,
            title: s.title.clone(),
            historical: s.historical,
            body: Text::default(),
            contacts: Vec::new(),
            links: Vec::new(),
            notes: Vec::new(),
            troubleshoot: Vec::new(),
            requires: Vec::new(),
            checks: Vec::new(),
        };
        Guide {
            steps: self.steps.iter().map(outline).collect(),
            troubleshooting: self.troubleshooting.iter().map(outline).collect(),
            ..self.clone()
        }
    }

    /// Numbered steps followed by troubleshooting items.
    pub fn all_items(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().chain(self.troubleshooting.iter())
    }

    pub fn item(&self, id: &str) -> Option<&Step> {
        self.all_items().find(|s| s.id() == id)
    }

    pub fn is_troubleshooting(&self, id: &str) -> bool {
        self.troubleshooting.iter().any(|s| s.id() == id)
    }

    /// The language to show: `wanted` if the guide has it, else its first.
    pub fn pick_language(&self, wanted: &[&str]) -> String {
        for w in wanted {
            if let Some(l) = self.languages.iter().find(|l| l.eq_ignore_ascii_case(w)) {
                return l.clone();
            }
        }
        self.languages.first().cloned().unwrap_or_else(|| "en".to_string())
    }
}

impl Step {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }
}

impl CheckSpec {
    pub fn kind(&self) -> CheckKind {
        *self.kind.get_ref()
    }

    /// True if running this check in `env` creates data at the carrier.
    pub fn creates_data_in(&self, env: &str) -> bool {
        if self.writes == Some(true) || self.writes_in.iter().any(|e| e == env) {
            return true;
        }
        if self.writes == Some(false) {
            return false;
        }
        let method_writes = |r: &RequestSpec| {
            r.method
                .as_deref()
                .map(|m| !m.eq_ignore_ascii_case("GET") && !m.eq_ignore_ascii_case("HEAD"))
                .unwrap_or(false)
        };
        match self.kind() {
            CheckKind::Http => method_writes(&self.request()),
            CheckKind::Probes => {
                self.probes.iter().any(|p| method_writes(&p.request()) || p.writes_in.iter().any(|e| e == env))
            }
            _ => false,
        }
    }

    /// The environments this check may run in, given the guide's.
    pub fn env_names<'a>(&'a self, guide: &'a Guide) -> Vec<&'a str> {
        if self.envs.is_empty() {
            guide.environments.keys().map(String::as_str).collect()
        } else {
            self.envs.iter().map(|e| e.get_ref().as_str()).collect()
        }
    }
}

macro_rules! request_view {
    ($t:ty) => {
        impl $t {
            /// The request this describes, as one value.
            pub fn request(&self) -> RequestSpec {
                RequestSpec {
                    method: self.method.clone(),
                    path: self.path.clone(),
                    query: self.query.clone(),
                    headers: self.headers.clone(),
                    body: self.body.clone(),
                    expect_status: self.expect_status.clone(),
                    rules: self.rules.clone(),
                    keep: self.keep.clone(),
                    success: self.success.clone(),
                }
            }
        }
    };
}
request_view!(CheckSpec);
request_view!(Probe);

impl Fallback {
    /// The request this describes (a fallback has no body: it only reads).
    pub fn request(&self) -> RequestSpec {
        RequestSpec {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: None,
            expect_status: self.expect_status.clone(),
            rules: self.rules.clone(),
            keep: self.keep.clone(),
            success: self.success.clone(),
        }
    }
}

/// A short, stable hash of a step's content (text in every language, links,
/// contacts and checks). Progress stores it when a step is ticked, so that a
/// later edit of that step, and only that step, shows as drift.
pub fn step_hash(step: &Step) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_string(step).unwrap_or_default();
    let digest = Sha256::digest(json.as_bytes());
    hex::encode(&digest[..8])
}

/// Parses "30m", "12h", "7d", "45s" into seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text reads and writes as the map it is in the guide file: sorted
    /// by language, the last of a language given twice kept, and it finds
    /// the asked language, then the fallbacks, then any.
    #[test]
    fn a_text_is_a_map_by_language() {
        let t: Text = toml::from_str::<BTreeMap<String, Text>>("t = { sv = \"hej\", en = \"hi\", nl = \"hoi\" }")
            .ok()
            .and_then(|mut m| m.remove("t"))
            .unwrap_or_default();
        assert_eq!(t.langs().collect::<Vec<_>>(), ["en", "nl", "sv"]);
        assert_eq!(t.get("nl", &[]), "hoi");
        assert_eq!(t.get("fi", &["sv".into(), "en".into()]), "hej");
        assert_eq!(t.get("fi", &[]), "hi", "any language: the first");
        assert_eq!(t.in_lang("fi"), None);
        assert_eq!(serde_json::to_string(&t).ok().as_deref(), Some(r#"{"en":"hi","nl":"hoi","sv":"hej"}"#));
        assert_eq!(format!("{t:?}"), r#"{"en": "hi", "nl": "hoi", "sv": "hej"}"#);
        let twice: Text =
            [("nl", "een"), ("en", "x"), ("nl", "twee")].map(|(l, s)| (l.into(), s.into())).into_iter().collect();
        assert_eq!(twice.get("nl", &[]), "twee");
        assert_eq!(twice.values().collect::<Vec<_>>(), ["x", "twee"]);
        assert!(toml::from_str::<BTreeMap<String, Text>>("t = \"not a table\"").is_err());
        assert!(Text::default().is_empty() && Text::one("en", "  ").is_empty() && !t.is_empty());
    }
}
