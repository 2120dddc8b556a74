//! examples/github-actions.yml: it parses, has the jobs a team needs (a pre-deployment check on
//! pull requests, a live scan with an OIDC-assumed role, SARIF uploads with a category per stack
//! even when the scan fails, the OSCAL and HTML reports as artifacts, exit codes wired to the
//! job's result), and every `tapaudit ...` command in it is valid for this binary's CLI.

mod support;

use clap::Parser;
use serde_json::Value;
use std::process::Command;
use support::{root, Emulator};
use tapaudit::cli::Cli;

fn workflow() -> Value {
    let path = root().join("examples/github-actions.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
}

fn jobs(w: &Value) -> Vec<(&str, &Value)> {
    w["jobs"].as_object().expect("jobs").iter().map(|(k, v)| (k.as_str(), v)).collect()
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("steps")
}

fn stacks(job: &Value) -> Vec<String> {
    job["strategy"]["matrix"]["stack"].as_array().map(|a| a.iter().map(|s| s.as_str().expect("stack name").to_string()).collect()).unwrap_or_default()
}

fn uses<'a>(job: &'a Value, action: &str) -> Vec<&'a Value> {
    steps(job).iter().filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(&format!("{action}@")))).collect()
}

/// Shell words of one command line: quotes removed, no globbing or expansion (the variables
/// are substituted before).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in {line:?}");
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

/// Every `tapaudit ...` command of a job's `run:` blocks (continuation lines joined), with
/// `${{ matrix.stack }}` (or `${{ matrix.shard }}`) set to `stack` and the workflow's and step's env variables substituted.
fn commands(w: &Value, job: &Value, stack: &str) -> Vec<String> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for env in [&w["env"], &job["env"]] {
        if let Some(m) = env.as_object() {
            vars.extend(m.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))));
        }
    }
    let mut out = Vec::new();
    for step in steps(job) {
        let Some(run) = step["run"].as_str() else { continue };
        let joined = run.replace("\\\n", " ");
        for line in joined.lines() {
            let mut line = line.trim().replace("${{ matrix.stack }}", stack).replace("${{ matrix.shard }}", stack);
            for (k, v) in &vars {
                line = line.replace(&format!("${{{k}}}"), v).replace(&format!("${k}"), v).replace(&format!("${{{{ env.{k} }}}}"), v);
            }
            if line.starts_with("tapaudit ") {
                assert!(!line.contains("${{") && !line.contains('$'), "unsubstituted expression in {line:?}");
                out.push(line);
            }
        }
    }
    out
}

