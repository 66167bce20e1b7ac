//! The verdict rules, case by case (docs/verdicts.md).

use super::*;
use crate::guide::{RuleVerdict, Text};
use rstest::rstest;

fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn run(
    status: u16,
    body: &str,
    headers: &[(&str, &str)],
    expect_status: &[u16],
    rules: &[Rule],
    keep: &[&str],
) -> Classified {
    let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let keep: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    let resp = Response { status, headers: &headers, body: body.as_bytes(), received_at: now() };
    let fallbacks = vec!["en".to_string()];
    classify(
        &resp,
        &Expect {
            status: expect_status,
            rules,
            keep: &keep,
            lang: "en",
            fallbacks: &fallbacks,
            carrier: Some("PostNL"),
            ..Expect::default()
        },
    )
}

/// As `run`, with a declared success shape.
fn shaped(status: u16, body: &str, headers: &[(&str, &str)], success: &Success, rules: &[Rule]) -> Classified {
    let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let resp = Response { status, headers: &headers, body: body.as_bytes(), received_at: now() };
    let fallbacks = vec!["en".to_string()];
    classify(
        &resp,
        &Expect {
            rules,
            lang: "en",
            fallbacks: &fallbacks,
            carrier: Some("PostNL"),
            success: Some(success),
            ..Expect::default()
        },
    )
}

fn status_shape() -> Success {
    Success {
        api: Some("Shippingstatus".into()),
        json: vec!["/CurrentStatus".into(), "/CompleteStatus".into(), "/Warnings".into()],
        ..Success::default()
    }
}

fn rule(status: &[u16], pointer: Option<&str>, verdict: RuleVerdict, message: &str) -> Rule {
    Rule {
        status: status.to_vec(),
        pointer: pointer.map(str::to_string),
        contains: None,
        equals: None,
        exists: None,
        html: None,
        verdict,
        message: Text::one("en", message),
        hint: Some(Text::one("en", "hint from the guide")),
    }
}

// Every documented PostNL body (research: postnl-api.md §2), defaults only.
#[rstest]
#[case::status_no_shipment(
    200,
    r#"{"CurrentStatus":{},"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#,
    Verdict::Pass,
    "accepted"
)]
#[case::status_known(200, r#"{"CurrentStatus":{"Shipment":{"MainBarcode":"3SDEVC288882229","Customer":{"CustomerCode":"DEVC","CustomerNumber":"11223344","Name":"Testaccount API PNP"}}}}"#, Verdict::Pass, "accepted")]
#[case::barcode(200, r#"{"Barcode": "3SDEVC903942795"}"#, Verdict::Pass, "accepted")]
#[case::deliverydate(
    200,
    r#"{"DeliveryDate": "30-06-2016", "Options": ["Daytime","Evening"]}"#,
    Verdict::Pass,
    "accepted"
)]
#[case::postalcode_empty(200, "[]", Verdict::Pass, "accepted")]
#[case::invalid_key(
    401,
    r#"{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}"#,
    Verdict::Fail,
    "the key was refused (401): \"Invalid ApiKey\""
)]
#[case::missing_key(
    401,
    r#"{"message": "Failed to resolve API Key variable 'request.header.apikey'", "http_status_code": 401}"#,
    Verdict::Error,
    "Failed to resolve API Key variable"
)]
#[case::method_not_allowed(
    405,
    r#"{"message": "Only GET & POST requests allowed", "http_status_code": 405}"#,
    Verdict::Error,
    "cutover's own request was refused (405)"
)]
#[case::rate_limited(
    429,
    r#"{"message": "Too many requests. Rate limit exceeded!", "http_status_code": 429}"#,
    Verdict::Indeterminate,
    "rate limited"
)]
#[case::server_fault(500, r#"{"fault":{"faultstring":"Unexpected EOF at target","detail":{"errorcode":"messaging.adaptors.http.flow.UnexpectedEOFAtTarget"}}}"#, Verdict::Indeterminate, "server had a problem (500)")]
#[case::validation_fault(
    400,
    r#"{"fault":{"faultstring":"no barcode supplied in path","detail":{"errorcode":"Validation Fault"}}}"#,
    Verdict::Error,
    "no barcode supplied in path"
)]
#[case::barcode_400(
    400,
    r#"{"errors":[{"ErrorMsg":"Too many numbers in series","ErrorNumber":"8"}]}"#,
    Verdict::Error,
    "Too many numbers in series"
)]
#[case::delivery_options_400(400, r#"{"Date":"2019-08-24T14:15:22Z","Error":{"ErrorCode":"3000","ErrorMessage":"Request format is invalid"},"RequestId":"09fd"}"#, Verdict::Error, "Request format is invalid")]
#[case::postalcode_400(400, r#"{"errors":[{"status":"400","title":"Bad Request","detail":"PostalCode has the wrong format. It should be: 1234AB"}]}"#, Verdict::Error, "PostalCode has the wrong format")]
#[case::confirming_400(400, r#"{"ResponseShipments":[{"Errors":[{"code":"10302","description":"Length of 3S type barcode must be between 13 and 15"}],"Warnings":[],"Barcode":"3SDEVC281677095"}]}"#, Verdict::Error, "Length of 3S type barcode")]
#[case::cendris_bad_key_400(
    400,
    r#"{"errors":[{"status":"400","title":"Bad Request","detail":"API key not valid"}]}"#,
    Verdict::Fail,
    "API key not valid"
)]
#[case::soap_fault(
    500,
    "<s:Envelope><s:Body><s:Fault><faultcode>s:CIF Framework Message Interceptor</faultcode><faultstring>Check CIFException in the detail section</faultstring></s:Fault></s:Body></s:Envelope>",
    Verdict::Indeterminate,
    "server had a problem (500)"
)]
fn postnl_bodies(#[case] status: u16, #[case] body: &str, #[case] verdict: Verdict, #[case] message_part: &str) {
    let c = run(status, body, &[("content-type", "application/json")], &[], &[], &[]);
    assert_eq!(c.verdict, verdict, "{c:?}");
    assert!(c.message.contains(message_part), "{c:?}");
    assert_eq!(c.hint.is_some(), verdict != Verdict::Pass, "every result but a pass has a hint: {c:?}");
}

