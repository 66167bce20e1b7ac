//! Offline checks, pure: API versions in use against the current ones, and
//! contract numbers against the rules the Posti guide states.

use super::Outcome;
use crate::progress::Verdict;
use crate::sanitize::line;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// `current`: API -> current version (from the guide); `in_use`: API ->
/// version the integration uses (from the config).
pub fn versions(current: &BTreeMap<String, String>, in_use: &BTreeMap<String, String>) -> Outcome {
    if in_use.is_empty() {
        return Outcome {
            verdict: Some(Verdict::Error),
            message: "list the API versions your integration uses in config.toml [guides.postnl.versions]".to_string(),
            hint: Some("For example: shippingstatus = \"v2\", barcode = \"v1_1\". The names are the ones under 'Show APIs' in the portal.".to_string()),
            ..Outcome::default()
        };
    }
    let by_name: BTreeMap<String, (&str, &str)> =
        current.iter().map(|(api, v)| (api_key(api), (api.as_str(), v.as_str()))).collect();
    let known_names = || current.keys().map(|k| line(k)).collect::<Vec<_>>().join(", ");

    let mut details = Vec::new();
    let mut checked = 0usize;
    let mut outdated = 0usize;
    for (api, used) in in_use {
        let (api_shown, used_shown) = (line(api), line(used));
        let Some((_, cur)) = by_name.get(&api_key(api)) else {
            details.push(format!(
                "warning: {api_shown} {used_shown}: not an API this guide lists (it knows: {})",
                known_names()
            ));
            continue;
        };
        checked += 1;
        let cur_shown = line(cur);
        match compare_versions(used, cur) {
            Some(Ordering::Equal) => details.push(format!("{api_shown} {used_shown}  (current)")),
            Some(Ordering::Less) => {
                outdated += 1;
                details.push(format!("{api_shown} {used_shown} *  (current: {cur_shown})"));
            }
            Some(Ordering::Greater) => details.push(format!(
                "{api_shown} {used_shown}  (newer than the guide's {cur_shown}; the guide may be out of date)"
            )),
            None => {
                outdated += 1;
                details.push(format!(
                    "{api_shown} {used_shown} *  (current: {cur_shown}; cannot compare the two, treated as not current)"
                ));
            }
        }
    }

    if checked == 0 {
        return Outcome {
            verdict: Some(Verdict::Error),
            message: format!(
                "none of the APIs in config.toml [guides.postnl.versions] is one the guide lists (it knows: {})",
                known_names()
            ),
            details,
            ..Outcome::default()
        };
    }
    if outdated > 0 {
        let which = if outdated == 1 { "1 API is".to_string() } else { format!("{outdated} APIs are") };
        return Outcome {
            verdict: Some(Verdict::Fail),
            message: format!("{which} not on the current version (marked *); upgrading means programming changes: changed or new fields (step 7)"),
            hint: Some("Read the release notes under 'Versioning' on each API's documentation page before upgrading. Moving up is advised; it is required only for versions that no longer run.".to_string()),
            details,
            ..Outcome::default()
        };
    }
    let all = if checked == 1 { "the 1 API checked is".to_string() } else { format!("all {checked} APIs checked are") };
    Outcome {
        verdict: Some(Verdict::Pass),
        message: format!("{all} on the current version"),
        details,
        ..Outcome::default()
    }
}

