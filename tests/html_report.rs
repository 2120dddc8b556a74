//! The HTML report in a real browser: `scan --from-snapshot … --format json,html` on a snapshot
//! with failing, errored and drift findings (and hostile resource names), then headless
//! Chromium (Debian's package, installed by scripts/chromium.sh when missing) renders
//! tapaudit.html; the rendered DOM must carry the JSON report's numbers, the URL-fragment
//! filters must show exactly the matching rows, and the page's script must run without errors.
//! No AWS and no emulator: the snapshot is built from the compliant State fixtures.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Hostile text in a resource's logical id, an error reason and a collection error: it must
/// come out as text, never as markup.
const EVIL: &str = "</script><script>document.title='pwned'</script><b id=\"injected\">x</b>";

fn fill_failures(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("items") && !m.contains_key("failures") {
                m.insert("failures".into(), Value::Array(vec![]));
            }
            m.values_mut().for_each(fill_failures);
        }
        Value::Array(a) => a.iter_mut().for_each(fill_failures),
        _ => {}
    }
}

/// The compliant State of fixtures/state (as the control tests build it), as JSON.
fn compliant_state() -> Value {
    let Value::Object(mut sections) = serde_json::to_value(tapaudit::model::State::default()).unwrap() else { panic!("State is an object") };
    for file in ["compliant-platform.json", "compliant-apps.json", "compliant-identity.json", "compliant-audit.json", "compliant-storage.json"] {
        let text = std::fs::read_to_string(support::root().join("fixtures/state").join(file)).unwrap();
        let Value::Object(m) = serde_json::from_str::<Value>(&text).unwrap() else { panic!("{file}") };
        for (k, mut v) in m {
            fill_failures(&mut v);
            let Some(Value::Object(skeleton)) = sections.get_mut(&k) else { panic!("{file}: {k}") };
            let Value::Object(given) = v else { panic!("{file}: {k}") };
            skeleton.extend(given);
        }
    }
    Value::Object(sections)
}

fn first_item<'a>(state: &'a mut Value, section: &str, collection: &str) -> &'a mut Value {
    state[section][collection]["items"].as_object_mut().unwrap_or_else(|| panic!("{section}.{collection}")).values_mut().next().unwrap()
}

/// A snapshot of the dev stack with things broken behind the stack file's back.
fn write_snapshot(path: &Path) {
    let mut state = compliant_state();
    let key = first_item(&mut state, "kms", "keys");
    key["rotation_enabled"] = json!({"known": false});
    key["policy"]["known"]["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"
    }));
    key["meta"]["tags"]["known"]["tapaudit:logical-id"] = json!(EVIL);
    let stream = first_item(&mut state, "kinesis", "streams");
    stream["encryption_type"] = json!({"unknown": format!("AccessDeniedException: not allowed {EVIL}")});
    for lg in state["logs"]["log_groups"]["items"].as_object_mut().unwrap().values_mut() {
        lg["retention_days"] = json!(1);
    }
    let snap = json!({
        "snapshot_version": tapaudit::model::SNAPSHOT_VERSION,
        "tool": "tapaudit",
        "tool_version": "test",
        "collected_at": "2026-12-01T00:00:00Z",
        "account": support::ACCOUNT,
        "regions": ["us-east-1"],
        "stack": "dev",
        "services": tapaudit::model::SERVICES,
        "errors": [{
            "service": "secretsmanager", "operation": "ListSecrets", "region": "us-east-1",
            "resource": null, "code": "ThrottlingException", "message": format!("rate exceeded {EVIL}")
        }],
        "state": state,
    });
    std::fs::write(path, serde_json::to_string_pretty(&snap).unwrap()).unwrap();
}

