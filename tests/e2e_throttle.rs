//! End to end: a scan through a proxy that throttles 40% of the requests (each in its
//! protocol's throttling shape) completes with the clean scan's verdicts, and its report counts
//! every throttled answer and the retries they caused (`stats.throttles`, `stats.retries`).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use support::fault_proxy::{Fault, FaultProxy, Faults};
use support::Emulator;

fn scan(emu: &Emulator, endpoint: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = emu
        .tapaudit(&["scan", "--stack", "dev", "--format", "json", "--max-attempts", "20", "--output-dir", dir.path().to_str().unwrap()])
        .env("AWS_ENDPOINT_URL", endpoint)
        .output()
        .expect("run tapaudit");
    let report =
        std::fs::read_to_string(dir.path().join("tapaudit.json")).unwrap_or_else(|_| panic!("report; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), serde_json::from_str(&report).unwrap())
}

fn verdicts(report: &Value) -> BTreeMap<(String, String, String), String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let r = &f["resource"];
            let key = (
                f["control_id"].as_str().unwrap().to_string(),
                r["type"].as_str().unwrap_or_default().to_string(),
                format!("{}{}", r["arn"].as_str().unwrap_or_default(), r["id"].as_str().unwrap_or_default()),
            );
            (key, f["status"].as_str().unwrap().to_string())
        })
        .collect()
}

fn total(stats: &Value, field: &str) -> u64 {
    stats[field].as_object().map(|m| m.values().map(|v| v.as_u64().unwrap()).sum()).unwrap_or(0)
}

#[test]
fn throttled_scans_count_throttles_and_retries_and_keep_the_verdicts() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    let (clean_code, clean) = scan(&emu, &emu.url());
    assert_eq!(total(&clean["stats"], "throttles"), 0, "no throttles without the proxy");
    assert!(clean["stats"].get("throttles").is_none(), "no throttles: the field is left out");

    let proxy = FaultProxy::start(emu.port, Faults { kinds: vec![Fault::Throttle], ..Faults::random(11, 0.4) });
    let (code, throttled) = scan(&emu, &proxy.url());
    let injected = proxy.injected().get("throttle").copied().unwrap_or(0);
    assert!(injected > 10, "throttles were injected: {injected}");
    assert_eq!(throttled["errors"], Value::Array(vec![]), "every throttle was retried away");
    assert_eq!(code, clean_code);
    assert_eq!(verdicts(&throttled), verdicts(&clean), "same verdicts through throttling");
    let stats = &throttled["stats"];
    // the identity call (STS, retried until it passes) precedes the collectors and is not
    // observed; the collectors' throttles are counted
    let counted = total(stats, "throttles");
    assert!(counted <= injected && counted * 10 >= injected * 8, "throttles counted {counted} of {injected} injected: {stats}");
    assert!(total(stats, "retries") >= counted, "each throttle caused a retry: {stats}");
}
