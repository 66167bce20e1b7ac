//! The key never leaks: run every kind of check with a known key through the
//! real binary (headless and in the TUI), logging at trace level, then scan
//! every file cutover wrote, every output and the screen for it.

mod common;
use common::pty::{Pty, Sandbox};
use cutover::check::fake::{FakeCarrier, FakeOptions};
use std::path::Path;

const SANDBOX_KEY: &str = "canary-sandbox-7f3a9c41d2";
const PRODUCTION_KEY: &str = "canary-production-55e1b0a9";

fn fakes() -> (FakeCarrier, FakeCarrier) {
    let opts = FakeOptions {
        postnl_sandbox_key: SANDBOX_KEY.into(),
        postnl_production_key: PRODUCTION_KEY.into(),
        posti_key: "canary-posti-0c9d".into(),
        latency: std::time::Duration::ZERO,
        rate_limit_per_minute: None,
    };
    FakeCarrier::start_pair(opts).unwrap()
}

fn setup(sb: &Sandbox, sandbox: &FakeCarrier, production: &FakeCarrier) -> Vec<(String, String)> {
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    std::fs::write(
        sb.config_dir().join("config.toml"),
        r#"
[guides.postnl.vars]
customer_code = "DEVC"
customer_number = "11223344"

[guides.postnl.versions]
shippingstatus = "v2"

[commands.smoke-test]
argv = ["sh", "-c", "echo the key is $CUTOVER_API_KEY; echo $CUTOVER_API_KEY >&2"]
timeout_secs = 20
"#,
    )
    .unwrap();
    vec![
        ("POSTNL_SANDBOX_API_KEY".into(), SANDBOX_KEY.into()),
        ("POSTNL_PRODUCTION_API_KEY".into(), PRODUCTION_KEY.into()),
        ("CUTOVER_POSTNL_SANDBOX_URL".into(), sandbox.url()),
        ("CUTOVER_POSTNL_PRODUCTION_URL".into(), production.url()),
        // Nothing may reach a real host: every other guide URL is dead.
        ("CUTOVER_POSTI_PRODUCTION_URL".into(), "http://127.0.0.1:9".into()),
        ("CUTOVER_LOG".into(), "trace".into()),
    ]
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn assert_no_key(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for key in [SANDBOX_KEY, PRODUCTION_KEY] {
        assert!(!text.contains(key), "{what} contains the key:\n{text}");
    }
}

#[test]
fn no_output_file_or_screen_ever_holds_the_key() {
    let sb = Sandbox::new();
    let (sandbox, production) = fakes();
    let vars = setup(&sb, &sandbox, &production);
    let run = |args: &[&str]| {
        let mut c = sb.command(args);
        for (k, v) in &vars {
            c.env(k, v);
        }
        c.output().unwrap()
    };

    // Every check of the guide, in both environments.
    let mut outputs = Vec::new();
    for env in ["sandbox", "production"] {
        let out = run(&["check", "postnl", "--env", env, "--json"]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["guide"], "postnl");
        outputs.push(out);
    }
    let named = run(&["check", "postnl", "sandbox-api-key", "sandbox-integration", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&named.stdout).unwrap();
    let verdicts: Vec<&str> =
        json["results"].as_array().unwrap().iter().map(|r| r["verdict"].as_str().unwrap()).collect();
    assert!(verdicts.contains(&"pass"), "{json}");
    outputs.push(named);
    outputs.push(run(&["status", "--json"]));
    outputs.push(run(&["log", "postnl", "--json"]));

    // And from the TUI, a check run by hand.
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, &env);
    p.wait_for("0/10 steps done");
    p.send(b"jjjjc");
    p.wait_for("Key accepted");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
    assert_no_key("the screen", &p.raw.lock().unwrap());

    for (i, o) in outputs.iter().enumerate() {
        assert_no_key(&format!("stdout of run {i}"), &o.stdout);
        assert_no_key(&format!("stderr of run {i}"), &o.stderr);
    }
    let mut files = Vec::new();
    files_under(sb.path(), &mut files);
    let log = files.iter().find(|f| f.ends_with("cutover.log")).expect("a log file at trace level");
    assert!(std::fs::metadata(log).unwrap().len() > 0, "the trace log is empty");
    for f in &files {
        assert_no_key(&f.display().to_string(), &std::fs::read(f).unwrap());
    }
    // The key did reach the carrier fakes, and only each its own.
    assert!(sandbox.requests().iter().any(|r| r.auth_present && r.status == 200));
    assert!(production.requests().iter().any(|r| r.auth_present && r.status == 200));
    assert!(
        sandbox.requests().iter().chain(production.requests().iter()).all(|r| r.status != 401),
        "a key went to the wrong environment"
    );
}

#[test]
fn headless_check_exit_codes_follow_the_verdicts() {
    let sb = Sandbox::new();
    let (sandbox, production) = fakes();
    let vars = setup(&sb, &sandbox, &production);
    let run = |args: &[&str], extra: &[(&str, &str)]| {
        let mut c = sb.command(args);
        for (k, v) in &vars {
            c.env(k, v);
        }
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let ok = run(&["check", "postnl", "sandbox-api-key"], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    let refused = run(&["check", "postnl", "sandbox-api-key"], &[("POSTNL_SANDBOX_API_KEY", "not-the-right-key-123")]);
    assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stdout));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("Company overview"), "the hint names the carrier's page");
    let dead = run(&["check", "postnl", "sandbox-api-key"], &[("CUTOVER_POSTNL_SANDBOX_URL", "http://127.0.0.1:9")]);
    assert_eq!(
        dead.status.code(),
        Some(3),
        "refused connection is indeterminate: {}",
        String::from_utf8_lossy(&dead.stdout)
    );
    let unknown = run(&["check", "postnl", "no-such-step"], &[]);
    assert_eq!(unknown.status.code(), Some(2));
    // Manual steps are listed as skipped, not failed.
    let manual = run(&["check", "postnl", "servicedesk-access", "--json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&manual.stdout).unwrap();
    assert_eq!(json["results"][0]["verdict"], "skipped");
    assert_eq!(manual.status.code(), Some(0));
}
