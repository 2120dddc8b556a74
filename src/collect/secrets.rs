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
            let mut nameless = 0;
            for s in pages.iter().flat_map(|p| p.secret_list()) {
                let t = Observed::Known(tag_map(s.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))));
                if !ctx.scope.wants(&t) {
                    continue;
                }
                let (Some(name), Some(_)) = (s.name(), s.arn()) else {
                    nameless += 1;
                    continue;
                };
                out.secrets.insert(Secret {
                    meta: ctx.meta("secretsmanager:secret", name, s.arn().unwrap_or_default().to_string(), Some(name.to_string()), t),
                    // absent KmsKeyId: "If the secret is encrypted with the Amazon Web Services
                    // managed key aws/secretsmanager, this field is omitted"; absent
                    // RotationEnabled: "If the secret has never been configured for rotation,
                    // Secrets Manager returns null"; absent DeletedDate: not scheduled for
                    // deletion; absent LastRotatedDate: never rotated (Secrets Manager API,
                    // SecretListEntry / DescribeSecret)
                    kms_key_id: s.kms_key_id().map(str::to_string),
                    rotation_enabled: s.rotation_enabled() == Some(true),
                    rotation_interval_days: s.rotation_rules().and_then(|r| r.automatically_after_days()),
                    last_rotated: rfc3339(s.last_rotated_date()),
                    created: rfc3339(s.created_date()),
                    deleted: s.deleted_date().is_some(),
                });
            }
            if nameless > 0 {
                out.secrets.fail(&ctx.region, format!("secretsmanager:ListSecrets returned {nameless} secret(s) without a name or ARN"));
            }
        }
    }
    out
}
