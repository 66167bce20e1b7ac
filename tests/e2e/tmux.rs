//! cutover inside a real tmux, with the TERM values people have over SSH.
//! `.ci/run` installs tmux where it is missing.

use crate::common;
use common::pty::{Sandbox, wait_until};
use std::process::Command;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(tag: &str) -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()),
            "tmux is needed (.ci/run installs it)"
        );
        Tmux { socket: format!("cutover-test-{tag}-{}", std::process::id()) }
    }

    fn run(&self, args: &[&str]) -> String {
        let out =
            Command::new("tmux").arg("-L").arg(&self.socket).arg("-f").arg("/dev/null").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    fn screen_with_escapes(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", "t"])
    }

    fn wait_for(&self, text: &str) {
        let mut last = String::new();
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(text, || {
                last = self.screen();
                last.contains(text)
            })
        }));
        assert!(found.is_ok(), "tmux never showed {text:?}; it shows:\n{last}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

fn start(sb: &Sandbox, tmux: &Tmux, term: &str, extra: &str) {
    let env: Vec<String> = sb
        .env()
        .into_iter()
        .filter(|(k, _)| k != "TERM")
        .map(|(k, v)| format!("{k}='{v}'"))
        .chain([format!("TERM={term}")])
        .collect();
    let cmd = format!("env {} {extra} '{}' open postnl", env.join(" "), env!("CARGO_BIN_EXE_cutover"));
    tmux.run(&["new-session", "-d", "-s", "t", "-x", "80", "-y", "24", &cmd]);
}

#[test]
fn works_in_tmux_with_common_terms() {
    for term in ["xterm-256color", "screen-256color", "linux"] {
        let sb = Sandbox::new();
        let tmux = Tmux::new(&term.replace('-', ""));
        start(&sb, &tmux, term, "");
        tmux.wait_for("0/10 steps done");
        tmux.wait_for("q quit");
        tmux.run(&["send-keys", "-t", "t", "Space"]);
        tmux.wait_for("1/10 steps done");
        tmux.run(&["send-keys", "-t", "t", "q"]);
        wait_until("cutover to exit", || !tmux.run(&["list-sessions"]).contains("t:"));
        let state = std::fs::read_to_string(sb.state_file()).unwrap();
        assert!(state.contains("status = \"done\""), "TERM={term}: {state}");
    }
}

#[test]
fn no_color_means_no_colour_escapes() {
    let sb = Sandbox::new();
    let tmux = Tmux::new("nocolor");
    start(&sb, &tmux, "xterm-256color", "NO_COLOR=1");
    tmux.wait_for("0/10 steps done");
    let screen = tmux.screen_with_escapes();
    // SGR colour parameters: 30-37, 40-47, 90-97, 100-107, 38;5 / 48;5.
    let coloured = screen.split("\u{1b}[").skip(1).any(|seq| {
        let params = seq.split('m').next().unwrap_or("");
        params.split(';').any(|p| matches!(p.parse::<u32>(), Ok(30..=37 | 40..=47 | 90..=97 | 100..=107 | 38 | 48)))
    });
    assert!(!coloured, "colour escapes with NO_COLOR:\n{screen:?}");
    tmux.run(&["send-keys", "-t", "t", "q"]);
}
