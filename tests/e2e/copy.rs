//! Copy as curl works as pasted: the command `y` puts on the clipboard
//! (taken from the OSC 52 sequence the real binary writes), run in a shell
//! with `API_KEY` set, sends the key to the URL the check itself used.

use crate::common;
use common::pty::{Pty, Sandbox, wait_until};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One request as the loopback fake saw it: the request line and headers.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
}

/// A loopback HTTP server that answers every request with `{}` and keeps
/// what it was sent.
fn fake() -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let mut lines = head.split("\r\n");
            let line = lines.next().unwrap_or("").to_string();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            s2.lock().unwrap().push(Seen { line, headers });
            let body = "{}";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn copied_curl_sends_the_key_to_the_url_the_check_used() {
    let (port, seen) = fake();
    let key = "copy-test-key-4f2a9c71";
    let url = format!("http://127.0.0.1:{port}");
    let sb = Sandbox::new();
    let mut p = Pty::spawn(
        &sb,
        &["open", "postnl", "--lang", "en"],
        120,
        40,
        &[("CUTOVER_POSTNL_SANDBOX_URL", url.as_str()), ("POSTNL_SANDBOX_API_KEY", key)],
    );
    p.wait_for("0/10 steps done");
    p.send(b"jjjj");
    p.wait_for("Step 5");
    // The check itself, against the fake.
    p.send(b"c");
    wait_until("the check's request", || !seen.lock().unwrap().is_empty());
    let check = seen.lock().unwrap()[0].clone();
    assert_eq!(check.headers.iter().find(|(k, _)| k == "apikey").map(|(_, v)| v.as_str()), Some(key));
    wait_until("the check to finish", || !p.screen().contains("checking…"));

    // y until the curl command is on the clipboard.
    let mut cmd = None;
    for _ in 0..8 {
        p.raw.lock().unwrap().clear();
        p.send(b"y");
        wait_until("a copy", || p.screen().contains("copied"));
        std::thread::sleep(std::time::Duration::from_millis(100));
        let raw = String::from_utf8_lossy(&p.raw.lock().unwrap()).to_string();
        if let Some(start) = raw.rfind("\x1b]52;c;") {
            let rest = &raw[start + 7..];
            let end = rest.find('\x07').unwrap();
            let text = String::from_utf8(common::pty::base64_decode(&rest[..end])).unwrap();
            if text.starts_with("curl ") {
                cmd = Some(text);
                break;
            }
        }
    }
    let cmd = cmd.expect("y offers the check as curl");
    assert!(cmd.contains("\"$API_KEY\"") && !cmd.contains(key), "the key stays a shell variable: {cmd}");
    p.send(b"q");
    p.wait_exit();

    // Pasted into a shell with API_KEY set.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("API_KEY", key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{cmd}\n{}", String::from_utf8_lossy(&out.stderr));
    let all = seen.lock().unwrap().clone();
    let pasted = all.last().unwrap();
    assert_eq!(pasted.line.split(' ').nth(1), check.line.split(' ').nth(1), "same URL as the check: {all:?}");
    assert_eq!(pasted.line.split(' ').next(), check.line.split(' ').next(), "same method");
    assert_eq!(pasted.headers.iter().find(|(k, _)| k == "apikey").map(|(_, v)| v.as_str()), Some(key), "{cmd}");
}