// Every documented Posti body (research: posti-api.md §1-§2.5).
#[rstest]
#[case::shipping_200_errors(
    200,
    r#"{"errors":[{"message":"Invalid sender contract"}]}"#,
    Verdict::Fail,
    "body reports errors: \"Invalid sender contract\""
)]
#[case::shipping_200_ok(
    200,
    r#"[{"id":"1","status":"PRINTED","shipmentNo":"JJFI1","parcels":[{"parcelNo":"JJFI1"}]}]"#,
    Verdict::Pass,
    "accepted"
)]
#[case::shipping_200_empty_errors(200, r#"{"errors":[],"shipmentNo":"X"}"#, Verdict::Pass, "accepted")]
#[case::v2_error_code(
    400,
    r#"{"errorCode":"E123","message":"Receiver postcode missing"}"#,
    Verdict::Error,
    "E123: Receiver postcode missing"
)]
#[case::gateway_unauthorized(
    401,
    r#"{"errorCode":"UNAUTHORIZED","message":"Missing token","details":null}"#,
    Verdict::Fail,
    "UNAUTHORIZED"
)]
#[case::gateway_expired(
    401,
    r#"{"errorCode":"EXPIRED","message":"Token expired","details":null}"#,
    Verdict::Fail,
    "EXPIRED"
)]
#[case::gateway_invalid_token(
    401,
    r#"{"errorCode":"INVALID_TOKEN","message":"Invalid token","details":null}"#,
    Verdict::Fail,
    "INVALID_TOKEN"
)]
#[case::gateway_forbidden(
    403,
    r#"{"errorCode":"FORBIDDEN","message":"Forbidden","details":null}"#,
    Verdict::Fail,
    "refused (403)"
)]
#[case::gateway_validation(400, r#"{"errorCode":"VALIDATION_ERROR","message":"Extra inputs are not permitted","details":[{"loc":["searchCriteria"]}]}"#, Verdict::Error, "Extra inputs are not permitted")]
#[case::gateway_missing_header(
    400,
    r#"{"errorCode":"MISSING_HEADER","message":"Missing header","details":null}"#,
    Verdict::Error,
    "MISSING_HEADER"
)]
#[case::gateway_500(
    500,
    r#"{"errorCode":"INTERNAL_SERVER_ERROR","message":"Internal error","details":null}"#,
    Verdict::Indeterminate,
    "server had a problem"
)]
#[case::sending_code_404(
    404,
    r#"{"message":"Shipment not allowed for helposti code generation, Additional service 3196 is missing"}"#,
    Verdict::Indeterminate,
    "not there (any more) (404)"
)]
#[case::shipment_not_found(404, r#"{"message":"Shipment not found"}"#, Verdict::Indeterminate, "Shipment not found")]
#[case::token_error(
    401,
    r#"{"error":"invalid_client","error_description":"Bad client credentials"}"#,
    Verdict::Fail,
    "invalid_client: Bad client credentials"
)]
#[case::legacy_bad_credentials(
    401,
    r#"{"error":"Unauthorized","message":"Bad credentials"}"#,
    Verdict::Fail,
    "Bad credentials"
)]
#[case::cloudfront_403(
    403,
    "<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>403 ERROR</BODY></HTML>",
    Verdict::Fail,
    "blocked before it reached"
)]
#[case::token_ok(200, r#"{"access_token":"","token_type":"Bearer","expires_in":3600,"posti_fi":{"targets":{"2025-04":{"url":"https://gateway.posti.fi/2025-04","tier":0}}}}"#, Verdict::Pass, "accepted")]
#[case::pickup_points(
    200,
    r#"{"pickupPoints":[{"id":"1","publicName":"K-Market"}],"pagingContinuationToken":"abc"}"#,
    Verdict::Pass,
    "accepted"
)]
fn posti_bodies(#[case] status: u16, #[case] body: &str, #[case] verdict: Verdict, #[case] message_part: &str) {
    let c = run(status, body, &[], &[], &[], &[]);
    assert_eq!(c.verdict, verdict, "{c:?}");
    assert!(c.message.contains(message_part), "{c:?}");
    assert_eq!(c.hint.is_some(), verdict != Verdict::Pass, "every result but a pass has a hint: {c:?}");
}

