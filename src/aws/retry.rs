//! Retry classification for read-only calls (the scan).
//!
//! What the SDK's standard retry already retries (measured by the tests in `aws::tests` against
//! a scripted HTTP server, aws-smithy-runtime 1.16, for a classic client (KMS) and a
//! schema-based one (Kinesis), with the same result):
//! - throttling codes in every protocol (`ThrottlingException`, `Throttling`,
//!   `RequestLimitExceeded`, `TooManyRequestsException`, ...): `AwsErrorCodeClassifier`;
//! - HTTP 500/502/503/504, with or without an error document: `HttpStatusCodeClassifier`;
//! - connection resets and refused connections (connector I/O errors), attempt timeouts, and a
//!   body cut short of its `Content-Length` (a response error): `TransientErrorClassifier`.
//!
//! What it does not retry, and `ReadRetryClassifier` adds for reads:
//! - an XML answer cut short but framed as complete, which the SDK even accepts as a success
//!   with partial data, or as an error with the code it read (`CompleteAnswerCheck` fails such
//!   an attempt first);
//! - a 2xx answer whose body cannot be parsed (cut short but framed as complete by a proxy,
//!   garbled): the SDK reports it as an unhandled service error;
//! - an error status whose answer carries no AWS error code (an HTML page or an empty body from
//!   a load balancer or proxy in front of the service; 429 and 408 without a code).
//!
//! Answers with an AWS error code keep the SDK's judgement (`AccessDenied` is not retried).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{AfterDeserializationInterceptorContextRef, InterceptorContext};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::fmt;

/// An XML answer (query protocols, EC2) that ends before its root element closes. The SDK's
/// XML deserializer accepts such a body as a success with whatever it read so far (measured
/// through the fault proxy: half a `DescribeInternetGateways` answer parsed as an account with
/// fewer gateways), so `CompleteAnswerCheck` turns it into a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteAnswer {
    pub root: String,
    pub bytes: usize,
}

impl fmt::Display for IncompleteAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the XML answer ends after {} bytes, before its root element <{}> is closed", self.bytes, self.root)
    }
}

impl std::error::Error for IncompleteAnswer {}

/// `Err` when `body` is an XML document whose root element is never closed. JSON and empty
/// bodies are left to the deserializers, which reject a cut JSON document themselves.
pub fn check_complete_xml(body: &[u8]) -> Result<(), IncompleteAnswer> {
    let text = String::from_utf8_lossy(body);
    let mut rest = text.trim();
    if !rest.starts_with('<') {
        return Ok(());
    }
    // skip the prolog and comments
    while rest.starts_with("<?") || rest.starts_with("<!--") {
        let end = if rest.starts_with("<?") { rest.find("?>").map(|i| i + 2) } else { rest.find("-->").map(|i| i + 3) };
        match end {
            Some(i) => rest = rest[i..].trim_start(),
            None => return Err(IncompleteAnswer { root: "?".into(), bytes: body.len() }),
        }
    }
    let Some(tag) = rest.strip_prefix('<') else {
        return Err(IncompleteAnswer { root: "?".into(), bytes: body.len() });
    };
    let root: String = tag.chars().take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/').collect();
    let Some(open_end) = tag.find('>') else {
        return Err(IncompleteAnswer { root, bytes: body.len() });
    };
    let self_closing = tag[..open_end].ends_with('/');
    if self_closing || rest.trim_end().ends_with(&format!("</{root}>")) {
        Ok(())
    } else {
        Err(IncompleteAnswer { root, bytes: body.len() })
    }
}

/// Fails an attempt whose XML answer was cut short but parsed anyway (see `IncompleteAnswer`);
/// `ReadRetryClassifier` retries it.
#[derive(Debug, Default, Clone, Copy)]
pub struct CompleteAnswerCheck;

impl Intercept for CompleteAnswerCheck {
    fn name(&self) -> &'static str {
        "tapaudit complete answers"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match context.response().body().bytes() {
            Some(body) => check_answer(context.output_or_error().is_err(), body).map_err(|e| Box::new(e) as BoxError),
            None => Ok(()),
        }
    }
}

/// AWS's XML error documents (REST-XML such as S3, query protocols, EC2).
const XML_ERROR_ROOTS: &[&str] = &["Error", "ErrorResponse", "Response"];

/// A success must be a complete document; so must an AWS XML error document, whose code
/// survives a cut (half of S3's `<Error><Code>NoSuchBucketPolicy</Code>…` still parses as "no
/// policy"). Other error bodies (an HTML page from a proxy) stay the classifier's business.
pub fn check_answer(is_error: bool, body: &[u8]) -> Result<(), IncompleteAnswer> {
    match check_complete_xml(body) {
        Err(e) if is_error && !XML_ERROR_ROOTS.contains(&e.root.as_str()) => Ok(()),
        r => r,
    }
}

