//! The hand-off report through the real binary: every format, with attached
//! evidence, holds no key and no escape sequence; the TUI writes it with R.

use crate::common;
use common::pty::{Pty, Sandbox};

const KEY: &str = "canary-report-key-4f1e22";

#[test]
fn report_in_every_format_holds_no_key_and_no_escapes() {
    let sb = Sandbox::new();
    let run = |args: &[&str]| sb.command(args).env("POSTNL_SANDBOX_API_KEY", KEY).output().unwrap();
    assert_eq!(
        run(&["mark", "postnl", "servicedesk-access", "done", "--note", "ticket 4711 <b>`x`</b> | pipe"]).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&["mark", "postnl", "versioning", "blocked", "--note", "waiting for \u{1b}[31mred\u{1b}[0m"]).status.code(),
        Some(0)
    );
    let file = sb.path().join("sandbox-call.txt");
    std::fs::write(
        &file,
        format!("GET /shipment/v2/status/barcode/3SDEVC000000000\napikey: {KEY}\n\u{1b}]0;pwned\u{7}\n200 OK\n"),
    )
    .unwrap();
    let added = run(&["evidence", "add", "postnl", "sandbox-integration", file.to_str().unwrap()]);
    assert_eq!(added.status.code(), Some(0), "{}", String::from_utf8_lossy(&added.stderr));
    for format in ["md", "json", "html"] {
        let out = run(&["report", "postnl", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains(KEY), "{format} report holds the key");
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{format} report holds control characters"
        );
        assert!(text.contains("sandbox-call.txt"), "{format} report lists the attachment");
        assert!(text.contains("4711"), "{format} report has the note");
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["guide"], "postnl");
        }
        if format == "html" {
            assert!(!text.to_lowercase().contains("<script"), "html has a script");
            assert!(!text.contains("<b>`x`</b>"), "html did not escape the note");
        }
    }
    // -o writes a file.
    let target = sb.path().join("r.md");
    let out = run(&["report", "postnl", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&target).unwrap().contains("postnl"));
}

#[test]
fn r_in_the_tui_writes_the_report_beside_the_state() {
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["open", "posti"], 110, 30, &[]);
    p.wait_for("0/8 steps done");
    p.send(b" R");
    p.wait_for("report written to");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
    let dir = sb.state_file().parent().unwrap().to_path_buf();
    let reports: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("posti-report-"))
        .collect();
    assert_eq!(reports.len(), 1);
    let text = std::fs::read_to_string(reports[0].path()).unwrap();
    assert!(text.contains("open-omaposti-pro") || text.contains("Open OmaPosti Pro"), "{text}");
}

/// The built-in PostNL guide's dated status notice and its historical steps
/// 1 to 4 are in the report, in every format.
#[test]
fn the_report_carries_the_status_notice_and_the_historical_marks() {
    let sb = Sandbox::new();
    let md = sb.command(&["report", "postnl", "--format", "md"]).output().unwrap();
    assert_eq!(md.status.code(), Some(0), "{}", String::from_utf8_lossy(&md.stderr));
    let md = String::from_utf8_lossy(&md.stdout).to_string();
    assert!(md.contains("> cutover's note, as of late 2026"), "{md}");
    for title in ["1. Account details (historical)", "4. Log in to API Manager (historical)"] {
        assert!(md.contains(title), "{title} in\n{md}");
    }
    assert!(!md.contains("5. Your API account (historical)"));
    let html = sb.command(&["report", "postnl", "--format", "html"]).output().unwrap();
    let html = String::from_utf8_lossy(&html.stdout).to_string();
    assert!(html.contains("<blockquote>") && html.contains("Account details (historical)"), "{html}");
    let json = sb.command(&["report", "postnl", "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(json["notices"][0].as_str().unwrap().contains("Self Service API Management"), "{json}");
    let steps = json["steps"].as_array().unwrap();
    let historical: Vec<&str> =
        steps.iter().filter(|s| s["historical"] == true).map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(historical, ["servicedesk-access", "account-verification", "create-password", "api-manager-login"]);
}
