//! The library error type: every AWS failure names the service, operation, resource,
//! AWS error code and request id; spec failures name file and line.

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
        write!(f, "{} {} failed", self.service, self.operation)?;
        if !self.resource.is_empty() {
            write!(f, " for {}", self.resource)?;
        }
        write!(f, ": {}", self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", one_line(&self.message))?;
        }
        if let Some(hint) = &self.endpoint_hint {
            write!(f, " ({hint})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
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
            _ => None,
        }
    }
}

fn one_line(s: &str) -> String {
    let squashed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if squashed.starts_with('<') || squashed.len() > 300 {
        // moto answers unimplemented operations with an HTML page
        let mut cut: String = squashed.chars().take(160).collect();
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

/// Convert an SDK error into our error with context.
pub fn from_sdk<E, R>(
    service: &'static str,
    operation: &'static str,
    resource: &str,
    err: SdkError<E, R>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    let (code, message, request_id, endpoint_hint) = match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let meta = e.meta();
            let code = e
                .code()
                .map(str::to_string)
                .unwrap_or_else(|| "UnknownError".to_string());
            let msg = e.message().map(str::to_string).unwrap_or_else(|| e.to_string());
            let rid = meta.extra("aws_request_id").map(str::to_string);
            (code, msg, rid, None)
        }
        SdkError::DispatchFailure(df) => {
            let detail = df
                .as_connector_error()
                .map(|c| source_chain(c))
                .unwrap_or_else(|| format!("{df:?}"));
            let (class, hint) = if detail.contains("credential") {
                ("CredentialsError", "configure credentials: AWS_PROFILE (SSO or keys), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance role")
            } else if df.is_timeout() {
                ("Timeout", "check --endpoint-url / AWS_ENDPOINT_URL and network")
            } else if df.is_io() {
                ("ConnectionError", "check --endpoint-url / AWS_ENDPOINT_URL and network")
            } else {
                ("DispatchFailure", "check --endpoint-url / AWS_ENDPOINT_URL and network")
            };
            (class.to_string(), detail, None, Some(hint.to_string()))
        }
        SdkError::TimeoutError(_) => ("Timeout".to_string(), "the call timed out".to_string(), None, None),
        SdkError::ResponseError(re) => (
            "ResponseError".to_string(),
            format!("unreadable response: {:?}", re.raw()).chars().take(200).collect(),
            None,
            None,
        ),
        SdkError::ConstructionFailure(_) => (
            "ConstructionFailure".to_string(),
            format!("{err:?}").chars().take(300).collect(),
            None,
            None,
        ),
        _ => ("UnknownError".to_string(), format!("{err:?}").chars().take(300).collect(), None, None),
    };
    Error::Aws(Box::new(AwsError {
        service,
        operation,
        resource: resource.to_string(),
        code,
        message,
        request_id,
        endpoint_hint,
    }))
}

/// Join an error and its sources into one line.
pub fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
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
    fn found(
        self,
        service: &'static str,
        operation: &'static str,
        resource: &str,
        not_found_codes: &[&str],
    ) -> Result<Option<T>>;
}

impl<T, E, R> SdkResultExt<T> for std::result::Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    fn ctx(self, service: &'static str, operation: &'static str, resource: &str) -> Result<T> {
        self.map_err(|e| from_sdk(service, operation, resource, e))
    }

    fn found(
        self,
        service: &'static str,
        operation: &'static str,
        resource: &str,
        not_found_codes: &[&str],
    ) -> Result<Option<T>> {
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
    /// 2 for bad input (usage, stack file, files) and for an AWS endpoint that cannot be used
    /// at all (no credentials, unreachable, timing out); 1 for AWS operations that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Aws(a) if matches!(a.code.as_str(), "CredentialsError" | "ConnectionError" | "Timeout" | "DispatchFailure") => 2,
            Error::Aws(_) => 1,
            Error::Spec(_) | Error::Usage(_) | Error::Io { .. } => 2,
        }
    }
}