fn is_incomplete_answer(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<IncompleteAnswer>().is_some() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Retries the failures of read-only calls that the standard classifiers leave alone. Only
/// the scan's clients carry it: retrying a read is always safe, while a write that failed
/// ambiguously (its answer lost) may have taken effect, so provisioning keeps the standard
/// classifiers.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReadRetryClassifier;

impl ClassifyRetry for ReadRetryClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        self.classify_retry_v2(ctx, &RetryAction::NoActionIndicated)
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        // an earlier classifier already decided (retry, or retry forbidden): keep it
        if *previous != RetryAction::NoActionIndicated {
            return RetryAction::NoActionIndicated;
        }
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        if err.is_interceptor_error() && is_incomplete_answer(err) {
            return RetryAction::transient_error();
        }
        // only service answers: transport failures, timeouts and unreadable bodies are the
        // standard classifiers' business. An answer that did not parse is an operation error
        // (classic clients) or an "other" error raised while deserializing (the schema-based
        // clients, such as Kinesis and ECS, for an error answer without a code).
        let transport = err.is_connector_error() || err.is_timeout_error() || err.is_response_error() || err.is_interceptor_error();
        if transport {
            return RetryAction::NoActionIndicated;
        }
        let Some(resp) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        classify_answer(resp.status().as_u16(), resp.headers().get("x-amzn-errortype").is_some(), resp.body().bytes())
    }

    fn name(&self) -> &'static str {
        "tapaudit read-only calls"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The rule for a failed read whose service answered: retry when the answer is not an AWS
/// error document (nothing tells us the request itself was wrong).
pub fn classify_answer(status: u16, error_type_header: bool, body: Option<&[u8]>) -> RetryAction {
    if (200..300).contains(&status) {
        // the call succeeded but its answer could not be parsed
        return RetryAction::transient_error();
    }
    if status == 429 {
        return RetryAction::throttling_error();
    }
    if status == 408 {
        return RetryAction::transient_error();
    }
    if error_type_header || body.is_some_and(names_error_code) {
        return RetryAction::NoActionIndicated;
    }
    RetryAction::transient_error()
}

