//! Guide files as users write and break them: the example runbook, broken
//! copies with located errors, a user's guide overriding a built-in one,
//! the success shapes every request declares, and the one exit-code table
//! the docs share.

use super::guides::*;
use cutover::guide::catalog::BUILT_IN;
use cutover::guide::{Catalog, CheckKind, GuideSource, parse_guide};
use cutover::progress::Verdict;

const RUNBOOK: &str = include_str!("../../docs/examples/runbook.toml");

// ------------------------------------------------------------------ the example and broken copies

#[test]
fn the_example_runbook_validates() {
    let g = match parse_guide(RUNBOOK, "docs/examples/runbook.toml") {
        Ok(g) => g,
        Err(errs) => panic!("{}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")),
    };
    assert!((3..=5).contains(&g.steps.len()));
    let kinds: Vec<CheckKind> = g.all_items().flat_map(|s| s.checks.iter().map(|c| c.kind())).collect();
    for k in [CheckKind::Manual, CheckKind::Reachability, CheckKind::Command] {
        assert!(kinds.contains(&k), "the example shows a {} check", k.as_str());
    }
}

fn line_of(src: &str, needle: &str, nth: usize) -> usize {
    let mut seen = 0;
    for (i, line) in src.lines().enumerate() {
        if line.contains(needle) {
            seen += 1;
            if seen == nth {
                return i + 1;
            }
        }
    }
    panic!("{needle:?} occurs fewer than {nth} times")
}

#[test]
fn a_duplicate_step_id_and_a_bad_reference_are_reported_together_with_their_lines() {
    let broken = RUNBOOK
        .replace("id = \"reach-endpoint\"", "id = \"change-window\"")
        .replace("requires = [\"smoke-test\"]", "requires = [\"no-such-step\"]");
    let errs = match parse_guide(&broken, "broken.toml") {
        Ok(_) => panic!("a broken copy must not validate"),
        Err(e) => e,
    };
    let dup_line = line_of(&broken, "id = \"change-window\"", 2);
    let dup = errs.iter().find(|e| e.message.contains("duplicate step id")).unwrap_or_else(|| panic!("{errs:?}"));
    assert_eq!(dup.file, "broken.toml");
    assert_eq!(dup.line, dup_line);
    assert_eq!(dup.col, "id = ".len() + 1);
    assert!(dup.to_string().starts_with(&format!("broken.toml:{dup_line}:6: ")), "{dup}");

    let req_line = line_of(&broken, "no-such-step", 1);
    let req = errs.iter().find(|e| e.message.contains("no-such-step")).unwrap_or_else(|| panic!("{errs:?}"));
    assert_eq!(req.line, req_line);
}

#[test]
fn an_unknown_key_is_reported_at_its_line() {
    let broken = RUNBOOK.replacen("number = 3\n", "number = 3\ncolour = \"red\"\n", 1);
    let errs = match parse_guide(&broken, "broken.toml") {
        Ok(_) => panic!("an unknown key must not validate"),
        Err(e) => e,
    };
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].line, line_of(&broken, "colour = \"red\"", 1), "{}", errs[0]);
    assert!(errs[0].message.contains("colour"), "{}", errs[0]);
}

#[test]
fn a_wrong_field_for_the_kind_and_a_troubleshooting_number_are_located() {
    let mut broken = built_in_src("posti.toml").to_string();
    broken = broken.replacen("id = \"check-user-rights\"\n", "id = \"check-user-rights\"\nnumber = 9\n", 1);
    broken = broken.replacen("kind = \"contracts\"\n", "kind = \"contracts\"\nhost = \"example.com\"\n", 1);
    let errs = match parse_guide(&broken, "posti-copy.toml") {
        Ok(_) => panic!("must not validate"),
        Err(e) => e,
    };
    let num = errs.iter().find(|e| e.message.contains("must not have a number")).unwrap_or_else(|| panic!("{errs:?}"));
    assert_eq!(num.line, line_of(&broken, "id = \"check-user-rights\"", 1));
    let host = errs.iter().find(|e| e.message.contains("`host` does not apply")).unwrap_or_else(|| panic!("{errs:?}"));
    assert_eq!(host.line, line_of(&broken, "kind = \"contracts\"", 1));
}

