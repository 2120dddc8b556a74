//! The library error type: every AWS failure names the service, operation, resource,
//! AWS error code and request id; spec failures name file and line.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS API call failed.
    #[error("{0}")]
    Aws(Box<AwsError>),
    /// The stack file is invalid (one line per problem, each `file:line: message`).
    #[error("{}", .0.join("\n"))]
    Spec(Vec<String>),
    /// Anything else the user must act on (bad input, refused operation).
    #[error("{0}")]
    Usage(String),
    /// A scan that could not collect at all (its first call, the identity check, failed):
    /// incomplete, so exit 2 whatever the cause.
    #[error("{0}")]
    Incomplete(Box<Error>),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug)]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub resource: String,
    /// AWS error code (`AccessDenied`, `ResourceNotFoundException`) or a transport class
    /// (`ConnectionError`, `Timeout`) when no response came back.
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub endpoint_hint: Option<String>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(self.service, self.operation))
    }
}

impl AwsError {
    fn render(&self, service: &str, operation: &str) -> String {
        let mut out = format!("{service} {operation} failed");
        if !self.resource.is_empty() {
            out.push_str(&format!(" for {}", self.resource));
        }
        out.push_str(&format!(": {}", self.code));
        let message = one_line(&self.message);
        if !message.is_empty() && message != self.code {
            out.push_str(&format!(": {message}"));
        }
        if let Some(hint) = &self.endpoint_hint {
            out.push_str(&format!(" ({hint})"));
        }
        if let Some(id) = &self.request_id {
            out.push_str(&format!(" [request id {id}]"));
        }
        out
    }
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// The AWS error code when this is an AWS error.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            Error::Aws(e) => Some(&e.code),
            Error::Incomplete(e) => e.aws_code(),
            _ => None,
        }
    }
}

fn one_line(s: &str) -> String {
    let squashed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let limit = if squashed.starts_with('<') { 160 } else { 300 };
    if squashed.chars().count() > limit {
        // moto answers unimplemented operations with an HTML page
        let mut cut: String = squashed.chars().take(limit.min(160)).collect();
        cut.push('…');
        return cut;
    }
    squashed
}

/// The AWS error code of a failed call, when the service answered with one.
pub fn sdk_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

/// Why a call failed, in words: the AWS error code (or a transport class when the service gave
/// none), the cause taken from the SDK's whole source chain, and the request id when the
/// service sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub endpoint_hint: Option<String>,
}

const ENDPOINT_HINT: &str = "check --endpoint-url / AWS_ENDPOINT_URL and network";
const CREDENTIALS_HINT: &str = "configure credentials: AWS_PROFILE (SSO or keys), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance role";

/// Describe an SDK error. Never "unhandled error": an answer without an AWS error code is named
/// by its HTTP status and what could not be parsed, a transport failure by its source chain.
pub fn cause<E>(err: &SdkError<E, HttpResponse>) -> Cause
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let raw = se.raw();
            let request_id = e.meta().extra("aws_request_id").map(str::to_string).or_else(|| response_request_id(raw));
            match e.code() {
                Some(code) => {
                    let message = e.message().map(str::to_string).unwrap_or_else(|| source_chain(e));
                    Cause { code: code.to_string(), message, request_id, endpoint_hint: None }
                }
                None => {
                    let (code, message) = uncoded_answer(raw.status().as_u16(), raw.body().bytes(), &source_chain(e));
                    Cause { code, message, request_id, endpoint_hint: None }
                }
            }
        }
        SdkError::DispatchFailure(df) => {
            let detail = df.as_connector_error().map(|c| source_chain(c)).unwrap_or_else(|| source_chain(err));
            let (class, hint) = if detail.contains("credential") {
                ("CredentialsError", CREDENTIALS_HINT)
            } else if df.is_timeout() {
                ("Timeout", ENDPOINT_HINT)
            } else if df.is_io() {
                ("ConnectionError", ENDPOINT_HINT)
            } else {
                ("DispatchFailure", ENDPOINT_HINT)
            };
            Cause { code: class.to_string(), message: detail, request_id: None, endpoint_hint: Some(hint.to_string()) }
        }
        SdkError::TimeoutError(_) => Cause { code: "Timeout".to_string(), message: source_chain(err), request_id: None, endpoint_hint: None },
        SdkError::ResponseError(re) => {
            let raw = re.raw();
            // a body that was read in full but did not parse (the schema-based clients, such as
            // Kinesis and ECS, report an answer without an error code this way), or a body that
            // could not be read to its end
            let (code, message) = match raw.body().bytes() {
                Some(body) => uncoded_answer(raw.status().as_u16(), Some(body), &source_chain(err)),
                None => unreadable_answer(raw.status().as_u16(), &source_chain(err)),
            };
            Cause { code, message, request_id: response_request_id(raw), endpoint_hint: None }
        }
        SdkError::ConstructionFailure(_) => {
            Cause { code: "ConstructionFailure".to_string(), message: source_chain(err), request_id: None, endpoint_hint: None }
        }
        _ => Cause { code: "SdkError".to_string(), message: source_chain(err), request_id: None, endpoint_hint: None },
    }
}

