//! Run-all: 20 HTTP checks (a guide of 20 steps, one check each) against
//! the loopback fake carrier answering every request after 300 ms, rate
//! limits off. The wall time of all 20 is set against the wall time of one.
//! Target: within 1.3x of one check.
//!
//! Two ways in:
//! - the runner, as the TUI's event loop uses it: one task per step
//!   (`runtime::dispatch` spawns one per `Effect::RunCheck`), on a
//!   two-worker runtime like the binary's;
//! - the TUI's event loop itself (`runtime::run` on a `TestBackend`): `C` on
//!   the guide, until every check has come back to the loop and been saved.
//!
//! A fresh runner (and so a cold connection pool) for every run.
//!
//! `cargo bench --bench runall` (BENCH_RUNS=n, default 15).

mod common;
use common::*;
use cutover::app::{App, CheckRequest, Settings};
use cutover::check::ratelimit::RateLimiter;
use cutover::check::runner::{RunOptions, Runner, RunnerDeps};
use cutover::check::secret::{ApiKey, SecretStore};
use cutover::clock::{Clock, SystemClock};
use cutover::config::Config;
use cutover::demo::LoopbackResolver;
use cutover::demo::{FakeCarrier, FakeOptions};
use cutover::guide::{Catalog, Guide, GuideSource, LoadedGuide, parse_guide};
use cutover::progress::store::Store;
use cutover::progress::{CheckRecord, Verdict};
use cutover::runtime::{Checks, Context};
use futures::future::BoxFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const CHECKS: usize = 20;
const LATENCY: Duration = Duration::from_millis(300);

fn guide_text(base_url: &str) -> String {
    let mut g = format!(
        "schema = 1\nid = \"bench\"\nversion = \"bench\"\ntitle = {{ en = \"Run-all bench\" }}\nlanguages = [\"en\"]\n\n\
         [environments.sandbox]\nbase_url = \"{base_url}\"\nsandbox = true\n"
    );
    for i in 1..=CHECKS {
        g.push_str(&format!(
            "\n[[steps]]\nid = \"step-{i:02}\"\nnumber = {i}\ntitle = {{ en = \"Step {i}\" }}\n\n\
             [[steps.checks]]\nkind = \"http\"\nlabel = {{ en = \"Key accepted\" }}\n\
             path = \"/shipment/v2/status/barcode/3SDEVC0000000{i:02}\"\nheaders = {{ apikey = \"{{api_key}}\" }}\n\
             expect_status = [200]\ntimeout_secs = 30\n"
        ));
    }
    g
}

fn runner() -> Res<Runner> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut secrets = SecretStore::empty();
    secrets.set("bench", "sandbox", ApiKey::new(FakeOptions::DEMO_POSTNL_SANDBOX_KEY));
    let deps = RunnerDeps {
        config: Config::default(),
        secrets: Arc::new(RwLock::new(secrets)),
        clock: clock.clone(),
        resolver: Arc::new(LoopbackResolver),
        rate_limiter: RateLimiter::new(None, clock),
        env_vars: Arc::new(|_| None),
        lang: "en".into(),
    };
    Ok(Runner::new(deps))
}

fn opts() -> RunOptions {
    RunOptions { run_all: true, ..RunOptions::default() }
}

fn check_passed(records: &[CheckRecord]) -> Res<()> {
    match records {
        [r] if r.verdict == Verdict::Pass => Ok(()),
        other => Err(err(format!("expected one pass, got {other:?}"))),
    }
}

/// Wall time of running `steps` at once, one task each.
async fn runner_wall(guide: &Arc<Guide>, steps: usize) -> Res<f64> {
    let r = runner()?;
    let start = Instant::now();
    let tasks: Vec<_> = (1..=steps)
        .map(|i| {
            let (r, g) = (r.clone(), guide.clone());
            tokio::spawn(async move {
                r.run_step(&g, &format!("step-{i:02}"), "sandbox", opts(), "bench", CancellationToken::new()).await
            })
        })
        .collect();
    for t in tasks {
        check_passed(&t.await?)?;
    }
    Ok(ms(start.elapsed()))
}

/// The runner behind the TUI's loop, counting finished runs.
struct Counted {
    runner: Runner,
    guide: Arc<Guide>,
    finished: Arc<AtomicUsize>,
    passed: Arc<AtomicUsize>,
}

impl Checks for Counted {
    fn run(
        &self,
        req: CheckRequest,
        by: String,
        cancel: CancellationToken,
        waits: cutover::check::runner::WaitReport,
    ) -> BoxFuture<'static, Vec<CheckRecord>> {
        let (runner, guide, finished, passed) =
            (self.runner.reporting_waits(waits), self.guide.clone(), self.finished.clone(), self.passed.clone());
        Box::pin(async move {
            let opts = RunOptions { run_all: req.opts.run_all, ..RunOptions::default() };
            let records = runner.run_step(&guide, &req.step, &req.env, opts, &by, cancel).await;
            if records.iter().all(|r| r.verdict == Verdict::Pass) {
                passed.fetch_add(1, Ordering::SeqCst);
            }
            finished.fetch_add(1, Ordering::SeqCst);
            records
        })
    }
    fn set_key(&self, _guide: &str, _env: &str, _key: ApiKey) {}
}

