//! Secrets Manager: metadata only (ListSecrets returns key, rotation and tags). The scanner
//! never calls GetSecretValue.

use super::{tag_map, Ctx};
use crate::model::secrets::{Secret, Secrets};
use crate::model::Observed;

fn rfc3339(d: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

pub async fn collect(ctx: &Ctx) -> Secrets {
    let mut out = Secrets::default();
    let sm = &ctx.clients.secrets;
    match ctx.pages("secretsmanager", "ListSecrets", sm.list_secrets().into_paginator().send()).await {
        Err(e) => out.secrets.fail(&ctx.region, e),
        Ok(pages) => {
            for s in pages.iter().flat_map(|p| p.secret_list()) {
                let t = Observed::Known(tag_map(s.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))));
                if !ctx.scope.wants(&t) {
                    continue;
                }
                let name = s.name().unwrap_or_default();
                out.secrets.insert(Secret {
                    meta: ctx.meta("secretsmanager:secret", name, s.arn().unwrap_or_default().to_string(), Some(name.to_string()), t),
                    kms_key_id: s.kms_key_id().map(str::to_string),
                    rotation_enabled: s.rotation_enabled().unwrap_or(false),
                    rotation_interval_days: s.rotation_rules().and_then(|r| r.automatically_after_days()),
                    last_rotated: rfc3339(s.last_rotated_date()),
                    created: rfc3339(s.created_date()),
                    deleted: s.deleted_date().is_some(),
                });
            }
        }
    }
    out
}