/// Whether a body is an AWS error document with a code: JSON `__type` / `code` / `Code` /
/// `ErrorCode`, or XML `<Code>…</Code>` (query protocols and EC2).
pub fn names_error_code(body: &[u8]) -> bool {
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body) {
        return ["__type", "code", "Code", "ErrorCode"].iter().any(|k| m.get(*k).and_then(|v| v.as_str()).is_some_and(|s| !s.trim().is_empty()));
    }
    let text = String::from_utf8_lossy(body);
    text.split_once("<Code>").and_then(|(_, rest)| rest.split_once("</Code>")).is_some_and(|(code, _)| !code.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::interceptors::context::{Error as ErasedError, Input};
    use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    #[derive(Debug)]
    struct OpError;
    impl std::fmt::Display for OpError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("unhandled error")
        }
    }
    impl std::error::Error for OpError {}

    fn answered(status: u16, header: Option<&str>, body: &str) -> InterceptorContext {
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        let mut resp = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body.to_string()));
        if let Some(h) = header {
            resp.headers_mut().insert("x-amzn-ErrorType", h.to_string());
        }
        ctx.set_response(resp);
        ctx.set_output_or_error(Err(OrchestratorError::operation(ErasedError::erase(OpError))));
        ctx
    }

    #[test]
    fn retries_answers_that_are_not_aws_error_documents() {
        let c = ReadRetryClassifier;
        let table: &[(u16, Option<&str>, &str, RetryAction)] = &[
            // unparseable success (a body cut short but framed as complete, garbage)
            (200, None, r#"{"KeyMetadata":{"KeyId":"#, RetryAction::transient_error()),
            (200, None, "", RetryAction::transient_error()),
            // error statuses without a code: a proxy's HTML page, nothing at all
            (502, None, "<html><body>Bad gateway</body></html>", RetryAction::transient_error()),
            (400, None, "", RetryAction::transient_error()),
            (403, None, "<html>denied by proxy</html>", RetryAction::transient_error()),
            (429, None, "", RetryAction::throttling_error()),
            (429, Some("TooManyRequestsException"), r#"{"message":"Too Many Requests"}"#, RetryAction::throttling_error()),
            (408, None, "", RetryAction::transient_error()),
            // AWS error documents keep the SDK's judgement
            (400, None, r#"{"__type":"AccessDeniedException","message":"no"}"#, RetryAction::NoActionIndicated),
            (400, None, r#"{"__type":"com.amazonaws.kms#NotFoundException"}"#, RetryAction::NoActionIndicated),
            (403, Some("AccessDeniedException"), r#"{"message":"no"}"#, RetryAction::NoActionIndicated),
            (404, None, r#"{"ErrorCode":"FileSystemNotFound","Message":"x"}"#, RetryAction::NoActionIndicated),
            (403, None, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code></Error></ErrorResponse>", RetryAction::NoActionIndicated),
            (400, None, "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code></Error></Errors></Response>", RetryAction::NoActionIndicated),
            (400, None, "<ErrorResponse><Error><Code></Code></Error></ErrorResponse>", RetryAction::transient_error()),
        ];
        for (status, header, body, want) in table {
            assert_eq!(&c.classify_retry(&answered(*status, *header, body)), want, "{status} {header:?} {body}");
        }
    }

    #[test]
    fn an_answer_that_failed_to_deserialize_as_other_error_counts_too() {
        let c = ReadRetryClassifier;
        let mut ctx = answered(503, None, "");
        ctx.set_output_or_error(Err(OrchestratorError::other("unhandled error")));
        assert_eq!(c.classify_retry(&ctx), RetryAction::transient_error());
        let mut ctx = answered(400, None, r#"{"__type":"AccessDeniedException"}"#);
        ctx.set_output_or_error(Err(OrchestratorError::other("unhandled error")));
        assert_eq!(c.classify_retry(&ctx), RetryAction::NoActionIndicated);
        // an "other" error before any answer (endpoint, credentials): nothing to judge
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Err(OrchestratorError::other("no credentials")));
        assert_eq!(c.classify_retry(&ctx), RetryAction::NoActionIndicated);
    }

    #[test]
    fn xml_answers_must_close_their_root_element() {
        let complete = [
            "<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><vpcSet/></DescribeVpcsResponse>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeLoadBalancersResponse><X/></DescribeLoadBalancersResponse>\n",
            "<?xml version=\"1.0\"?><!-- c --><R/>",
            r#"{"KeyMetadata":{"KeyId":"#,
            "",
        ];
        for body in complete {
            assert_eq!(check_complete_xml(body.as_bytes()), Ok(()), "{body}");
        }
        let cut = [
            ("<DescribeInternetGatewaysResponse xmlns=\"x\"><internetGatewaySet><item>", "DescribeInternetGatewaysResponse"),
            ("<?xml version=\"1.0\"?><DescribeTagsResponse><DescribeTagsResult></DescribeTagsResult></DescribeTags", "DescribeTagsResponse"),
            ("<?xml version=\"1.0\" encod", "?"),
            ("<DescribeVpcsResp", "DescribeVpcsResp"),
        ];
        for (body, root) in cut {
            let e = check_complete_xml(body.as_bytes()).expect_err(body);
            assert_eq!(e.root, root);
            assert_eq!(e.bytes, body.len());
        }
        let e = check_complete_xml(cut[0].0.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("the XML answer ends after {} bytes, before its root element <DescribeInternetGatewaysResponse> is closed", cut[0].0.len())
        );
        // the classifier retries an attempt this check failed
        let mut ctx = answered(200, None, cut[0].0);
        ctx.set_output_or_error(Err(OrchestratorError::interceptor(
            aws_smithy_runtime_api::client::interceptors::error::InterceptorError::read_after_deserialization("tapaudit complete answers", e),
        )));
        assert_eq!(ReadRetryClassifier.classify_retry(&ctx), RetryAction::transient_error());
    }

    #[test]
    fn a_cut_xml_error_document_is_incomplete_other_error_bodies_are_not_judged() {
        let cut = r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Mess"#;
        assert_eq!(check_answer(true, cut.as_bytes()).unwrap_err().root, "Error");
        assert!(check_answer(true, b"<ErrorResponse><Error><Code>Throttling</Code></Error>").is_err());
        assert_eq!(check_answer(true, b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucketPolicy</Code></Error>"), Ok(()));
        assert_eq!(check_answer(true, b"<!DOCTYPE html><html><body>Internal Server Error</body></html>"), Ok(()));
        assert_eq!(check_answer(true, b"<html><body>cut"), Ok(()));
        assert!(check_answer(false, b"<html><body>cut").is_err());
    }

    #[test]
    fn keeps_earlier_verdicts_and_leaves_transport_failures_alone() {
        let c = ReadRetryClassifier;
        let ctx = answered(200, None, "garbage");
        assert_eq!(c.classify_retry_v2(&ctx, &RetryAction::throttling_error()), RetryAction::NoActionIndicated);
        assert_eq!(c.classify_retry_v2(&ctx, &RetryAction::RetryForbidden), RetryAction::NoActionIndicated);
        // a response error (body unreadable) is not an operation error: the standard retries it
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Err(OrchestratorError::response("end of file before message length reached".into())));
        assert_eq!(c.classify_retry(&ctx), RetryAction::NoActionIndicated);
        // success: nothing to do
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Ok(aws_smithy_runtime_api::client::interceptors::context::Output::doesnt_matter()));
        assert_eq!(c.classify_retry(&ctx), RetryAction::NoActionIndicated);
        assert!(c.priority() > RetryClassifierPriority::transient_error_classifier(), "runs after the standard classifiers");
    }
}