/// The browser: scripts/chromium.sh installs Debian's chromium when it is missing. A browser
/// that cannot be had fails the test (it is never skipped).
fn chromium() -> PathBuf {
    let out = Command::new(support::root().join("scripts/chromium.sh")).stdin(Stdio::null()).output().expect("run scripts/chromium.sh");
    assert!(
        out.status.success(),
        "headless Chromium is required for this test and scripts/chromium.sh could not provide it (exit {:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(path.is_file(), "scripts/chromium.sh printed {path:?}, which is not a file");
    path
}

struct Rendered {
    dom: String,
    log: String,
}

/// Load `file#fragment` in headless Chromium, offline, and return the DOM after its scripts ran.
fn render(browser: &Path, file: &Path, fragment: &str) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}{fragment}", file.display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish rendering {url} within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = out_thread.join().unwrap();
    let log = err_thread.join().unwrap();
    assert!(status.success(), "chromium failed on {url} ({status}):\n{log}");
    assert!(dom.contains("</html>"), "chromium printed no DOM for {url}:\n{log}");
    Rendered { dom, log }
}

type Attrs = BTreeMap<String, String>;

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", "\u{a0}").replace("&#39;", "'").replace("&amp;", "&")
}

/// Start tags of element `name` in serialized HTML, attributes unescaped (quote-aware).
fn tags(html: &str, name: &str) -> Vec<Attrs> {
    let open = format!("<{name}");
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(&open) {
        let mut p = from + i + open.len();
        from = p;
        if !matches!(bytes.get(p), Some(b' ' | b'>' | b'\n' | b'\t' | b'/')) {
            continue;
        }
        let mut attrs = Attrs::new();
        loop {
            while p < bytes.len() && bytes[p].is_ascii_whitespace() {
                p += 1;
            }
            if p >= bytes.len() || bytes[p] == b'>' || bytes[p] == b'/' {
                break;
            }
            let start = p;
            while p < bytes.len() && !matches!(bytes[p], b'=' | b'>' | b' ' | b'\n' | b'\t' | b'/') {
                p += 1;
            }
            let key = html[start..p].to_ascii_lowercase();
            if bytes.get(p) == Some(&b'=') {
                p += 1;
                let quote = bytes[p];
                assert!(quote == b'"' || quote == b'\'', "quoted attribute value at {p}");
                let end = p + 1 + html[p + 1..].find(quote as char).expect("attribute value closes");
                attrs.insert(key, unescape(&html[p + 1..end]));
                p = end + 1;
            } else {
                attrs.insert(key, String::new());
            }
        }
        found.push(attrs);
        from = p;
    }
    found
}

fn with<'a>(all: &'a [Attrs], key: &str, value: &str) -> Vec<&'a Attrs> {
    all.iter().filter(|t| t.get(key).map(String::as_str) == Some(value)).collect()
}

fn the<'a>(all: &'a [Attrs], key: &str, value: &str) -> &'a Attrs {
    let hits = with(all, key, value);
    assert_eq!(hits.len(), 1, "exactly one element with {key}={value:?}, found {hits:?}");
    hits[0]
}

fn num(t: &Attrs, key: &str) -> usize {
    t.get(key).unwrap_or_else(|| panic!("no {key} in {t:?}")).parse().unwrap_or_else(|e| panic!("{key} in {t:?}: {e}"))
}

/// The page's markup before its (single, trailing) script.
fn markup(dom: &str) -> &str {
    &dom[..dom.rfind("<script").expect("the page has its script")]
}

fn rows(dom: &str) -> Vec<Attrs> {
    tags(markup(dom), "tr").into_iter().filter(|t| t.get("class").is_some_and(|c| c.split(' ').any(|c| c == "finding"))).collect()
}

fn visible(rows: &[Attrs]) -> Vec<&Attrs> {
    rows.iter().filter(|r| !r.contains_key("hidden")).collect()
}

/// The script ran to its end, and the browser logged no script error or CSP violation.
fn assert_script_ran(r: &Rendered, what: &str) {
    let body = &tags(&r.dom, "body")[0];
    assert_eq!(body.get("data-ready").map(String::as_str), Some("1"), "{what}: the page's script did not finish: {body:?}\n{}", r.log);
    assert!(!body.contains_key("data-js-error"), "{what}: script error {:?}", body.get("data-js-error"));
    for line in r.log.lines() {
        let l = line.to_ascii_lowercase();
        assert!(
            !(l.contains("console") && (l.contains("uncaught") || l.contains("error"))) && !l.contains("content security policy") && !l.contains("refused to"),
            "{what}: browser log: {line}"
        );
    }
}