/// The request id of an HTTP answer (the header names AWS protocols use).
fn response_request_id(raw: &HttpResponse) -> Option<String> {
    ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"].iter().find_map(|h| raw.headers().get(*h)).filter(|v| !v.is_empty()).map(str::to_string)
}

/// An answer that carried no AWS error code: a success whose body could not be parsed, or an
/// error status with a body that is not an AWS error document (an HTML page, nothing).
pub fn uncoded_answer(status: u16, body: Option<&[u8]>, chain: &str) -> (String, String) {
    let chain = strip_unhandled(chain);
    if (200..300).contains(&status) {
        let what = if chain.is_empty() { String::new() } else { format!(": {chain}") };
        return ("UnparseableResponse".to_string(), format!("HTTP {status} answer could not be parsed{what}"));
    }
    let body = body.map(|b| one_line(&String::from_utf8_lossy(b))).unwrap_or_default();
    let what = if body.is_empty() { "an empty body".to_string() } else { format!("body {body}") };
    (format!("HTTP{status}"), format!("HTTP {status} {} without an AWS error code ({what})", status_reason(status)))
}

/// An answer whose body could not be read to its end (connection closed early, timed out).
pub fn unreadable_answer(status: u16, chain: &str) -> (String, String) {
    let lower = chain.to_ascii_lowercase();
    let code = if lower.contains("end of file") || lower.contains("incomplete") || lower.contains("message length") {
        "TruncatedResponse"
    } else {
        "UnreadableResponse"
    };
    (code.to_string(), format!("HTTP {status} answer, body could not be read: {}", strip_unhandled(chain)))
}

fn status_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Drop the SDK's placeholder words ("unhandled error", "service error") that name no cause.
fn strip_unhandled(chain: &str) -> String {
    chain
        .split(": ")
        // "Error" alone is how an empty ErrorMetadata displays
        .filter(|p| !matches!(p.trim(), "unhandled error" | "service error" | "response error" | "dispatch failure" | "Unhandled" | "Error" | ""))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Convert an SDK error into our error with context.
pub fn from_sdk<E>(service: &'static str, operation: &'static str, resource: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let Cause { code, message, request_id, endpoint_hint } = cause(&err);
    Error::Aws(Box::new(AwsError { service, operation, resource: resource.to_string(), code, message, request_id, endpoint_hint }))
}

/// One line naming the failed call and its cause: `kms DescribeKey failed for key/1: Code:
/// message [request id …]` (the form of every AWS error tapaudit prints or records).
pub fn render(service: &str, operation: &str, resource: Option<&str>, cause: &Cause) -> String {
    AwsError {
        service: "",
        operation: "",
        resource: resource.unwrap_or_default().to_string(),
        code: cause.code.clone(),
        message: cause.message.clone(),
        request_id: cause.request_id.clone(),
        endpoint_hint: cause.endpoint_hint.clone(),
    }
    .render(service, operation)
}

/// Join an error and its sources into one line, the way
/// `aws_smithy_types::error::display::DisplayErrorContext` walks them, without repeats.
pub fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![];
    let mut cur = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        if !s.is_empty() && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Context for SDK results: `client.op().send().await.ctx("kms", "CreateKey", "data-key")?`.
pub trait SdkResultExt<T> {
    fn ctx(self, service: &'static str, operation: &'static str, resource: &str) -> Result<T>;
    /// `Ok(None)` when the service answered with one of `not_found_codes`.
    fn found(self, service: &'static str, operation: &'static str, resource: &str, not_found_codes: &[&str]) -> Result<Option<T>>;
}

impl<T, E> SdkResultExt<T> for std::result::Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn ctx(self, service: &'static str, operation: &'static str, resource: &str) -> Result<T> {
        self.map_err(|e| from_sdk(service, operation, resource, e))
    }

    fn found(self, service: &'static str, operation: &'static str, resource: &str, not_found_codes: &[&str]) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if sdk_code(&e).is_some_and(|c| not_found_codes.contains(&c)) => Ok(None),
            Err(e) => Err(from_sdk(service, operation, resource, e)),
        }
    }
}

