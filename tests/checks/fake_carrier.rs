//! The fake carrier answers as the research notes document the real APIs.
//! Loopback only.

use cutover::demo::{FakeCarrier, FakeEnvironment, FakeOptions, POSTI_ORDER};
use serde_json::Value;
use std::time::{Duration, Instant};

const SANDBOX: &str = FakeOptions::DEMO_POSTNL_SANDBOX_KEY;
const PRODUCTION: &str = FakeOptions::DEMO_POSTNL_PRODUCTION_KEY;
const POSTI: &str = FakeOptions::DEMO_POSTI_KEY;

fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider; the binary installs ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

async fn get(url: String, key: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = client().get(url).header("Accept", "application/json");
    if let Some(k) = key {
        req = req.header("apikey", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let body: Value = resp.json().await.unwrap();
    (status, retry, body)
}

async fn post_posti(fake: &FakeCarrier, auth: Option<&str>, body: &'static str) -> (u16, Value) {
    let mut req =
        client().post(format!("{}{POSTI_ORDER}", fake.url())).header("Content-Type", "application/json").body(body);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn postnl_status_key_cases() {
    let fake = FakeCarrier::start(FakeOptions::demo()).unwrap();
    let url = format!("{}/shipment/v2/status/barcode/3SDEVC000000000", fake.url());

    let (status, _, body) = get(url.clone(), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Failed to resolve API Key variable 'request.header.apikey'");
    assert_eq!(body["http_status_code"], 401);

    let (status, _, body) = get(url.clone(), Some("not-the-key")).await;
    assert_eq!(status, 401);
    assert_eq!(body["fault"]["faultstring"], "Invalid ApiKey");
    assert_eq!(body["fault"]["detail"]["errorcode"], "oauth.v2.InvalidApiKey");

    let (status, _, body) = get(url.clone(), Some(SANDBOX)).await;
    assert_eq!(status, 200);
    assert_eq!(body["Warnings"][0]["Message"], "No shipment found");
    assert_eq!(body["Warnings"][0]["Code"], "2");
    assert!(body["CurrentStatus"].is_object());

    // Keys are bound to their environment.
    let (status, _, body) = get(url, Some(PRODUCTION)).await;
    assert_eq!(status, 401);
    assert_eq!(body["fault"]["faultstring"], "Invalid ApiKey");

    let (status, _, body) = get(format!("{}/shipment/v2/status/barcode/", fake.url()), Some(SANDBOX)).await;
    assert_eq!(status, 400);
    assert_eq!(body["fault"]["faultstring"], "no barcode supplied in path");
}

#[tokio::test]
async fn pair_serves_each_environment_its_own_key() {
    let (sandbox, production) = FakeCarrier::start_pair(FakeOptions::demo()).unwrap();
    assert_ne!(sandbox.addr, production.addr);
    assert_eq!(production.environment, FakeEnvironment::Production);
    let path = "/shipment/v2/status/barcode/3SDEVC000000000";
    assert_eq!(get(format!("{}{path}", production.url()), Some(PRODUCTION)).await.0, 200);
    assert_eq!(get(format!("{}{path}", production.url()), Some(SANDBOX)).await.0, 401);
    assert_eq!(get(format!("{}{path}", sandbox.url()), Some(SANDBOX)).await.0, 200);
}

#[tokio::test]
async fn postnl_locations_and_barcode() {
    let fake = FakeCarrier::start(FakeOptions::demo()).unwrap();
    let (status, _, body) =
        get(format!("{}/shipment/v2_1/locations/nearest?CountryCode=NL&PostalCode=2132WT", fake.url()), Some(SANDBOX))
            .await;
    assert_eq!(status, 200);
    assert!(body["GetLocationsResult"]["ResponseLocation"][0]["LocationCode"].is_string(), "{body}");

    let (status, _, body) =
        get(format!("{}/shipment/v2_1/locations/nearest?CountryCode=DE&PostalCode=2132WT", fake.url()), Some(SANDBOX))
            .await;
    assert_eq!(status, 400);
    assert_eq!(body["Error"]["ErrorCode"], "3000");

    let (status, _, body) = get(
        format!(
            "{}/shipment/v1_1/barcode?CustomerCode=DEVC&CustomerNumber=11223344&Type=3S&Serie=000000000-999999999",
            fake.url()
        ),
        Some(SANDBOX),
    )
    .await;
    assert_eq!(status, 200);
    let barcode = body["Barcode"].as_str().unwrap().to_string();
    assert!(barcode.starts_with("3SDEVC") && barcode.len() == 15, "{barcode}");

    let (status, _, body) =
        get(format!("{}/shipment/v1_1/barcode?CustomerNumber=11223344&Type=3S", fake.url()), Some(SANDBOX)).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["ErrorMsg"], "Required parameter 'CustomerCode' is missing.");

    let resp = client().delete(format!("{}/shipment/v1_1/barcode", fake.url())).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Only GET & POST requests allowed");
}

#[tokio::test]
async fn posti_order_cases() {
    let fake = FakeCarrier::start(FakeOptions::demo()).unwrap();
    let (status, body) = post_posti(&fake, None, "").await;
    assert_eq!(status, 401);
    assert_eq!(body["errorCode"], "UNAUTHORIZED");
    assert!(body.get("details").is_some());

    let (status, body) = post_posti(&fake, Some("wrong"), "").await;
    assert_eq!(status, 401);
    assert_eq!(body["errorCode"], "INVALID_TOKEN");
    assert!(body["message"].is_string());

    // Raw key only: a Bearer prefix is refused.
    let bearer = format!("Bearer {POSTI}");
    assert_eq!(post_posti(&fake, Some(&bearer), "").await.0, 401);

    let (status, body) = post_posti(&fake, Some(POSTI), "").await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "VALIDATION_ERROR");

    let (status, body) = post_posti(&fake, Some(POSTI), "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "JSON_DECODE_ERROR");

    // Never creates anything, even for a plausible order.
    let (status, body) =
        post_posti(&fake, Some(POSTI), r#"{"shipment":{"senderPartners":[{"id":"POSTI","custNo":"654321"}]}}"#).await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "VALIDATION_ERROR");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let fake = FakeCarrier::start(FakeOptions { rate_limit_per_minute: Some(2), ..FakeOptions::demo() }).unwrap();
    let url = format!("{}/shipment/v2/status/barcode/3SDEVC000000000", fake.url());
    assert_eq!(get(url.clone(), Some(SANDBOX)).await.0, 200);
    // A wrong key does not use up the budget.
    assert_eq!(get(url.clone(), Some("wrong")).await.0, 401);
    assert_eq!(get(url.clone(), Some(SANDBOX)).await.0, 200);
    let (status, retry, body) = get(url, Some(SANDBOX)).await;
    assert_eq!(status, 429);
    assert_eq!(body["message"], "Too many requests. Rate limit exceeded!");
    let retry: u64 = retry.unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn unknown_paths_are_404_and_requests_are_recorded_without_keys() {
    let fake = FakeCarrier::start(FakeOptions::demo()).unwrap();
    assert_eq!(get(format!("{}/nope", fake.url()), None).await.0, 404);
    assert_eq!(
        get(format!("{}/shipment/v2/status/barcode/X?apikey={SANDBOX}", fake.url()), Some(SANDBOX)).await.0,
        200
    );
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str(), reqs[0].auth_present, reqs[0].status),
        ("GET", "/nope", false, 404)
    );
    assert_eq!(
        (reqs[1].path.as_str(), reqs[1].auth_present, reqs[1].status),
        ("/shipment/v2/status/barcode/X", true, 200)
    );
    assert_eq!(reqs[1].query.as_deref(), Some("apikey=[key]"));
    assert!(!format!("{reqs:?}").contains(SANDBOX));
}

#[tokio::test]
async fn latency_is_applied() {
    let fake = FakeCarrier::start(FakeOptions { latency: Duration::from_millis(200), ..FakeOptions::demo() }).unwrap();
    let started = Instant::now();
    assert_eq!(get(format!("{}/nope", fake.url()), None).await.0, 404);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn stop_frees_the_port() {
    let fake = FakeCarrier::start(FakeOptions::demo()).unwrap();
    let addr = fake.addr;
    fake.stop();
    // Nothing accepts on the port any more (it may be reused later by
    // anyone, but not by a server that still answers HTTP as the fake).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Err(_) => break,
            Ok(_) if Instant::now() > deadline => {
                panic!("the fake still accepts connections after stop")
            }
            Ok(_) => std::thread::yield_now(),
        }
    }
}

#[test]
fn starts_on_a_given_port() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let fake = FakeCarrier::start_env(FakeOptions::demo(), FakeEnvironment::Sandbox, port).unwrap();
    assert_eq!(fake.addr.port(), port);
    // A second fake cannot take the same port.
    assert!(FakeCarrier::start_env(FakeOptions::demo(), FakeEnvironment::Production, port).is_err());
}
