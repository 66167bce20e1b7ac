//! A fake carrier API on loopback, for `cutover demo`, the tests and the
//! benchmarks. It answers like the real PostNL and Posti APIs as far as the
//! research notes document them (see the route functions for what is
//! documented and what is made up), and never creates anything.
//!
//! One `FakeCarrier` plays one PostNL environment: the sandbox accepts only
//! the sandbox key, production only the production key, just as the real
//! keys are bound to their host. The demo starts two ([`FakeCarrier::start_pair`]).
//! The Posti order endpoint is served by both.
//!
//! The server runs on its own thread with its own runtime, so it can be
//! started from sync or async code alike; it stops on drop or [`FakeCarrier::stop`].

use super::bodies::{
    Barcode, ErrorItem, Errors, LegacyError, LegacyErrorBody, Location, LocationAddress, Locations, LocationsResult,
    Pickup, PickupAddress, PickupLocation, PostiDetail, PostiError, Problem, text,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Paths the fake serves.
pub const POSTNL_STATUS_PREFIX: &str = "/shipment/v2/status/barcode/";
pub const POSTNL_LOCATIONS_NEAREST: &str = "/shipment/v2_1/locations/nearest";
pub const POSTNL_BARCODE: &str = "/shipment/v1_1/barcode";
pub const POSTNL_V4_LOCATIONS: &str = "/shipment/delivery/v4/locations/near-address";
pub const POSTI_ORDER: &str = "/shippingapi/api/v1/shipping/order";

/// Largest request body the fake reads.
const BODY_LIMIT: usize = 1 << 20;

#[derive(Clone, PartialEq)]
pub struct FakeOptions {
    pub postnl_sandbox_key: String,
    pub postnl_production_key: String,
    pub posti_key: String,
    /// Added before every answer.
    pub latency: Duration,
    /// Calls a minute per valid key before a 429; None: no limit.
    pub rate_limit_per_minute: Option<u32>,
}

impl std::fmt::Debug for FakeOptions {
    /// Keys are shown masked, like every key in cutover, even fake ones.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mask = |k: &str| crate::check::secret::ApiKey::new(k).masked();
        f.debug_struct("FakeOptions")
            .field("postnl_sandbox_key", &mask(&self.postnl_sandbox_key))
            .field("postnl_production_key", &mask(&self.postnl_production_key))
            .field("posti_key", &mask(&self.posti_key))
            .field("latency", &self.latency)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .finish()
    }
}

impl FakeOptions {
    pub const DEMO_POSTNL_SANDBOX_KEY: &'static str = "demo-sandbox-key-0001";
    pub const DEMO_POSTNL_PRODUCTION_KEY: &'static str = "demo-production-key-0001";
    pub const DEMO_POSTI_KEY: &'static str = "demo-posti-key-0001";

    /// Fixed, public demo keys; no latency; no rate limit.
    pub fn demo() -> Self {
        FakeOptions {
            postnl_sandbox_key: Self::DEMO_POSTNL_SANDBOX_KEY.to_string(),
            postnl_production_key: Self::DEMO_POSTNL_PRODUCTION_KEY.to_string(),
            posti_key: Self::DEMO_POSTI_KEY.to_string(),
            latency: Duration::ZERO,
            rate_limit_per_minute: None,
        }
    }
}

/// Which PostNL environment a fake plays (which PostNL key it accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeEnvironment {
    Sandbox,
    Production,
}

/// One request as the fake saw it. Never holds a key: only whether an auth
/// header (`apikey` or `Authorization`) came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The query string, with any configured key in it replaced by `[key]`.
    pub query: Option<String>,
    pub auth_present: bool,
    /// The status the fake answered with.
    pub status: u16,
}