fn built_in_src(name: &str) -> &'static str {
    BUILT_IN.iter().find(|(f, _)| *f == name).map(|(_, s)| *s).unwrap_or_else(|| panic!("no built-in {name}"))
}

#[test]
fn a_user_guide_with_a_built_in_id_overrides_it_and_a_broken_file_is_skipped() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let mine = RUNBOOK.replace("id = \"label-service-cutover\"", "id = \"postnl\"");
    std::fs::write(dir.path().join("a-postnl.toml"), mine).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("b-runbook.toml"), RUNBOOK).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("c-broken.toml"), "schema = 1\nid = \"x\"\nnope = 1\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let c = Catalog::load(Some(dir.path()));
    let postnl = c.get("postnl").unwrap_or_else(|| panic!("postnl missing"));
    assert!(postnl.overrides_built_in);
    assert!(matches!(postnl.source, GuideSource::File(_)));
    assert_eq!(postnl.guide.steps[0].id(), "change-window");
    assert!(c.get("posti").is_some_and(|g| g.source == GuideSource::BuiltIn));
    assert!(c.get("label-service-cutover").is_some());
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert!(c.errors[0].file.ends_with("c-broken.toml"));
    assert_eq!(c.errors[0].line, 3);
}

// ------------------------------------------------------------------ success shapes and validation

