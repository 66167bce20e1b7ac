//! The shipped guides and the example runbook: they parse, validate, keep
//! their stable ids, carry the carrier's facts, and their check rules say
//! what the research documents. Broken copies give located errors.

use cutover::check::classify::{Classified, Expect, Response, classify};
use cutover::guide::catalog::BUILT_IN;
use cutover::guide::{Catalog, CheckKind, CheckSpec, Guide, NoticeKind, RequestSpec, Rule, Step, Text, parse_guide};
use cutover::progress::Verdict;
use serde_json::{Value, json};

pub(super) fn built_in(name: &str) -> Guide {
    let (file, src) =
        BUILT_IN.iter().find(|(f, _)| *f == name).copied().unwrap_or_else(|| panic!("no built-in {name}"));
    match parse_guide(src, file) {
        Ok(g) => g,
        Err(errs) => {
            panic!("{name} does not validate:\n{}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))
        }
    }
}

pub(super) fn step<'a>(g: &'a Guide, id: &str) -> &'a Step {
    g.item(id).unwrap_or_else(|| panic!("{} has no item {id}", g.id()))
}

pub(super) fn checks_of(s: &Step, kind: CheckKind) -> Vec<&CheckSpec> {
    s.checks.iter().filter(|c| c.kind() == kind).collect()
}

pub(super) fn one_check(s: &Step, kind: CheckKind) -> &CheckSpec {
    let found = checks_of(s, kind);
    assert_eq!(found.len(), 1, "step {} should have exactly one {} check", s.id(), kind.as_str());
    found[0]
}

pub(super) fn t<'a>(text: &'a Text, lang: &str) -> &'a str {
    text.in_lang(lang).unwrap_or("")
}

/// Every piece of text of a guide in one language, joined.
pub(super) fn all_text(g: &Guide, lang: &str) -> String {
    let mut out = vec![t(&g.title, lang).to_string()];
    if let Some(s) = &g.source {
        out.push(t(s, lang).to_string());
    }
    out.extend(g.notices.iter().map(|n| t(&n.text, lang).to_string()));
    for s in g.all_items() {
        out.push(t(&s.title, lang).to_string());
        out.push(t(&s.body, lang).to_string());
        out.extend(s.notes.iter().map(|n| t(&n.text, lang).to_string()));
        out.extend(s.contacts.iter().filter_map(|c| c.label.as_ref()).map(|l| t(l, lang).to_string()));
        out.extend(s.links.iter().filter_map(|l| l.label.as_ref()).map(|l| t(l, lang).to_string()));
        for c in &s.checks {
            for x in [&c.label, &c.proves, &c.does_not_prove, &c.evidence].into_iter().flatten() {
                out.push(t(x, lang).to_string());
            }
            for r in all_rules(c) {
                out.push(t(&r.message, lang).to_string());
                if let Some(h) = &r.hint {
                    out.push(t(h, lang).to_string());
                }
            }
        }
    }
    out.join("\n")
}

pub(super) fn all_rules(c: &CheckSpec) -> Vec<&Rule> {
    c.rules.iter().chain(c.probes.iter().flat_map(|p| p.rules.iter())).collect()
}

// ---- a reading of the rule semantics documented in docs/guide-format.md,
// used to show that the documented carrier bodies land on the intended
// verdicts with first-match-wins ordering.

// ------------------------------------------------------------------ basics

#[test]
fn every_built_in_guide_parses_and_validates() {
    let c = Catalog::built_in();
    let shown: Vec<String> = c.errors.iter().map(|e| e.to_string()).collect();
    assert!(c.errors.is_empty(), "built-in guides have errors:\n{}", shown.join("\n"));
    let mut ids = c.ids();
    ids.sort();
    assert_eq!(ids, vec!["posti", "postnl"]);
    for (name, _) in BUILT_IN {
        let g = built_in(name);
        assert_eq!(format!("{}.toml", g.id()), *name);
        assert!(!g.originals.is_empty());
    }
}