fn problems(report: &Value) -> Vec<&Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "fail" || f["status"] == "error").collect()
}

#[test]
fn html_report_renders_the_json_numbers_and_filters_in_a_browser() {
    let browser = chromium();
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snapshot.json");
    write_snapshot(&snap);
    let out = tmp.path().join("out");
    let run = support::Emulator::offline_run(&[
        "scan",
        "--stack",
        "dev",
        "--from-snapshot",
        snap.to_str().unwrap(),
        "--format",
        "json,html",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "incomplete scan (a collection error, an unknown field): exit 2\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("tapaudit.json")).unwrap()).unwrap();
    let html_path = out.join("tapaudit.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    if let Some(keep) = std::env::var_os("TAPAUDIT_KEEP_HTML") {
        // to look at the page: TAPAUDIT_KEEP_HTML=/some/dir cargo test --test html_report
        std::fs::create_dir_all(&keep).unwrap();
        for f in ["tapaudit.html", "tapaudit.json"] {
            std::fs::copy(out.join(f), Path::new(&keep).join(f)).unwrap();
        }
        std::fs::copy(&snap, Path::new(&keep).join("snapshot.json")).unwrap();
    }
    assert!(!html.contains(EVIL), "hostile text is escaped in the file");

    // the fixture is what this test needs: failures of several severities, an error, drift
    let s = &report["summary"];
    let n = |v: &Value| v.as_u64().unwrap() as usize;
    let probs = problems(&report);
    assert!(n(&s["failing_by_severity"]["critical"]) > 0, "{s}");
    assert!(n(&s["findings"]["error"]) > 0 && n(&s["findings"]["fail"]) > 0 && n(&s["findings"]["pass"]) > 0, "{s}");
    assert!(probs.iter().any(|f| f["kind"] == "drift"), "drift findings");
    assert!(probs.len() < 200, "few enough to render every row ({})", probs.len());

    // 1. unfiltered: the rendered numbers are the JSON's
    let page = render(&browser, &html_path, "");
    assert_script_ran(&page, "unfiltered");
    let dom = &page.dom;
    let body = &tags(dom, "body")[0];
    assert_eq!(body["data-verdict"], "incomplete");
    assert!(!tags(markup(dom), "div").is_empty());
    let divs = tags(markup(dom), "div");
    the(&divs, "id", "incomplete-banner");
    for (id, key) in
        [("count-total", "total"), ("count-pass", "pass"), ("count-fail", "fail"), ("count-error", "error"), ("count-not-applicable", "not_applicable")]
    {
        assert_eq!(num(the(&divs, "id", id), "data-count"), n(&s["findings"][key]), "{id}");
    }
    assert_eq!(num(the(&divs, "id", "count-collection-errors"), "data-count"), report["errors"].as_array().unwrap().len());
    let tds = tags(markup(dom), "td");
    for (sev, count) in s["failing_by_severity"].as_object().unwrap() {
        assert_eq!(num(the(&tds, "id", &format!("failing-{sev}")), "data-count"), n(count), "failing {sev}");
    }
    let articles = tags(markup(dom), "article");
    let fws = s["frameworks"].as_array().unwrap();
    assert_eq!(articles.len(), fws.len());
    for fw in fws {
        let a = the(&articles, "data-framework", fw["id"].as_str().unwrap());
        for k in ["pass", "fail", "error"] {
            assert_eq!(num(a, &format!("data-{k}")), n(&fw[k]), "{} {k}", fw["id"]);
        }
    }
    let all_rows = rows(dom);
    assert_eq!(all_rows.len(), probs.len(), "one row per failing or errored finding");
    assert_eq!(visible(&all_rows).len(), all_rows.len(), "unfiltered: every row shown");
    let mut per_control: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in &probs {
        let e = per_control.entry(f["control_id"].as_str().unwrap()).or_default();
        if f["status"] == "fail" {
            e.0 += 1
        } else {
            e.1 += 1
        }
    }
    let sections = tags(markup(dom), "section");
    for (control, (fail, error)) in &per_control {
        let g = the(&sections, "data-control", control);
        assert_eq!((num(g, "data-fail"), num(g, "data-error"), num(g, "data-omitted")), (*fail, *error, 0), "{control}");
        let mine: Vec<&Attrs> = with(&all_rows, "data-control", control);
        assert_eq!(mine.iter().filter(|r| r["data-status"] == "fail").count(), *fail, "failing rows of {control}");
        assert_eq!(mine.iter().filter(|r| r["data-status"] == "error").count(), *error, "errored rows of {control}");
    }
    let paragraphs = tags(markup(dom), "p");
    assert_eq!(num(the(&paragraphs, "id", "filter-result"), "data-visible-rows"), probs.len());
    // hostile text stayed text: no injected element or script, the title untouched
    assert_eq!(tags(dom, "script").len(), 1, "only the page's own script");
    assert!(with(&tags(markup(dom), "b"), "id", "injected").is_empty(), "no injected element");
    assert!(!dom.contains("<title>pwned"), "no injected script ran");
    assert!(dom.contains("&lt;/script&gt;&lt;script&gt;document.title="), "the hostile text is shown as text");
    let labels: Vec<String> =
        markup(dom).split("<td class=\"resource\"><strong>").skip(1).map(|rest| unescape(&rest[..rest.find("</strong>").expect("label closes")])).collect();
    assert!(labels.iter().any(|l| l == EVIL), "the hostile logical id is one text node, verbatim: {labels:?}");

    // 2. a fragment filter: severity=critical shows exactly the critical rows
    let critical = probs.iter().filter(|f| f["severity"] == "critical").count();
    assert!(critical > 0 && critical < probs.len());
    let page = render(&browser, &html_path, "#severity=critical");
    assert_script_ran(&page, "#severity=critical");
    let r = rows(&page.dom);
    let shown = visible(&r);
    assert_eq!(shown.len(), critical, "critical rows shown");
    assert!(shown.iter().all(|r| r["data-severity"] == "critical"));
    assert_eq!(num(the(&tags(markup(&page.dom), "p"), "id", "filter-result"), "data-visible-rows"), critical);
    for g in tags(markup(&page.dom), "section").iter().filter(|g| g.contains_key("data-control")) {
        let has_critical = probs.iter().any(|f| f["control_id"] == g["data-control"].as_str() && f["severity"] == "critical");
        assert_eq!(!g.contains_key("hidden"), has_critical, "group {} shown only when it has critical rows", g["data-control"]);
    }

    // 3. status, framework and text together
    let page = render(&browser, &html_path, "#status=error&framework=fedramp-moderate");
    assert_script_ran(&page, "#status=error&framework=fedramp-moderate");
    let want = probs.iter().filter(|f| f["status"] == "error" && f["frameworks"].get("fedramp-moderate").is_some()).count();
    assert!(want > 0);
    let r = rows(&page.dom);
    let shown = visible(&r);
    assert_eq!(shown.len(), want);
    assert!(shown.iter().all(|r| r["data-status"] == "error" && r["data-frameworks"].split(' ').any(|f| f == "fedramp-moderate")));

    let page = render(&browser, &html_path, "#q=drift-");
    assert_script_ran(&page, "#q=drift-");
    let want = probs.iter().filter(|f| f["control_id"].as_str().unwrap().starts_with("drift-")).count();
    let r = rows(&page.dom);
    assert_eq!(visible(&r).len(), want, "text filter on control ids");
    assert!(visible(&r).iter().all(|r| r["data-kind"] == "drift"));

    // an unknown severity matches nothing (and says so), rather than everything
    let page = render(&browser, &html_path, "#severity=bogus");
    assert_script_ran(&page, "#severity=bogus");
    assert_eq!(visible(&rows(&page.dom)).len(), 0);
}
