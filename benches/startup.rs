//! Start-up: time from spawn to the first complete frame, in a
//! pseudo-terminal, for the release build of `cutover` (until the guide
//! picker's "Guides" box is on screen whole, and the footer below it) and
//! for the floor, `examples/floor.rs` (until its one line is on screen),
//! built with the same profile. Target: cutover within 1.5x of the floor.
//!
//! `cargo bench --bench startup` (BENCH_RUNS=n for more or fewer runs).

mod common;
use common::*;

const COLS: u16 = 100;
const ROWS: u16 = 30;

/// The picker's first frame is complete: the "Guides" box from its top
/// border to its bottom border, and the footer on the last row.
fn picker_complete(s: &vt100::Screen) -> bool {
    let rows = rows(s);
    let Some(top) = rows.iter().position(|r| {
        let t = r.trim_end();
        t.starts_with("┌ Guides") && t.ends_with('┐')
    }) else {
        return false;
    };
    let bottom = rows.iter().skip(top + 1).any(|r| {
        let t = r.trim_end();
        t.starts_with('└') && t.ends_with('┘')
    });
    bottom && rows.last().is_some_and(|r| r.contains("q quit"))
}

fn floor_complete(s: &vt100::Screen) -> bool {
    rows(s).first().is_some_and(|r| r.contains("floor: one line, q quits"))
}

/// One start: spawn to first complete frame, in milliseconds.
fn once(bin: &std::path::Path, probe: fn(&vt100::Screen) -> bool) -> Res<f64> {
    let sb = Sandbox::new();
    let mut term = Term::open(COLS, ROWS)?;
    term.arm(probe);
    let t0 = term.spawn(bin, &[], &sb.env(), sb.path())?;
    let hit = term.wait_hit(DEADLINE)?;
    let code = term.quit()?;
    if code != 0 {
        return Err(err(format!("{} exited with {code}", bin.display())));
    }
    Ok(ms(hit.duration_since(t0)))
}

fn main() -> Res<()> {
    build_release()?;
    let cutover = release_bin();
    let floor = release_example("floor");
    let runs = env_num("BENCH_RUNS", 40);
    println!("startup: {runs} runs each, {COLS}x{ROWS}, {}", machine());
    // Warm the page cache for both binaries; not counted.
    once(&cutover, picker_complete)?;
    once(&floor, floor_complete)?;
    let (mut c, mut f) = (Vec::new(), Vec::new());
    for i in 0..runs {
        // Alternate the order so that a burst of load hits both alike.
        if i % 2 == 0 {
            c.push(once(&cutover, picker_complete)?);
            f.push(once(&floor, floor_complete)?);
        } else {
            f.push(once(&floor, floor_complete)?);
            c.push(once(&cutover, picker_complete)?);
        }
    }
    let (sc, sf) = (Stats::of(&c), Stats::of(&f));
    println!("cutover first frame: {}", sc.line(" ms"));
    println!("floor first frame:   {}", sf.line(" ms"));
    println!("ratio of medians: {:.2}x (target: within 1.5x)", sc.median / sf.median);
    let ratios: Vec<f64> = c.iter().zip(&f).map(|(a, b)| a / b).collect();
    println!("ratio per pair:   {}", Stats::of(&ratios).line("x"));
    components()?;
    println!("machine after: {}", machine());
    Ok(())
}

/// Where the time before the first frame goes, measured in this process:
/// the parts of cutover's start that run before it enters the terminal.
fn components() -> Res<()> {
    use cutover::check::ratelimit::RateLimiter;
    use cutover::check::runner::{Runner, RunnerDeps};
    use cutover::check::secret::SecretStore;
    use cutover::clock::{Clock, SystemClock};
    use std::sync::{Arc, RwLock};
    use std::time::Instant;
    let runs = 15;
    let (mut catalog, mut runner) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let c = cutover::guide::Catalog::built_in();
        catalog.push(ms(t.elapsed()));
        std::hint::black_box(c);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let deps = RunnerDeps {
            config: cutover::config::Config::default(),
            secrets: Arc::new(RwLock::new(SecretStore::empty())),
            clock: clock.clone(),
            resolver: Arc::new(cutover::checking::LoopbackResolver),
            rate_limiter: RateLimiter::new(None, clock),
            env_vars: Arc::new(|_| None),
            lang: "en".into(),
        };
        let t = Instant::now();
        let r = Runner::new(deps).map_err(err)?;
        runner.push(ms(t.elapsed()));
        std::hint::black_box(r);
    }
    println!("in process, parts of the start before the first frame:");
    println!("  Catalog::built_in (parse and validate both guides): {}", Stats::of(&catalog).line(" ms"));
    println!(
        "  Runner::new (two HTTP clients, each loading the system's root certificates): {}",
        Stats::of(&runner).line(" ms")
    );
    Ok(())
}
