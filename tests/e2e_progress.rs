//! Progress on stderr against the emulator: plain lines naming each resource and service when
//! stderr is not a terminal, nothing with --quiet, the live display on a pseudo-terminal; stdout
//! the same in every mode.

mod support;

use std::process::Command;
use support::Emulator;

#[test]
fn provision_and_scan_report_progress_as_plain_lines_and_quiet_silences_them() {
    let emu = Emulator::start();
    let first = emu.run(&["provision", "--stack", "qa"]).ok("provision qa");
    // one line per resource, with its outcome and time, in the order they finish
    for id in ["vpc", "data-key", "db", "stream", "ingest-api-stage"] {
        let line = first
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("provision: {id} created (")))
            .unwrap_or_else(|| panic!("no line for {id}:\n{}", first.stderr));
        assert!(line.contains(" s)") && line.trim_end().ends_with("/37]"), "{line}");
    }
    assert!(first.stderr.contains("provision qa: 33 created"), "{}", first.stderr);
    assert!(!first.stderr.contains('\x1b'), "no escape sequences when stderr is not a terminal");

    // the same provision, quiet: nothing on stderr, the same outputs on stdout
    let quiet = emu.run(&["--quiet", "provision", "--stack", "qa"]).ok("provision --quiet");
    assert_eq!(quiet.stderr, "", "--quiet leaves stderr empty on success");
    assert_eq!(quiet.stdout, first.stdout, "stdout does not depend on the progress mode");

    let dir = tempfile::tempdir().unwrap();
    let out = |d: &str| dir.path().join(d).display().to_string();
    let scan = emu.run(&["scan", "--stack", "qa", "--output-dir", &out("a")]);
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    for service in ["ec2", "kms", "rds", "kinesis", "iam"] {
        let line = scan
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("scan: {service} done in us-east-1 (")))
            .unwrap_or_else(|| panic!("no line for {service}:\n{}", scan.stderr));
        let calls: u64 = line.split('(').nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line}"));
        assert!(calls > 0, "{line}");
    }
    assert!(scan.stderr.contains("reports written: "), "{}", scan.stderr);
    // the calls the lines count are those the report's statistics count
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("a/tapaudit.json")).unwrap()).unwrap();
    let kms: u64 = report["stats"]["api_calls"]["kms"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert!(scan.stderr.contains(&format!("scan: kms done in us-east-1 ({kms} calls, ")), "{kms} kms calls: {}", scan.stderr);

    let quiet = emu.run(&["-q", "scan", "--stack", "qa", "--output-dir", &out("b")]);
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""), "--quiet scan");
    assert_eq!(quiet.stdout, scan.stdout, "the table is the same with and without --quiet");
    assert!(dir.path().join("b/tapaudit.sarif").is_file(), "--quiet still writes the reports");

    // a failing run stays loud about its failure with --quiet
    let bad = emu.run(&["--quiet", "scan", "--stack", "qa", "--framework", "hipaa"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown framework"), "{}", bad.stderr);
}

#[test]
fn on_a_terminal_the_live_display_is_redrawn_and_erased() {
    let have_script = Command::new("sh").args(["-c", "command -v script"]).output().is_ok_and(|o| o.status.success());
    if !have_script {
        eprintln!("no script(1): the live renderer is covered by the unit tests of src/progress.rs");
        return;
    }
    let emu = Emulator::start();
    emu.run(&["--quiet", "provision", "--stack", "qa"]).ok("provision qa");
    let dir = tempfile::tempdir().unwrap();
    let typescript = dir.path().join("typescript");
    let stdout = dir.path().join("stdout");
    // stderr is the pseudo-terminal script(1) makes; stdout goes to a file
    let inner = format!("{} destroy --yes --stack qa > {}", env!("CARGO_BIN_EXE_tapaudit"), stdout.display());
    let c = Command::new("script")
        .args(["-qec", &inner])
        .arg(&typescript)
        .current_dir(support::root())
        .env("AWS_ENDPOINT_URL", emu.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output();
    let run = c.expect("script");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let tty = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(tty.contains("destroy: ") && tty.contains(" done, "), "a live header: {tty}");
    assert!(tty.contains("waits for "), "pending resources name what they wait for: {tty}");
    assert!(tty.contains("\x1b[J") && tty.contains("A\x1b[J"), "frames are redrawn in place: {tty:?}");
    assert!(tty.contains("\x1b[1m"), "bold header without NO_COLOR");
    assert!(!tty.contains("destroy: vpc deleted ("), "no plain lines on a terminal");
    assert!(tty.contains("destroy qa: 0 created, 0 updated, 0 unchanged"), "the summary follows the erased display: {tty}");
    let after_summary = tty.split("destroy qa: ").nth(1).unwrap();
    assert!(!after_summary.contains(" done, "), "the display is gone after the work: {after_summary}");
    assert_eq!(std::fs::read_to_string(&stdout).unwrap(), "", "destroy prints no results");
}
