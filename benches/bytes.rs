//! Bytes written to the terminal: per cursor move (`j`/`k`), per status
//! change (Space), at 80x24 and 200x50, and over 10 idle seconds. Each
//! change is set against the cells it changed (vt100 screens diffed before
//! and after, contents and attributes), and against a rough lower bound:
//! the new cells' UTF-8 bytes plus one cursor positioning (~8 bytes) per
//! run of changed cells, without any colour changes.
//! Targets: 0 bytes idle; a change costs what its cells need plus cursor
//! positioning.
//!
//! `cargo bench --bench bytes` (BENCH_IDLE_SECS=n, default 10). The guide's
//! URLs are written as OSC 8 hyperlinks (CUTOVER_HYPERLINKS=1), as on a
//! terminal that shows them; BENCH_LINKS=0 measures without.

mod common;
use common::*;
use std::time::Duration;

/// Bytes for one cursor positioning, `ESC [ row ; col H`, at these sizes.
const CUP: usize = 8;

struct Sample {
    bytes: usize,
    cells: usize,
    runs: usize,
    bound: usize,
}

fn one(term: &mut Term, key: &[u8], settle: Duration) -> Res<Sample> {
    let before = term.screen();
    let b0 = term.total();
    term.send(key)?;
    term.wait_quiet(settle)?;
    let after = term.screen();
    let bytes = term.total() - b0;
    let d = diff(&before, &after);
    Ok(Sample { bytes, cells: d.cells, runs: d.runs, bound: d.content_bytes + d.runs * CUP })
}

fn summary(what: &str, v: &[Sample]) {
    let f = |g: &dyn Fn(&Sample) -> f64| Stats::of(&v.iter().map(g).collect::<Vec<_>>());
    let bytes = f(&|s| s.bytes as f64);
    let cells = f(&|s| s.cells as f64);
    let runs = f(&|s| s.runs as f64);
    let ratio = f(&|s| if s.cells == 0 { f64::NAN } else { s.bytes as f64 / s.cells as f64 });
    let over = f(&|s| if s.bound == 0 { f64::NAN } else { s.bytes as f64 / s.bound as f64 });
    println!("  {what}:");
    println!("    bytes written       {}", bytes.line(""));
    println!("    cells changed       {}", cells.line(""));
    println!("    runs of cells       {}", runs.line(""));
    println!("    bytes / cell        {}", ratio.line(""));
    println!("    bytes / lower bound {}", over.line(""));
}

fn main() -> Res<()> {
    build_release()?;
    let bin = release_bin();
    let idle_secs = env_num("BENCH_IDLE_SECS", 10) as u64;
    println!("bytes: {}", machine());
    for (cols, rows) in [(80u16, 24u16), (200, 50)] {
        let sb = Sandbox::new();
        let mut term = Term::open(cols, rows)?;
        let mut env = sb.env();
        let links = env_num("BENCH_LINKS", 1) == 1;
        env.push(("CUTOVER_HYPERLINKS".into(), if links { "1" } else { "0" }.into()));
        term.spawn(&bin, &["open", "postnl"], &env, sb.path())?;
        term.wait_text("0/10 steps done")?;
        term.wait_quiet(Duration::from_millis(300))?;
        let first_frame = term.total();

        // Down through the ten steps and back up, twice.
        let mut moves = Vec::new();
        for _ in 0..2 {
            for key in [b"j"; 9].iter().chain([b"k"; 9].iter()) {
                moves.push(one(&mut term, *key, Duration::from_millis(150))?);
            }
        }
        // Toggle done on the first three steps, on and off. A save follows
        // each change, and the saved state comes back: both redraws count.
        let mut statuses = Vec::new();
        for step in 0..3 {
            for _ in 0..4 {
                statuses.push(one(&mut term, b" ", Duration::from_millis(400))?);
            }
            if step < 2 {
                term.send(b"j")?;
                term.wait_quiet(Duration::from_millis(150))?;
            }
        }
        // Idle.
        term.wait_quiet(Duration::from_millis(500))?;
        let b0 = term.total();
        std::thread::sleep(Duration::from_secs(idle_secs));
        let idle = term.total() - b0;
        term.quit()?;

        println!("{cols}x{rows}: first frame {first_frame} bytes (hyperlinks {})", if links { "on" } else { "off" });
        summary("cursor move (j/k)", &moves);
        summary("status change (Space)", &statuses);
        println!("  idle for {idle_secs} s: {idle} bytes (target: 0)");
    }
    println!("machine after: {}", machine());
    Ok(())
}
