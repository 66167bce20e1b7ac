//! Any answer to any HTTP check of the built-in guides: the classifier
//! gives a verdict without panicking; a redirect, a 429, a 5xx or a status
//! outside HTTP's range is never a pass or a fail; what it keeps is bounded
//! and free of control characters.
#![no_main]

use cutover::check::classify::{Expect, Response, classify};
use cutover::guide::{Catalog, CheckKind, RequestSpec};
use cutover::progress::Verdict;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn requests() -> &'static Vec<RequestSpec> {
    static R: OnceLock<Vec<RequestSpec>> = OnceLock::new();
    R.get_or_init(|| {
        let mut out = Vec::new();
        for g in &Catalog::built_in().guides {
            for s in g.guide.all_items() {
                for c in &s.checks {
                    if c.kind() == CheckKind::Http {
                        out.push(c.request());
                    }
                    out.extend(c.probes.iter().map(|p| p.request()));
                }
            }
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let reqs = requests();
    let req = &reqs[data[0] as usize % reqs.len()];
    let status = u16::from_be_bytes([data[1], data[2]]) % 1000;
    let (headers, body) = match data[3] % 3 {
        0 => (vec![], &data[4..]),
        1 => (vec![("content-type".to_string(), "text/html".to_string())], &data[4..]),
        _ => {
            let (h, b) = data[4..].split_at(data[4..].len().min(16));
            (vec![("retry-after".to_string(), String::from_utf8_lossy(h).into_owned())], b)
        }
    };
    let fallbacks = vec!["en".to_string()];
    let expect =
        Expect { status: &req.expect_status, rules: &req.rules, keep: &req.keep, lang: "en", fallbacks: &fallbacks };
    let resp = Response { status, headers: &headers, body, received_at: jiff::Timestamp::UNIX_EPOCH };
    let c = classify(&resp, &expect);
    let decisive = matches!(status, 200..=299 | 400..=428 | 430..=499);
    if !decisive {
        assert!(!matches!(c.verdict, Verdict::Pass | Verdict::Fail), "{status}: {:?} {}", c.verdict, c.message);
    }
    if status != 429 {
        assert!(c.retry_after.is_none());
    }
    assert!(!c.message.chars().any(char::is_control), "{:?}", c.message);
    if let Some(x) = &c.excerpt {
        assert!(x.len() <= 2048 + 64, "excerpt of {} bytes", x.len());
        assert!(!x.chars().any(|ch| ch.is_control() && ch != '\n'), "{x:?}");
    }
});