#[test]
fn postnl_steps_have_the_stable_ids_in_order() {
    let g = built_in("postnl.toml");
    let ids: Vec<(&str, Option<u32>)> = g.steps.iter().map(|s| (s.id(), s.number)).collect();
    let want = [
        "servicedesk-access",
        "account-verification",
        "create-password",
        "api-manager-login",
        "sandbox-api-key",
        "manage-apis",
        "versioning",
        "sandbox-integration",
        "production-api-key",
        "go-live",
    ];
    let want: Vec<(&str, Option<u32>)> = want.iter().enumerate().map(|(i, id)| (*id, Some(i as u32 + 1))).collect();
    assert_eq!(ids, want);
    assert!(g.troubleshooting.is_empty());
    assert_eq!(g.languages, vec!["nl", "en"]);
    assert_eq!(g.originals, vec!["nl"]);
}

#[test]
fn posti_steps_and_troubleshooting_have_the_stable_ids_in_order() {
    let g = built_in("posti.toml");
    let ids: Vec<(&str, Option<u32>)> = g.steps.iter().map(|s| (s.id(), s.number)).collect();
    let want = [
        "open-omaposti-pro",
        "login",
        "integrations-page",
        "start-migration",
        "create-api-key",
        "describe-key",
        "copy-api-key",
        "current-api-keys",
    ];
    let want: Vec<(&str, Option<u32>)> = want.iter().enumerate().map(|(i, id)| (*id, Some(i as u32 + 1))).collect();
    assert_eq!(ids, want);
    let trouble: Vec<&str> = g.troubleshooting.iter().map(|s| s.id()).collect();
    assert_eq!(
        trouble,
        vec!["check-user-rights", "check-contract-numbers", "grant-manage-integrations", "assign-contract-numbers"]
    );
    assert!(g.troubleshooting.iter().all(|s| s.number.is_none()));
    assert_eq!(g.languages, vec!["en", "sv"]);
    assert_eq!(g.originals, vec!["en", "sv"]);
}

#[test]
fn posti_troubleshooting_is_reachable_from_the_steps_it_belongs_to() {
    let g = built_in("posti.toml");
    let links = |id: &str| -> Vec<String> { step(&g, id).troubleshoot.iter().map(|t| t.get_ref().clone()).collect() };
    let integrations = links("integrations-page");
    assert!(integrations.contains(&"check-user-rights".to_string()));
    assert!(integrations.contains(&"grant-manage-integrations".to_string()));
    for id in ["create-api-key", "copy-api-key"] {
        let l = links(id);
        assert!(l.contains(&"check-contract-numbers".to_string()), "{id}");
        assert!(l.contains(&"assign-contract-numbers".to_string()), "{id}");
    }
    for item in &g.troubleshooting {
        assert!(
            g.steps.iter().any(|s| s.troubleshoot.iter().any(|t| t.get_ref() == item.id())),
            "troubleshooting item {} is linked from no step",
            item.id()
        );
    }
}

#[test]
fn requires_are_few_and_point_backwards() {
    for name in ["postnl.toml", "posti.toml"] {
        let g = built_in(name);
        for (i, s) in g.steps.iter().enumerate() {
            for r in &s.requires {
                let pos = g.steps.iter().position(|x| x.id() == r.get_ref()).unwrap_or(usize::MAX);
                assert!(pos < i, "{}: {} requires {}, which is not an earlier step", g.id(), s.id(), r.get_ref());
            }
        }
    }
    let g = built_in("postnl.toml");
    let req = |id: &str| -> Vec<String> { step(&g, id).requires.iter().map(|r| r.get_ref().clone()).collect() };
    assert_eq!(req("production-api-key"), vec!["sandbox-integration"]);
    assert_eq!(req("go-live"), vec!["production-api-key"]);
}

