//! Start-up: time from spawn to the first complete frame, in a
//! pseudo-terminal, for the release build of `cutover` (built on its own,
//! as `cargo build --release --bin cutover` makes it) and for the floor,
//! `examples/floor.rs` (until its one line is on screen), built with the
//! same profile. Target: cutover within 1.5x of the floor, for the guide
//! picker (`cutover`) and for a checklist (`cutover open postnl`) alike.
//!
//! Every binary is timed as installed: copied, as `cargo install` does
//! (see `Installed`); the build as the linker wrote it has rows of its own.
//!
//! "Complete" is strict: the first read after which the screen equals,
//! cell for cell (contents and attributes), the frame cutover shows once
//! it has settled (nothing written for half a second). That reference is
//! taken from an untimed run and must itself be whole: for the picker the
//! header, the "Guides" box top to bottom and the footer; for the
//! checklist the header, the "Steps" list and the step's detail box, both
//! closed, and the footer. A first frame with a placeholder, or one that
//! is redrawn once something arrives, is timed to the frame that follows.
//!
//! `cargo bench --bench startup` (BENCH_RUNS=n for more or fewer runs;
//! BENCH_BEFORE=path times another build of cutover in the same rounds;
//! BENCH_BEFORE=path:path... several).

mod common;
use common::*;
use std::sync::Arc;
use std::time::Duration;

const COLS: u16 = 100;
const ROWS: u16 = 30;

/// How many rows hold `text`.
fn rows_with(rows: &[String], text: &str) -> usize {
    rows.iter().filter(|r| r.contains(text)).count()
}

/// The checklist is whole: header, the "Steps" list and the detail box
/// beside it, each closed at the bottom, the first step's title in both,
/// and the footer.
fn checklist_whole(s: &vt100::Screen) -> bool {
    let rows = rows(s);
    let Some(top) = rows.iter().position(|r| r.contains("╭ Steps (")) else {
        return false;
    };
    // The detail box opens on the same row, right of the list.
    let detail_open = rows[top].matches('╭').count() == 2;
    let closed = rows.iter().skip(top + 1).any(|r| r.matches('╰').count() == 2);
    detail_open && closed && header_and_footer(&rows) && rows_with(&rows, "│") > 5
}

fn floor_whole(s: &vt100::Screen) -> bool {
    rows(s).first().is_some_and(|r| r.contains("floor: one line, q quits"))
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    whole: fn(&vt100::Screen) -> bool,
}

const CASES: &[Case] = &[
    Case { name: "cutover (picker)", args: &[], whole: picker_whole },
    Case { name: "cutover open postnl", args: &["open", "postnl"], whole: checklist_whole },
];

/// A fresh sandbox at one fixed place, so that every run shows the same
/// paths (the picker names the state file) and frames compare cell for
/// cell: its environment, and the folder it lives in.
struct Home {
    dir: std::path::PathBuf,
    env: Vec<(String, String)>,
}

