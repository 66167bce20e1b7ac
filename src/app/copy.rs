//! What `y` copies: the step's links and contacts, and its HTTP checks as
//! curl commands with the key left to the shell as `"$API_KEY"`.

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
    let env = step.check_env(app.env_of(g.id()).unwrap_or("")).to_string();
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
        let req = c.request();
        let built = match &app.curl.0 {
            Some(f) => f(g, &env, &req),
            None => crate::check::curl::curl(&base, &req, &Default::default(), g.id()),
        };
        // A command that cannot be built is copied as a shell comment that
        // says why: pasted, it does nothing.
        let cmd = built.unwrap_or_else(|why| format!("# no curl command: {why}"));
        out.push(("check as curl".into(), crate::sanitize::line(&cmd)));
    }
    out
}
