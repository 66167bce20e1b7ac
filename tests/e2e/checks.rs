//! End to end: a check run from the TUI, against the demo's loopback fake
//! carrier, shows its verdict on screen and lands in the state file.

use crate::common;
use common::pty::{Pty, Sandbox};

#[test]
fn a_check_run_from_the_tui_shows_its_verdict_and_saves_it() {
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["demo"], 110, 34, &[]);
    p.wait_for("Guides");
    p.send(b"\r");
    p.wait_for("0/10 steps done");
    p.wait_for("DEMO");
    // Step 5: the sandbox key check.
    p.send(b"jjjj");
    p.wait_for("Step 5");
    p.send(b"c");
    p.wait_for("Key accepted");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
    let state = std::fs::read_to_string(sb.path().join("data/cutover/demo-state.toml")).unwrap();
    assert!(state.contains("[[guides.postnl.steps.sandbox-api-key.checks]]"), "{state}");
    assert!(state.contains("verdict = \"pass\""), "{state}");
    assert!(!state.contains("demo-sandbox-key-0001"), "the key reached the state file");
    let screen_bytes = p.raw.lock().unwrap().clone();
    assert!(!String::from_utf8_lossy(&screen_bytes).contains("demo-sandbox-key-0001"), "the key reached the screen");
    // The real state was not touched by the demo.
    assert!(!sb.state_file().exists());
}

/// A fake PostNL pair on loopback, and the environment that points the
/// guide at it (no key set; every other URL dead).
fn fake_env(sb: &Sandbox) -> (cutover::demo::FakeCarrier, cutover::demo::FakeCarrier, Vec<(String, String)>) {
    use cutover::demo::{FakeCarrier, FakeOptions};
    let (sandbox, production) = FakeCarrier::start_pair(FakeOptions {
        latency: std::time::Duration::ZERO,
        rate_limit_per_minute: None,
        ..FakeOptions::demo()
    })
    .unwrap();
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    std::fs::write(sb.config_dir().join("config.toml"), "[guides.postnl.versions]\nshippingstatus = \"v2\"\n").unwrap();
    let vars = vec![
        ("CUTOVER_POSTNL_SANDBOX_URL".to_string(), sandbox.url()),
        ("CUTOVER_POSTNL_PRODUCTION_URL".to_string(), production.url()),
        ("CUTOVER_POSTI_PRODUCTION_URL".to_string(), "http://127.0.0.1:9".to_string()),
    ];
    (sandbox, production, vars)
}

#[test]
fn headless_check_without_a_key_names_every_missing_variable_once_and_runs_the_rest() {
    let sb = Sandbox::new();
    let (_s, _p, vars) = fake_env(&sb);
    // Steps by number and by id: 5 and 9 need keys, versioning needs none.
    let args = ["check", "postnl", "5", "versioning", "9"];
    let mut c = sb.command(&args);
    c.envs(vars.iter().map(|(k, v)| (k, v)));
    let o = c.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    // One line before anything runs, naming both variables.
    let key_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("no key")).collect();
    assert_eq!(key_lines.len(), 1, "{stderr}");
    assert!(key_lines[0].contains("POSTNL_SANDBOX_API_KEY, POSTNL_PRODUCTION_API_KEY"), "{stderr}");
    assert!(key_lines[0].contains("5 checks that need a key will not run"), "{stderr}");
    // The key-free check still ran and passed.
    let versions = stdout.lines().find(|l| l.contains("API versions in use are current")).unwrap();
    assert!(versions.starts_with("pass "), "{stdout}");
    // Each key check is one short row, no repeated advice.
    assert_eq!(stdout.matches("no key (POSTNL_SANDBOX_API_KEY)").count(), 3, "{stdout}");
    assert!(!stdout.contains("cutover looks for the key"), "{stdout}");
    // Aligned columns: the check label starts at the same column on every row.
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("pass") || l.starts_with("not run")).collect();
    assert!(rows.len() >= 5, "{stdout}");
    let starts = |needles: &[&str]| -> Vec<usize> {
        rows.iter().map(|l| needles.iter().filter_map(|n| l.find(n)).min().unwrap()).collect()
    };
    let env_col = starts(&["  sandbox  ", "  production  "]);
    let labels = ["Sandbox key", "API versions", "V4 access", "Production key"];
    let check_col = starts(&labels);
    for col in [&env_col, &check_col] {
        assert!(col.windows(2).all(|w| w[0] == w[1]), "columns not aligned:\n{stdout}");
    }
    // The summary line ends the output; the exit code says a check could not run.
    assert_eq!(stdout.lines().last().unwrap(), "6 checks: 1 pass, 5 not run", "{stdout}");
    assert_eq!(o.status.code(), Some(5), "{stdout}{stderr}");

    // --json: still one result per check, the missing variable named.
    let mut c = sb.command(&[&args[..], &["--json"]].concat());
    c.envs(vars.iter().map(|(k, v)| (k, v)));
    let o = c.output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 6, "{json}");
    let missing: Vec<&str> = results.iter().filter_map(|r| r["missing_key"].as_str()).collect();
    assert_eq!(
        missing,
        [
            "POSTNL_SANDBOX_API_KEY",
            "POSTNL_SANDBOX_API_KEY",
            "POSTNL_SANDBOX_API_KEY",
            "POSTNL_PRODUCTION_API_KEY",
            "POSTNL_PRODUCTION_API_KEY"
        ]
    );
    assert_eq!(o.status.code(), Some(5));
}

