use super::*;
use crate::collect::stats::{CollectionError, CollectionStats};
use crate::finding::{AppliedSuppression, Evidence, FindingResource};
use crate::model::SourceRef;
use crate::report::Scope;
use serde_json::json;
use std::collections::BTreeMap;

fn cat() -> Catalogue {
    Catalogue::load().expect("catalogue parses")
}

const EVIL: &str = "</script><script>alert(1)</script><img src=x onerror=alert(2)>\"'&amp;";

thread_local! {
    static CATALOGUE: Catalogue = cat();
}

fn finding(control: &str, status: Status, severity: Severity, res: &str) -> Finding {
    let frameworks = CATALOGUE.with(|cat| cat.controls.get(control).map(|c| c.frameworks.clone()).unwrap_or_default());
    Finding {
        control_id: control.to_string(),
        kind: if control.starts_with("drift-") { Kind::Drift } else { Kind::Control },
        status,
        severity,
        title: format!("title of {control}"),
        resource: FindingResource {
            resource_type: "kms:key".into(),
            id: res.to_string(),
            arn: format!("arn:aws:kms:us-east-1:123456789012:key/{res}"),
            region: "us-east-1".into(),
            logical_id: Some(format!("{res}-logical")),
            name: None,
        },
        frameworks: frameworks.into(),
        message: format!("{control} says {}", status.as_str()),
        evidence: Evidence::new(json!(false), json!(true)),
        location: None,
        suppression: None,
        baseline_state: None,
    }
}

fn scope() -> Scope {
    Scope {
        stack: Some("dev".into()),
        stack_file: Some("stacks/dev.toml".into()),
        account: Some("123456789012".into()),
        regions: vec!["us-east-1".into()],
        endpoint: "https://kms.us-east-1.amazonaws.com".into(),
        frameworks: vec!["fedramp-moderate".into(), "ferpa".into(), "lgpd".into()],
        source: Source::Snapshot,
    }
}

fn report(findings: Vec<Finding>, errors: Vec<CollectionError>) -> Report {
    Report::new(&cat(), scope(), findings, errors, CollectionStats::default(), "2026-01-01T00:00:00Z".into(), "2026-01-01T00:00:05Z".into())
}

fn collection_error() -> CollectionError {
    CollectionError {
        account: None,
        service: "kms".into(),
        operation: "ListKeys".into(),
        region: "us-east-1".into(),
        resource: Some(EVIL.into()),
        code: "AccessDeniedException".into(),
        message: format!("not authorized {EVIL}"),
    }
}

fn sample() -> Vec<Finding> {
    let mut evil = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, "k1");
    evil.resource.logical_id = Some(EVIL.into());
    evil.resource.name = Some(EVIL.into());
    evil.resource.id = EVIL.into();
    evil.message = format!("message {EVIL}");
    evil.evidence = Evidence::new(json!({ "policy": EVIL }), json!(EVIL));
    evil.location = Some(SourceRef { path: "stacks/dev.toml".into(), line: 12 });
    let mut suppressed = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, "k2");
    suppressed.suppression = Some(Box::new(AppliedSuppression {
        reason: format!("accepted {EVIL}"),
        expires: Some("2099-01-01".into()),
        source: SourceRef { path: ".tapaudit-ignore.toml".into(), line: 3 },
    }));
    let mut drift = finding("drift-changed", Status::Fail, Severity::Medium, "k3");
    drift.evidence = Evidence::new(json!({"field": "rotation", "value": false}), json!({"field": "rotation", "value": true}));
    vec![
        evil,
        suppressed,
        finding("kms-key-policy-no-wildcard-principal", Status::Fail, Severity::Critical, "k4"),
        finding("kms-key-not-pending-deletion", Status::Error, Severity::High, "k5"),
        finding("kms-key-rotation-enabled", Status::Pass, Severity::Medium, "k6"),
        finding("kms-key-not-pending-deletion", Status::NotApplicable, Severity::High, "k7"),
        drift,
    ]
}

/// The attributes of every `<name ...>` start tag (the renderer writes double-quoted values;
/// report text is escaped, so a raw `<` only ever starts a tag).
fn tags(html: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        rest = after;
        if !after.starts_with([' ', '>', '\n']) {
            continue;
        }
        let end = after.find('>').expect("tag closes");
        found.push(attributes(&after[..end]));
    }
    found
}