/// Logistics service contracts and transport ids from the config.
pub fn contracts(logistics: &[String], transport: &[String]) -> Outcome {
    let logistics: Vec<String> = logistics.iter().map(|s| line(s.trim())).filter(|s| !s.is_empty()).collect();
    let transport: Vec<String> = transport.iter().map(|s| line(s.trim())).filter(|s| !s.is_empty()).collect();
    if logistics.is_empty() && transport.is_empty() {
        return Outcome {
            verdict: Some(Verdict::Error),
            message: "no contract numbers configured: set logistics_contracts (and transport_ids, for freight) under [guides.posti] in config.toml".to_string(),
            hint: Some("Copy them from OmaPosti Pro: Users > the main user > User Details > Customer numbers.".to_string()),
            ..Outcome::default()
        };
    }

    let mut details = Vec::new();
    for n in &logistics {
        details.push(format!("logistics service contract {n}"));
    }
    for n in &transport {
        details.push(format!("transport id {n}"));
    }
    for n in logistics.iter().chain(&transport) {
        if !(n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit())) {
            details.push(format!(
                "warning: {n} is not 6 digits; Posti's GLUE Shipments API documentation (another Posti API) describes contract numbers as 6 digits, so this only warns"
            ));
        }
    }

    if logistics.is_empty() {
        return Outcome {
            verdict: Some(Verdict::Fail),
            message: "no logistics service contract configured: Manage integrations requires at least one logistics service contract; a transport id alone is not enough".to_string(),
            hint: Some("In OmaPosti Pro: Users > the main user > Edit > Next, then select a logistics service contract and Make changes. Then list it under [guides.posti] logistics_contracts.".to_string()),
            details,
            ..Outcome::default()
        };
    }
    let count = |n: usize, one: &str, many: &str| {
        if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
    };
    let mut message =
        format!("config lists {}", count(logistics.len(), "logistics service contract", "logistics service contracts"));
    if !transport.is_empty() {
        message.push_str(&format!(" and {}", count(transport.len(), "transport id", "transport ids")));
    }
    message.push_str("; confirm in OmaPosti Pro that they are linked to the user who creates the key");
    Outcome { verdict: Some(Verdict::Pass), message, details, ..Outcome::default() }
}