#[test]
fn headless_check_with_a_key_says_all_pass_and_names_no_missing_key() {
    let sb = Sandbox::new();
    let (_s, _p, mut vars) = fake_env(&sb);
    vars.push(("POSTNL_SANDBOX_API_KEY".into(), cutover::demo::FakeOptions::DEMO_POSTNL_SANDBOX_KEY.into()));
    let mut c = sb.command(&["check", "postnl", "5"]);
    c.envs(vars.iter().map(|(k, v)| (k, v)));
    let o = c.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!stderr.contains("no key"), "{stderr}");
    assert!(stdout.contains("the sandbox key went to"), "{stdout}");
    assert_eq!(stdout.lines().last().unwrap(), "2 checks: 2 pass", "{stdout}");
    // Not a terminal: no progress line on stderr.
    assert!(!stderr.contains("checks ·"), "{stderr}");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn headless_check_on_a_terminal_shows_progress_on_stderr() {
    let sb = Sandbox::new();
    let (_s, _p, vars) = fake_env(&sb);
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut p = Pty::spawn(&sb, &["check", "postnl", "versioning", "5"], 100, 30, &extra);
    assert_eq!(p.wait_exit(), 5);
    let raw = String::from_utf8_lossy(&p.raw.lock().unwrap()).to_string();
    assert!(raw.contains("0/4 checks · 0 pass · 7 versioning"), "{raw}");
    assert!(raw.contains("2/4 checks · 1 pass, 1 not run · 5 sandbox-api-key"), "{raw}");
    assert!(raw.contains("4 checks: 1 pass, 3 not run"), "{raw}");
}

#[test]
fn an_unknown_step_lists_the_numbers_and_ids() {
    let sb = Sandbox::new();
    for args in
        [&["check", "postnl", "99"][..], &["mark", "postnl", "nope", "done"], &["evidence", "add", "postnl", "0", "x"]]
    {
        let o = sb.command(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("its steps: 1 servicedesk-access, 2 "), "{args:?}: {stderr}");
        assert!(stderr.contains("10 go-live"), "{stderr}");
    }
    // By number, the step is the numbered one.
    let o = sb.command(&["mark", "postnl", "3", "done"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    let third =
        String::from_utf8_lossy(&sb.command(&["status", "postnl", "--json"]).output().unwrap().stdout).to_string();
    let json: serde_json::Value = serde_json::from_str(&third).unwrap();
    let step3 = json["guides"][0]["steps"].as_array().unwrap().iter().find(|s| s["number"] == 3).unwrap().clone();
    assert_eq!(step3["status"], "done", "{state}");
}

/// The state file's last line is its seal: the SHA-256 of the text above.
fn seal_matches(text: &str) -> bool {
    use sha2::Digest;
    let Some((above, line)) = text.strip_suffix('\n').and_then(|t| t.rsplit_once('\n')) else { return false };
    let above = format!("{above}\n");
    line.starts_with("# sha256 of the text above")
        && line.ends_with(&hex::encode(sha2::Sha256::digest(above.as_bytes())))
}

/// `cutover mark` as a user runs it, on one state: what it writes ends in
/// a matching seal; a hand edit of another guide is kept (the file is read
/// whole and sealed again); a broken hand edit is located and the file left
/// exactly as it is.
#[test]
fn mark_seals_what_it_writes_and_keeps_or_locates_a_hand_edit() {
    let sb = Sandbox::new();
    let run = |args: &[&str]| {
        let o = sb.command(args).output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string())
    };
    assert_eq!(run(&["mark", "postnl", "1", "done"]).0, Some(0));
    assert_eq!(run(&["mark", "posti", "1", "done", "--note", "first"]).0, Some(0));
    let text = std::fs::read_to_string(sb.state_file()).unwrap();
    assert!(seal_matches(&text), "{text}");

    let edited = text.replace("note = \"first\"", "note = \"edited by hand\"");
    assert_ne!(edited, text);
    std::fs::write(sb.state_file(), &edited).unwrap();
    assert_eq!(run(&["mark", "postnl", "2", "done"]), (Some(0), String::new()));
    let text = std::fs::read_to_string(sb.state_file()).unwrap();
    assert!(text.contains("note = \"edited by hand\""), "the hand edit kept: {text}");
    assert!(text.contains("[guides.postnl.steps.account-verification]"), "{text}");
    assert!(seal_matches(&text), "sealed again: {text}");

    let broken = text.replacen("status = \"done\"", "status = \"finished\"", 1);
    std::fs::write(sb.state_file(), &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("finished")).unwrap() + 1;
    let (code, err) = run(&["mark", "posti", "2", "done"]);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains(&format!("state.toml:{line}:")), "located: {err}");
    assert_eq!(std::fs::read_to_string(sb.state_file()).unwrap(), broken, "left exactly as it is");
}