#[test]
fn the_workflow_parses_and_has_the_jobs_a_team_needs() {
    let w = workflow();
    let on = &w["on"];
    assert!(on.get("pull_request").is_some() && on.get("push").is_some() && on.get("schedule").is_some(), "triggers: {on}");
    assert_eq!(w["permissions"], serde_json::json!({"contents": "read"}), "least privilege by default");
    let jobs = jobs(&w);
    let desired: Vec<&(&str, &Value)> = jobs.iter().filter(|(_, j)| commands(&w, j, "dev").iter().any(|c| c.contains(" --desired"))).collect();
    let live: Vec<&(&str, &Value)> = jobs.iter().filter(|(_, j)| !uses(j, "aws-actions/configure-aws-credentials").is_empty()).collect();
    assert_eq!((desired.len(), live.len()), (1, 1), "one pre-deployment job and one live job");
    let (_, desired) = desired[0];
    let (_, live) = live[0];
    assert!(desired["if"].as_str().is_some_and(|c| c.contains("github.event_name == 'pull_request'")), "the desired check runs on pull requests");
    assert!(uses(desired, "aws-actions/configure-aws-credentials").is_empty(), "the pre-deployment check needs no AWS access");

    // the live scan: OIDC, read-only role, the permissions it needs and no more
    assert_eq!(live["permissions"], serde_json::json!({"id-token": "write", "security-events": "write", "contents": "read"}));
    let creds = uses(live, "aws-actions/configure-aws-credentials")[0];
    assert!(creds["with"]["role-to-assume"].as_str().is_some_and(|r| r.contains("vars.")), "{creds}");
    assert!(creds["with"]["aws-region"].is_string() && creds["with"].get("aws-access-key-id").is_none(), "no long-lived keys: {creds}");
    let scan = commands(&w, live, "dev").into_iter().find(|c| c.starts_with("tapaudit scan")).expect("a live scan");
    assert!(!scan.contains("--desired") && scan.contains("--format table,json,sarif,oscal,html") && scan.contains("--output-dir reports/dev"), "{scan}");

    for job in [desired, live] {
        assert!(!stacks(job).is_empty(), "a matrix over stacks");
        // SARIF upload with a category per stack, even when the scan exited 1
        let sarif = uses(job, "github/codeql-action/upload-sarif");
        assert_eq!(sarif.len(), 1);
        let s = sarif[0];
        assert!(s["with"]["category"].as_str().is_some_and(|c| c.contains("${{ matrix.stack }}")), "{s}");
        assert!(s["with"]["sarif_file"].as_str().is_some_and(|f| f.ends_with("/tapaudit.sarif")), "{s}");
        assert!(s["if"].as_str().is_some_and(|c| c.contains("always()")), "uploaded whatever the scan's exit code: {s}");
        // the scan step records its exit code instead of failing the job before the upload
        let scan_step = steps(job).iter().find(|s| s["run"].as_str().is_some_and(|r| r.contains("tapaudit scan"))).unwrap();
        let run = scan_step["run"].as_str().unwrap();
        assert!(scan_step["id"] == "scan" && run.starts_with("set +e") && run.contains("echo \"exit=$?\" >> \"$GITHUB_OUTPUT\""), "{run}");
        let pos = |pred: &dyn Fn(&Value) -> bool| steps(job).iter().position(pred).unwrap();
        let upload_at = pos(&|st| st["uses"].as_str().is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif")));
        let fail_at = pos(&|st| st["env"]["TAPAUDIT_EXIT"].is_string());
        assert!(upload_at < fail_at, "the job fails after the upload");
    }
    let artifact = uses(live, "actions/upload-artifact");
    assert_eq!(artifact.len(), 1);
    let paths = artifact[0]["with"]["path"].as_str().unwrap_or_default();
    for f in ["tapaudit.oscal.json", "tapaudit.html"] {
        assert!(paths.lines().any(|p| p.trim() == format!("reports/${{{{ matrix.stack }}}}/{f}")), "{f} is kept as an artifact: {paths}");
    }
    assert!(artifact[0]["if"].as_str().is_some_and(|c| c.contains("always()")));
}

/// The fail step, run by bash with each exit code the scan can have: 0 passes, 1 and 2 (an
/// incomplete scan) fail the job, and so does a scan step that never reported one.
#[test]
fn the_job_result_follows_the_scan_exit_code() {
    let w = workflow();
    for (name, job) in jobs(&w) {
        let step = steps(job).iter().find(|s| s["env"]["TAPAUDIT_EXIT"].is_string()).unwrap_or_else(|| panic!("{name}: no fail step"));
        assert_eq!(step["env"]["TAPAUDIT_EXIT"], "${{ steps.scan.outputs.exit }}");
        let script = step["run"].as_str().unwrap().replace("${{ matrix.stack }}", "dev");
        for (exit, want) in [(Some("0"), 0), (Some("1"), 1), (Some("2"), 2), (None, 2)] {
            let mut c = Command::new("bash");
            c.args(["-e", "-c", &script]).env("FAIL_ON", "high");
            match exit {
                Some(e) => c.env("TAPAUDIT_EXIT", e),
                None => c.env("TAPAUDIT_EXIT", ""),
            };
            let out = c.output().expect("bash");
            assert_eq!(out.status.code(), Some(want), "{name}: exit {exit:?}: {}", String::from_utf8_lossy(&out.stdout));
        }
    }
}

#[test]
fn every_tapaudit_command_of_the_workflow_is_valid_for_this_binary() {
    let w = workflow();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (name, job) in jobs(&w) {
        let stacks = stacks(job);
        assert!(!stacks.is_empty(), "{name}: no stack matrix");
        for stack in &stacks {
            let cmds = commands(&w, job, stack);
            assert!(!cmds.is_empty(), "{name}: no tapaudit command");
            for cmd in cmds {
                checked += 1;
                if let Err(e) = Cli::try_parse_from(words(&cmd)) {
                    problems.push(format!("{name} [{stack}]: {cmd}\n  {}", e.to_string().lines().next().unwrap_or_default()));
                }
            }
        }
    }
    assert!(checked >= 6, "{checked} commands");
    assert!(problems.is_empty(), "commands this tapaudit does not accept:\n{}", problems.join("\n"));
}

#[test]
fn every_stack_of_the_matrices_exists_and_validates() {
    let w = workflow();
    let mut all: Vec<String> = jobs(&w).iter().flat_map(|(_, j)| stacks(j)).collect();
    all.sort();
    all.dedup();
    assert!(!all.is_empty());
    for stack in all {
        assert!(root().join("stacks").join(format!("{stack}.toml")).is_file(), "stacks/{stack}.toml");
        let r = Emulator::offline_run(&["validate", "--stack", &stack]).ok(&format!("validate {stack}"));
        assert!(r.stdout.contains(&format!("ok: stack {stack}")), "{}", r.stdout);
        // the pre-deployment check of the workflow runs offline; 0 or 1, never a usage error
        let dir = tempfile::tempdir().unwrap();
        let r = Emulator::offline_run(&["scan", "--stack", &stack, "--desired", "--format", "table,json,sarif", "--output-dir", dir.path().to_str().unwrap()]);
        assert!(r.code == 0 || r.code == 1, "scan --desired {stack}: exit {}: {}", r.code, r.stderr);
        assert!(dir.path().join("tapaudit.sarif").is_file());
    }
}

#[test]
fn command_extraction_joins_continuations_and_substitutes() {
    let w: Value = serde_yaml::from_str(
        "env: {FAIL_ON: medium}\njobs:\n  j:\n    steps:\n      - run: |\n          set +e\n          tapaudit scan --stack ${{ matrix.stack }} \\\n            --fail-on \"$FAIL_ON\"\n",
    )
    .unwrap();
    let cmds = commands(&w, &w["jobs"]["j"], "qa");
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert_eq!(words(&cmds[0]), vec!["tapaudit", "scan", "--stack", "qa", "--fail-on", "medium"]);
    assert!(Cli::try_parse_from(["tapaudit", "scan", "--fail-on", "severe"]).is_err(), "the check does refuse bad values");
}

fn organization_workflow() -> Value {
    let path = root().join("examples/github-actions-organization.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
}

/// The organization workflow: one scan job per shard, 1..SHARDS exactly; the merge job waits for
/// all of them, runs even when some failed, merges every shard's JSON and uploads the SARIF; and
/// every tapaudit command is valid for this binary.
#[test]
fn the_organization_workflow_shards_every_account_once_and_merges_them() {
    let w = organization_workflow();
    let shards: usize = w["env"]["SHARDS"].as_str().expect("SHARDS").parse().unwrap();
    let matrix: Vec<u64> = w["jobs"]["scan"]["strategy"]["matrix"]["shard"].as_array().expect("shard matrix").iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(matrix, (1..=shards as u64).collect::<Vec<_>>(), "the matrix lists 1..SHARDS");
    let merge = &w["jobs"]["merge"];
    assert_eq!(merge["needs"], "scan");
    assert_eq!(merge["if"], "always()", "a failed shard must not hide the others' findings");
    assert_eq!(w["jobs"]["scan"]["permissions"]["id-token"], "write", "OIDC, no long-lived keys");
    assert_eq!(uses(merge, "github/codeql-action/upload-sarif").len(), 1);
    let mut checked = 0;
    for (job, shard) in [("scan", "2"), ("merge", "")] {
        for cmd in commands(&w, &w["jobs"][job], shard) {
            let parsed = Cli::try_parse_from(words(&cmd));
            assert!(parsed.is_ok(), "{job}: {cmd}\n  {}", parsed.unwrap_err());
            checked += 1;
            if job == "scan" && cmd.starts_with("tapaudit scan") {
                for flag in ["--organization", "--role-name", "--external-id", "--shard", "--regions all"] {
                    assert!(cmd.contains(flag), "{cmd}: {flag}");
                }
            }
            if job == "merge" && cmd.starts_with("tapaudit merge") {
                assert!(cmd.contains("tapaudit-shard-*/tapaudit.json"), "{cmd}");
            }
        }
    }
    assert_eq!(checked, 2, "one scan and one merge command");
}
