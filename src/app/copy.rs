//! What `y` copies: the step's links and contacts, and its HTTP checks as
//! curl commands with the key left as `$API_KEY`.

use super::run::step_env;
use super::state::App;
use crate::guide::CheckKind;

/// What `y` can copy from the selected step: links, contacts, and each
/// HTTP check as a curl command with the key masked.
pub(super) fn copyable(app: &App) -> Vec<(String, String)> {
    let (Some(g), Some(step)) = (app.guide(), app.selected_step()) else {
        return vec![];
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for l in &step.links {
        out.push(("link".into(), l.url.clone()));
    }
    for c in &step.contacts {
        out.push((format!("{:?}", c.kind).to_lowercase(), c.value.clone()));
    }
    let env = step_env(app, g, step);
    let base = app
        .overridden_urls
        .get(&(g.id().to_string(), env.clone()))
        .cloned()
        .or_else(|| g.environments.get(&env).map(|e| e.base_url.clone()))
        .unwrap_or_default();
    for c in &step.checks {
        if c.kind() != CheckKind::Http {
            continue;
        }
        let r = c.request();
        let mut cmd = format!("curl -sS -X {}", r.method.as_deref().unwrap_or("GET").to_ascii_uppercase());
        for (k, v) in &r.headers {
            let v = v.replace("{api_key}", "$API_KEY");
            cmd.push_str(&format!(" -H '{k}: {v}'"));
        }
        if let Some(b) = &r.body {
            cmd.push_str(&format!(" --data '{}'", b.replace('\'', "")));
        }
        let mut url = format!("{}{}", base.trim_end_matches('/'), r.path.as_deref().unwrap_or(""));
        if !r.query.is_empty() {
            let q: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        cmd.push_str(&format!(" '{url}'"));
        out.push(("check as curl".into(), crate::sanitize::line(&cmd)));
    }
    out
}