/// The call budget of the fake sandbox, as if `per_minute` calls had gone
/// out `ago_ms` ago: the budget file beside the state, which every cutover
/// on that state shares. The next call waits until they leave the window.
fn spend_budget(sb: &Sandbox, sandbox: &cutover::demo::FakeCarrier, per_minute: usize, ago_ms: i64) {
    let host = sandbox.url().trim_start_matches("http://").to_string();
    let key = cutover::check::secret::ApiKey::new(cutover::demo::FakeOptions::DEMO_POSTNL_SANDBOX_KEY);
    let at = jiff::Timestamp::now().as_millisecond() - ago_ms;
    let calls = vec![at.to_string(); per_minute].join(", ");
    let dir = sb.state_file().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ratelimit.toml"), format!("[buckets]\n\"{host}/{}\" = [{calls}]\n", key.fingerprint()))
        .unwrap();
}

/// The seconds of the first "waiting for the rate limit · N s" on screen.
fn wait_secs(screen: &str) -> Option<u32> {
    let at = screen.find("waiting for the rate limit · ")? + "waiting for the rate limit · ".len();
    screen[at..].split(' ').next()?.parse().ok()
}

/// Run all against a sandbox whose call budget is spent: the footer and
/// the waiting step count the wait down, then every check runs and the run
/// ends with its summary. The real clock (the budget's window is a real
/// minute), the budget spent 50 s ago: a wait of about 10 s.
#[test]
fn run_all_counts_down_a_wait_for_the_call_budget_then_finishes() {
    let sb = Sandbox::new();
    let (sandbox, _p, mut vars) = fake_env(&sb);
    vars.push(("POSTNL_SANDBOX_API_KEY".into(), cutover::demo::FakeOptions::DEMO_POSTNL_SANDBOX_KEY.into()));
    vars.push(("CUTOVER_NOW".into(), String::new()));
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, &env);
    p.wait_for("0/10 steps done");
    // Step 5, the sandbox key check, on screen while it waits.
    p.send(b"jjjj");
    p.wait_for("Step 5");
    spend_budget(&sb, &sandbox, 15, 50_000);
    p.send(b"C");
    p.wait_for("run all: waiting for the rate limit · ");
    // Step 5's own check says it once its run reaches the budget (another
    // step's may have been first to).
    p.wait_for("sandbox allows 15 calls a minute");
    let screen = p.screen();
    let first = wait_secs(&screen).unwrap_or_else(|| panic!("no countdown:\n{screen}"));
    // About 10 s; a second more where the screen's clock (it moves with
    // each tick) is a little behind the runner's.
    assert!((1..=11).contains(&first), "{first} s:\n{screen}");
    // It counts down, once a second, without a key pressed.
    common::pty::wait_until("the countdown to move", || wait_secs(&p.screen()).is_some_and(|s| s < first));
    // While every running check only waits, the screen changes once a
    // second, not with every spinner step (8 a second): over 2 s at most a
    // few frames, each with the strip's and the list's spinner.
    if wait_secs(&p.screen()).is_some_and(|s| s >= 4) {
        p.raw.lock().unwrap().clear();
        std::thread::sleep(std::time::Duration::from_secs(2));
        let raw = String::from_utf8_lossy(&p.raw.lock().unwrap()).to_string();
        let spinner_steps = raw.matches(['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧']).count();
        assert!(spinner_steps <= 8, "{spinner_steps} spinner steps in 2 s of waiting");
    }
    // Then the checks go ahead and the run ends.
    p.wait_for("run all finished");
    let screen = p.screen();
    assert!(!screen.contains("waiting for the rate limit"), "{screen}");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    assert!(state.contains("[[guides.postnl.steps.sandbox-api-key.checks]]"), "{state}");
    assert!(!state.contains("rate limit"), "a check gave up on the wait:\n{state}");
}

/// `cutover check` on a terminal says the wait on its progress line, with
/// the sandbox's budget, and then runs the checks.
#[test]
fn headless_check_on_a_terminal_says_the_wait_for_the_call_budget() {
    let sb = Sandbox::new();
    let (sandbox, _p, mut vars) = fake_env(&sb);
    vars.push(("POSTNL_SANDBOX_API_KEY".into(), cutover::demo::FakeOptions::DEMO_POSTNL_SANDBOX_KEY.into()));
    vars.push(("CUTOVER_NOW".into(), String::new()));
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spend_budget(&sb, &sandbox, 15, 52_000);
    let mut p = Pty::spawn(&sb, &["check", "postnl"], 100, 30, &env);
    p.wait_for("s for the rate limit (sandbox allows 15 calls a minute)");
    assert_eq!(p.wait_exit(), 5, "{}", p.screen());
    let screen = p.screen();
    assert!(screen.contains("the sandbox key went to"), "{screen}");
    assert!(!screen.contains("next call possible"), "a check gave up on the wait:\n{screen}");
}
