//! API Gateway (REST API) controls: method authorization and stage logging/tracing.

use super::{each, ControlFn, Params, Verdict};
use crate::model::apigw::{Method, Stage};
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("apigw-method-authorization", method_authorization),
    ("apigw-stage-execution-logging", execution_logging),
    ("apigw-stage-access-logging", access_logging),
    ("apigw-stage-tracing", tracing),
];

/// Authorization types that authenticate the caller.
const AUTHORIZERS: &[&str] = &["AWS_IAM", "COGNITO_USER_POOLS", "CUSTOM"];

/// A CORS preflight: OPTIONS answered by a MOCK integration (or none) never reaches a backend.
fn is_cors_preflight(m: &Method) -> bool {
    m.http_method.eq_ignore_ascii_case("OPTIONS") && m.integration_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case("MOCK"))
}

/// NONE fails even with an API key: API keys identify a client for usage plans, they do not
/// authenticate it (AWS: "don't use API keys for authentication or authorization").
fn method_authorization(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.apigw.methods, "apigateway:method", |m| {
        if is_cors_preflight(m) {
            return Verdict::not_applicable(&m.meta, "CORS preflight (OPTIONS with a MOCK integration)");
        }
        let observed = json!({"authorization_type": m.authorization_type, "api_key_required": m.api_key_required, "integration_type": m.integration_type});
        let expected = json!({"authorization_type": AUTHORIZERS});
        let t = m.authorization_type.to_ascii_uppercase();
        if AUTHORIZERS.contains(&t.as_str()) {
            Verdict::pass(&m.meta, format!("{} {} requires {} authorization", m.http_method, m.path, m.authorization_type), observed)
        } else if t == "NONE" || t.is_empty() {
            let key = if m.api_key_required { " (an API key is required, but API keys do not authenticate callers)" } else { "" };
            Verdict::fail(&m.meta, format!("{} {} can be called without authorization{key}", m.http_method, m.path), observed, expected)
        } else {
            Verdict::fail(&m.meta, format!("{} {} uses unrecognised authorization type {}", m.http_method, m.path, m.authorization_type), observed, expected)
        }
    })
}

/// Key of the stage-wide method setting.
const STAGE_DEFAULT: &str = "*/*";

fn logs_execution(level: Option<&str>) -> bool {
    level.is_some_and(|l| l.eq_ignore_ascii_case("ERROR") || l.eq_ignore_ascii_case("INFO"))
}

/// The stage default (`*/*`) must log at ERROR or INFO, no per-method override may turn logging
/// OFF, and full request/response data tracing must be off everywhere (it copies PII bodies
/// into the logs; the catalogue's expected configuration is INFO or ERROR with data_trace off).
fn execution_logging(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.apigw.stages, "apigateway:stage", |s: &Stage| {
        let default_level = s.method_settings.get(STAGE_DEFAULT).and_then(|m| m.logging_level.as_deref());
        let observed = json!({"method_settings": s.method_settings.iter().map(|(k, v)| (k.clone(), json!({"logging_level": v.logging_level, "data_trace": v.data_trace}))).collect::<serde_json::Map<_, _>>()});
        let expected = json!({"*/*": {"logging_level": ["ERROR", "INFO"], "data_trace": false}});
        if !logs_execution(default_level) {
            return Verdict::fail(&s.meta, format!("execution logging is {} for the stage", default_level.unwrap_or("OFF (not set)")), observed, expected);
        }
        let off: Vec<&str> = s
            .method_settings
            .iter()
            .filter(|(k, v)| k.as_str() != STAGE_DEFAULT && v.logging_level.as_deref().is_some_and(|l| !logs_execution(Some(l))))
            .map(|(k, _)| k.as_str())
            .collect();
        if !off.is_empty() {
            return Verdict::fail(&s.meta, format!("execution logging is turned off for {}", off.join(", ")), observed, expected);
        }
        let traced: Vec<&str> = s.method_settings.iter().filter(|(_, v)| v.data_trace).map(|(k, _)| k.as_str()).collect();
        if !traced.is_empty() {
            return Verdict::fail(
                &s.meta,
                format!("full request/response data tracing is on for {}: request bodies with PII are copied into the logs", traced.join(", ")),
                observed,
                expected,
            );
        }
        Verdict::pass(&s.meta, format!("execution logging at {} without data tracing", default_level.unwrap_or_default()), observed)
    })
}

fn access_logging(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.apigw.stages, "apigateway:stage", |s| match s.access_log_destination.as_deref() {
        Some(d) if !d.trim().is_empty() => {
            Verdict::pass(&s.meta, format!("access logs go to {d}"), json!({"access_log_destination": d, "access_log_format": s.access_log_format}))
        }
        _ => Verdict::fail(
            &s.meta,
            "access logging is not configured",
            json!({"access_log_destination": null}),
            json!({"access_log_destination": "a log group ARN"}),
        ),
    })
}

