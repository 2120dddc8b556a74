//! End to end: an organization scanned account by account through the built binary. The
//! emulator holds a management account and three members (Organizations CreateAccount); two
//! members and the management account have the audit role (trusting the management account,
//! with an external id), each member its own bad resources; the third member has no audit role,
//! so its role cannot be assumed: an `error` for that account, exit 2, never a silent gap.
//! Shards of the organization, merged, equal the single run.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use support::{Emulator, ACCOUNT};

const AUDIT_ROLE: &str = "TapauditAudit";
const EXTERNAL_ID: &str = "tapaudit-e2e-7f3a";

/// An SDK configuration acting in `account` as its OrganizationAccountAccessRole (the role
/// Organizations creates in the accounts it creates).
async fn as_member(emu: &Emulator, account: &str) -> aws_config::SdkConfig {
    let base = emu.sdk().await;
    let sts = aws_sdk_sts::Client::new(&base);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))
        .role_session_name("e2e-setup")
        .send()
        .await
        .expect("assume the organization's access role");
    let c = out.credentials().unwrap();
    let creds = aws_sdk_sts::config::Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()), None, "e2e");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(emu.url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .load()
        .await
}

/// The audit role in the account of `cfg`, trusting the management account with the external id.
async fn audit_role(cfg: &aws_config::SdkConfig) {
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
    }]});
    aws_sdk_iam::Client::new(cfg).create_role().role_name(AUDIT_ROLE).assume_role_policy_document(trust.to_string()).send().await.unwrap();
}

struct Org {
    a: String,
    b: String,
    c: String,
    key_a: String,
    group_b: String,
}

/// The organization: A has a key without rotation, B a log group without retention, C no
/// audit role.
async fn organization(emu: &Emulator) -> Org {
    let base = emu.sdk().await;
    let org = aws_sdk_organizations::Client::new(&base);
    org.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await.unwrap();
    let mut ids = Vec::new();
    for name in ["member-a", "member-b", "member-c"] {
        let out = org.create_account().account_name(name).email(format!("{name}@example.com")).send().await.unwrap();
        ids.push(out.create_account_status().unwrap().account_id().unwrap().to_string());
    }
    audit_role(&base).await;
    let a = as_member(emu, &ids[0]).await;
    audit_role(&a).await;
    let key_a = aws_sdk_kms::Client::new(&a).create_key().description("member A's key").send().await.unwrap().key_metadata().unwrap().key_id().to_string();
    let b = as_member(emu, &ids[1]).await;
    audit_role(&b).await;
    aws_sdk_cloudwatchlogs::Client::new(&b).create_log_group().log_group_name("/member-b/app").send().await.unwrap();
    Org { a: ids[0].clone(), b: ids[1].clone(), c: ids[2].clone(), key_a, group_b: "/member-b/app".into() }
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn scan(emu: &Emulator, dir: &Path, extra: &[&str]) -> support::Run {
    let mut args = vec!["scan", "--regions", "us-east-1", "--format", "table,json,sarif,oscal", "--output-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    emu.run(&args)
}

/// `control resource-id` of the failing findings.
fn failing(r: &Value) -> BTreeSet<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| format!("{} {}", f["control_id"].as_str().unwrap(), f["resource"]["arn"].as_str().unwrap()))
        .collect()
}

/// What must be equal between one run and a merge of shards: every verdict and error, the
/// summary and the accounts (times, call statistics and AWS's request ids differ between runs).
fn verdicts(r: &Value) -> Value {
    let v = json!({"findings": r["findings"], "errors": r["errors"], "summary": r["summary"], "accounts": r["accounts"], "scope": {
        "account": r["scope"]["account"], "regions": r["scope"]["regions"], "frameworks": r["scope"]["frameworks"], "stack": r["scope"]["stack"]}});
    without_request_ids(v)
}

fn without_request_ids(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(match s.find(" [request id ") {
            Some(i) => s[..i].to_string() + s[i..].split_once(']').map(|(_, rest)| rest).unwrap_or(""),
            None => s,
        }),
        Value::Array(a) => Value::Array(a.into_iter().map(without_request_ids).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, without_request_ids(v))).collect()),
        other => other,
    }
}

