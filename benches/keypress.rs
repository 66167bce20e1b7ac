//! Keypress to redrawn frame: the release binary in a pseudo-terminal;
//! `j` and `k` alternate between two steps, and each press is timed from
//! the write of the key to the read after which the screen equals the
//! frame for the new selection, cell for cell (contents and attributes).
//! Target: p99 under 10 ms.
//!
//! Two cases: idle, and with 20 checks in flight (a guide of 20 steps with
//! one HTTP check each against the loopback fake carrier, which holds every
//! answer for two minutes; `C` starts them all). In flight, the spinner
//! cells are left out of the comparison: they change every 120 ms on their
//! own.
//!
//! `cargo bench --bench keypress` (BENCH_PRESSES=n, default 500 per case).

mod common;
use common::*;
use cutover::demo::{FakeCarrier, FakeOptions};
use std::time::Duration;

const COLS: u16 = 100;
const ROWS: u16 = 30;
const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

fn is_spinner(s: &str) -> bool {
    SPINNER.contains(&s)
}

fn no_skip(_: &str) -> bool {
    false
}

/// A guide of `n` steps, each with one HTTP check against `base_url` that
/// may take up to 5 minutes.
fn load_guide(n: usize, base_url: &str) -> String {
    let mut g = format!(
        "schema = 1\nid = \"load\"\nversion = \"bench\"\ntitle = {{ en = \"Load: {n} checks\" }}\nlanguages = [\"en\"]\n\n\
         [environments.sandbox]\nbase_url = \"{base_url}\"\nsandbox = true\n"
    );
    for i in 1..=n {
        g.push_str(&format!(
            "\n[[steps]]\nid = \"step-{i:02}\"\nnumber = {i}\ntitle = {{ en = \"Load step {i}\" }}\n\
             body = {{ en = \"Step {i} of the load guide: one HTTP check that the fake carrier answers slowly.\" }}\n\n\
             [[steps.checks]]\nkind = \"http\"\nlabel = {{ en = \"Status endpoint answers\" }}\n\
             path = \"/shipment/v2/status/barcode/3SDEVC0000000{i:02}\"\ntimeout_secs = 300\n"
        ));
    }
    g
}

/// Times `presses` alternating `j`/`k` presses; the term must show the
/// first step selected and be quiet.
fn measure(term: &mut Term, presses: usize, skip: fn(&str) -> bool) -> Res<Vec<f64>> {
    // One j/k round first: a key clears a transient footer message
    // ("running 20 checks"), which would otherwise never come back.
    for key in [b"j", b"k"] {
        term.send(key)?;
        term.wait_quiet(Duration::from_millis(60))?;
    }
    let a = term.screen();
    term.send(b"j")?;
    term.wait_quiet(Duration::from_millis(60))?;
    let b = term.screen();
    if same_screen(&a, &b, &skip) {
        return Err(err("j did not change the screen"));
    }
    term.send(b"k")?;
    term.wait_quiet(Duration::from_millis(60))?;
    let back = term.screen();
    if !same_screen(&a, &back, &skip) {
        let (r, c) = a.size();
        let mut diffs = Vec::new();
        for y in 0..r.get() {
            for x in 0..c.get() {
                if !same_cell(a.cell(y, x), back.cell(y, x)) {
                    diffs.push(format!("{y},{x}: {:?} -> {:?}", a.cell(y, x), back.cell(y, x)));
                }
            }
        }
        diffs.truncate(10);
        return Err(err(format!("k did not bring the first screen back: {}\n{}", diffs.join("\n"), back.contents())));
    }
    let mut out = Vec::with_capacity(presses);
    for i in 0..presses {
        let (key, want) = if i % 2 == 0 { (b"j", b.clone()) } else { (b"k", a.clone()) };
        term.arm(move |s| same_screen(s, &want, &skip));
        let t = term.send(key)?;
        let hit = term.wait_hit(Duration::from_secs(10))?;
        out.push(ms(hit.saturating_duration_since(t)));
        // Idle between presses: let any trailing output land first.
        term.wait_quiet(Duration::from_millis(15))?;
    }
    Ok(out)
}

fn report(what: &str, v: &[f64]) {
    let s = Stats::of(v);
    println!("{what}: {}", s.line(" ms"));
    println!("  p99 {:.2} ms (target: under 10 ms)", s.p99);
}

fn main() -> Res<()> {
    build_release()?;
    let bin = release_bin();
    let presses = env_num("BENCH_PRESSES", 500);
    println!("keypress: {presses} presses per case, {COLS}x{ROWS}, {}", machine());

    // Idle.
    let sb = Sandbox::new();
    let mut term = Term::open(COLS, ROWS)?;
    term.spawn(&bin, &["open", "postnl"], &sb.env(), sb.path())?;
    term.wait_text("0/10 steps done")?;
    term.wait_quiet(Duration::from_millis(300))?;
    let idle = measure(&mut term, presses, no_skip)?;
    term.quit()?;
    report("idle, j/k to redrawn frame", &idle);

    // 20 checks in flight.
    let mut opts = FakeOptions::demo();
    opts.latency = Duration::from_secs(120);
    let fake = FakeCarrier::start(opts)?;
    let sb = Sandbox::new();
    let guides = sb.config_dir().join("guides");
    std::fs::create_dir_all(&guides)?;
    std::fs::write(guides.join("load.toml"), load_guide(20, &fake.url()))?;
    let mut term = Term::open(COLS, ROWS)?;
    term.spawn(&bin, &["open", "load"], &sb.env(), sb.path())?;
    term.wait_text("0/20 steps done")?;
    term.send(b"C")?;
    // The footer says "run all: 0/20 checks · 20 running" while they run.
    term.wait_text("20 running")?;
    term.wait_quiet(Duration::from_millis(60))?;
    let start = std::time::Instant::now();
    let busy = measure(&mut term, presses, is_spinner)?;
    let took = start.elapsed();
    let in_flight = fake.requests().len();
    let spinning = rows(&term.screen()).iter().filter(|r| r.chars().any(|c| is_spinner(&c.to_string()))).count();
    term.quit()?;
    report("20 checks in flight, j/k to redrawn frame", &busy);
    println!(
        "  measured over {:.1} s; answers the fake had given by then: {in_flight} (0 means all 20 were still in flight); rows with a spinner at the end: {spinning}",
        took.as_secs_f64()
    );
    println!("machine after: {}", machine());
    Ok(())
}
