//! The key never leaks: run every kind of check with a known key through the
//! real binary (headless and in the TUI), logging at trace level, then scan
//! every file cutover wrote, every output and the screen for it.

use crate::common;
use common::pty::{Pty, Sandbox, files_under};
use cutover::demo::{FakeCarrier, FakeOptions};

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

# Nothing may reach a real host: the reachability checks' hosts answer
# from loopback.
[checks.resolve]
"developer.postnl.nl" = "127.0.0.1"
"gateway.posti.fi" = "127.0.0.1"

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

/// Runs the binary in the sandbox with the test's variables and `extra`.
fn run_with(sb: &Sandbox, vars: &[(String, String)], args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
    let mut c = sb.command(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().unwrap()
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
    let run = |args: &[&str]| run_with(&sb, &vars, args, &[]);

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
    // The banner says the base URL is not the guide's own, and where it
    // comes from.
    p.wait_for("from CUTOVER_POSTNL_");
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
    let run = |args: &[&str], extra: &[(&str, &str)]| run_with(&sb, &vars, args, extra);
    let ok = run(&["check", "postnl", "sandbox-api-key"], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    // The output says where the key went, and why there.
    let host = sandbox.url().trim_start_matches("http://").to_string();
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(
        said.contains(&format!("the sandbox key went to {host}, base URL from CUTOVER_POSTNL_SANDBOX_URL")),
        "{said}"
    );
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

/// Standard base64, for building the forms a key travels in.
fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() { A[((n >> (18 - 6 * i)) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every form of `key` that must never be found: the key in any case, its
/// base64 (standard, URL-safe, unpadded) and percent-encoded forms, and any
/// run of 12 of its characters.
fn forms(key: &str) -> Vec<String> {
    let mut f = vec![key.to_string(), key.to_uppercase(), key.to_lowercase(), pct(key)];
    let b = b64(key.as_bytes());
    f.push(b.trim_end_matches('=').to_string());
    f.push(b.replace('+', "-").replace('/', "_").trim_end_matches('=').to_string());
    for w in key.as_bytes().windows(12) {
        f.push(String::from_utf8_lossy(w).to_string());
    }
    f
}

fn assert_no_form(what: &str, bytes: &[u8], keys: &[&str]) {
    let text = String::from_utf8_lossy(bytes);
    let lower = text.to_lowercase();
    for key in keys {
        for f in forms(key) {
            // Runs of the key are looked for in any case; encodings exactly.
            let found =
                if f.len() == 12 && key.contains(&f) { lower.contains(&f.to_lowercase()) } else { text.contains(&f) };
            assert!(!found, "{what} holds a form of a key ({} chars):\n{text}", f.len());
        }
    }
}

/// Fail closed: a secrets file others can read, a typed key beside an
/// environment key, keys in notes, evidence, command output and names in
/// encoded forms, a guide that tries to move the key: every file and every
/// output scanned for every form of every key.
#[test]
fn the_guard_fails_closed_and_no_form_of_any_key_leaks() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let (sandbox, production) = fakes();
    let mut vars = setup(&sb, &sandbox, &production);
    // The smoke test prints the key as it is, base64'd and percent-encoded.
    let config = sb.config_dir().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        r#"argv = ["sh", "-c", "echo the key is $CUTOVER_API_KEY; echo $CUTOVER_API_KEY >&2"]"#,
        r#"argv = ["sh", "-c", "echo key $CUTOVER_API_KEY; printf %s \"$CUTOVER_API_KEY\" | base64; printf %s \"$CUTOVER_API_KEY\" | base64 >&2"]"#,
    );
    assert!(text.contains("base64"));
    std::fs::write(&config, text).unwrap();
    // A key only the refused secrets file knows, with characters that
    // encode differently.
    const FILE_KEY: &str = "file+only/key=9d8c7b6a5f4e";
    let secrets = sb.config_dir().join("secrets.toml");
    std::fs::write(&secrets, format!("[posti]\nproduction = \"{FILE_KEY}\"\n")).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A collector a replacing guide would like the sandbox key sent to.
    let collector = FakeCarrier::start_pair(FakeOptions {
        postnl_sandbox_key: "x".into(),
        postnl_production_key: "y".into(),
        posti_key: "z".into(),
        latency: std::time::Duration::ZERO,
        rate_limit_per_minute: None,
    })
    .unwrap()
    .0;
    let guides = sb.config_dir().join("guides");
    std::fs::create_dir_all(&guides).unwrap();
    let built_in = cutover::guide::catalog::BUILT_IN.iter().find(|(n, _)| *n == "postnl.toml").unwrap().1;
    let replaced = built_in
        .replace("base_url = \"https://api-sandbox.postnl.nl\"", &format!("base_url = \"{}\"", collector.url()));
    assert_ne!(replaced, built_in);
    std::fs::write(guides.join("postnl.toml"), replaced).unwrap();
    vars.push(("CUTOVER_LOG".into(), "trace".into()));
    let run = |args: &[&str], extra: &[(&str, &str)]| run_with(&sb, &vars, args, extra);
    let keys = [SANDBOX_KEY, PRODUCTION_KEY, FILE_KEY];
    let mut outputs = Vec::new();

    // Notes holding a key in any form are refused, without an echo.
    for note in [
        format!("the key: {}", b64(FILE_KEY.as_bytes())),
        format!("curl -H 'Authorization: Basic {}'", b64(format!("me:{FILE_KEY}").as_bytes())),
        format!("url ?k={}", pct(FILE_KEY)),
        format!("cut: {}", &SANDBOX_KEY[2..16]),
        format!("upper {}", SANDBOX_KEY.to_uppercase()),
    ] {
        let o = run(&["mark", "postnl", "versioning", "in_progress", "--note", &note], &[]);
        assert_eq!(o.status.code(), Some(2), "refused: {}", String::from_utf8_lossy(&o.stderr));
        outputs.push(o);
    }
    // A name or argument holding a key is refused before anything runs.
    let o = run(&["--as", FILE_KEY, "status"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds an API key"));
    outputs.push(o);
    // A $USER holding a key is not used as a name.
    let o = run(&["mark", "postnl", "versioning", "todo"], &[("USER", SANDBOX_KEY), ("LOGNAME", SANDBOX_KEY)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("uid-"), "{}", String::from_utf8_lossy(&o.stderr));
    outputs.push(o);
    // Evidence with encoded keys is stored redacted.
    let evidence = sb.path().join("call.txt");
    std::fs::write(
        &evidence,
        format!(
            "GET /x HTTP/1.1\napikey: {SANDBOX_KEY}\nAuthorization: Basic {}\nX-Other: {}\nX-Cut: {}\n",
            b64(format!("alice:{FILE_KEY}").as_bytes()),
            pct(PRODUCTION_KEY),
            &FILE_KEY[3..17]
        ),
    )
    .unwrap();
    outputs.push(run(&["evidence", "add", "postnl", "sandbox-api-key", evidence.to_str().unwrap()], &[]));
    std::fs::remove_file(&evidence).unwrap();
    // Checks in both environments (the command prints the key base64'd).
    for env in ["sandbox", "production"] {
        let o = run(&["check", "postnl", "--env", env, "--json", "--allow-writes"], &[]);
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for r in json["results"].as_array().unwrap() {
            if let Some(host) = r["key_sent_to"].as_str() {
                // Each key only to its own environment's URL (steps bound to
                // production run there whatever --env says).
                let own = if r["env"] == "sandbox" { sandbox.url() } else { production.url() };
                assert!(own.contains(host), "the key went to {host}, not {own}");
            }
        }
        outputs.push(o);
    }
    for f in ["md", "html", "json"] {
        outputs.push(run(&["report", "postnl", "--format", f], &[]));
    }
    outputs.push(run(&["status", "--json"], &[]));
    outputs.push(run(&["log", "postnl", "--json"], &[]));

    for (i, o) in outputs.iter().enumerate() {
        assert_no_form(&format!("stdout of run {i}"), &o.stdout, &keys);
        assert_no_form(&format!("stderr of run {i}"), &o.stderr, &keys);
    }
    let mut files = Vec::new();
    files_under(sb.path(), &mut files);
    for f in files.iter().filter(|f| !f.ends_with("secrets.toml") && !f.starts_with(&guides)) {
        assert_no_form(&f.display().to_string(), &std::fs::read(f).unwrap(), &keys);
    }
    // The replacing guide could not move the key: nothing reached it.
    assert!(collector.requests().is_empty(), "a replacing guide moved the key: {:?}", collector.requests().len());
}

/// The opt-in "V4 access" check runs only when its step is named, reads
/// (no consent asked, `writes = false`), sends a pickUpDate from the clock,
/// and passes on the fake's V4 locations answer.
#[test]
fn v4_access_runs_when_its_step_is_named_and_only_then() {
    let sb = Sandbox::new();
    let (sandbox, production) = fakes();
    let vars = setup(&sb, &sandbox, &production);
    let run = |args: &[&str]| run_with(&sb, &vars, args, &[]);
    let find = |out: &std::process::Output| -> serde_json::Value {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["results"].as_array().unwrap().iter().find(|r| r["check"] == "V4 access").cloned().unwrap_or_default()
    };
    let named = run(&["check", "postnl", "versioning", "--env", "sandbox", "--json"]);
    let v4 = find(&named);
    assert_eq!(v4["verdict"], "pass", "{v4}");
    assert!(v4["message"].as_str().unwrap().contains("V4"), "{v4}");
    assert!(sandbox.requests().iter().any(|r| r.path.contains("/v4/") && r.auth_present && r.status == 200));
    let all = run(&["check", "postnl", "--env", "sandbox", "--json"]);
    // The developer portal's name was answered from [checks.resolve]: a
    // loopback port, never DNS or the real host.
    let json: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let portal = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "The developer portal answers")
        .cloned()
        .unwrap_or_default();
    assert!(portal["message"].as_str().unwrap_or("").contains("refused"), "{portal}");
    let v4 = find(&all);
    assert_eq!(v4["verdict"], "skipped", "{v4}");
    assert_eq!(v4["message"], "on request only");
}

/// A key typed with `p` beside a key from the environment: the typed one is
/// used, and the guard still knows both, so a note holding either (in any
/// form) is refused and never saved.
#[test]
fn a_typed_key_adds_to_what_the_guard_knows() {
    const TYPED: &str = "typed-in-key-4e5f6a7b8c9d";
    let sb = Sandbox::new();
    let (sandbox, production) = fakes();
    let vars = setup(&sb, &sandbox, &production);
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, &env);
    p.wait_for("0/10 steps done");
    p.send(b"jjjj");
    p.send(b"p");
    p.wait_for("key");
    p.send(TYPED.as_bytes());
    p.send(b"\r");
    p.wait_for("kept in memory for postnl sandbox");
    // The typed key is the one in use: the fake knows only the
    // environment's key, so the check now says the key was refused.
    p.send(b"c");
    p.wait_for("refused");
    for note in
        [format!("env key {SANDBOX_KEY}"), format!("typed {}", TYPED.to_uppercase()), format!("cut {}", &TYPED[3..16])]
    {
        p.send(b"e");
        p.wait_for("Note");
        p.send(note.as_bytes());
        p.send(b"\x13"); // Ctrl-S
        p.wait_for("not saved: the note contains an API key");
        p.send(b"\x03"); // Ctrl-C: discard
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    p.send(b"q");
    p.wait_exit();
    let state = std::fs::read_to_string(sb.state_file()).unwrap_or_default();
    assert_no_form("the state file", state.as_bytes(), &[SANDBOX_KEY, TYPED]);
}
