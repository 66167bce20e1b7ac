//! `cutover demo`: fake carriers on loopback ([`carrier`]), a resolver
//! that answers every name with loopback ([`LoopbackResolver`]), the demo's
//! own keys and config, and the check runner pointed at them. Nothing the
//! demo does can leave this machine. The tests and benchmarks use the same
//! fake carrier.

mod bodies;
pub mod carrier;
mod resolver;

pub use carrier::{FakeCarrier, FakeEnvironment, FakeOptions, POSTI_ORDER};
pub use resolver::LoopbackResolver;

use crate::check::ratelimit::RateLimiter;
use crate::check::runner::{EnvVars, Runner, RunnerDeps};
use crate::check::secret::SecretStore;
use crate::clock::Clock;
use crate::config::Config;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// Why the demo cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the demo carrier: {0}")]
    Carrier(std::io::Error),
    #[error("the demo's own config does not read: {0}")]
    Config(crate::config::ConfigError),
}

/// The demo's fake carriers and the runner pointed at them.
pub struct Demo {
    pub sandbox: FakeCarrier,
    pub production: FakeCarrier,
    pub runner: Runner,
    pub secrets: Arc<RwLock<SecretStore>>,
}

/// Starts the fake carriers (a sandbox and a production) and the runner
/// pointed at them, with the demo's keys and config; its call budget is
/// kept beside `state_path`.
pub fn start(clock: Arc<dyn Clock>, lang: &str, state_path: &Path) -> Result<Demo, DemoError> {
    let (sandbox, production) = FakeCarrier::start_pair(FakeOptions::demo()).map_err(DemoError::Carrier)?;
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    urls.insert("CUTOVER_POSTNL_SANDBOX_URL".into(), sandbox.url());
    urls.insert("CUTOVER_POSTNL_PRODUCTION_URL".into(), production.url());
    urls.insert("CUTOVER_POSTI_PRODUCTION_URL".into(), format!("{}/shippingapi/api", sandbox.url()));
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    keys.insert("POSTNL_SANDBOX_API_KEY".into(), FakeOptions::DEMO_POSTNL_SANDBOX_KEY.into());
    keys.insert("POSTNL_PRODUCTION_API_KEY".into(), FakeOptions::DEMO_POSTNL_PRODUCTION_KEY.into());
    keys.insert("POSTI_API_KEY".into(), FakeOptions::DEMO_POSTI_KEY.into());
    // The demo ignores the real environment's keys and URLs entirely.
    let secrets = SecretStore::load(&|k| keys.get(k).cloned(), None);
    let secrets = Arc::new(RwLock::new(secrets));
    let demo_config: Config = Config::parse(DEMO_CONFIG, "demo config").map_err(DemoError::Config)?;
    let url_vars: EnvVars = Arc::new(move |k: &str| urls.get(k).cloned());
    let deps = RunnerDeps {
        config: demo_config,
        secrets: secrets.clone(),
        clock: clock.clone(),
        resolver: Arc::new(LoopbackResolver),
        rate_limiter: RateLimiter::new(Some(crate::paths::beside(state_path, "demo-ratelimit.toml")), clock),
        env_vars: url_vars,
        lang: lang.to_string(),
    };
    Ok(Demo { sandbox, production, runner: Runner::new(deps), secrets })
}

const DEMO_CONFIG: &str = r#"
[guides.postnl.vars]
customer_code = "DEVC"
customer_number = "11223344"

[guides.postnl.versions]
shippingstatus = "v2"
barcode = "v1_1"
locations = "v2"

[guides.posti]
logistics_contracts = ["654321"]
transport_ids = ["876543"]

[commands.smoke-test]
argv = ["sh", "-c", "echo 'demo smoke test: pretending to book a sandbox shipment'; test -n \"$CUTOVER_API_KEY\""]
timeout_secs = 10
"#;