fn key(c: char) -> crossterm::event::Event {
    crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::NONE,
    ))
}

fn enter() -> crossterm::event::Event {
    crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    ))
}

/// `C` in the TUI's event loop to the moment all `CHECKS` are back in the
/// loop and saved (the state file holds a record for each).
async fn tui_wall(guide: &Arc<Guide>) -> Res<f64> {
    let dir = tempfile::tempdir()?;
    let store = Store::new(dir.path().join("state.toml"));
    let catalog = Catalog {
        guides: vec![LoadedGuide {
            guide: cutover::guide::GuideCell::ready(guide.clone()),
            source: GuideSource::BuiltIn,
            overrides_built_in: false,
        }],
        errors: Vec::new(),
    };
    let settings = Settings {
        lang_pref: vec!["en".into()],
        user: "bench".into(),
        observe: false,
        state_path: store.path().display().to_string(),
        demo: false,
        rights: Default::default(),
    };
    let mut app = App::new(cutover::app::entries(&catalog), store.load()?, settings, SystemClock.now());
    let finished = Arc::new(AtomicUsize::new(0));
    let passed = Arc::new(AtomicUsize::new(0));
    let checks =
        Counted { runner: runner()?, guide: guide.clone(), finished: finished.clone(), passed: passed.clone() };
    let ctx = Context {
        store: store.clone(),
        checks: Some(Arc::new(checks)),
        clock: Arc::new(SystemClock),
        theme: cutover::ui::Theme::default(),
        shutdown: None,
        watch: false,
        loaded_from: None,
        clipboard: None,
        presence: None,
        report_fallback_dir: None,
        peers: None,
        frame_filter: None,
        hyperlinks: false,
    };
    let (tx, rx) = futures::channel::mpsc::unbounded::<std::io::Result<crossterm::event::Event>>();
    let mut term = ratatui::Terminal::new(common::backend::SharedBackend::new(100, 30))?;
    let driver = tokio::spawn(async move {
        let _ = tx.unbounded_send(Ok(enter()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let start = Instant::now();
        let _ = tx.unbounded_send(Ok(key('C')));
        let store = Store::new(dir.path().join("state.toml"));
        let deadline = Instant::now() + DEADLINE;
        let mut done = None;
        while Instant::now() < deadline {
            if finished.load(Ordering::SeqCst) == CHECKS {
                let saved = store
                    .load()
                    .map(|p| p.guides.get("bench").map(|g| g.steps.values().filter(|s| !s.checks.is_empty()).count()))
                    .ok()
                    .flatten()
                    .unwrap_or(0);
                if saved == CHECKS {
                    done = Some(start.elapsed());
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let _ = tx.unbounded_send(Ok(key('q')));
        (done, passed.load(Ordering::SeqCst), dir)
    });
    cutover::runtime::run(&mut term, &mut app, rx, ctx).await?;
    let (done, passed, _dir) = driver.await?;
    let took = done.ok_or_else(|| err("the checks did not all come back and get saved in time"))?;
    if passed != CHECKS {
        return Err(err(format!("{passed} of {CHECKS} checks passed")));
    }
    Ok(ms(took))
}

fn main() -> Res<()> {
    let runs = env_num("BENCH_RUNS", 15);
    let mut opts = FakeOptions::demo();
    opts.latency = LATENCY;
    opts.rate_limit_per_minute = None;
    let fake = FakeCarrier::start(opts)?;
    let guide = Arc::new(parse_guide(&guide_text(&fake.url()), "bench.toml").map_err(|e| err(format!("{e:?}")))?);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    println!("runall: {CHECKS} checks, fake answers in {LATENCY:?}, {runs} runs, {}", machine());
    rt.block_on(async {
        // Warm-up, not counted.
        runner_wall(&guide, 1).await?;
        let (mut one, mut all, mut tui) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            one.push(runner_wall(&guide, 1).await?);
            all.push(runner_wall(&guide, CHECKS).await?);
            tui.push(tui_wall(&guide).await?);
        }
        let (so, sa, st) = (Stats::of(&one), Stats::of(&all), Stats::of(&tui));
        println!("one check (runner):          {}", so.line(" ms"));
        println!("{CHECKS} checks at once (runner): {}", sa.line(" ms"));
        println!("  ratio of medians {:.2}x (target: within 1.3x)", sa.median / so.median);
        println!("{CHECKS} checks from C in the TUI loop, until all saved: {}", st.line(" ms"));
        println!("  ratio of medians to one check {:.2}x", st.median / so.median);
        Ok::<(), Error>(())
    })?;
    println!("fake answered {} requests", fake.requests().len());
    println!("machine after: {}", machine());
    Ok(())
}