#[test]
fn every_item_has_title_and_body_in_every_language_and_clean_formatting() {
    for name in ["postnl.toml", "posti.toml"] {
        let g = built_in(name);
        for s in g.all_items() {
            for lang in &g.languages {
                assert!(!t(&s.title, lang).trim().is_empty(), "{}: {} has no {lang} title", g.id(), s.id());
                let body = t(&s.body, lang);
                assert!(!body.trim().is_empty(), "{}: {} has no {lang} body", g.id(), s.id());
                assert_eq!(body, body.trim(), "{}: {} {lang} body has leading/trailing blank", g.id(), s.id());
                for line in body.lines() {
                    assert_eq!(line, line.trim_end(), "{}: {} {lang}: trailing space", g.id(), s.id());
                }
                assert!(!body.contains("\n\n\n"), "{}: {} {lang}: double blank line", g.id(), s.id());
                for n in &s.notes {
                    assert!(!t(&n.text, lang).trim().is_empty(), "{}: {} note lacks {lang}", g.id(), s.id());
                }
            }
            for c in &s.checks {
                for x in [&c.label, &c.proves, &c.does_not_prove, &c.evidence].into_iter().flatten() {
                    for lang in &g.languages {
                        assert!(!t(x, lang).trim().is_empty(), "{}: {} check text lacks {lang}", g.id(), s.id());
                    }
                }
                assert!(c.label.is_some(), "{}: {} has a check without label", g.id(), s.id());
                for r in all_rules(c) {
                    for lang in &g.languages {
                        assert!(
                            !t(&r.message, lang).trim().is_empty(),
                            "{}: {} rule message lacks {lang}",
                            g.id(),
                            s.id()
                        );
                    }
                }
            }
        }
        for n in &g.notices {
            for lang in &g.languages {
                assert!(!t(&n.text, lang).trim().is_empty());
            }
        }
    }
}

// ------------------------------------------------------------------ PostNL content

#[test]
fn postnl_keeps_the_seed_contacts_and_mentions_both_email_spellings() {
    let g = built_in("postnl.toml");
    for lang in ["nl", "en"] {
        let text = all_text(&g, lang);
        assert!(text.contains("citservicesdesk@postnl.nl"), "{lang}");
        assert!(text.contains("citservicedesk@postnl.nl"), "{lang}");
        assert!(text.contains("088 225 5651"), "{lang}");
    }
    for id in ["servicedesk-access", "sandbox-integration"] {
        let s = step(&g, id);
        for lang in ["nl", "en"] {
            let body = t(&s.body, lang);
            assert!(body.contains("citservicesdesk@postnl.nl"), "{id} {lang}: the seed's spelling stays in the body");
            assert!(body.contains("088 225 5651"), "{id} {lang}");
        }
        let values: Vec<&str> = s.contacts.iter().map(|c| c.value.as_str()).collect();
        assert!(values.contains(&"088 225 5651"), "{id}");
        assert!(values.contains(&"citservicesdesk@postnl.nl"), "{id}");
        assert!(values.contains(&"citservicedesk@postnl.nl"), "{id}");
        assert!(!s.notes.is_empty(), "{id}: a note explains the two spellings");
    }
    let first = step(&g, "servicedesk-access");
    assert!(t(&first.body, "nl").contains("naam en e-mailadres"));
    assert!(t(&first.body, "en").contains("name and an email address"));
}

#[test]
fn postnl_carries_the_facts_of_each_step() {
    let g = built_in("postnl.toml");
    let body = |id: &str, lang: &str| t(&step(&g, id).body, lang).to_string();
    assert!(body("versioning", "nl").contains("asterisk (*)"));
    assert!(body("versioning", "en").contains("asterisk (*)"));
    assert!(body("versioning", "nl").contains("Let op:"), "the upgrade warning");
    assert!(body("versioning", "en").contains("an upgrade follows"));
    assert!(body("production-api-key", "nl").contains("Show API’s"));
    assert!(body("production-api-key", "nl").contains("endpoints voor de Productie omgeving"));
    assert!(body("production-api-key", "en").contains("endpoints for the Production environment"));
    assert!(body("api-manager-login", "nl").contains("https://developer.postnl.nl/"));
    assert!(body("manage-apis", "en").contains("Shipping, Delivery Options and Track & Trace"));
    assert!(body("go-live", "nl").contains("Klik hier voor meer achtergrondinformatie en tips."));

    let status: Vec<_> = g.notices.iter().filter(|n| n.kind == NoticeKind::Status).collect();
    assert_eq!(status.len(), 1, "one current-status notice");
    for lang in ["nl", "en"] {
        assert!(t(&status[0].text, lang).contains("MijnPostNL"), "{lang}");
    }

    let go_live = step(&g, "go-live");
    assert!(
        go_live
            .links
            .iter()
            .any(|l| l.url.contains("developer.postnl.nl") && l.url.contains("migration-guide/background-information"))
    );
    assert!(go_live.notes.iter().any(|n| t(&n.text, "en").contains("restores")));
}

