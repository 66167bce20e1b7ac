//! Gathering the report's facts from the guide, the progress and the
//! attachments.

use super::validation::*;
use super::*;
use crate::guide::{CheckSpec, Guide, Step, Text};
use crate::progress::{CheckRecord, Status, StepRecord, Verdict};
use crate::sanitize;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

// ------------------------------------------------------------------ build

/// Gathers the report's facts.
pub fn build(input: &ReportInput) -> Report {
    let g = input.guide;
    let gid = g.id();
    let lang = input.lang;
    let txt = |t: &Text| sanitize::line(t.get(lang, &g.languages));
    let records: BTreeMap<String, StepRecord> =
        input.progress.guides.get(gid).map(|gp| gp.steps.clone()).unwrap_or_default();
    let empty = StepRecord::default();
    let groups = group_defs(g, lang);
    let with_envs = !g.environments.is_empty();

    let mut summary = Summary::default();
    for s in &g.steps {
        summary.total += 1;
        match records.get(s.id()).map(|r| r.status).unwrap_or_default() {
            Status::Done => summary.done += 1,
            Status::InProgress => summary.in_progress += 1,
            Status::Blocked => summary.blocked += 1,
            Status::Skipped => summary.skipped += 1,
            Status::Todo => summary.todo += 1,
        }
    }

    let blockers = g
        .all_items()
        .filter_map(|s| {
            let r = records.get(s.id())?;
            (r.status == Status::Blocked).then(|| Blocker {
                step: sanitize::line(s.id()),
                number: s.number,
                title: txt(&s.title),
                by: r.by.as_deref().map(sanitize::line),
                at: r.at,
                note: sanitize::line(r.note.trim()),
            })
        })
        .collect();

    // Which steps to show: every numbered step, troubleshooting items that
    // were touched, and ids the guide no longer has.
    let mut shown: Vec<(Option<&Step>, String, StepKind)> = Vec::new();
    for s in &g.steps {
        shown.push((Some(s), s.id().to_string(), StepKind::Step));
    }
    let has_attachment = |id: &str| input.evidence.iter().any(|a| a.step == id);
    for s in &g.troubleshooting {
        let r = records.get(s.id());
        if r.is_some_and(|r| r.status != Status::Todo || !r.checks.is_empty()) || has_attachment(s.id()) {
            shown.push((Some(s), s.id().to_string(), StepKind::Troubleshooting));
        }
    }
    let mut removed: BTreeSet<String> =
        records.iter().filter(|(id, r)| g.item(id).is_none() && !r.is_default()).map(|(id, _)| id.clone()).collect();
    removed.extend(input.evidence.iter().filter(|a| g.item(&a.step).is_none()).map(|a| a.step.clone()));
    for id in removed {
        shown.push((None, id, StepKind::Removed));
    }

    let mut steps = Vec::new();
    for (step, id, kind) in shown {
        let r = records.get(&id).unwrap_or(&empty);
        let drift = r.status != Status::Todo
            && matches!((&r.hash, input.hashes.get(&id)), (Some(saved), Some(now)) if saved != now);
        let checks =
            latest_checks(r, step).into_iter().map(|(rec, spec)| check_report(rec, spec, g, lang, input.now)).collect();
        let evidence = input
            .evidence
            .iter()
            .filter(|a| a.step == id)
            .map(|a| {
                let content = sanitize::multiline(&a.content);
                let group = attachment_group(&groups, &a.name, &content);
                let in_validation_set = with_envs && (group.is_some() || looks_like_call(&content));
                EvidenceReport {
                    name: sanitize::line(&a.name),
                    at: a.added_at,
                    by: sanitize::line(&a.added_by),
                    truncated: a.truncated,
                    bytes: content.len(),
                    in_validation_set,
                    group,
                    content,
                }
            })
            .collect();
        steps.push(StepReport {
            step: sanitize::line(&id),
            number: step.and_then(|s| s.number),
            title: step.map(|s| txt(&s.title)).unwrap_or_else(|| sanitize::line(&id)),
            kind,
            status: r.status,
            by: r.by.as_deref().map(sanitize::line),
            at: r.at,
            drift,
            historical: step.is_some_and(|s| s.historical),
            note: sanitize::multiline(r.note.trim_end()),
            checks,
            evidence,
        });
    }

    let validation_set = with_envs.then(|| validation_set(g, &groups, &steps));

    Report {
        schema: REPORT_SCHEMA,
        guide: sanitize::line(gid),
        title: txt(&g.title),
        version: sanitize::line(&g.version),
        carrier: g.carrier.as_deref().map(sanitize::line),
        lang: sanitize::line(lang),
        generated_at: input.now,
        generated_by: sanitize::line(input.generated_by),
        state_path: sanitize::line(input.state_path),
        summary,
        notices: g
            .notices
            .iter()
            .filter(|n| n.kind == crate::guide::NoticeKind::Status)
            .map(|n| sanitize::multiline(n.text.get(lang, &g.languages).trim()))
            .filter(|t| !t.is_empty())
            .collect(),
        blockers,
        validation_set,
        steps,
    }
}

