//! Stack files with caches, file systems and buckets through the built binary: every class of
//! bad input gets its exact `file:line: field ...` message on stderr and exit code 2, before
//! any AWS call (no endpoint is reachable here).

use std::process::Command;

const HEAD: &str = "project = \"tapaudit\"\nstack = \"cfs\"\n\n[keys.data-key]\n\n";

/// Validate `body` (after HEAD) written to a temporary stack file; (exit code, stderr lines
/// without the `tapaudit: error: ` prefix, the file's path).
fn validate(body: &str) -> (i32, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cfs.toml");
    std::fs::write(&path, format!("{HEAD}{body}")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["validate", "--stack", path.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run tapaudit");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "nothing on stdout for a rejected file");
    let lines = stderr.lines().map(|l| l.strip_prefix("tapaudit: error: ").unwrap_or(l).to_string()).collect();
    (out.status.code().unwrap_or(-1), lines, path.display().to_string())
}

/// The file is rejected with exactly these messages (`{f}` stands for the file, the number
/// after it is the line in the whole file, HEAD's 5 lines included).
fn assert_rejected(body: &str, want: &[&str]) {
    let (code, lines, path) = validate(body);
    assert_eq!(code, 2, "{lines:?}");
    let want: Vec<String> = want.iter().map(|w| w.replace("{f}", &path)).collect();
    assert_eq!(lines, want, "{body}");
}

#[test]
fn a_bucket_with_a_bad_value_points_at_its_line() {
    assert_rejected(
        "[buckets.logs]\nprefix = \"alb/AWSLogs\"\n",
        &["{f}:7: buckets.logs.prefix must not contain \"AWSLogs\": ELB adds AWSLogs/<account>/ after the prefix (got \"alb/AWSLogs\")"],
    );
}

#[test]
fn a_bucket_retention_below_the_frameworks_log_retention() {
    assert_rejected(
        "[buckets.logs]\nretention_days = 90\n",
        &["{f}:7: buckets.logs.retention_days 90 is less than 365, the log retention fedramp-moderate requires (min_retention_days)"],
    );
}

#[test]
fn unknown_settings_are_rejected() {
    let (code, lines, path) = validate("[buckets.logs]\nversioning = true\n");
    assert_eq!(code, 2);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{path}:7: ")) && lines[0].contains("unknown field `versioning`"), "{lines:?}");
    let (code, lines, _) = validate("[caches.sessions]\nkey = \"data-key\"\nauth_token = \"hunter2hunter2hunter2\"\n");
    assert_eq!(code, 2);
    assert!(lines[0].contains(":8: ") && lines[0].contains("unknown field `auth_token`"), "{lines:?}");
}

#[test]
fn a_cache_naming_a_missing_key_and_a_key_as_its_security_group() {
    assert_rejected(
        "[caches.sessions]\nkey = \"cache-key\"\nsecurity_group = \"data-key\"\n",
        &[
            "{f}:7: caches.sessions.key names \"cache-key\", which the stack file does not declare (expected a key)",
            "{f}:8: caches.sessions.security_group names \"data-key\", which is a key (keys.data-key), not a security group",
        ],
    );
}

#[test]
fn a_cache_without_a_replica_cannot_fail_over() {
    assert_rejected(
        "[caches.sessions]\nkey = \"data-key\"\nnodes = 1\nsecurity_group = \"data-key\"\n",
        &[
            "{f}:9: caches.sessions.security_group names \"data-key\", which is a key (keys.data-key), not a security group",
            "{f}:8: caches.sessions.nodes must be at least 2 with automatic_failover or multi_az (a replica to fail over to; got 1)",
        ],
    );
}

#[test]
fn a_cache_snapshot_retention_below_the_control() {
    // seed 003's 5 days: the blueprint follows the control
    assert_rejected(
        "[caches.sessions]\nkey = \"data-key\"\nsnapshot_retention_days = 5\nsecurity_group = \"data-key\"\n",
        &[
            "{f}:9: caches.sessions.security_group names \"data-key\", which is a key (keys.data-key), not a security group",
            "{f}:8: caches.sessions.snapshot_retention_days 5 is less than 7, which fedramp-moderate requires (elasticache-snapshot-retention)",
        ],
    );
}

#[test]
fn a_file_system_key_that_is_a_bucket() {
    assert_rejected(
        "[buckets.logs]\n\n[file_systems.shared]\nkey = \"logs\"\nsecurity_group = \"data-key\"\ntransition_to_ia_days = 45\n",
        &[
            "{f}:9: file_systems.shared.key names \"logs\", which is a bucket (buckets.logs), not a key",
            "{f}:10: file_systems.shared.security_group names \"data-key\", which is a key (keys.data-key), not a security group",
            "{f}:11: file_systems.shared.transition_to_ia_days must be one of 1, 7, 14, 30, 60, 90, 180, 270, 365 (got 45)",
        ],
    );
}

#[test]
fn logical_ids_are_unique_across_kinds() {
    assert_rejected(
        "[buckets.shared]\n\n[file_systems.shared]\nkey = \"data-key\"\nsecurity_group = \"data-key\"\n",
        &[
            "{f}:6: buckets.shared reuses the logical id \"shared\" of file_systems.shared: logical ids are unique across the stack file",
            "{f}:10: file_systems.shared.security_group names \"data-key\", which is a key (keys.data-key), not a security group",
        ],
    );
}