/// "Shipping Status" and "shippingstatus" name the same API.
fn api_key(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// "v2_1", "2.1", "V2-1" -> [2, 1]; None if it is not such a version.
fn version_parts(v: &str) -> Option<Vec<u64>> {
    let v = v.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    if v.is_empty() {
        return None;
    }
    v.split(['_', '.', '-']).map(|p| p.parse::<u64>().ok()).collect()
}

fn compare_versions(used: &str, current: &str) -> Option<Ordering> {
    match (version_parts(used), version_parts(current)) {
        (Some(mut a), Some(mut b)) => {
            // v2 and v2_0 are the same version.
            let n = a.len().max(b.len());
            a.resize(n, 0);
            b.resize(n, 0);
            Some(a.cmp(&b))
        }
        _ if used.trim().eq_ignore_ascii_case(current.trim()) => Some(Ordering::Equal),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn current() -> BTreeMap<String, String> {
        map(&[("shippingstatus", "v2"), ("barcode", "v1_1"), ("locations", "v2_1")])
    }

    #[test]
    fn versions_all_current_pass() {
        let out = versions(&current(), &map(&[("shippingstatus", "v2"), ("barcode", "1.1")]));
        assert_eq!(out.verdict, Some(Verdict::Pass));
        assert_eq!(out.message, "all 2 APIs checked are on the current version");
        assert_eq!(out.details, vec!["barcode 1.1  (current)", "shippingstatus v2  (current)"]);
    }

    #[test]
    fn versions_outdated_fail_with_asterisk() {
        let out = versions(&current(), &map(&[("shippingstatus", "v1_6"), ("locations", "v2_1"), ("Barcode", "v1_0")]));
        assert_eq!(out.verdict, Some(Verdict::Fail));
        assert!(out.message.starts_with("2 APIs are not on the current version"), "{}", out.message);
        assert!(out.message.contains("programming changes"), "{}", out.message);
        assert!(out.details.contains(&"shippingstatus v1_6 *  (current: v2)".to_string()), "{:?}", out.details);
        assert!(out.details.contains(&"Barcode v1_0 *  (current: v1_1)".to_string()), "{:?}", out.details);
        assert!(out.details.contains(&"locations v2_1  (current)".to_string()), "{:?}", out.details);
    }

    #[test]
    fn versions_unknown_api_warns_only() {
        let out = versions(&current(), &map(&[("shippingstatus", "v2"), ("teleport", "v9")]));
        assert_eq!(out.verdict, Some(Verdict::Pass));
        assert!(
            out.details.iter().any(|d| d.starts_with("warning: teleport v9: not an API this guide lists")),
            "{:?}",
            out.details
        );
    }

    #[test]
    fn versions_only_unknown_apis_is_an_error() {
        let out = versions(&current(), &map(&[("teleport", "v9")]));
        assert_eq!(out.verdict, Some(Verdict::Error));
        assert!(out.message.contains("shippingstatus"), "{}", out.message);
    }

    #[test]
    fn versions_empty_in_use_is_an_error() {
        let out = versions(&current(), &BTreeMap::new());
        assert_eq!(out.verdict, Some(Verdict::Error));
        assert_eq!(out.message, "list the API versions your integration uses in config.toml [guides.postnl.versions]");
    }

    #[test]
    fn versions_newer_than_guide_is_not_outdated() {
        let out = versions(&current(), &map(&[("shippingstatus", "v4")]));
        assert_eq!(out.verdict, Some(Verdict::Pass));
        assert!(out.details[0].contains("newer than the guide's v2"), "{:?}", out.details);
    }

    #[test]
    fn versions_uncomparable_is_flagged() {
        let out = versions(&current(), &map(&[("shippingstatus", "latest")]));
        assert_eq!(out.verdict, Some(Verdict::Fail));
        assert!(out.details[0].starts_with("shippingstatus latest *"), "{:?}", out.details);
    }

    #[test]
    fn versions_sanitize_config_text() {
        let out = versions(&current(), &map(&[("shippingstatus", "v1\u{1b}[31m")]));
        assert!(out.details.iter().all(|d| !d.contains('\u{1b}')), "{:?}", out.details);
    }

    #[test]
    fn version_parsing() {
        assert_eq!(version_parts("v2_1"), Some(vec![2, 1]));
        assert_eq!(version_parts("2.1"), Some(vec![2, 1]));
        assert_eq!(version_parts("V1"), Some(vec![1]));
        assert_eq!(version_parts("latest"), None);
        assert_eq!(compare_versions("v2", "v2_0"), Some(Ordering::Equal));
        assert_eq!(compare_versions("v1_10", "v1_9"), Some(Ordering::Greater));
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn contracts_none_is_an_error_naming_the_keys() {
        let out = contracts(&[], &strs(&["  "]));
        assert_eq!(out.verdict, Some(Verdict::Error));
        assert!(
            out.message.contains("logistics_contracts") && out.message.contains("transport_ids"),
            "{}",
            out.message
        );
    }

    #[test]
    fn contracts_transport_only_fails() {
        let out = contracts(&[], &strs(&["876543"]));
        assert_eq!(out.verdict, Some(Verdict::Fail));
        assert!(
            out.message.contains("Manage integrations requires at least one logistics service contract"),
            "{}",
            out.message
        );
        assert_eq!(out.details, vec!["transport id 876543"]);
    }

    #[test]
    fn contracts_with_logistics_pass() {
        let out = contracts(&strs(&["654321"]), &strs(&["876543"]));
        assert_eq!(out.verdict, Some(Verdict::Pass));
        assert!(
            out.message.starts_with("config lists 1 logistics service contract and 1 transport id"),
            "{}",
            out.message
        );
        assert_eq!(out.details, vec!["logistics service contract 654321", "transport id 876543"]);
    }

    #[test]
    fn contracts_odd_numbers_only_warn() {
        let out = contracts(&strs(&["12345", "654321"]), &[]);
        assert_eq!(out.verdict, Some(Verdict::Pass));
        let warnings: Vec<_> = out.details.iter().filter(|d| d.starts_with("warning:")).collect();
        assert_eq!(warnings.len(), 1, "{:?}", out.details);
        assert!(warnings[0].contains("12345") && warnings[0].contains("another Posti API"), "{}", warnings[0]);
    }
}