/// The first difference between two JSON values, by path (for a readable assertion).
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys().chain(y.keys()).find_map(|k| first_difference(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} != {b}")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_is_scanned_account_by_account_and_shards_merge_into_the_same_report() {
    let emu = Emulator::start();
    let org = organization(&emu).await;
    let tmp = tempfile::tempdir().unwrap();

    // ---- the whole organization in one run
    let all = tmp.path().join("all");
    let run = scan(&emu, &all, &["--organization", "--role-name", AUDIT_ROLE, "--external-id", EXTERNAL_ID]);
    assert_eq!(run.code, 2, "one account cannot be read: incomplete\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let merged = read(&all.join("tapaudit.json"));
    let accounts: Vec<(String, String)> = merged["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account"].as_str().unwrap().to_string(), a["outcome"].as_str().unwrap().to_string()))
        .collect();
    let mut expected: Vec<(String, String)> = vec![
        (ACCOUNT.to_string(), "complete".into()),
        (org.a.clone(), "complete".into()),
        (org.b.clone(), "complete".into()),
        (org.c.clone(), "failed".into()),
    ];
    expected.sort();
    assert_eq!(accounts, expected, "{:#}", merged["accounts"]);
    // the failed account: a collection error naming the role and AWS's refusal
    let c_role = format!("arn:aws:iam::{}:role/{AUDIT_ROLE}", org.c);
    let c_errors: Vec<&Value> = merged["errors"].as_array().unwrap().iter().filter(|e| e["account"] == org.c.as_str()).collect();
    assert_eq!(c_errors.len(), 1, "{:#}", merged["errors"]);
    assert_eq!(
        (c_errors[0]["service"].as_str(), c_errors[0]["operation"].as_str(), c_errors[0]["code"].as_str()),
        (Some("sts"), Some("AssumeRole"), Some("AccessDenied"))
    );
    assert_eq!(c_errors[0]["resource"], c_role.as_str());
    assert!(merged["summary"]["incomplete"] == true);
    let c_line = merged["accounts"].as_array().unwrap().iter().find(|a| a["account"] == org.c.as_str()).unwrap();
    assert!(c_line["reason"].as_str().unwrap().contains("AccessDenied"), "{c_line:#}");
    assert!(run.stdout.contains(&org.c) && run.stdout.contains("failed"), "the table names the failed account:\n{}", run.stdout);

    // one report per account, each with its own findings only
    let key_arn = format!("arn:aws:kms:us-east-1:{}:key/{}", org.a, org.key_a);
    let group_arn = format!("arn:aws:logs:us-east-1:{}:log-group:{}", org.b, org.group_b);
    let report_a = read(&all.join("accounts").join(&org.a).join("tapaudit.json"));
    let report_b = read(&all.join("accounts").join(&org.b).join("tapaudit.json"));
    assert_eq!(report_a["scope"]["account"], org.a.as_str());
    assert!(failing(&report_a).contains(&format!("kms-key-rotation-enabled {key_arn}")), "{:?}", failing(&report_a));
    assert!(failing(&report_b).iter().any(|f| f.starts_with("logs-log-group-retention ") && f.contains(&org.group_b)), "{:?}", failing(&report_b));
    assert!(!failing(&report_a).iter().any(|f| f.contains(&org.group_b)), "B's log group is not in A's report");
    assert!(!failing(&report_b).iter().any(|f| f.contains(&org.key_a)), "A's key is not in B's report");
    let mgmt = read(&all.join("accounts").join(ACCOUNT).join("tapaudit.json"));
    assert!(!failing(&mgmt).iter().any(|f| f.contains(&org.a) || f.contains(&org.b)), "the management account's report holds only its own resources");
    // the merged report holds both members' findings, and each account's report's
    assert!(failing(&merged).contains(&format!("kms-key-rotation-enabled {key_arn}")));
    assert!(failing(&merged).iter().any(|f| f.contains(&group_arn) || f.contains(&org.group_b)));
    let union: BTreeSet<String> = [&report_a, &report_b, &mgmt].iter().flat_map(|r| failing(r)).collect();
    assert_eq!(failing(&merged), union);
    let c_report = read(&all.join("accounts").join(&org.c).join("tapaudit.json"));
    assert_eq!(c_report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(c_report["errors"][0]["code"], "AccessDenied");
    for f in ["tapaudit.sarif", "tapaudit.oscal.json"] {
        assert!(all.join(f).exists() && all.join("accounts").join(&org.a).join(f).exists(), "{f}");
    }

    // ---- two shards, merged: the same verdicts as the single run
    let (s1, s2) = (tmp.path().join("shard1"), tmp.path().join("shard2"));
    let r1 = scan(&emu, &s1, &["--organization", "--role-name", AUDIT_ROLE, "--external-id", EXTERNAL_ID, "--shard", "1/2"]);
    let r2 = scan(&emu, &s2, &["--organization", "--role-name", AUDIT_ROLE, "--external-id", EXTERNAL_ID, "--shard", "2/2"]);
    let (j1, j2) = (read(&s1.join("tapaudit.json")), read(&s2.join("tapaudit.json")));
    let n1 = j1["accounts"].as_array().unwrap().len();
    let n2 = j2["accounts"].as_array().unwrap().len();
    assert_eq!((n1, n2), (2, 2), "4 accounts in 2 shards");
    assert_eq!(r1.code.max(r2.code), 2, "the shard with account C is incomplete");
    let m = tmp.path().join("merged");
    let mr = emu.run(&[
        "merge",
        s1.join("tapaudit.json").to_str().unwrap(),
        s2.join("tapaudit.json").to_str().unwrap(),
        "--format",
        "json,sarif,oscal",
        "--output-dir",
        m.to_str().unwrap(),
    ]);
    assert_eq!(mr.code, 2, "{}", mr.stderr);
    let mj = read(&m.join("tapaudit.json"));
    assert_eq!(first_difference(&verdicts(&mj), &verdicts(&merged), ""), None, "merge of shards = single run");
    // the merged SARIF and OSCAL are those of the merged report: same failing results
    let results = |p: &Path| read(p)["runs"][0]["results"].as_array().unwrap().len();
    assert_eq!(results(&m.join("tapaudit.sarif")), results(&all.join("tapaudit.sarif")));
    let oscal_findings = |p: &Path| read(p)["assessment-results"]["results"][0]["findings"].as_array().map(|a| a.len()).unwrap_or(0);
    assert_eq!(oscal_findings(&m.join("tapaudit.oscal.json")), oscal_findings(&all.join("tapaudit.oscal.json")));

    // an account merged twice is refused, naming the file
    let twice =
        emu.run(&["merge", s1.join("tapaudit.json").to_str().unwrap(), s1.join("tapaudit.json").to_str().unwrap(), "--output-dir", m.to_str().unwrap()]);
    assert_eq!(twice.code, 2);
    assert!(twice.stderr.contains("shard1/tapaudit.json") && twice.stderr.contains("merged once"), "{}", twice.stderr);
    assert_eq!(twice.stderr.trim().lines().count(), 1, "{}", twice.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_is_assumed_only_with_its_external_id_and_accounts_are_listed_by_id() {
    let emu = Emulator::start();
    let org = organization(&emu).await;
    let tmp = tempfile::tempdir().unwrap();

    // without the external id the trust policy refuses: A is an error, not an empty pass
    let dir = tmp.path().join("no-external-id");
    let run = scan(&emu, &dir, &["--accounts", &org.a, "--role-name", AUDIT_ROLE]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let r = read(&dir.join("tapaudit.json"));
    assert_eq!(r["accounts"][0]["outcome"], "failed");
    assert_eq!(r["errors"][0]["code"], "AccessDenied");
    assert_eq!(r["findings"].as_array().unwrap().len(), 0);

    // --accounts A,B with the external id: both read, exit 1 (their failures), no errors
    let dir = tmp.path().join("ab");
    let run = scan(&emu, &dir, &["--accounts", &format!("{},{}", org.b, org.a), "--role-name", AUDIT_ROLE, "--external-id", EXTERNAL_ID, "--fail-on", "low"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let r = read(&dir.join("tapaudit.json"));
    let listed: Vec<&str> = r["accounts"].as_array().unwrap().iter().map(|a| a["account"].as_str().unwrap()).collect();
    let mut want = vec![org.a.as_str(), org.b.as_str()];
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(r["errors"].as_array().unwrap().len(), 0, "{:#}", r["errors"]);

    // --role-arn: that one account
    let dir = tmp.path().join("one");
    let arn = format!("arn:aws:iam::{}:role/{AUDIT_ROLE}", org.b);
    let run = scan(&emu, &dir, &["--role-arn", &arn, "--external-id", EXTERNAL_ID]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert_eq!(read(&dir.join("tapaudit.json"))["scope"]["account"], org.b.as_str());

    // --regions all: the regions the account has enabled, each scanned
    let dir = tmp.path().join("all-regions");
    let run =
        emu.run(&["scan", "--regions", "all", "--format", "json", "--output-dir", dir.to_str().unwrap(), "--role-arn", &arn, "--external-id", EXTERNAL_ID]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let regions = read(&dir.join("tapaudit.json"))["scope"]["regions"].as_array().unwrap().len();
    assert!(regions > 10, "every enabled region: {regions}");

    // bad input: one line, exit 2, nothing scanned
    for (args, says) in [
        (vec!["--accounts", "12345", "--role-name", AUDIT_ROLE], "not a 12-digit AWS account id"),
        (vec!["--role-arn", "arn:aws:iam::123456789012:user/x"], "not an IAM role ARN"),
        (vec!["--organization", "--role-name", AUDIT_ROLE, "--shard", "5/4"], "--shard"),
        (vec!["--shard", "1/2"], "--shard needs --accounts"),
        (vec!["--external-id", "x"], "--external-id needs --accounts"),
    ] {
        let run = scan(&emu, &tmp.path().join("bad"), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"));
    }
}