fn tracing(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.apigw.stages, "apigateway:stage", |s| {
        if s.tracing_enabled {
            Verdict::pass(&s.meta, "X-Ray tracing is enabled", json!({"tracing_enabled": true}))
        } else {
            Verdict::fail(&s.meta, "X-Ray tracing is disabled", json!({"tracing_enabled": false}), json!({"tracing_enabled": true}))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::apigw::MethodSetting;

    fn method(s: &mut State) -> &mut Method {
        s.apigw.methods.items.values_mut().next().expect("fixture has a method")
    }

    fn stage(s: &mut State) -> &mut Stage {
        s.apigw.stages.items.values_mut().next().expect("fixture has a stage")
    }

    #[test]
    fn authorization() {
        assert_eq!(eval("apigw-method-authorization", &fixture()), vec![Status::Pass]);
        for t in ["COGNITO_USER_POOLS", "CUSTOM"] {
            let mut ok = fixture();
            method(&mut ok).authorization_type = t.into();
            assert_eq!(eval("apigw-method-authorization", &ok), vec![Status::Pass], "{t}");
        }
        let mut bad = fixture();
        method(&mut bad).authorization_type = "NONE".into();
        assert_eq!(eval("apigw-method-authorization", &bad), vec![Status::Fail]);
        let mut key_only = fixture();
        method(&mut key_only).authorization_type = "NONE".into();
        method(&mut key_only).api_key_required = true;
        assert_eq!(eval("apigw-method-authorization", &key_only), vec![Status::Fail], "an API key is not authentication");
        let mut failed = fixture();
        failed.apigw.methods.items.clear();
        failed.apigw.methods.fail("us-east-1", "API a1b2c3d4e5: TooManyRequestsException");
        assert_eq!(eval("apigw-method-authorization", &failed), vec![Status::Error]);
    }

    #[test]
    fn options_preflight_is_not_applicable_but_an_options_backend_is_judged() {
        let mut preflight = fixture();
        let m = method(&mut preflight);
        m.http_method = "OPTIONS".into();
        m.authorization_type = "NONE".into();
        m.integration_type = Some("MOCK".into());
        assert_eq!(eval("apigw-method-authorization", &preflight), vec![]);
        let mut backend = fixture();
        let m = method(&mut backend);
        m.http_method = "OPTIONS".into();
        m.authorization_type = "NONE".into();
        m.integration_type = Some("AWS".into());
        assert_eq!(eval("apigw-method-authorization", &backend), vec![Status::Fail]);
    }

    #[test]
    fn execution_logging() {
        assert_eq!(eval("apigw-stage-execution-logging", &fixture()), vec![Status::Pass]);
        let mut error_level = fixture();
        stage(&mut error_level).method_settings.get_mut("*/*").unwrap().logging_level = Some("ERROR".into());
        assert_eq!(eval("apigw-stage-execution-logging", &error_level), vec![Status::Pass]);
        let mut off = fixture();
        stage(&mut off).method_settings.get_mut("*/*").unwrap().logging_level = Some("OFF".into());
        assert_eq!(eval("apigw-stage-execution-logging", &off), vec![Status::Fail]);
        let mut none = fixture();
        stage(&mut none).method_settings.clear();
        assert_eq!(eval("apigw-stage-execution-logging", &none), vec![Status::Fail]);
        let mut override_off = fixture();
        stage(&mut override_off)
            .method_settings
            .insert("~1records/POST".into(), MethodSetting { logging_level: Some("OFF".into()), data_trace: false, metrics: false });
        assert_eq!(eval("apigw-stage-execution-logging", &override_off), vec![Status::Fail]);
        let mut inherits = fixture();
        stage(&mut inherits).method_settings.insert("~1records/POST".into(), MethodSetting { logging_level: None, data_trace: false, metrics: true });
        assert_eq!(eval("apigw-stage-execution-logging", &inherits), vec![Status::Pass]);
        let mut data_trace = fixture();
        stage(&mut data_trace).method_settings.get_mut("*/*").unwrap().data_trace = true;
        assert_eq!(eval("apigw-stage-execution-logging", &data_trace), vec![Status::Fail]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.apigw.stages);
        assert_eq!(eval("apigw-stage-execution-logging", &failed), vec![Status::Error]);
    }

    #[test]
    fn access_logging() {
        assert_eq!(eval("apigw-stage-access-logging", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        stage(&mut bad).access_log_destination = None;
        assert_eq!(eval("apigw-stage-access-logging", &bad), vec![Status::Fail]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.apigw.stages);
        assert_eq!(eval("apigw-stage-access-logging", &failed), vec![Status::Error]);
    }

    #[test]
    fn tracing() {
        assert_eq!(eval("apigw-stage-tracing", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        stage(&mut bad).tracing_enabled = false;
        assert_eq!(eval("apigw-stage-tracing", &bad), vec![Status::Fail]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.apigw.stages);
        assert_eq!(eval("apigw-stage-tracing", &failed), vec![Status::Error]);
    }
}
