use super::*;
use crate::drift::tests::{line, one, run};
use crate::error::Error;
use crate::finding::Status;
use crate::model::Observed;
use std::path::Path;

const BASE: &str = r#"project = "tapaudit"
stack = "t"
frameworks = ["FW"]

[keys.data-key]

[streams.stream]
key = "data-key"

[apis.web]
log_key = "data-key"
"#;

fn parse(frameworks: &str, extra: &str) -> std::result::Result<crate::spec::Stack, Vec<String>> {
    let text = format!("{}{extra}", BASE.replace("FW", frameworks));
    crate::spec::parse(Path::new("t.toml"), text).map_err(|e| match e {
        Error::Spec(v) => v,
        other => vec![other.to_string()],
    })
}

fn dev() -> crate::spec::Stack {
    crate::spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/dev.toml")).unwrap()
}

const ROUTE: &str = "\n[[apis.web.routes]]\nmethod = \"POST\"\npath = \"/ingest\"\nstream = \"stream\"\n";

#[test]
fn a_route_with_stream_integration_validates() {
    parse("fedramp-moderate", ROUTE).unwrap();
}

#[test]
fn unauthenticated_routes_are_refused_where_the_frameworks_demand_authentication() {
    let route = "\n[[apis.web.routes]]\nmethod = \"GET\"\npath = \"/students\"\nauthorization = \"NONE\"\nstream = \"stream\"\n";
    assert_eq!(
        parse("ferpa", route).unwrap_err(),
        vec!["t.toml:16: apis.web.routes[0].authorization is NONE, but the stack's frameworks (ferpa) require authenticated API methods (apigw-method-authorization): use AWS_IAM"]
    );
}

#[test]
fn settings_aws_would_reject_are_file_line_errors() {
    let text = "logging_level = \"DEBUG\"\nstage_name = \"a b\"\n\n[[apis.web.routes]]\nmethod = \"FETCH\"\npath = \"students\"\n\n[[apis.web.routes]]\nmethod = \"GET\"\npath = \"/x\"\nstream = \"stream\"\nload_balancer = \"web\"\n";
    let got = parse("fedramp-moderate", text).unwrap_err();
    assert_eq!(
        got,
        vec![
            "t.toml:23: apis.web.routes[1].load_balancer names \"web\", which is a api (apis.web), not a load balancer",
            "t.toml:12: apis.web.logging_level must be OFF, ERROR or INFO (got \"DEBUG\")",
            "t.toml:13: apis.web.stage_name must be 1–128 letters, digits, hyphens or underscores (got \"a b\")",
            "t.toml:16: apis.web.routes[0].method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (got \"FETCH\")",
            "t.toml:17: apis.web.routes[0].path must be / or /segment[/segment...] of letters, digits, -_. or {param} (got \"students\")",
            "t.toml:15: apis.web.routes[0] has no integration: set stream or load_balancer",
            "t.toml:19: apis.web.routes[1] names both a stream and a load_balancer: choose one integration",
        ]
    );
}

#[test]
fn the_access_log_key_and_routes_are_required() {
    let text = "project = \"tapaudit\"\nstack = \"t\"\n\n[keys.data-key]\n\n[apis.web]\n";
    let got = match crate::spec::parse(Path::new("t.toml"), text.to_string()) {
        Err(Error::Spec(v)) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        got,
        vec![
            "t.toml:6: apis.web.log_key is required: the key (logical id) that encrypts the API's access-log group",
            "t.toml:6: apis.web has no routes: add [[apis.<id>.routes]] with method, path and stream or load_balancer",
        ]
    );
}

#[test]
fn nodes_of_the_dev_api() {
    let stack = dev();
    let nodes = crate::components::nodes(&stack);
    let ids: Vec<&str> = nodes.iter().filter(|n| n.id.contains("api")).map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["ingest-api-logs", "api-cloudwatch-role", "api-account", "ingest-api-integration-role", "ingest-api", "ingest-api-route-1", "ingest-api-stage"]
    );
    let route = nodes.iter().find(|n| n.id == "ingest-api-route-1").unwrap();
    assert_eq!(route.deps, vec!["ingest-api", "stream", "ingest-api-integration-role"]);
    assert_eq!(route.declared_at, "apis.ingest-api.routes[0]");
}