#[test]
fn every_built_in_request_declares_its_success_shape() {
    for (name, _) in BUILT_IN {
        let g = built_in(name);
        for s in g.all_items() {
            for c in &s.checks {
                match c.kind() {
                    CheckKind::Http => {
                        assert!(c.success.is_some(), "{name} {}: http check without a success shape", s.id());
                        for f in &c.fallback {
                            assert!(f.success.is_some(), "{name} {}: fallback without a success shape", s.id());
                        }
                    }
                    CheckKind::Probes => {
                        for p in &c.probes {
                            assert!(
                                p.success.is_some(),
                                "{name} {}: probe {} without a success shape",
                                s.id(),
                                p.group
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn the_v4_check_is_opt_in_read_only_and_dated_by_the_clock() {
    let g = built_in("postnl.toml");
    let s = step(&g, "versioning");
    let v4 = s
        .checks
        .iter()
        .find(|c| c.label.as_ref().is_some_and(|l| t(l, "en") == "V4 access"))
        .unwrap_or_else(|| panic!("no V4 access check"));
    assert!(v4.on_request, "V4 access runs only when asked for");
    assert_eq!(v4.method.as_deref(), Some("POST"));
    assert_eq!(v4.path.as_deref(), Some("/shipment/delivery/v4/locations/near-address"));
    assert_eq!(v4.writes, Some(false), "declared read-only");
    for env in ["sandbox", "production"] {
        assert!(!v4.creates_data_in(env), "{env}");
    }
    assert!(v4.body.as_deref().is_some_and(|b| b.contains("\"pickUpDate\": \"{today}\"")));
    let dnp = v4.does_not_prove.as_ref().map(|x| t(x, "en")).unwrap_or("");
    assert!(dnp.contains("not verified"), "{dnp}");
    let req = v4.request();
    assert_eq!(classify_req(&req, 200, r#"{"locations":[{"locationType":"Retail"}]}"#).verdict, Verdict::Pass);
    assert_eq!(classify_req(&req, 401, r#"{"title":"Unauthorized"}"#).verdict, Verdict::Fail);
    let invited = classify_req(&req, 403, r#"{"title":"Forbidden","status":403}"#);
    assert_eq!(invited.verdict, Verdict::Indeterminate);
    assert!(invited.message.contains("perhaps not invited") && invited.message.contains("inference"));
    // Posti's empty-order POST keeps asking: its harmlessness is not verified.
    let posti = built_in("posti.toml");
    let key_check = one_check(step(&posti, "copy-api-key"), CheckKind::Http);
    assert_eq!(key_check.writes, None);
    assert!(key_check.creates_data_in("production"));
}

const SHAPED: &str = r#"
schema = 1
id = "mine"
version = "1"
title = { en = "Mine" }
languages = ["en"]

[environments.live]
base_url = "https://api.example.test"

[[steps]]
id = "key"
number = 1
title = { en = "Key" }

[[steps.checks]]
kind = "http"
path = "/status"
headers = { apikey = "{api_key}" }
SHAPE

[[steps.checks.rules]]
status = [200]
pointer = "POINTER"
verdict = "pass"
message = { en = "ok" }
"#;

#[test]
fn a_pass_rule_outside_the_shape_is_located_and_a_missing_shape_warns() {
    let src = SHAPED.replace("SHAPE", r#"success = { json = ["/Status"] }"#).replace("POINTER", "/Other/x");
    let errors = parse_guide(&src, "mine.toml").err().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("outside the success shape"), "{}", errors[0]);
    assert!(errors[0].to_string().starts_with("mine.toml:17:"), "{}", errors[0]);
    let inside = SHAPED.replace("SHAPE", r#"success = { json = ["/Status"] }"#).replace("POINTER", "/Status/code");
    assert!(parse_guide(&inside, "mine.toml").is_ok());
    let unshaped = SHAPED.replace("SHAPE", "").replace("POINTER", "/Status");
    let (g, warnings) =
        cutover::guide::parse_guide_with_warnings(&unshaped, "mine.toml").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(g.id(), "mine");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("no `success` shape"), "{}", warnings[0]);
    assert!(warnings[0].to_string().starts_with("mine.toml:17:"), "{}", warnings[0]);
    let digits = inside.replace("id = \"key\"", "id = \"12\"");
    let errors = parse_guide(&digits, "mine.toml").err().unwrap_or_default();
    assert!(errors.iter().any(|e| e.message.contains("only digits")), "{errors:?}");
}

#[test]
fn a_guide_replacing_a_built_in_keeps_its_base_urls_and_consents() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mine = RUNBOOK_POSTNL_REPLACEMENT;
    std::fs::write(dir.path().join("postnl.toml"), mine).unwrap_or_else(|e| panic!("{e}"));
    let c = Catalog::load(Some(dir.path()));
    let l = c.get("postnl").unwrap_or_else(|| panic!("{:?}", c.errors));
    assert!(l.overrides_built_in);
    assert_eq!(l.guide.environments["sandbox"].base_url, "https://api-sandbox.postnl.nl");
    assert!(!l.guide.environments.contains_key("evil"));
    let post = &l.guide.steps[0].checks[0];
    assert_eq!(post.writes, None, "a replacing guide cannot declare a POST harmless");
    assert!(post.creates_data_in("sandbox"));
}

const RUNBOOK_POSTNL_REPLACEMENT: &str = r#"
schema = 1
id = "postnl"
version = "mine"
title = { en = "My PostNL" }
languages = ["en"]

[environments.sandbox]
base_url = "https://collector.example.test"
sandbox = true

[environments.evil]
base_url = "https://collector.example.test"

[[steps]]
id = "post"
number = 1
title = { en = "Post" }

[[steps.checks]]
kind = "http"
method = "POST"
writes = false
path = "/shipment/v2_2/label"
headers = { apikey = "{api_key}" }
success = { json = ["/x"] }
"#;

// ------------------------------------------------------------------ one exit-code table

/// The rows of the first `| code | meaning |` table after `heading`.
fn exit_table(doc: &str, heading: &str) -> Vec<(i32, String)> {
    let text = std::fs::read_to_string(format!("{}/{doc}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default();
    let from = text.find(heading).unwrap_or_else(|| panic!("{doc} has no {heading:?}"));
    text[from..]
        .lines()
        .skip_while(|l| !l.starts_with("| code |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            Some((cells.first()?.parse().ok()?, cells.get(1)?.to_string()))
        })
        .collect()
}

#[test]
fn the_readme_and_json_doc_carry_the_one_exit_code_table() {
    let want: Vec<(i32, String)> = cutover::cli::exit::TABLE.iter().map(|(c, m)| (*c, m.to_string())).collect();
    assert_eq!(exit_table("README.md", "### Exit codes"), want, "README.md");
    assert_eq!(exit_table("docs/json.md", "| code | meaning |"), want, "docs/json.md");
}