#[test]
fn labelling_200_with_nested_errors_needs_a_rule() {
    let body = r#"{"MergedLabels":[],"ResponseShipments":[{"Barcode":"3SDEVC1","Errors":[{"Code":"111","Description":"No label available, Direct Infeed"}]}]}"#;
    // The defaults only look at a top-level `errors` member...
    assert_eq!(run(200, body, &[], &[], &[], &[]).verdict, Verdict::Pass);
    // ...a guide rule catches the nested one.
    let r = rule(&[200], Some("/ResponseShipments/0/Errors/0"), RuleVerdict::Fail, "label refused");
    let c = run(200, body, &[], &[], &[r], &[]);
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.message, "label refused");
    assert_eq!(c.hint.as_deref(), Some("hint from the guide"));
}

#[test]
fn rules_first_match_wins_and_matchers() {
    let body = r#"{"fault":{"faultstring":"Invalid ApiKey for given resource","detail":{"errorcode":"oauth.v2.InvalidApiKeyForGivenResource"}},"n":7,"ok":true,"code":"2"}"#;
    let mut contains = rule(&[401], Some("/fault/faultstring"), RuleVerdict::Fail, "API not enabled");
    contains.contains = Some("FOR GIVEN RESOURCE".into());
    let generic = rule(&[401], None, RuleVerdict::Fail, "key refused");
    assert_eq!(run(401, body, &[], &[], &[contains.clone(), generic.clone()], &[]).message, "API not enabled");
    assert_eq!(run(401, body, &[], &[], &[generic.clone(), contains.clone()], &[]).message, "key refused");
    // Status set filters.
    assert_eq!(
        run(403, body, &[], &[], &[contains.clone()], &[]).message,
        "access refused (403): \"Invalid ApiKey for given resource\""
    );

    let mut eq_num = rule(&[], Some("/n"), RuleVerdict::Pass, "seven");
    eq_num.equals = Some(toml::Value::Integer(7));
    assert_eq!(run(418, body, &[], &[], &[eq_num.clone()], &[]).verdict, Verdict::Pass);
    eq_num.equals = Some(toml::Value::Integer(8));
    assert_eq!(run(418, body, &[], &[], &[eq_num], &[]).verdict, Verdict::Indeterminate);
    let mut eq_code = rule(&[], Some("/code"), RuleVerdict::Pass, "code two");
    eq_code.equals = Some(toml::Value::Integer(2));
    assert_eq!(run(418, body, &[], &[], &[eq_code], &[]).message, "code two");
    let mut eq_bool = rule(&[], Some("/ok"), RuleVerdict::Indeterminate, "bool");
    eq_bool.equals = Some(toml::Value::Boolean(true));
    assert_eq!(run(418, body, &[], &[], &[eq_bool], &[]).verdict, Verdict::Indeterminate);

    let mut absent = rule(&[], Some("/nope"), RuleVerdict::Error, "absent");
    absent.exists = Some(false);
    assert_eq!(run(200, body, &[], &[], &[absent.clone()], &[]).verdict, Verdict::Error);
    absent.exists = Some(true);
    assert_eq!(run(200, body, &[], &[], &[absent], &[]).verdict, Verdict::Pass);
    // A pointer into a non-JSON body matches nothing, and without a
    // declared shape a 2xx passes only with JSON.
    let p = rule(&[], Some("/fault"), RuleVerdict::Fail, "x");
    assert_eq!(run(200, "plain text", &[], &[], std::slice::from_ref(&p), &[]).verdict, Verdict::Indeterminate);
    // A web page where the API should answer proves nothing.
    assert_eq!(run(200, "<html>", &[], &[], &[p], &[]).verdict, Verdict::Indeterminate);
}