fn attributes(mut s: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return m;
        }
        let name_end = s.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(s.len());
        let name = s[..name_end].to_string();
        s = &s[name_end..];
        if let Some(v) = s.strip_prefix("=\"") {
            let close = v.find('"').expect("attribute value closes");
            m.insert(name, v[..close].to_string());
            s = &v[close + 1..];
        } else if let Some(v) = s.strip_prefix('=') {
            // unquoted (the renderer never writes one: only broken escaping makes one)
            let end = v.find(char::is_whitespace).unwrap_or(v.len());
            m.insert(name, v[..end].to_string());
            s = &v[end..];
        } else {
            m.insert(name, String::new());
        }
    }
}

fn one<'a>(all: &'a [BTreeMap<String, String>], key: &str, value: &str) -> &'a BTreeMap<String, String> {
    let hits: Vec<_> = all.iter().filter(|t| t.get(key).map(String::as_str) == Some(value)).collect();
    assert_eq!(hits.len(), 1, "one element with {key}={value:?}");
    hits[0]
}

fn count(t: &BTreeMap<String, String>, key: &str) -> usize {
    t.get(key).unwrap_or_else(|| panic!("{key} in {t:?}")).parse().unwrap_or_else(|_| panic!("{key} is a number in {t:?}"))
}