#[test]
fn postnl_environments_and_key_checks() {
    let g = built_in("postnl.toml");
    let sandbox = &g.environments["sandbox"];
    assert_eq!(sandbox.base_url, "https://api-sandbox.postnl.nl");
    assert!(sandbox.sandbox);
    assert_eq!(sandbox.rate_limit_per_minute, Some(15));
    let prod = &g.environments["production"];
    assert_eq!(prod.base_url, "https://api.postnl.nl");
    assert!(!prod.sandbox);

    for (id, env) in [("sandbox-api-key", "sandbox"), ("production-api-key", "production"), ("go-live", "production")] {
        let s = step(&g, id);
        let kinds: Vec<CheckKind> = s.checks.iter().map(|c| c.kind()).collect();
        assert_eq!(kinds, vec![CheckKind::Secret, CheckKind::Http], "{id}");
        for c in &s.checks {
            assert_eq!(c.env_names(&g), vec![env], "{id}");
        }
        let http = one_check(s, CheckKind::Http);
        let req = http.request();
        assert_eq!(req.method.as_deref(), Some("GET"));
        let path = req.path.as_deref().unwrap_or("");
        let barcode = path.strip_prefix("/shipment/v2/status/barcode/").unwrap_or_else(|| panic!("{id}: {path}"));
        assert!(barcode.starts_with("3S") && (barcode.len() == 13 || barcode.len() == 15), "{id}: {barcode}");
        assert_eq!(req.headers.get("apikey").map(String::as_str), Some("{api_key}"));
        assert_eq!(req.headers.get("Accept").map(String::as_str), Some("application/json"));
        assert_eq!(req.expect_status, vec![200]);
        assert!(!http.creates_data_in(env), "{id}: a status lookup creates nothing");
        assert!(!http.on_request);
        assert!(http.proves.is_some() && http.does_not_prove.is_some(), "{id}");
        for p in &req.keep {
            assert!(!p.to_lowercase().contains("name") && !p.to_lowercase().contains("address"), "{id}: keeps {p}");
        }
    }
}

/// What the real classifier says of `body` for the request `req` declares.
pub(super) fn classify_req(req: &RequestSpec, status: u16, body: &str) -> Classified {
    let headers = vec![("content-type".to_string(), "application/json".to_string())];
    let resp = Response { status, headers: &headers, body: body.as_bytes(), received_at: jiff::Timestamp::UNIX_EPOCH };
    let fallbacks = vec!["nl".to_string()];
    classify(
        &resp,
        &Expect {
            status: &req.expect_status,
            rules: &req.rules,
            keep: &req.keep,
            success: req.success.as_ref(),
            lang: "en",
            fallbacks: &fallbacks,
            carrier: Some("PostNL"),
            proxy: None,
        },
    )
}