#[test]
fn expect_status_overrides_defaults() {
    assert_eq!(run(404, "{}", &[], &[200, 404], &[], &[]).verdict, Verdict::Pass);
    assert_eq!(run(201, "{}", &[], &[200], &[], &[]).verdict, Verdict::Indeterminate);
    assert_eq!(run(204, "", &[], &[], &[], &[]).verdict, Verdict::Indeterminate);
    let empty_ok = Success { empty: true, ..Success::default() };
    assert_eq!(shaped(204, "", &[], &empty_ok, &[]).verdict, Verdict::Pass);
}

#[rstest]
#[case::seconds("120", Some(120))]
#[case::date("Tue, 14 Nov 2023 22:15:00 GMT", Some(100))]
#[case::past_date("Tue, 14 Nov 2023 22:00:00 GMT", None)]
#[case::garbage("soon", None)]
fn retry_after(#[case] header: &str, #[case] want: Option<u64>) {
    let c = run(429, "{}", &[("Retry-After", header)], &[], &[], &[]);
    assert_eq!(c.verdict, Verdict::Indeterminate);
    assert_eq!(c.retry_after, want);
    assert!(c.message.contains("429"));
}

#[test]
fn never_fail_on_transient() {
    for s in [429, 500, 502, 503, 504, 301, 302, 307] {
        let c = run(s, "{\"errors\":[\"x\"]}", &[("location", "https://elsewhere.example/x?apikey=1")], &[], &[], &[]);
        assert_eq!(c.verdict, Verdict::Indeterminate, "{s}");
    }
}

#[rstest]
#[case("https://evil.example:8443/path?q=1", "evil.example:8443")]
#[case("http://user:pw@host.test/x", "host.test")]
#[case("/relative/path", "the same host")]
#[case("//other.test/x", "other.test")]
fn redirect_names_only_the_host(#[case] location: &str, #[case] host: &str) {
    let c = run(302, "", &[("Location", location)], &[], &[], &[]);
    assert_eq!(c.verdict, Verdict::Indeterminate);
    assert_eq!(c.message, format!("redirect (302) to {host} not followed; the key was not sent there"));
}

#[test]
fn excerpt_keeps_only_allow_listed_values() {
    let body = r#"{"CurrentStatus":{"Shipment":{"Customer":{"Name":"Jan Jansen","Street":"Dorpsstraat 1"}}},"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#;
    let c = run(200, body, &[], &[], &[], &["/Warnings/0/Message", "/Warnings/0/Code", "/missing"]);
    assert_eq!(c.excerpt.as_deref(), Some("/Warnings/0/Message = No shipment found\n/Warnings/0/Code = 2"));
    let c = run(200, body, &[], &[], &[], &[]);
    assert_eq!(c.excerpt, None);
    let c = run(500, "<html>secret stuff</html>", &[], &[], &[], &["/x"]);
    assert_eq!(c.excerpt.as_deref(), Some("(non-JSON body: no content type, 25 bytes; title: secret stuff)"));
}