#[test]
fn escape_covers_markup_and_quotes() {
    assert_eq!(escape("<a href=\"x\" b='y'>&</a>"), "&lt;a href=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    assert_eq!(escape("tab\tnew\nline\u{0}"), "tab\tnew\nline\u{FFFD}");
}

#[test]
fn hostile_report_text_is_escaped_everywhere() {
    let r = report(sample(), vec![collection_error()]);
    let html = render(&r, &cat());
    // the page's own script is the only one, and nothing of the hostile text became markup
    assert_eq!(html.matches("<script").count(), 1, "one script element");
    assert_eq!(html.matches("</script>").count(), 1, "one script end tag");
    assert_eq!(html.matches("<img").count(), 0);
    assert!(!html.contains(EVIL));
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;amp;"));
    // in attributes too (the row's filter text holds the resource id)
    let rows = tags(&html, "tr");
    assert!(rows.iter().any(|t| t.get("data-text").is_some_and(|v| v.contains("&lt;/script&gt;"))), "escaped in data-text");
    for t in &rows {
        assert!(!t.keys().any(|k| k.starts_with("on")), "no event handler attribute: {t:?}");
    }
    // evidence, message, suppression reason, collection error: all present in escaped form
    for needle in ["message &lt;/script&gt;", "accepted &lt;/script&gt;", "not authorized &lt;/script&gt;", "&quot;policy&quot;: &quot;&lt;/script&gt;"] {
        assert!(html.contains(needle), "{needle}");
    }
}

#[test]
fn the_page_references_nothing_outside_itself() {
    let r = report(sample(), vec![collection_error()]);
    let html = render(&r, &cat());
    for tag in ["link", "img", "iframe", "object", "embed", "base", "source", "video", "audio", "frame"] {
        assert!(tags(&html, tag).is_empty(), "no <{tag}>");
    }
    let all_tags: Vec<BTreeMap<String, String>> =
        ["a", "script", "style", "form", "meta", "div", "section", "tr", "td", "p", "input", "select", "option", "button"]
            .iter()
            .flat_map(|t| tags(&html, t))
            .collect();
    for t in &all_tags {
        assert!(!t.contains_key("src"), "no src attribute: {t:?}");
        assert!(!t.contains_key("action"), "no form action: {t:?}");
        if let Some(h) = t.get("href") {
            assert!(h.starts_with('#'), "only in-page links: {h}");
        }
        for (k, v) in t {
            assert!(k == "content" || !v.contains("://") && !v.starts_with("//"), "no URL in attribute {k}={v}");
        }
    }
    assert!(!html.contains("url("), "no CSS url()");
    assert!(!html.contains("@import"));
    // URLs appear only as escaped report text (the scope's endpoint, `file://` in a CLI hint)
    assert!(!CSS.contains("://") && !JS.contains("://") && !CSS.contains("//"), "none in the style or script");
    assert!(!JS.contains("fetch(") && !JS.contains("XMLHttpRequest") && !JS.contains("import("), "the script does not load anything");
    assert!(html.contains("<dd id=\"scope-endpoint\">https://kms.us-east-1.amazonaws.com</dd>"));

    // the CSP forbids the network and allows exactly the page's own style and script
    let meta = tags(&html, "meta");
    let csp = one(&meta, "http-equiv", "Content-Security-Policy").get("content").cloned().unwrap();
    assert!(csp.starts_with("default-src &#39;none&#39;;"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    let between = |open: &str, close: &str| {
        let start = html.find(open).unwrap() + open.len();
        let end = start + html[start..].find(close).unwrap();
        html[start..end].to_string()
    };
    assert!(csp.contains(&escape(&csp_hash(&between("<script>", "</script>")))), "script hash matches the script");
    assert!(csp.contains(&escape(&csp_hash(&between("<style>", "</style>")))), "style hash matches the style");
}

#[test]
fn base64_matches_known_vectors() {
    for (input, want) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
        assert_eq!(base64(input.as_bytes()), want);
    }
}

#[test]
fn incomplete_banner_only_for_partial_scans() {
    let html = render(&report(sample(), vec![collection_error()]), &cat());
    assert!(html.contains("id=\"incomplete-banner\""));
    let body = &tags(&html, "body")[0];
    assert_eq!(body["data-incomplete"], "1");
    assert_eq!(body["data-verdict"], "incomplete");
    let divs = tags(&html, "div");
    let banner = one(&divs, "id", "incomplete-banner");
    assert_eq!(count(banner, "data-errored"), 1);
    assert_eq!(count(banner, "data-collection-errors"), 1);

    // an errored finding alone makes it incomplete too
    let only_error = vec![finding("kms-key-not-pending-deletion", Status::Error, Severity::High, "k5")];
    let html = render(&report(only_error, vec![]), &cat());
    assert!(html.contains("id=\"incomplete-banner\""));
    assert_eq!(tags(&html, "body")[0]["data-verdict"], "incomplete");

    // clean: no banner, and the verdict says clean
    let clean = vec![finding("kms-key-rotation-enabled", Status::Pass, Severity::Medium, "k6")];
    let html = render(&report(clean, vec![]), &cat());
    assert!(!html.contains("incomplete-banner"));
    assert_eq!(tags(&html, "body")[0]["data-verdict"], "clean");

    // nothing checked is not clean
    let html = render(&report(vec![], vec![]), &cat());
    assert_eq!(tags(&html, "body")[0]["data-verdict"], "empty");
}

#[test]
fn counts_are_the_summary_counts() {
    let r = report(sample(), vec![collection_error()]);
    let html = render(&r, &cat());
    let divs = tags(&html, "div");
    let c = &r.summary.findings;
    for (id, want) in [
        ("count-total", c.total),
        ("count-pass", c.pass),
        ("count-fail", c.fail),
        ("count-error", c.error),
        ("count-not-applicable", c.not_applicable),
        ("count-collection-errors", 1),
        ("count-suppressed", 1),
    ] {
        assert_eq!(count(one(&divs, "id", id), "data-count"), want, "{id}");
    }
    let tds = tags(&html, "td");
    for (sev, n) in &r.summary.failing_by_severity {
        assert_eq!(count(one(&tds, "id", &format!("failing-{}", sev.as_str())), "data-count"), *n, "{sev:?}");
    }
    let articles = tags(&html, "article");
    assert_eq!(articles.len(), r.summary.frameworks.len());
    for fw in &r.summary.frameworks {
        let a = one(&articles, "data-framework", &fw.id);
        assert_eq!((count(a, "data-pass"), count(a, "data-fail"), count(a, "data-error")), (fw.counts.pass, fw.counts.fail, fw.counts.error), "{}", fw.id);
    }
    // per control: the group's counts and its rows are the report's failing / errored findings
    let sections = tags(&html, "section");
    let rows = tags(&html, "tr");
    let rows: Vec<_> = rows.iter().filter(|t| t.get("class").is_some_and(|c| c.starts_with("finding"))).collect();
    let mut want: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in &r.findings {
        match f.status {
            Status::Fail => want.entry(&f.control_id).or_default().0 += 1,
            Status::Error => want.entry(&f.control_id).or_default().1 += 1,
            _ => {}
        }
    }
    assert_eq!(rows.len(), want.values().map(|(f, e)| f + e).sum::<usize>());
    for (control, (fail, error)) in want {
        let g = one(&sections, "data-control", control);
        assert_eq!((count(g, "data-fail"), count(g, "data-error"), count(g, "data-omitted")), (fail, error, 0), "{control}");
        assert_eq!(rows.iter().filter(|t| t["data-control"] == control).count(), fail + error, "{control}");
    }
    // drift in its own section; severity order of groups: critical first
    let drift_at = html.find("id=\"drift\"").unwrap();
    assert!(html.find("id=\"control-drift-changed\"").unwrap() > drift_at);
    assert!(html.find("id=\"control-kms-key-policy-no-wildcard-principal\"").unwrap() < html.find("id=\"control-kms-key-not-pending-deletion\"").unwrap());
    // suppressed and baseline-free rows say so
    assert_eq!(rows.iter().filter(|t| t["data-suppressed"] == "1").count(), 1);
    assert!(html.contains("Suppressed: accepted"));
    // remediation of the control once per group
    let rotation = cat().controls["kms-key-rotation-enabled"].remediation.stack.clone();
    assert_eq!(html.matches(&escape(&one_line(&rotation))).count(), 1);
}

#[test]
fn baseline_states_and_absent_findings_are_shown() {
    let mut previous = report(sample(), vec![]);
    previous.findings.push(finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, "gone"));
    let mut now = report(sample(), vec![]);
    now.findings.push(finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, "fresh"));
    now.apply_baseline(&previous);
    let html = render(&now, &cat());
    let sec = one(&tags(&html, "section"), "id", "baseline").clone();
    assert_eq!((count(&sec, "data-new"), count(&sec, "data-absent")), (1, 1));
    assert!(html.contains("<tr class=\"absent\"><td><code>kms-key-rotation-enabled</code></td><td>gone-logical <code>kms:key</code>"));
    assert!(tags(&html, "tr").iter().any(|t| t.get("data-baseline").map(String::as_str) == Some("new")));
}

