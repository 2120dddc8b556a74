//! The calls a multi-account scan makes with the runner's own credentials (registry
//! [`operations::ORCHESTRATE`]): the organization's member accounts, and the audit role assumed
//! in each account. What to scan is decided in `crate::accounts` (pure); this module only calls.

use super::operations;
use crate::error::{Result, SdkResultExt};
use aws_config::SdkConfig;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use std::sync::Mutex;

/// The session name the audit role's sessions carry (CloudTrail shows it as the caller).
pub const SESSION_NAME: &str = "tapaudit-scan";

/// One account of the organization, as ListAccounts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`; None when the answer did not say.
    pub status: Option<String>,
}

/// Every account of the organization the base credentials belong to (the management account or
/// a delegated administrator), every page.
pub async fn organization_accounts(base: &SdkConfig) -> Result<Vec<OrgAccount>> {
    let client = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(base)
            .interceptor(operations::RegisteredOnly { registry: operations::ORCHESTRATE, what: "orchestration" })
            .build(),
    );
    let label = super::endpoint_label(base);
    let mut out = Vec::new();
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("organizations", "ListAccounts", &label)?;
        for a in page.accounts() {
            let Some(id) = a.id() else { continue };
            out.push(OrgAccount {
                id: id.to_string(),
                name: a.name().map(str::to_string),
                // `State` replaces `Status` (deprecated); either may be the one an answer carries
                status: a.state().map(|s| s.as_str().to_string()).or_else(|| a.status().map(|s| s.as_str().to_string())),
            });
        }
    }
    Ok(out)
}

/// Credentials of `role_arn`, assumed with `base`'s credentials: AssumeRole is called once now,
/// so that a role that cannot be assumed is an error naming it before anything is scanned, and
/// again by the SDK when these credentials near their expiry (a scan may outlast a session).
pub async fn assume_role(base: &SdkConfig, role_arn: &str, external_id: Option<&str>) -> Result<SharedCredentialsProvider> {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(base).interceptor(operations::RegisteredOnly { registry: operations::ORCHESTRATE, what: "orchestration" }).build(),
    );
    let out = sts.assume_role().role_arn(role_arn).role_session_name(SESSION_NAME).set_external_id(external_id.map(str::to_string)).send().await.ctx(
        "sts",
        "AssumeRole",
        role_arn,
    )?;
    let Some(c) = out.credentials() else {
        return Err(crate::error::Error::usage(format!("sts AssumeRole of {role_arn} answered without credentials")));
    };
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    let first = Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()), expiry, "tapaudit-assume-role");
    let mut refresh = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(SESSION_NAME).configure(base);
    if let Some(id) = external_id {
        refresh = refresh.external_id(id);
    }
    Ok(SharedCredentialsProvider::new(Assumed { first: Mutex::new(Some(first)), refresh: refresh.build().await }))
}

/// The first credentials of an assumed role, then the SDK's provider for the next sessions.
#[derive(Debug)]
struct Assumed {
    first: Mutex<Option<Credentials>>,
    refresh: aws_config::sts::AssumeRoleProvider,
}

impl ProvideCredentials for Assumed {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match self.first.lock().expect("credentials lock").take() {
            Some(c) => future::ProvideCredentials::ready(Ok(c)),
            None => self.refresh.provide_credentials(),
        }
    }
}