#[test]
fn excerpt_is_bounded_and_clean() {
    let long = "é".repeat(5000);
    let body = format!(r#"{{"a":"{long}","b":"x\u001b[31mred\u0007"}}"#);
    let c = run(200, &body, &[], &[], &[], &["/a", "/b"]);
    let e = c.excerpt.unwrap_or_default();
    assert!(e.len() <= EXCERPT_MAX, "{}", e.len());
    assert!(e.ends_with('…'));
    let c = run(200, &body, &[], &[], &[], &["/b"]);
    assert_eq!(c.excerpt.as_deref(), Some("/b = xred"));
}

#[test]
fn messages_are_sanitized() {
    let body = "{\"fault\":{\"faultstring\":\"bad\\u001b]0;pwned\\u0007 key\\u001b[2J\"}}";
    let c = run(401, body, &[], &[], &[], &[]);
    assert!(!c.message.chars().any(|ch| ch.is_control()), "{:?}", c.message);
    assert!(c.message.contains("bad key"), "{:?}", c.message);
    let long = format!("{{\"message\":\"{}\"}}", "x".repeat(1000));
    assert!(run(400, &long, &[], &[], &[], &[]).message.chars().count() < 250);
    let mut r = rule(&[], None, RuleVerdict::Fail, "evil\u{1b}[31m rule");
    r.hint = Some(Text::one("en", "hint\u{7}"));
    let c = run(400, "{}", &[], &[], &[r], &[]);
    assert_eq!(c.message, "evil rule");
    assert_eq!(c.hint.as_deref(), Some("hint"));
}

/// Found by the classifier property test: Posti's catch-all "key not
/// refused" rule passed a 505.
#[rstest]
fn a_catch_all_rule_cannot_pass_or_fail_an_answer_that_proves_nothing(
    #[values(0, 99, 101, 302, 304, 429, 500, 505, 599, 600, 999)] status: u16,
    #[values(RuleVerdict::Pass, RuleVerdict::Fail)] verdict: RuleVerdict,
) {
    let rules = [rule(&[], None, verdict, "matched")];
    let c = run(status, "{}", &[], &[status], &rules, &[]);
    assert_eq!(c.verdict, Verdict::Indeterminate, "{status}: {}", c.message);
    let c = run(status, "{}", &[], &[], &[rule(&[status], None, RuleVerdict::Indeterminate, "said")], &[]);
    assert_eq!((c.verdict, c.message.as_str()), (Verdict::Indeterminate, "said"));
}

#[rstest]
#[case::no_shipment(r#"{"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#, "application/json", None)]
#[case::current(r#"{"CurrentStatus":{"Shipment":{}}}"#, "application/json;charset=UTF-8", None)]
#[case::empty("", "application/json", Some("an empty body"))]
#[case::other_json(r#"{"GetLocationsResult":{}}"#, "application/json", Some("JSON of another shape"))]
#[case::null_member(r#"{"Warnings":null}"#, "application/json", Some("JSON of another shape"))]
#[case::portal(
    "<html><head><title>Log in | Hotel WiFi</title></head></html>",
    "text/html",
    Some("a web page (\"Log in | Hotel WiFi\")")
)]
#[case::json_as_html(r#"{"Warnings":[]}"#, "text/html", None)]
#[case::html_as_json("<!doctype html><p>proxy</p>", "application/json", Some("a web page"))]
#[case::text("OK", "text/plain", Some("a body that is not JSON (text/plain)"))]
fn a_2xx_passes_only_in_the_declared_shape(#[case] body: &str, #[case] content_type: &str, #[case] off: Option<&str>) {
    let c = shaped(200, body, &[("Content-Type", content_type)], &status_shape(), &[]);
    match off {
        None => assert_eq!(c.verdict, Verdict::Pass, "{c:?}"),
        Some(what) => {
            assert_eq!(c.verdict, Verdict::Indeterminate, "{c:?}");
            assert!(c.message.starts_with("something answered 200 that is not the Shippingstatus API"), "{c:?}");
            assert!(c.message.contains(what), "{c:?}");
            assert!(c.hint.as_deref().is_some_and(|h| h.contains("base URL")), "{c:?}");
        }
    }
}