/// The latest record of each (check, env), in the order of the step's
/// checks, each with the check it came from if the guide still has it.
fn latest_checks<'a>(
    r: &'a StepRecord,
    step: Option<&'a Step>,
) -> Vec<(&'a CheckRecord, Option<(usize, &'a CheckSpec)>)> {
    let mut latest: BTreeMap<(&str, Option<&str>), &CheckRecord> = BTreeMap::new();
    for rec in &r.checks {
        let key = (rec.check.as_str(), rec.env.as_deref());
        match latest.get(&key) {
            Some(prev) if prev.at > rec.at => {}
            _ => {
                latest.insert(key, rec);
            }
        }
    }
    let mut out: Vec<_> = latest.into_values().map(|rec| (rec, step.and_then(|s| spec_for(s, &rec.check)))).collect();
    out.sort_by(|(a, sa), (b, sb)| {
        let ia = sa.map(|(i, _)| i).unwrap_or(usize::MAX);
        let ib = sb.map(|(i, _)| i).unwrap_or(usize::MAX);
        (ia, &a.env, &a.check).cmp(&(ib, &b.env, &b.check))
    });
    out
}

fn check_report(
    rec: &CheckRecord,
    spec: Option<(usize, &CheckSpec)>,
    g: &Guide,
    lang: &str,
    now: Timestamp,
) -> CheckReport {
    let spec = spec.map(|(_, s)| s);
    let text =
        |t: Option<&Text>| t.map(|t| sanitize::multiline(t.get(lang, &g.languages).trim())).filter(|s| !s.is_empty());
    let opt = |s: Option<&String>| s.map(|s| sanitize::multiline(s.trim())).filter(|s| !s.is_empty());
    let proves = spec
        .and_then(|s| text(s.proves.as_ref()))
        .or_else(|| opt(rec.proved.as_ref()))
        .or_else(|| opt(rec.would_prove.as_ref()));
    let passed = rec.verdict == Verdict::Pass;
    let (proved, would_prove) = if passed { (proves, None) } else { (None, proves) };
    let does_not_prove = spec.and_then(|s| text(s.does_not_prove.as_ref())).or_else(|| opt(rec.not_proved.as_ref()));
    let fresh_for = spec.and_then(|s| s.fresh_for.clone());
    let stale = fresh_for
        .as_deref()
        .and_then(crate::guide::parse_duration)
        .and_then(|secs| i64::try_from(secs).ok())
        .is_some_and(|secs| now.as_second().saturating_sub(rec.at.as_second()) > secs);
    CheckReport {
        check: sanitize::line(&rec.check),
        kind: spec.map(|s| s.kind()),
        env: rec.env.as_deref().map(sanitize::line),
        verdict: rec.verdict,
        message: sanitize::line(&rec.message),
        hint: rec.hint.as_deref().map(sanitize::line).filter(|s| !s.trim().is_empty()),
        at: rec.at,
        by: sanitize::line(&rec.by),
        duration_ms: rec.duration_ms,
        request: rec.request.as_deref().map(sanitize::line),
        http_status: rec.http_status,
        excerpt: rec.excerpt.as_deref().map(|e| sanitize::multiline(e.trim_end())).filter(|s| !s.trim().is_empty()),
        details: rec.details.iter().map(|d| sanitize::line(d)).collect(),
        proved,
        would_prove,
        does_not_prove,
        trace_id: rec.trace_id.as_deref().map(sanitize::line),
        stale,
        fresh_for: fresh_for.as_deref().map(sanitize::line),
    }
}