/// A running fake carrier. Stops on drop.
#[derive(Debug)]
pub struct FakeCarrier {
    pub addr: SocketAddr,
    pub environment: FakeEnvironment,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeCarrier {
    /// A PostNL sandbox (and Posti) fake on a free loopback port.
    pub fn start(opts: FakeOptions) -> std::io::Result<FakeCarrier> {
        Self::start_env(opts, FakeEnvironment::Sandbox, 0)
    }

    /// A fake for `environment` on 127.0.0.1:`port` (0: any free port).
    pub fn start_env(opts: FakeOptions, environment: FakeEnvironment, port: u16) -> std::io::Result<FakeCarrier> {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let state = Arc::new(State::new(opts, environment));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let serving = state.clone();
        let thread = std::thread::Builder::new().name(format!("fake-carrier-{}", addr.port())).spawn(move || {
            runtime.block_on(serve(listener, serving, rx));
            // Dropping the runtime ends every open connection.
            drop(runtime);
        })?;
        Ok(FakeCarrier { addr, environment, state, shutdown: Some(tx), thread: Some(thread) })
    }

    /// A sandbox and a production fake with the same keys, on two ports.
    pub fn start_pair(opts: FakeOptions) -> std::io::Result<(FakeCarrier, FakeCarrier)> {
        let sandbox = Self::start_env(opts.clone(), FakeEnvironment::Sandbox, 0)?;
        let production = Self::start_env(opts, FakeEnvironment::Production, 0)?;
        Ok((sandbox, production))
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        match self.state.requests.lock() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FakeCarrier {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

#[derive(Debug)]
struct State {
    opts: FakeOptions,
    environment: FakeEnvironment,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Call times per carrier for the rate limit (one valid key each).
    calls: Mutex<HashMap<Carrier, VecDeque<Instant>>>,
    serial: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Carrier {
    PostNl,
    Posti,
}

impl State {
    fn new(opts: FakeOptions, environment: FakeEnvironment) -> Self {
        State {
            opts,
            environment,
            requests: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
            serial: AtomicU64::new(0),
        }
    }

    fn postnl_key(&self) -> &str {
        match self.environment {
            FakeEnvironment::Sandbox => &self.opts.postnl_sandbox_key,
            FakeEnvironment::Production => &self.opts.postnl_production_key,
        }
    }

    fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Takes a call from `carrier`'s budget, or says how many seconds until
    /// one is free.
    fn take_call(&self, carrier: Carrier) -> Result<(), u64> {
        let Some(limit) = self.opts.rate_limit_per_minute else {
            return Ok(());
        };
        let window = Duration::from_secs(60);
        let now = Instant::now();
        let mut calls = match self.calls.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let q = calls.entry(carrier).or_default();
        while q.front().is_some_and(|&t| now.duration_since(t) >= window) {
            q.pop_front();
        }
        if q.len() < limit as usize {
            q.push_back(now);
            return Ok(());
        }
        let wait = q.front().map(|&t| window.saturating_sub(now.duration_since(t))).unwrap_or(window);
        Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }

    fn record(&self, req: RecordedRequest) {
        match self.requests.lock() {
            Ok(mut r) => r.push(req),
            Err(poisoned) => poisoned.into_inner().push(req),
        }
    }

    /// The query with every configured key replaced, so that not even a
    /// misplaced key is kept.
    fn scrub(&self, query: &str) -> String {
        let mut q = query.to_string();
        for k in [&self.opts.postnl_sandbox_key, &self.opts.postnl_production_key, &self.opts.posti_key] {
            if !k.is_empty() {
                q = q.replace(k.as_str(), "[key]");
            }
        }
        q
    }
}

async fn serve(listener: tokio::net::TcpListener, state: Arc<State>, mut shutdown: tokio::sync::oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handle(req, state.clone()));
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                // Out of file descriptors and the like: back off a little.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

type Answer = Response<Full<Bytes>>;

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Answer, Infallible> {
    if !state.opts.latency.is_zero() {
        tokio::time::sleep(state.opts.latency).await;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(|q| q.to_string());
    let headers = req.headers().clone();
    let auth_present = headers.contains_key("apikey") || headers.contains_key(header::AUTHORIZATION);
    let body = match Limited::new(req.into_body(), BODY_LIMIT).collect().await {
        Ok(b) => Some(b.to_bytes()),
        Err(_) => None,
    };

    let answer = route(&state, &method, &path, query.as_deref(), &headers, body);
    state.record(RecordedRequest {
        method: method.to_string(),
        path,
        query: query.map(|q| state.scrub(&q)),
        auth_present,
        status: answer.status().as_u16(),
    });
    Ok(answer)
}

fn route(
    state: &State,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &hyper::HeaderMap,
    body: Option<Bytes>,
) -> Answer {
    let params = parse_query(query.unwrap_or(""));
    if let Some(barcode) = path.strip_prefix(POSTNL_STATUS_PREFIX) {
        return postnl(state, method, headers, || postnl_status(barcode));
    }
    match path {
        "/shipment/v2/status/barcode" => postnl(state, method, headers, || postnl_status("")),
        POSTNL_LOCATIONS_NEAREST => postnl(state, method, headers, || postnl_locations(state, &params)),
        POSTNL_BARCODE => postnl(state, method, headers, || postnl_barcode(state, &params)),
        POSTNL_V4_LOCATIONS => postnl_v4_locations(state, method, headers, body),
        POSTI_ORDER => posti_order(state, method, headers, body),
        _ => json(
            StatusCode::NOT_FOUND,
            r#"{"message":"Not found (cutover fake carrier)"}"#.to_string(),
            "application/json",
        ),
    }
}

// ---- PostNL -------------------------------------------------------------

const POSTNL_JSON: &str = "application/json;charset=UTF-8";

/// The gateway's part, in order: method, key, quota; then the API.
///
/// Documented (research, PostNL §2): the 405, 401 and 429 bodies below are
/// verbatim from the OpenAPI specs and SDK docs. Unverified: that the
/// gateway checks in this order, that a key for the other environment gets
/// the "Invalid ApiKey" body, and that a 429 carries Retry-After (the fake
/// sends one so that clients can be tested with it).
fn postnl(state: &State, method: &Method, headers: &hyper::HeaderMap, api: impl FnOnce() -> Answer) -> Answer {
    if method != Method::GET {
        let mut r = json(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"message": "Only GET & POST requests allowed", "http_status_code": 405}"#.to_string(),
            POSTNL_JSON,
        );
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    match headers.get("apikey") {
        None => {
            return json(
                StatusCode::UNAUTHORIZED,
                r#"{"message": "Failed to resolve API Key variable 'request.header.apikey'", "http_status_code": 401}"#
                    .to_string(),
                POSTNL_JSON,
            );
        }
        Some(v) if v.as_bytes() != state.postnl_key().as_bytes() || state.postnl_key().is_empty() => {
            return json(
                StatusCode::UNAUTHORIZED,
                r#"{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}"#
                    .to_string(),
                POSTNL_JSON,
            );
        }
        Some(_) => {}
    }
    if let Err(wait) = state.take_call(Carrier::PostNl) {
        return too_many(
            r#"{"message": "Too many requests. Rate limit exceeded!", "http_status_code": 429}"#,
            wait,
            POSTNL_JSON,
        );
    }
    api()
}

/// The V4 pickup-location lookup (`POST`, JSON body). Documented only
/// through third-party copies of PostNL's Postman collection and SDK docs:
/// the path, the body fields, a `locations` answer, RFC 9457 problem details
/// for errors (`title`, `detail`, `traceId`). Made up: the location, the
/// trace ids, and that a missing `pickUpDate` is a 400.
fn postnl_v4_locations(state: &State, method: &Method, headers: &hyper::HeaderMap, body: Option<Bytes>) -> Answer {
    const PROBLEM: &str = "application/problem+json";
    if method != Method::POST {
        return json(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"type":"about:blank","title":"Method Not Allowed","status":405}"#.to_string(),
            PROBLEM,
        );
    }
    let key_ok = headers
        .get("apikey")
        .is_some_and(|v| !state.postnl_key().is_empty() && v.as_bytes() == state.postnl_key().as_bytes());
    if !key_ok {
        let trace = format!("fake-trace-{:08}", state.next_serial());
        return json(
            StatusCode::UNAUTHORIZED,
            text(&Problem {
                title: "Unauthorized",
                status: 401,
                detail: "apiKey header missing or invalid",
                trace_id: trace,
            }),
            PROBLEM,
        );
    }
    let req: serde_json::Value = body.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    if req.get("pickUpDate").and_then(|d| d.as_str()).is_none_or(|d| d.len() != 10) {
        return json(
            StatusCode::BAD_REQUEST,
            text(&Problem {
                title: "Bad Request",
                status: 400,
                detail: "pickUpDate is required (YYYY-MM-DD)",
                trace_id: format!("fake-trace-{:08}", state.next_serial()),
            }),
            PROBLEM,
        );
    }
    json(
        StatusCode::OK,
        text(&Pickup {
            locations: vec![PickupLocation {
                pick_up_location_id: "176227",
                location_type: "Retail",
                name: "Fake pickup point (cutover demo)",
                distance: 523,
                address: PickupAddress { postal_code: "2521CA", country_iso: "NL" },
            }],
        }),
        "application/json",
    )
}

/// Documented: the "No shipment found" 200 (recorded real response) and the
/// 400 for a missing barcode. The fake knows no shipments, so every barcode
/// gets the "No shipment found" answer.
fn postnl_status(barcode: &str) -> Answer {
    if barcode.is_empty() {
        return json(
            StatusCode::BAD_REQUEST,
            r#"{"fault":{"faultstring":"no barcode supplied in path","detail":{"errorcode":"Validation Fault"}}}"#
                .to_string(),
            POSTNL_JSON,
        );
    }
    json(
        StatusCode::OK,
        r#"{"CurrentStatus":{},"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#.to_string(),
        POSTNL_JSON,
    )
}

/// Documented: the required CountryCode (NL/BE) and PostalCode, the 400 body
/// shape (`Error.ErrorCode` 3000 "Request format is invalid", as recorded),
/// and `GetLocationsResult.ResponseLocation` as an array of objects with a
/// `LocationCode`. Made up: the location itself and its other field names.
fn postnl_locations(state: &State, params: &HashMap<String, String>) -> Answer {
    let country_ok = params.get("CountryCode").is_some_and(|c| c == "NL" || c == "BE");
    let postal_ok = params.get("PostalCode").is_some_and(|p| valid_postal_code(p));
    if !country_ok || !postal_ok {
        let body = LegacyError {
            date: jiff::Timestamp::now().to_string(),
            error: LegacyErrorBody { error_code: "3000", error_message: "Request format is invalid" },
            request_id: format!("fake-{:08}", state.next_serial()),
        };
        return json(StatusCode::BAD_REQUEST, text(&body), POSTNL_JSON);
    }
    let postal = params.get("PostalCode").cloned().unwrap_or_default();
    let country = params.get("CountryCode").cloned().unwrap_or_default();
    let body = Locations {
        get_locations_result: LocationsResult {
            response_location: vec![Location {
                location_code: "000001",
                name: "Fake pickup point (cutover demo)",
                address: LocationAddress {
                    street: "Demostraat",
                    house_nr: 1,
                    zipcode: postal,
                    city: "Demodorp",
                    countrycode: country,
                },
                distance: 120,
            }],
        },
    };
    json(StatusCode::OK, text(&body), POSTNL_JSON)
}

/// Documented: the required CustomerCode, CustomerNumber and Type, the 200
/// body `{"Barcode": "3S<code><serie>"}`, the 400 shape `errors[].ErrorMsg /
/// ErrorNumber`, and generic error 4 "Required parameter '{0}' is missing."
/// (combining the last two is the fake's guess).
fn postnl_barcode(state: &State, params: &HashMap<String, String>) -> Answer {
    for name in ["CustomerCode", "CustomerNumber", "Type"] {
        if params.get(name).is_none_or(|v| v.is_empty()) {
            let body = Errors {
                errors: vec![ErrorItem {
                    error_msg: format!("Required parameter '{name}' is missing."),
                    error_number: "4",
                }],
            };
            return json(StatusCode::BAD_REQUEST, text(&body), POSTNL_JSON);
        }
    }
    let kind = params.get("Type").cloned().unwrap_or_default();
    let code = params.get("CustomerCode").cloned().unwrap_or_default();
    let barcode = format!("{kind}{code}{:09}", 100_000_000 + state.next_serial());
    json(StatusCode::OK, text(&Barcode { barcode }), POSTNL_JSON)
}

/// `^[0-9]{4}([A-Z]{2})?$`
fn valid_postal_code(p: &str) -> bool {
    let b = p.as_bytes();
    (b.len() == 4 || b.len() == 6) && b[..4].iter().all(u8::is_ascii_digit) && b[4..].iter().all(u8::is_ascii_uppercase)
}

// ---- Posti --------------------------------------------------------------

/// `POST /shippingapi/api/v1/shipping/order` with a raw `Authorization:
/// <key>` header (research, Posti §1.1: the best-supported form; a `Bearer`
/// prefix is refused here).
///
/// Documented only by third-party notes, for Posti's versioned gateway: the
/// `{errorCode, message, details}` body and its codes (UNAUTHORIZED,
/// INVALID_TOKEN, VALIDATION_ERROR, JSON_DECODE_ERROR). Unverified for this
/// endpoint: every status and body here, the shape of `details`, and the 429.
/// The fake never creates a shipment: every order is refused with a 400.
fn posti_order(state: &State, method: &Method, headers: &hyper::HeaderMap, body: Option<Bytes>) -> Answer {
    const JSON: &str = "application/json";
    if method != Method::POST {
        let mut r = json(StatusCode::METHOD_NOT_ALLOWED, posti_error("CLIENT_ERROR", "Method not allowed", None), JSON);
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    match headers.get(header::AUTHORIZATION) {
        None => {
            return json(
                StatusCode::UNAUTHORIZED,
                posti_error("UNAUTHORIZED", "Missing Authorization header", None),
                JSON,
            );
        }
        Some(v) if v.as_bytes() != state.opts.posti_key.as_bytes() || state.opts.posti_key.is_empty() => {
            return json(StatusCode::UNAUTHORIZED, posti_error("INVALID_TOKEN", "Invalid API key", None), JSON);
        }
        Some(_) => {}
    }
    if let Err(wait) = state.take_call(Carrier::Posti) {
        return too_many(&posti_error("CLIENT_ERROR", "Too many requests", None), wait, JSON);
    }
    let Some(body) = body else {
        return json(StatusCode::PAYLOAD_TOO_LARGE, posti_error("CLIENT_ERROR", "Request body too large", None), JSON);
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return json(
            StatusCode::BAD_REQUEST,
            posti_error("VALIDATION_ERROR", "Request body is required", Some(shipment_required())),
            JSON,
        );
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return json(
            StatusCode::BAD_REQUEST,
            posti_error("JSON_DECODE_ERROR", "Request body is not valid JSON", None),
            JSON,
        );
    };
    if value.get("shipment").is_none() {
        return json(
            StatusCode::BAD_REQUEST,
            posti_error("VALIDATION_ERROR", "Invalid request", Some(shipment_required())),
            JSON,
        );
    }
    json(
        StatusCode::BAD_REQUEST,
        posti_error("VALIDATION_ERROR", "cutover's fake carrier never creates shipments", None),
        JSON,
    )
}

fn posti_error(code: &str, message: &str, details: Option<Vec<PostiDetail>>) -> String {
    text(&PostiError { error_code: code, message, details })
}

/// Posti's "shipment: Field required" detail.
fn shipment_required() -> Vec<PostiDetail> {
    vec![PostiDetail { field: "shipment", message: "Field required" }]
}

// ---- helpers ------------------------------------------------------------

fn json(status: StatusCode, body: String, content_type: &'static str) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn too_many(body: &str, retry_after_secs: u64, content_type: &'static str) -> Answer {
    let mut r = json(StatusCode::TOO_MANY_REQUESTS, body.to_string(), content_type);
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
    r
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_decodes() {
        let p = parse_query("PostalCode=2132WT&City=Hoofd%20dorp&x=a+b&bad=%zz&end=%4");
        assert_eq!(p.get("PostalCode").map(String::as_str), Some("2132WT"));
        assert_eq!(p.get("City").map(String::as_str), Some("Hoofd dorp"));
        assert_eq!(p.get("x").map(String::as_str), Some("a b"));
        assert_eq!(p.get("bad").map(String::as_str), Some("%zz"));
        assert_eq!(p.get("end").map(String::as_str), Some("%4"));
    }

    #[test]
    fn postal_codes() {
        assert!(valid_postal_code("2132WT"));
        assert!(valid_postal_code("2132"));
        assert!(!valid_postal_code("2132wt"));
        assert!(!valid_postal_code("21A2WT"));
        assert!(!valid_postal_code("2132W"));
    }

    #[test]
    fn scrub_removes_keys() {
        let s = State::new(FakeOptions::demo(), FakeEnvironment::Sandbox);
        assert_eq!(s.scrub("apikey=demo-sandbox-key-0001&x=1"), "apikey=[key]&x=1");
    }

    #[test]
    fn debug_masks_keys() {
        let shown = format!("{:?}", FakeOptions::demo());
        assert!(!shown.contains("demo-sandbox-key-0001"), "{shown}");
        assert!(shown.contains("••••0001"), "{shown}");
    }

    #[test]
    fn rate_limit_counts_per_carrier() {
        let s =
            State::new(FakeOptions { rate_limit_per_minute: Some(1), ..FakeOptions::demo() }, FakeEnvironment::Sandbox);
        assert_eq!(s.take_call(Carrier::PostNl), Ok(()));
        assert_eq!(s.take_call(Carrier::Posti), Ok(()));
        let wait = s.take_call(Carrier::PostNl).err().unwrap_or(0);
        assert!((59..=60).contains(&wait), "{wait}");
    }
}