#[test]
fn sixty_thousand_findings_stay_a_usable_page() {
    let mut findings = Vec::new();
    let controls = ["kms-key-rotation-enabled", "kms-key-policy-no-wildcard-principal", "kms-key-not-pending-deletion"];
    for i in 0..60_000 {
        let status = match i % 4 {
            0 => Status::Pass,
            3 => Status::Error,
            _ => Status::Fail,
        };
        findings.push(finding(controls[i % 3], status, Severity::High, &format!("key-{i:05}")));
    }
    let r = report(findings, vec![]);
    let started = std::time::Instant::now();
    let html = render(&r, &cat());
    assert!(started.elapsed().as_secs() < 20, "rendering took {:?}", started.elapsed());
    assert!(html.len() < 5_000_000, "{} bytes", html.len());
    let rows = tags(&html, "tr").into_iter().filter(|t| t.get("class").is_some_and(|c| c.starts_with("finding"))).count();
    assert!(rows <= MAX_ROWS && rows <= controls.len() * MAX_ROWS_PER_CONTROL, "{rows} rows");
    let mut omitted = 0;
    for g in tags(&html, "section").iter().filter(|t| t.contains_key("data-control")) {
        assert!(count(g, "data-rendered") <= MAX_ROWS_PER_CONTROL);
        assert_eq!(count(g, "data-rendered") + count(g, "data-omitted"), count(g, "data-fail") + count(g, "data-error"));
        omitted += count(g, "data-omitted");
    }
    assert_eq!(rows + omitted, r.summary.findings.fail + r.summary.findings.error);
    assert!(html.contains("more findings of this control not shown here — see <code>tapaudit.json</code>"));
    assert_eq!(count(one(&tags(&html, "div"), "id", "count-total"), "data-count"), 60_000);
}