impl Home {
    fn fresh() -> Res<Home> {
        let dir = std::env::temp_dir().join(format!("cutover-startup-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let sb = Sandbox::new();
        for d in ["home", "config", "data", "cache", "state"] {
            std::fs::create_dir_all(dir.join(d))?;
        }
        let from = sb.path().display().to_string();
        let to = dir.display().to_string();
        let env = sb.env().into_iter().map(|(k, v)| (k, v.replace(&from, &to))).collect();
        Ok(Home { dir, env })
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The frame `bin args` settles on, from an untimed run; an error if it is
/// not whole.
fn reference(bin: &std::path::Path, case: &Case) -> Res<vt100::Screen> {
    let home = Home::fresh()?;
    let mut term = Term::open(COLS, ROWS)?;
    term.spawn(bin, case.args, &home.env, &home.dir)?;
    term.wait_for(case.whole)?;
    term.wait_quiet(Duration::from_millis(500))?;
    let screen = term.screen();
    term.quit()?;
    if !(case.whole)(&screen) {
        return Err(err(format!("{}: the settled frame is not whole:\n{}", case.name, screen.contents())));
    }
    Ok(screen)
}

/// One start: spawn to the read after which the screen is `want`, in
/// milliseconds.
fn once(bin: &std::path::Path, args: &[&str], want: Arc<vt100::Screen>) -> Res<f64> {
    let home = Home::fresh()?;
    let mut term = Term::open(COLS, ROWS)?;
    term.arm(move |s| same_screen(s, &want, &|_| false));
    let t0 = term.spawn(bin, args, &home.env, &home.dir)?;
    let hit = term.wait_hit(DEADLINE)?;
    let code = term.quit()?;
    if code != 0 {
        return Err(err(format!("{} exited with {code}", bin.display())));
    }
    Ok(ms(hit.duration_since(t0)))
}

/// Where the binaries are timed from: each one copied, as `cargo install`
/// puts a binary in place. A binary the linker has just written sits in
/// the page cache as it wrote it, and starts slower than the same bytes
/// read back from disk (for cutover's 15 MB, some 0.3 to 0.5 ms; for the
/// floor's 0.8 MB, nothing to see): the copy is what a user runs. The
/// build as linked is timed too, on its own rows.
struct Installed(std::path::PathBuf);

impl Installed {
    fn new() -> Res<Installed> {
        let dir = std::env::temp_dir().join(format!("cutover-startup-bins-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Installed(dir))
    }

    fn copy(&self, bin: &std::path::Path, name: &str) -> Res<std::path::PathBuf> {
        let to = self.0.join(name);
        std::fs::copy(bin, &to)?;
        Ok(to)
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How many of the functions `assets/link/start-order.txt` names the
/// binary has (build.rs lays those out together; a stale file after a
/// change of toolchain or dependencies lays out fewer, and the start pays
/// for it in page faults): read with `nm`.
fn start_order(bin: &std::path::Path) -> String {
    let file = manifest_dir().join("assets/link/start-order.txt");
    let wanted: Vec<String> = match std::fs::read_to_string(&file) {
        Ok(text) => text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_string).collect(),
        Err(e) => return format!("start order: {} unreadable: {e}", file.display()),
    };
    let nm = match std::process::Command::new("nm").arg("--defined-only").arg(bin).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => return "start order: not counted (nm did not run)".to_string(),
    };
    let have: std::collections::HashSet<&str> = nm.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    let found = wanted.iter().filter(|w| have.contains(w.as_str())).count();
    format!(
        "start order: {found} of the {} functions in assets/link/start-order.txt are in the binary{}",
        wanted.len(),
        if found * 10 < wanted.len() * 9 { " (stale: run assets/link/make-start-order)" } else { "" }
    )
}

fn main() -> Res<()> {
    build_release()?;
    let installed = Installed::new()?;
    let floor = installed.copy(&release_example("floor"), "floor")?;
    // The build under test; BENCH_BEFORE=path adds another build of
    // cutover (the one before a change), timed in the same rounds so that
    // both see the same load.
    // Several, separated as in PATH, are each labelled by their file name.
    let mut builds =
        vec![(String::new(), installed.copy(&release_bin(), "cutover")?), ("as linked: ".to_string(), release_bin())];
    if let Some(v) = std::env::var_os("BENCH_BEFORE") {
        let paths: Vec<std::path::PathBuf> = std::env::split_paths(&v).collect();
        let one = paths.len() == 1;
        for (i, p) in paths.into_iter().enumerate() {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let label = if one { "before: ".to_string() } else { format!("{name}: ") };
            builds.push((label, installed.copy(&p, &format!("before-{i}"))?));
        }
    }
    let runs = env_num("BENCH_RUNS", 40);
    println!("startup: {runs} runs each, {COLS}x{ROWS}, {}", machine());
    println!("{}", start_order(&release_bin()));
    // References (and a warm page cache); not counted.
    let floor_ref = Arc::new(reference(&floor, &Case { name: "floor", args: &[], whole: floor_whole })?);
    // (label, binary, case, reference, samples)
    let mut timed = Vec::new();
    for (label, bin) in &builds {
        for case in CASES {
            let want = Arc::new(reference(bin, case)?);
            timed.push((format!("{label}{}", case.name), bin.clone(), case, want, Vec::new()));
        }
    }
    let mut f = Vec::new();
    for i in 0..runs {
        // Alternate the order so that a burst of load hits all alike.
        let floor_first = i % 2 == 0;
        if floor_first {
            f.push(once(&floor, &[], floor_ref.clone())?);
        }
        let n = timed.len();
        for k in 0..n {
            let (_, bin, case, want, samples) = &mut timed[if floor_first { k } else { n - 1 - k }];
            samples.push(once(bin, case.args, want.clone())?);
        }
        if !floor_first {
            f.push(once(&floor, &[], floor_ref.clone())?);
        }
    }
    let sf = Stats::of(&f);
    println!("{:<40} {}", "floor first frame:", sf.line(" ms"));
    for (name, _, _, _, samples) in &timed {
        let sc = Stats::of(samples);
        let ratios: Vec<f64> = samples.iter().zip(&f).map(|(a, b)| a / b).collect();
        println!("{:<40} {}", format!("{name} first frame:"), sc.line(" ms"));
        println!("  ratio of medians: {:.2}x (target: within 1.5x)", sc.median / sf.median);
        println!("  ratio per pair:   {}", Stats::of(&ratios).line("x"));
    }
    components()?;
    println!("machine after: {}", machine());
    Ok(())
}

/// Where the time before the first frame goes, measured in this process:
/// the parts of cutover's start that run before it enters the terminal.
/// The catalog holds the built-in guides' heads; a guide is decoded in full
/// when first read (the picker reads none, `open postnl` one).
fn components() -> Res<()> {
    use std::time::Instant;
    let runs = 15;
    let (mut heads, mut postnl, mut both) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let c = cutover::guide::Catalog::built_in();
        heads.push(ms(t.elapsed()));
        let t = Instant::now();
        let steps = c.get("postnl").map(|l| l.guide.steps.len());
        postnl.push(ms(t.elapsed()));
        let t = Instant::now();
        let all: usize = c.guides.iter().map(|l| l.guide.steps.len()).sum();
        both.push(ms(t.elapsed()) + postnl.last().copied().unwrap_or(0.0));
        std::hint::black_box((c, steps, all));
    }
    println!("in process, parts of the start before the first frame:");
    println!("  Catalog::built_in (both guides' heads):  {}", Stats::of(&heads).line(" ms"));
    println!("  then postnl in full (open postnl):       {}", Stats::of(&postnl).line(" ms"));
    println!("  both guides in full:                     {}", Stats::of(&both).line(" ms"));
    Ok(())
}