impl From<aws_smithy_types::error::operation::BuildError> for Error {
    fn from(e: aws_smithy_types::error::operation::BuildError) -> Self {
        Error::Usage(format!("internal: could not build an AWS request: {e}"))
    }
}

impl Error {
    /// 2 for bad input (usage, stack file, files), for an AWS endpoint that cannot be used
    /// at all (no credentials, unreachable, timing out) and for a scan that could not start;
    /// 1 for AWS operations that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Aws(a) if matches!(a.code.as_str(), "CredentialsError" | "ConnectionError" | "Timeout" | "DispatchFailure") => 2,
            Error::Aws(_) => 1,
            Error::Spec(_) | Error::Usage(_) | Error::Io { .. } | Error::Incomplete(_) => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(code: &str, message: &str, request_id: Option<&str>) -> Cause {
        Cause { code: code.into(), message: message.into(), request_id: request_id.map(str::to_string), endpoint_hint: None }
    }

    #[test]
    fn one_line_names_call_resource_cause_and_request_id() {
        assert_eq!(
            render("kms", "DescribeKey", Some("key/1"), &cause("ThrottlingException", "Rate exceeded", Some("r-1"))),
            "kms DescribeKey failed for key/1: ThrottlingException: Rate exceeded [request id r-1]"
        );
        assert_eq!(render("ec2", "DescribeVpcs", None, &cause("Timeout", "", None)), "ec2 DescribeVpcs failed: Timeout");
        // a message that only repeats the code is not printed twice
        assert_eq!(render("iam", "GetPolicy", None, &cause("AccessDenied", "AccessDenied", None)), "iam GetPolicy failed: AccessDenied");
    }

    #[test]
    fn answers_without_a_code_are_named_by_status_and_cause() {
        let (code, msg) = uncoded_answer(200, Some(b"{\"KeyMetadata\":"), "unhandled error: Error at offset 15: unexpected end of stream");
        assert_eq!((code.as_str(), msg.as_str()), ("UnparseableResponse", "HTTP 200 answer could not be parsed: Error at offset 15: unexpected end of stream"));
        let (code, msg) = uncoded_answer(503, Some(b""), "unhandled error");
        assert_eq!((code.as_str(), msg.as_str()), ("HTTP503", "HTTP 503 Service Unavailable without an AWS error code (an empty body)"));
        let page = format!("<html><body>{}</body></html>", "x".repeat(400));
        let (code, msg) = uncoded_answer(500, Some(page.as_bytes()), "unhandled error");
        assert_eq!(code, "HTTP500");
        assert!(msg.starts_with("HTTP 500 Internal Server Error without an AWS error code (body <html><body>xxx") && msg.ends_with("…)"), "{msg}");
        assert!(msg.len() < 260, "an HTML page is cut: {msg}");
    }

    #[test]
    fn unreadable_bodies_say_why() {
        let (code, msg) = unreadable_answer(200, "response error: error reading a body from connection: end of file before message length reached");
        assert_eq!(code, "TruncatedResponse");
        assert_eq!(msg, "HTTP 200 answer, body could not be read: error reading a body from connection: end of file before message length reached");
        assert_eq!(unreadable_answer(200, "response error: invalid chunk").0, "UnreadableResponse");
    }

    #[test]
    fn source_chains_are_walked_without_repeats() {
        #[derive(Debug)]
        struct Outer(Inner);
        #[derive(Debug)]
        struct Inner;
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("dispatch failure")
            }
        }
        impl fmt::Display for Inner {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Connection reset by peer (os error 104)")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        impl std::error::Error for Inner {}
        assert_eq!(source_chain(&Outer(Inner)), "dispatch failure: Connection reset by peer (os error 104)");
    }

    #[test]
    fn a_scan_that_cannot_start_is_incomplete() {
        let throttled = Error::Aws(Box::new(AwsError {
            service: "sts",
            operation: "GetCallerIdentity",
            resource: String::new(),
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
            request_id: None,
            endpoint_hint: None,
        }));
        assert_eq!(throttled.exit_code(), 1);
        let incomplete = Error::Incomplete(Box::new(throttled));
        assert_eq!(incomplete.exit_code(), 2);
        assert_eq!(incomplete.aws_code(), Some("Throttling"));
        assert_eq!(incomplete.to_string(), "sts GetCallerIdentity failed: Throttling: Rate exceeded");
    }
}