#[test]
fn desired_state_of_the_dev_api() {
    let st = crate::spec::desired::desired(&dev());
    let m = st.apigw.methods.iter().next().unwrap();
    assert_eq!((m.http_method.as_str(), m.path.as_str(), m.authorization_type.as_str()), ("POST", "/ingest", "AWS_IAM"));
    assert_eq!(m.integration_uri.as_deref(), Some("arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"));
    let s = st.apigw.stages.iter().next().unwrap();
    assert_eq!(s.access_log_destination.as_deref(), Some("arn:aws:logs:us-east-1:000000000000:log-group:/tapaudit/dev/ingest-api"));
    assert!(s.tracing_enabled);
    let roles: BTreeMap<&str, &crate::model::iam::Role> = st.iam.roles.iter().map(|r| (r.meta.logical_id().unwrap(), r)).collect();
    let put = roles["ingest-api-integration-role"].inline_policies.known().unwrap()[role::INLINE_POLICY].to_string();
    assert!(put.contains("arn:aws:kinesis:us-east-1:000000000000:stream/tapaudit-dev-stream"), "{put}");
    assert!(put.contains("arn:aws:kms:us-east-1:000000000000:key/data-key"), "{put}");
    // the account-level logging role: scoped to the stack's API log groups, no managed policy
    let cw = roles["api-cloudwatch-role"];
    assert_eq!(cw.attached_policies.known().unwrap(), &Vec::<String>::new());
    let doc = &cw.inline_policies.known().unwrap()[role::INLINE_POLICY];
    let text = doc.to_string();
    assert!(!text.contains("GetLogEvents") && !text.contains("FilterLogEvents") && !text.contains("\"*\""), "{text}");
    let resources: BTreeSet<&str> = doc["Statement"][0]["Resource"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(
        resources,
        BTreeSet::from([
            "arn:aws:logs:us-east-1:000000000000:log-group:/tapaudit/dev/ingest-api",
            "arn:aws:logs:us-east-1:000000000000:log-group:/tapaudit/dev/ingest-api:*",
            "arn:aws:logs:us-east-1:000000000000:log-group:API-Gateway-Execution-Logs_*",
            "arn:aws:logs:us-east-1:000000000000:log-group:API-Gateway-Execution-Logs_*:*",
        ])
    );
}

#[test]
fn the_dev_api_passes_its_controls_before_deployment() {
    let st = crate::spec::desired::desired(&dev());
    let cat = crate::controls::Catalogue::load().unwrap();
    let sel = crate::controls::Selection { frameworks: vec!["fedramp-moderate".to_string()], overrides: Default::default() };
    let report = crate::controls::evaluate(&cat, &st, &sel);
    let bad: Vec<_> = report
        .iter()
        .filter(|f| (f.control_id.starts_with("apigw-") || f.control_id.starts_with("iam-")) && f.status != Status::Pass)
        .map(|f| (&f.control_id, &f.message))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn method_authorization_and_stage_logging_drift() {
    assert_eq!(
        run(|l| l.apigw.methods.items.values_mut().for_each(|m| m.authorization_type = "NONE".into())),
        one("drift-changed", "ingest-api-route-1", "authorization_type", "apis.ingest-api.routes[0].authorization")
    );
    let got = run(|l| {
        for s in l.apigw.stages.items.values_mut() {
            s.method_settings.get_mut("*/*").unwrap().logging_level = Some("OFF".into());
        }
    });
    assert_eq!(got, one("drift-changed", "ingest-api-stage", "logging_level", "apis.ingest-api.logging_level"));
}

#[test]
fn an_undeclared_method_on_the_api_is_unmanaged() {
    let got = run(|l| {
        let mut extra = l.apigw.methods.iter().next().unwrap().clone();
        extra.http_method = "GET".into();
        extra.authorization_type = "NONE".into();
        extra.meta.id = format!("{} GET /ingest", extra.api_id);
        extra.meta.arn = extra.meta.arn.replace("/POST", "/GET");
        // collected methods carry their API's tags
        if let Observed::Known(t) = &mut extra.meta.tags {
            t.insert(crate::vocab::TAG_LOGICAL_ID.into(), "ingest-api".into());
        }
        l.apigw.methods.insert(extra);
    });
    assert_eq!(got, vec![("drift-unmanaged".to_string(), Status::Fail, "ingest-api".to_string(), "resource".to_string(), line("apis.ingest-api"))]);
}