#[test]
fn the_shape_gates_only_a_pass() {
    // A pass rule does not fire outside the shape...
    let pass = rule(&[200], None, RuleVerdict::Pass, "key accepted");
    let c = shaped(200, r#"{"foo":1}"#, &[], &status_shape(), std::slice::from_ref(&pass));
    assert_eq!(c.verdict, Verdict::Indeterminate);
    // ...while a rule that fails a 2xx is tried first, whatever the shape.
    let mut errors = rule(&[200], Some("/errors/0"), RuleVerdict::Fail, "order refused");
    errors.exists = Some(true);
    let c = shaped(200, r#"{"errors":[{"message":"x"}]}"#, &[], &status_shape(), &[errors, pass.clone()]);
    assert_eq!((c.verdict, c.message.as_str()), (Verdict::Fail, "order refused"));
    let text_ok = Success { text: true, ..Success::default() };
    assert_eq!(shaped(200, "pong", &[], &text_ok, &[]).verdict, Verdict::Pass);
    assert_eq!(shaped(200, "<html></html>", &[], &text_ok, &[]).verdict, Verdict::Indeterminate);
}

#[rstest]
fn a_gone_path_is_never_a_fail(#[values(404, 410)] status: u16) {
    let any_fail = rule(&[], None, RuleVerdict::Fail, "key refused");
    let c = run(status, r#"{"fault":{"faultstring":"Unable to identify proxy"}}"#, &[], &[], &[any_fail], &[]);
    assert_eq!(c.verdict, Verdict::Indeterminate, "{c:?}");
    let hint = c.hint.unwrap_or_default();
    assert!(hint.contains("retired") && hint.contains("base URL"), "{hint}");
    assert!(!hint.to_lowercase().contains("copy"), "{hint}");
    // A guide may still say more about it (PostNL: the phase-out).
    let said = rule(&[404, 410], None, RuleVerdict::Indeterminate, "retired? ({status})");
    let c = run(status, "", &[], &[], &[said], &[]);
    assert_eq!(c.message, format!("retired? ({status})"));
    assert_eq!(c.hint.as_deref(), Some("hint from the guide"));
}

#[rstest]
#[case(405, r#"{"message": "Only GET & POST requests allowed", "http_status_code": 405}"#)]
#[case(405, r#"{"fault":{"faultstring":"Method not allowed","detail":{"errorcode":"Method not allowed"}}}"#)]
#[case(405, "<html><body>405 Not Allowed</body></html>")]
#[case(405, r#"{"title":"Method Not Allowed","status":405}"#)]
#[case(400, r#"{"fault":{"faultstring":"no barcode supplied in path","detail":{"errorcode":"Validation Fault"}}}"#)]
#[case(
    422,
    r#"{"type":"about:blank","title":"Unprocessable","status":422,"detail":"pickUpDate must be today or later"}"#
)]
fn a_refusal_of_cutovers_own_request_is_an_error(#[case] status: u16, #[case] body: &str) {
    let c = run(status, body, &[], &[], &[], &[]);
    assert_eq!(c.verdict, Verdict::Error, "{c:?}");
    assert!(c.message.starts_with(&format!("cutover's own request was refused ({status})")), "{c:?}");
    let hint = c.hint.unwrap_or_default();
    assert!(hint.contains("bug in this check") && hint.contains("kept excerpt"), "{hint}");
}

#[test]
fn a_stripped_key_header_names_the_proxy() {
    let body = r#"{"message": "Failed to resolve API Key variable 'request.header.apikey'", "http_status_code": 401}"#;
    let headers: Vec<(String, String)> = vec![];
    let resp = Response { status: 401, headers: &headers, body: body.as_bytes(), received_at: now() };
    let fallbacks = vec!["en".to_string()];
    let with_proxy = Expect { lang: "en", fallbacks: &fallbacks, proxy: Some("HTTPS_PROXY"), ..Expect::default() };
    let c = classify(&resp, &with_proxy);
    assert_eq!(c.verdict, Verdict::Error);
    assert!(c.message.contains("did not reach the API"), "{c:?}");
    assert!(c.hint.as_deref().is_some_and(|h| h.contains("HTTPS_PROXY is set")), "{c:?}");
    let c = classify(&resp, &Expect { proxy: None, ..with_proxy });
    assert!(c.hint.as_deref().is_some_and(|h| h.contains("something in between")), "{c:?}");
}

#[test]
fn problem_details_give_the_message_and_keep_the_trace_id() {
    let body = r#"{"type":"https://problems.postnl.nl/unauthorized","title":"Unauthorized","status":401,"detail":"apiKey header missing or invalid","traceId":"trace-abc\u001b[2J"}"#;
    let c = run(401, body, &[("content-type", "application/problem+json")], &[], &[], &[]);
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.message.contains("Unauthorized: apiKey header missing or invalid"), "{c:?}");
    assert_eq!(c.trace_id.as_deref(), Some("trace-abc"));
    assert!(c.excerpt.as_deref().is_some_and(|e| e.contains("traceId = trace-abc")), "{c:?}");
    assert!(c.hint.as_deref().is_some_and(|h| h.contains("Quote traceId trace-abc when you contact PostNL")), "{c:?}");
    // A pass does not ask anyone to quote anything.
    let ok = run(200, r#"{"locations":[],"traceId":"t-1"}"#, &[], &[], &[], &[]);
    assert_eq!((ok.verdict, ok.hint), (Verdict::Pass, None));
}

#[rstest]
#[case::seconds(429, "42", "PostNL asks to wait 42 s")]
#[case::date(429, "Tue, 14 Nov 2023 22:15:00 GMT", "PostNL asks to wait 100 s")]
#[case::unavailable(503, "30", "the server had a problem (503); PostNL asks to wait 30 s")]
fn retry_after_is_said_and_returned(#[case] status: u16, #[case] header: &str, #[case] said: &str) {
    let c = run(status, "{}", &[("Retry-After", header)], &[], &[], &[]);
    assert_eq!(c.verdict, Verdict::Indeterminate);
    assert!(c.message.contains(said), "{c:?}");
    assert!(c.retry_after.is_some());
}

#[rstest]
fn a_server_fault_names_its_code(#[values(500, 502, 503, 504, 520, 521, 522, 523, 524)] status: u16) {
    let c = run(status, "", &[], &[], &[], &[]);
    assert_eq!(c.verdict, Verdict::Indeterminate);
    assert!(c.message.contains(&format!("({status})")), "{c:?}");
    let r = rule(&[500, 502, 503, 504], None, RuleVerdict::Indeterminate, "PostNL had a server error ({status})");
    let c = run(status, "", &[], &[], &[r], &[]);
    assert!(c.message.contains(&status.to_string()), "{c:?}");
}

#[test]
fn a_rule_without_a_hint_borrows_the_defaults_next_step() {
    let mut r = rule(&[405], None, RuleVerdict::Error, "method refused");
    r.hint = None;
    let c = run(405, "{}", &[], &[], &[r], &[]);
    assert_eq!(c.message, "method refused");
    assert!(c.hint.as_deref().is_some_and(|h| h.contains("bug in this check")), "{c:?}");
}

#[test]
fn a_non_json_body_keeps_only_its_type_length_and_title() {
    let page = format!("<html><head><title>Sign in</title></head><body>{}</body></html>", "secret ".repeat(50));
    let c = run(200, &page, &[("Content-Type", "text/html; charset=utf-8")], &[], &[], &["/x"]);
    let e = c.excerpt.unwrap_or_default();
    assert_eq!(e, format!("(non-JSON body: text/html, {} bytes; title: Sign in)", page.len()));
    let text = "x".repeat(500);
    let c = run(502, &text, &[("Content-Type", "text/plain")], &[], &[], &[]);
    let e = c.excerpt.unwrap_or_default();
    assert!(e.starts_with("(non-JSON body: text/plain, 500 bytes; starts: xxx"), "{e}");
    assert!(e.chars().filter(|ch| *ch == 'x').count() <= PAGE_TEXT_MAX + 1, "{e}");
}