#[test]
fn postnl_status_rules_classify_every_documented_body() {
    let g = built_in("postnl.toml");
    for id in ["sandbox-api-key", "production-api-key", "go-live"] {
        let check = one_check(step(&g, id), CheckKind::Http);
        let req = check.request();
        let c = |status: u16, body: Value| classify_req(&req, status, &body.to_string());
        let v = |status: u16, body: Value| c(status, body).verdict;
        assert_eq!(
            v(200, json!({"CurrentStatus": {}, "Warnings": [{"Message": "No shipment found", "Code": "2"}]})),
            Verdict::Pass,
            "{id}"
        );
        assert_eq!(
            v(200, json!({"CurrentStatus": {"Shipment": {"MainBarcode": "3SDEVC288882229"}}})),
            Verdict::Pass,
            "{id}"
        );
        // Something else answering 200 is not the Shippingstatus API.
        let other = c(200, json!({"GetLocationsResult": {}}));
        assert_eq!(other.verdict, Verdict::Indeterminate, "{id}");
        assert!(other.message.contains("not the Shippingstatus API"), "{}", other.message);
        let invalid =
            json!({"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}});
        let refused = c(401, invalid);
        assert_eq!(refused.verdict, Verdict::Fail, "{id}");
        let hint = refused.hint.unwrap_or_default();
        assert!(hint.contains("copy it again") && hint.contains("API management"), "{id}: {hint}");
        if id == "sandbox-api-key" {
            assert!(hint.contains("Company overview page (step 5)"), "{hint}");
        } else {
            assert!(hint.contains("step 9"), "{hint}");
        }
        // The key header never arrived: not a refusal, whatever the rules say.
        let missing = c(
            401,
            json!({"message": "Failed to resolve API Key variable 'request.header.apikey'", "http_status_code": 401}),
        );
        assert_eq!(missing.verdict, Verdict::Error, "{id}");
        assert!(missing.hint.as_deref().is_some_and(|h| h.contains("did not arrive")), "{missing:?}");
        assert_eq!(
            v(
                401,
                json!({"fault": {"faultstring": "x", "detail": {"errorcode": "oauth.v2.InvalidApiKeyForGivenResource"}}})
            ),
            Verdict::Fail
        );
        assert_eq!(v(401, json!({"something": "else"})), Verdict::Fail, "{id}: any other 401 fails");
        let limited = c(429, json!({"message": "Too many requests. Rate limit exceeded!", "http_status_code": 429}));
        assert_eq!(limited.verdict, Verdict::Indeterminate);
        assert!(limited.hint.is_some());
        for s in [500, 502, 503, 504] {
            let r = c(s, json!({"fault": {"faultstring": "boom", "detail": {"errorcode": "x"}}}));
            assert_eq!(r.verdict, Verdict::Indeterminate, "{id} {s}");
            assert!(r.message.contains(&s.to_string()), "{id}: names {s}: {}", r.message);
        }
        for s in [404, 410] {
            let r = c(s, json!({"fault": {"faultstring": "Unable to identify proxy for host"}}));
            assert_eq!(r.verdict, Verdict::Indeterminate, "{id} {s}");
            assert!(r.message.contains("mid-2026"), "{}", r.message);
            assert!(r.hint.as_deref().is_some_and(|h| h.contains("V4") && !h.contains("copy it again")), "{r:?}");
        }
        assert_eq!(
            v(405, json!({"message": "Only GET & POST requests allowed", "http_status_code": 405})),
            Verdict::Error
        );
        assert_eq!(
            v(
                400,
                json!({"fault": {"faultstring": "no barcode supplied in path", "detail": {"errorcode": "Validation Fault"}}})
            ),
            Verdict::Error
        );
        // The fallback when the status lookup is gone: Locations, read-only.
        let fb: Vec<_> = check.fallback.iter().map(|f| f.request()).collect();
        assert_eq!(fb.len(), 1, "{id}");
        assert_eq!(fb[0].path.as_deref(), Some("/shipment/v2_1/locations/nearest"));
        assert!(fb[0].method.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("GET")));
        assert_eq!(
            classify_req(&fb[0], 200, &json!({"GetLocationsResult": {"ResponseLocation": []}}).to_string()).verdict,
            Verdict::Pass
        );
    }
}

#[test]
fn postnl_manage_apis_probes_one_request_per_group() {
    let g = built_in("postnl.toml");
    let c = one_check(step(&g, "manage-apis"), CheckKind::Probes);
    let groups: Vec<&str> = c.probes.iter().map(|p| p.group.as_str()).collect();
    assert_eq!(groups, vec!["Track & Trace", "Delivery Options", "Shipping"]);
    let p = |group: &str| c.probes.iter().find(|p| p.group == group).map(|p| p.request()).unwrap_or_default();

    let tt = p("Track & Trace");
    assert!(tt.path.as_deref().unwrap_or("").starts_with("/shipment/v2/status/barcode/3S"));
    let dopt = p("Delivery Options");
    assert_eq!(dopt.path.as_deref(), Some("/shipment/v2_1/locations/nearest"));
    assert_eq!(dopt.query.get("CountryCode").map(String::as_str), Some("NL"));
    assert!(dopt.query.contains_key("PostalCode"));
    let ship = p("Shipping");
    assert_eq!(ship.path.as_deref(), Some("/shipment/v1_1/barcode"));
    assert_eq!(ship.query.get("CustomerCode").map(String::as_str), Some("{customer_code}"));
    assert_eq!(ship.query.get("CustomerNumber").map(String::as_str), Some("{customer_number}"));
    assert_eq!(ship.query.get("Type").map(String::as_str), Some("3S"));
    assert_eq!(ship.query.get("Serie").map(String::as_str), Some("000000000-999999999"));
    for probe in &c.probes {
        assert_eq!(probe.headers.get("apikey").map(String::as_str), Some("{api_key}"), "{}", probe.group);
    }

    // The barcode reservation uses up a number in production only.
    assert!(c.creates_data_in("production"));
    assert!(!c.creates_data_in("sandbox"));

    let ship = c.probes[2].request();
    assert_eq!(classify_req(&ship, 200, &json!({"Barcode": "3SDEVC903942795"}).to_string()).verdict, Verdict::Pass);
    // A 400 about the user's own config values is an error naming the key.
    let series = classify_req(
        &ship,
        400,
        &json!({"errors": [{"ErrorMsg": "Too many numbers in series", "ErrorNumber": "8"}]}).to_string(),
    );
    assert_eq!(series.verdict, Verdict::Error);
    assert!(series.hint.as_deref().is_some_and(|h| h.contains("customer_code")), "{series:?}");
    let loc = c.probes[1].request();
    assert_eq!(
        classify_req(&loc, 200, &json!({"GetLocationsResult": {"ResponseLocation": []}}).to_string()).verdict,
        Verdict::Pass
    );
    assert_eq!(
        classify_req(
            &loc,
            400,
            &json!({"Error": {"ErrorCode": "3000", "ErrorMessage": "Request format is invalid"}}).to_string()
        )
        .verdict,
        Verdict::Error
    );
}

#[test]
fn postnl_offline_and_local_checks() {
    let g = built_in("postnl.toml");
    let v = one_check(step(&g, "versioning"), CheckKind::Versions);
    for (api, ver) in [
        ("shippingstatus", "v2"),
        ("barcode", "v1_1"),
        ("locations", "v2_1"),
        ("deliverydate", "v2_2"),
        ("timeframes", "v2_1"),
        ("labelling", "v2_2"),
        ("confirming", "v2"),
        ("checkout", "v1"),
    ] {
        assert_eq!(v.current_versions.get(api).map(String::as_str), Some(ver), "{api}");
    }

    let reach = one_check(step(&g, "api-manager-login"), CheckKind::Reachability);
    assert_eq!(reach.host.as_deref(), Some("developer.postnl.nl"));
    let dnp = reach.does_not_prove.as_ref().map(|x| t(x, "en")).unwrap_or("");
    assert!(dnp.contains("login"), "honest about what reachability proves: {dnp}");

    let s8 = step(&g, "sandbox-integration");
    let cmd = one_check(s8, CheckKind::Command);
    assert_eq!(cmd.command.as_ref().map(|c| c.get_ref().as_str()), Some("smoke-test"));
    assert!(cmd.pass_key);
    assert_eq!(cmd.env_names(&g), vec!["sandbox"]);
    assert!(one_check(s8, CheckKind::Manual).evidence.is_some());
    assert!(one_check(step(&g, "servicedesk-access"), CheckKind::Manual).evidence.is_some());
}

// ------------------------------------------------------------------ Posti content

#[test]
fn posti_swedish_text_is_restored_not_ocr_damaged() {
    let g = built_in("posti.toml");
    let sv = all_text(&g, "sv");
    for good in [
        "Spåra försändelser",
        "Hantera integrationer",
        "utförs",
        "självbetjäning",
        "försändelser",
        "användare",
        "Behörigheter",
        "Öppna OmaPosti Pro",
        "Kopiera API-nyckel",
        "Nuvarande API-nycklar",
        "Gör ändringar",
    ] {
        assert!(sv.contains(good), "Swedish text lacks {good:?}");
    }
    let damage = [
        "utférs",
        "sjalvbetjaning",
        "férs",
        "farsandelser",
        "forsandelse",
        "fdrsandelse",
        "anvandare",
        "Anvandare",
        "Spara försändelser",
        "Spara forsandelser",
        "Behdrigheter",
        "behdrigheter",
        "Oppna",
        "6ppna",
        "klicka pa",
        "Koeiera",
        "nxckel",
        "Bé knaeeen",
        "l&gga",
        "I&nkas",
        "&nnu",
        "berdrda",
        "darfér",
        "maste",
        "rattighet",
        "kraver",
        "Gor andringar",
        "Go6r",
        "huvudanvandare",
        "foretagskonto",
        "hamtning",
        "Nar du ar",
        "pabdrja",
        "paboérja",
        "igdng",
        "avtalshummer",
        "transportkader",
        "urklipp fran",
        "nedatpilen",
        "Stang",
    ];
    for bad in damage {
        assert!(!sv.contains(bad), "Swedish text still has OCR damage {bad:?}");
    }
}

#[test]
fn posti_text_carries_the_facts_that_matter() {
    let g = built_in("posti.toml");
    let intro_en: String = g.notices.iter().map(|n| t(&n.text, "en")).collect::<Vec<_>>().join("\n");
    assert!(intro_en.contains("self-service"));
    assert!(intro_en.contains("avoids sending the secret API key via email"));
    assert!(intro_en.contains("main user"));
    assert!(intro_en.contains("only for the contract numbers in question"));
    let intro_sv: String = g.notices.iter().map(|n| t(&n.text, "sv")).collect::<Vec<_>>().join("\n");
    assert!(intro_sv.contains("självbetjäning") && intro_sv.contains("huvudanvändare"));

    let en = all_text(&g, "en");
    assert!(en.contains("Manage integrations requires at least one logistics service contract."));
    assert!(en.contains("a transport id alone is not enough"));
    assert!(en.contains("Current API Keys"));
    assert!(t(&step(&g, "current-api-keys").notes[0].text, "en").contains("activated"));
    assert!(t(&step(&g, "current-api-keys").notes[0].text, "sv").contains("Aktiverad"));

    let first = step(&g, "open-omaposti-pro");
    let urls: Vec<&str> = first.links.iter().map(|l| l.url.as_str()).collect();
    let en_url = "https://www.posti.fi/en/for-businesses/parcels-and-logistics/tools-and-interfaces/omaposti-pro";
    let sv_url = "https://www.posti.fi/sv/for-foretag/paket-och-logistik/digitala-tjanster-och-granssnitt/omaposti-pro";
    assert_eq!(urls, vec![en_url, sv_url]);
    assert!(t(&first.body, "en").contains(en_url));
    assert!(t(&first.body, "sv").contains(sv_url));
    assert!(t(&first.body, "en").contains("\"Open OmaPosti Pro\""));
}

#[test]
fn posti_key_checks_post_no_order_and_classify_the_documented_bodies() {
    let g = built_in("posti.toml");
    assert_eq!(g.environments.keys().collect::<Vec<_>>(), vec!["production"]);
    let prod = &g.environments["production"];
    assert!(!prod.sandbox);
    assert!(prod.base_url.starts_with("https://gateway.posti.fi/"));

    for id in ["copy-api-key", "current-api-keys"] {
        let s = step(&g, id);
        one_check(s, CheckKind::Secret);
        let reach = one_check(s, CheckKind::Reachability);
        assert_eq!(reach.host.as_deref(), Some("gateway.posti.fi"));
        let http = one_check(s, CheckKind::Http);
        assert!(http.on_request, "{id}: the POST runs only when asked for");
        assert!(http.creates_data_in("production"), "{id}: a POST needs typed confirmation");
        let req = http.request();
        assert_eq!(req.method.as_deref(), Some("POST"));
        assert!(req.path.as_deref().unwrap_or("").ends_with("/shipping/order"));
        assert_eq!(req.headers.get("Authorization").map(String::as_str), Some("{api_key}"), "raw key, no Bearer");
        let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("null")).unwrap_or(Value::Null);
        assert!(body.is_object(), "{id}: body is a JSON object");
        assert!(body.get("shipment").is_none(), "{id}: the body can never be an order");
        let dnp = http.does_not_prove.as_ref().map(|x| t(x, "en")).unwrap_or("");
        assert!(dnp.contains("place orders") && dnp.contains("contracts"), "{id}: {dnp}");

        let c = |status: u16, body: &str| classify_req(&req, status, body);
        let v = |status: u16, body: &str| c(status, body).verdict;
        assert_eq!(v(401, "{}"), Verdict::Fail);
        for code in ["UNAUTHORIZED", "INVALID_TOKEN", "EXPIRED"] {
            assert_eq!(v(401, &json!({"errorCode": code, "message": "x", "details": null}).to_string()), Verdict::Fail);
        }
        assert_eq!(
            v(403, &json!({"errorCode": "FORBIDDEN", "message": "x", "details": null}).to_string()),
            Verdict::Fail
        );
        // The CDN's page in front of the gateway: blocked before the API,
        // and the hint names what the gateway may want besides the key.
        let cdn =
            c(403, "<HTML><BODY><H1>403 ERROR</H1>Request blocked. Generated by cloudfront (CloudFront)</BODY></HTML>");
        assert_eq!(cdn.verdict, Verdict::Fail);
        assert!(cdn.message.contains("Blocked before the API"), "{}", cdn.message);
        assert!(cdn.hint.as_deref().is_some_and(|h| h.contains("x-gateway-secret")), "{cdn:?}");
        assert_eq!(v(403, "{}"), Verdict::Fail, "a 403 stays fail whatever its body");
        let missing =
            c(400, &json!({"errorCode": "MISSING_HEADER", "message": "Missing header", "details": null}).to_string());
        assert_eq!(missing.verdict, Verdict::Indeterminate);
        assert!(missing.hint.as_deref().is_some_and(|h| h.contains("x-gateway-secret")), "{missing:?}");
        assert_eq!(v(200, &json!({"errors": [{"message": "x"}]}).to_string()), Verdict::Fail);
        assert_eq!(v(429, "{}"), Verdict::Indeterminate);
        let fault = c(500, &json!({"errorCode": "INTERNAL_SERVER_ERROR", "message": "x", "details": null}).to_string());
        assert_eq!(fault.verdict, Verdict::Indeterminate);
        assert!(fault.message.contains("500"), "{}", fault.message);
        assert_eq!(v(503, "gateway down"), Verdict::Indeterminate);
        assert_eq!(v(404, "{}"), Verdict::Indeterminate, "an unknown endpoint says nothing about the key");
        assert_eq!(v(405, "{}"), Verdict::Error, "a refused method is a bug in the check");
        for (status, body) in [
            (400, json!({"errorCode": "VALIDATION_ERROR", "message": "x", "details": null})),
            (422, json!({"message": "shipment missing"})),
        ] {
            let r = c(status, &body.to_string());
            assert_eq!(r.verdict, Verdict::Pass, "{id}: {status} {body}");
            assert!(r.message.contains("Key not refused"), "{}", r.message);
        }
        // A 2xx must be Posti's own answer.
        assert_eq!(v(200, "[]"), Verdict::Indeterminate);
        assert_eq!(v(200, "<html><title>OmaPosti</title></html>"), Verdict::Indeterminate);
        assert_eq!(v(200, &json!([{"id": "1", "shipmentNo": "JJFI1"}]).to_string()), Verdict::Pass);
    }
    let contracts = one_check(step(&g, "check-contract-numbers"), CheckKind::Contracts);
    assert!(contracts.proves.is_some() && contracts.does_not_prove.is_some());
}
