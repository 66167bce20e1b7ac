//! Malformed input through the real binary: every bad state file and every
//! bad guide file gets a located, human error (file:line:col and what is
//! wrong), nothing is overwritten, and the app still works with what it can
//! read. Also the two mistakes only a run can find: a check that needs a key
//! nobody configured, and a command check naming a command the config does
//! not define.

use crate::common;

use common::pty::Sandbox;
use std::fs;
use std::path::Path;
use std::process::Output;

fn run(sb: &Sandbox, args: &[&str]) -> Output {
    sb.command(args).output().unwrap()
}

/// As `run`, but a command still running after `secs` is killed and fails
/// the test (a FIFO read that blocks would otherwise hang the suite).
fn run_within(sb: &Sandbox, args: &[&str], secs: u64) -> Output {
    let mut child =
        sb.command(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("cutover {args:?} still ran after {secs} s (blocked on a file?)");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A message a person can read: located, one line, no escapes, no Rust
/// debug output.
fn assert_human(what: &str, msg: &str) {
    assert!(!msg.trim().is_empty(), "{what}: empty message");
    assert!(!msg.chars().any(|c| c.is_control() && c != '\n'), "{what}: control characters in {msg:?}");
    for debug in ["Error {", "Some(", "Err(", "panicked", "RUST_BACKTRACE"] {
        assert!(!msg.contains(debug), "{what}: {debug:?} in {msg:?}");
    }
}

/// Finds `file:line:col: message` for `file` in `out` and returns
/// (line, col, message).
fn located(what: &str, out: &str, file: &str) -> (usize, usize, String) {
    for l in out.lines() {
        let Some(rest) = l.find(file).map(|i| &l[i + file.len()..]) else { continue };
        let mut parts = rest.splitn(4, ':');
        let (Some(""), Some(line), Some(col), Some(msg)) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if let (Ok(line), Ok(col)) = (line.parse(), col.parse()) {
            return (line, col, msg.trim().to_string());
        }
    }
    panic!("{what}: no {file}:line:col: message in:\n{out}");
}

fn big(prefix: &str, fill: u8, len: usize, suffix: &str) -> Vec<u8> {
    let mut b = prefix.as_bytes().to_vec();
    b.resize(prefix.len() + len, fill);
    b.extend_from_slice(suffix.as_bytes());
    b
}

fn nested(prefix: &str, depth: usize) -> Vec<u8> {
    format!("{prefix}{}{}\n", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

#[test]
fn state_files_cutover_cannot_read_are_located_and_never_overwritten() {
    let cases: Vec<(&str, Vec<u8>, usize, &str)> = vec![
        ("binary garbage", vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d], 1, "UTF-8"),
        ("non-UTF-8 bytes", b"schema = 1\n[guides.postnl.steps.go-live]\nnote = \"caf\xe9\"\n".to_vec(), 3, "UTF-8"),
        ("wrong type", b"schema = 1\n\n[guides.postnl.steps.go-live]\nstatus = 5\n".to_vec(), 4, ""),
        ("unknown key", b"schema = 1\n[guides.postnl.steps.go-live]\ncolour = \"red\"\n".to_vec(), 3, "colour"),
        ("duplicate table", b"schema = 1\n[guides.postnl.steps.a]\n[guides.postnl.steps.a]\n".to_vec(), 3, ""),
        ("newer schema", b"# from a newer cutover\nschema = 9\n".to_vec(), 2, "newer"),
        ("deep nesting", nested("schema = 1\nx = ", 10_000), 2, ""),
        ("10 MB, unterminated", big("schema = 1\n[guides.g.steps.s]\nnote = \"", b'x', 10 << 20, "\n"), 3, ""),
    ];
    for (what, bytes, line, needle) in cases {
        let sb = Sandbox::new();
        let state = sb.state_file();
        fs::create_dir_all(state.parent().unwrap()).unwrap();
        fs::write(&state, &bytes).unwrap();
        for args in [&["status"][..], &["mark", "postnl", "go-live", "done"][..]] {
            let out = run(&sb, args);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(4), "{what}: cutover {args:?} exits 4; stderr:\n{err}");
            let (l, col, msg) = located(what, &err, "state.toml");
            assert_eq!(l, line, "{what}: {err}");
            assert!(col >= 1, "{what}: {err}");
            assert!(msg.contains(needle), "{what}: {needle:?} in {msg:?}");
            assert_human(what, &err);
            assert!(err.len() < 4096, "{what}: the error quotes the file instead of locating: {} bytes", err.len());
            assert_eq!(fs::read(&state).unwrap(), bytes, "{what}: {args:?} left the file alone");
        }
    }
}

#[test]
fn an_empty_state_file_is_a_fresh_start() {
    // Nothing in it to lose: an empty file reads as no progress, and the
    // first change is saved into it.
    let sb = Sandbox::new();
    let state = sb.state_file();
    fs::create_dir_all(state.parent().unwrap()).unwrap();
    fs::write(&state, b"").unwrap();
    let out = run(&sb, &["mark", "postnl", "servicedesk-access", "done"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(fs::read_to_string(&state).unwrap().contains("servicedesk-access"));
}

const GOOD: &str = r#"schema = 1
id = "tiny"
version = "1"
title = { en = "Tiny runbook" }
languages = ["en"]
originals = ["en"]

[[steps]]
id = "first"
number = 1
title = { en = "First" }
body.en = "Do the first thing."

[[steps]]
id = "second"
number = 2
title = { en = "Second" }
body.en = "Do the second thing."
"#;

fn line_of(src: &str, needle: &str) -> usize {
    src.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn guide_cases() -> Vec<(&'static str, Vec<u8>, usize, &'static str)> {
    let with = |from: &str, to: &str| GOOD.replacen(from, to, 1);
    let wrong_type = with("number = 2", "number = \"two\"");
    let duplicate = with("id = \"second\"", "id = \"first\"");
    let unknown = with("body.en = \"Do the second thing.\"", "body.en = \"x\"\ncolour = \"red\"");
    let newer = with("schema = 1", "schema = 2");
    let mut latin1 = GOOD.replacen("Do the second thing.", "Caf\u{1}", 1).into_bytes();
    let at = latin1.iter().position(|b| *b == 1).unwrap();
    latin1[at] = 0xe9;
    vec![
        ("empty file", Vec::new(), 1, ""),
        ("binary garbage", vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0xff, 0xfe], 1, "UTF-8"),
        ("non-UTF-8 bytes", latin1, line_of(GOOD, "Do the second"), "UTF-8"),
        ("10 MB", big("# ", b'x', 10 << 20, "\n"), 1, "larger than"),
        ("deep nesting", nested("schema = 1\nx = ", 10_000), 2, ""),
        ("wrong type", wrong_type.clone().into_bytes(), line_of(&wrong_type, "\"two\""), ""),
        ("duplicate step id", duplicate.clone().into_bytes(), line_of(&duplicate, "id = \"first\""), "first"),
        ("unknown key", unknown.clone().into_bytes(), line_of(&unknown, "colour"), "colour"),
        ("newer schema", newer.clone().into_bytes(), 1, "newer"),
        ("newer schema, new fields", b"schema = 3\nid = \"x\"\nsteps_v3 = []\n".to_vec(), 1, "newer"),
    ]
}

#[test]
fn broken_guide_files_are_located_and_the_others_still_load() {
    let sb = Sandbox::new();
    let guides = sb.config_dir().join("guides");
    fs::create_dir_all(&guides).unwrap();
    fs::write(guides.join("good.toml"), GOOD).unwrap();
    let cases = guide_cases();
    for (i, (what, bytes, line, needle)) in cases.iter().enumerate() {
        let name = format!("bad{i}.toml");
        let path = guides.join(&name);
        fs::write(&path, bytes).unwrap();
        let out = run(&sb, &["guides", "validate", path.to_str().unwrap()]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{what}: validate exits 1:\n{stdout}{}", text(&out.stderr));
        let (l, col, msg) = located(what, &stdout, &name);
        // A duplicate id is reported where it repeats; the first use may be
        // named too.
        if *what == "duplicate step id" {
            assert!(l >= line_of(GOOD, "id = \"first\""), "{what}: {stdout}");
        } else {
            assert_eq!(l, *line, "{what}: {stdout}");
        }
        assert!(col >= 1, "{what}: {stdout}");
        assert!(msg.contains(needle), "{what}: {needle:?} in {msg:?}");
        assert_human(what, &stdout);
        assert!(stdout.len() < 4096, "{what}: {} bytes of error", stdout.len());
    }
    // The good file and the built-ins load; every broken file is named.
    let out = run(&sb, &["guides", "--json"]);
    let listed = text(&out.stdout);
    for id in ["postnl", "posti", "tiny"] {
        assert!(listed.contains(&format!("\"{id}\"")), "{id} listed:\n{listed}");
    }
    let out = run(&sb, &["guides"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    for i in 0..cases.len() {
        assert!(all.contains(&format!("bad{i}.toml")), "bad{i}.toml named in `cutover guides`:\n{all}");
    }
    assert_human("guides", &all);
}

fn write_config(dir: &Path, body: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("config.toml"), body).unwrap();
}

#[test]
fn a_missing_key_or_an_undefined_command_is_an_error_that_names_the_fix_and_sends_nothing() {
    let sb = Sandbox::new();
    let guides = sb.config_dir().join("guides");
    fs::create_dir_all(&guides).unwrap();
    // Port 9 on loopback: nothing may be sent, and nothing listens there.
    let guide = r#"schema = 1
id = "mistakes"
version = "1"
title = { en = "Mistakes" }
languages = ["en"]
originals = ["en"]

[environments.sandbox]
base_url = "http://127.0.0.1:9"

[[steps]]
id = "keyed"
number = 1
title = { en = "Needs a key" }
body.en = "A call with the key."

[[steps.checks]]
kind = "http"
method = "GET"
path = "/status"
headers = { apikey = "{api_key}" }
expect_status = [200]

[[steps]]
id = "smoke"
number = 2
title = { en = "Runs a command" }
body.en = "The customer's smoke test."

[[steps.checks]]
kind = "command"
command = "smoke-test"
"#;
    fs::write(guides.join("mistakes.toml"), guide).unwrap();
    let v = run(&sb, &["guides", "validate", guides.join("mistakes.toml").to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "the guide itself is valid:\n{}", text(&v.stdout));
    write_config(&sb.config_dir(), "# no commands defined\n");
    let out = run(&sb, &["check", "mistakes", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_human("check", &all);
    let results = json.as_array().or_else(|| json["results"].as_array()).expect("a list of results");
    let verdicts: Vec<(String, String, String)> = results
        .iter()
        .map(|r| {
            (
                r["step"].as_str().unwrap_or_default().to_string(),
                r["verdict"].as_str().unwrap_or_default().to_string(),
                format!("{} {}", r["message"].as_str().unwrap_or_default(), r["hint"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let keyed = verdicts.iter().find(|v| v.0 == "keyed").expect("keyed step reported");
    assert_eq!(keyed.1, "error", "{keyed:?}");
    assert!(keyed.2.contains("CUTOVER_MISTAKES_SANDBOX_KEY") || keyed.2.contains("secrets.toml"), "{keyed:?}");
    let smoke = verdicts.iter().find(|v| v.0 == "smoke").expect("smoke step reported");
    assert_eq!(smoke.1, "error", "{smoke:?}");
    assert!(smoke.2.contains("smoke-test") && smoke.2.contains("[commands."), "{smoke:?}");
    assert_ne!(out.status.code(), Some(0), "errors do not exit 0");
}

/// A FIFO, a socket or a folder where a guide, the config or the secrets
/// file should be: skipped or refused with a message, never read (a FIFO
/// used to hang every command, even `status`); a symlink to a regular file
/// is fine.
#[test]
fn files_that_are_not_regular_are_skipped_and_never_hang() {
    let sb = Sandbox::new();
    let guides = sb.config_dir().join("guides");
    fs::create_dir_all(&guides).unwrap();
    let mkfifo = |p: &Path| {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo has no other precondition.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", p.display());
    };
    mkfifo(&guides.join("fifo.toml"));
    let _sock = std::os::unix::net::UnixListener::bind(guides.join("socket.toml")).unwrap();
    fs::create_dir_all(guides.join("folder.toml")).unwrap();
    // A symlink to a good guide loads.
    let good = sb.path().join("mine.toml");
    fs::write(
        &good,
        "schema = 1\nid = \"mine\"\nversion = \"1\"\ntitle = { en = \"Mine\" }\nlanguages = [\"en\"]\n\n[[steps]]\nid = \"one\"\nnumber = 1\ntitle = { en = \"One\" }\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&good, guides.join("linked.toml")).unwrap();

    let out = run_within(&sb, &["guides"], 20);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_human("guides", &all);
    for (name, what) in [("fifo.toml", "a FIFO"), ("socket.toml", "a socket"), ("folder.toml", "a folder")] {
        assert!(all.contains(name) && all.contains(what), "{name} not reported as {what}:\n{all}");
    }
    assert!(all.contains("mine"), "the symlinked guide loads:\n{all}");
    let out = run_within(&sb, &["status"], 20);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The config as a FIFO: refused with its name, not read.
    mkfifo(&sb.config_dir().join("config.toml"));
    let out = run(&sb, &["check", "postnl", "sandbox-api-key"]);
    let err = text(&out.stderr);
    assert!(err.contains("config.toml") && err.contains("a FIFO"), "{err}");
    // The secrets file as a FIFO: the guard is broken, so nothing that could
    // carry a key is written.
    fs::remove_file(sb.config_dir().join("config.toml")).unwrap();
    mkfifo(&sb.config_dir().join("secrets.toml"));
    let out = run(&sb, &["mark", "postnl", "versioning", "in_progress", "--note", "hello"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("secrets.toml"), "{}", text(&out.stderr));
}

/// `--reset-state` is for a file cutover cannot read: on one that reads
/// fine it refuses (exit 4, nothing moved) unless `--force` is given.
#[test]
fn reset_state_on_a_readable_file_needs_force() {
    let sb = Sandbox::new();
    let out = run(&sb, &["mark", "postnl", "versioning", "done"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let before = fs::read(sb.state_file()).unwrap();
    let out = run(&sb, &["--reset-state", "status"]);
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(err.contains("reads fine") && err.contains("--force"), "{err}");
    assert_human("reset refused", &err);
    assert_eq!(fs::read(sb.state_file()).unwrap(), before, "nothing moved");
    let out = run(&sb, &["--reset-state", "--force", "status"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("moved the old state aside"), "{}", text(&out.stderr));
    let moved: Vec<_> = fs::read_dir(sb.state_file().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("state.toml.broken-"))
        .collect();
    assert_eq!(moved.len(), 1);
    // An unreadable file is still moved aside without --force.
    fs::write(sb.state_file(), "not = [valid").unwrap();
    let out = run(&sb, &["--reset-state", "status"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// A state file without its owner's write bit is never replaced by a
/// command, as root too: a clear error, exit 4.
#[test]
fn a_read_only_state_file_is_never_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    assert_eq!(run(&sb, &["mark", "postnl", "versioning", "done"]).status.code(), Some(0));
    fs::set_permissions(sb.state_file(), fs::Permissions::from_mode(0o444)).unwrap();
    let before = fs::read(sb.state_file()).unwrap();
    let out = run(&sb, &["mark", "postnl", "versioning", "todo"]);
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(err.contains("read-only") && err.contains("0444") && err.contains("chmod u+w"), "{err}");
    assert!(!err.contains("--reset-state"), "a permission problem never suggests --reset-state: {err}");
    assert_eq!(fs::read(sb.state_file()).unwrap(), before);
}
