//! Secrets Manager: metadata only (ListSecrets returns key, rotation and tags). The scanner
//! never calls GetSecretValue.

use super::{tag_map, Ctx};
use crate::model::secrets::{Secret, Secrets};
use crate::model::Observed;
use aws_sdk_secretsmanager::types::SecretListEntry;
use std::collections::BTreeMap;

fn rfc3339(d: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// ListSecrets entry → model (metadata only). Absent fields with a documented meaning:
/// - KmsKeyId: "If the secret is encrypted with the Amazon Web Services managed key
///   aws/secretsmanager, this field is omitted" (SecretListEntry);
/// - RotationEnabled: "If the secret has never been configured for rotation, Secrets Manager
///   returns null" (DescribeSecret, which reports the same metadata ListSecrets lists:
///   https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html):
///   rotation is off. RDS-managed secrets are no exception: the flag is what AWS reports;
/// - LastRotatedDate: "null if the secret hasn't ever rotated"; NextRotationDate, RotationRules:
///   reported only while rotation is configured; DeletedDate: "Not present on active secrets";
///   OwningService: only for secrets another service created and manages
///   (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_SecretListEntry.html).
fn secret(ctx: &Ctx, s: &SecretListEntry, name: &str, t: Observed<BTreeMap<String, String>>) -> Secret {
    let rules = s.rotation_rules();
    Secret {
        meta: ctx.meta("secretsmanager:secret", name, s.arn().unwrap_or(name).to_string(), Some(name.to_string()), t),
        kms_key_id: s.kms_key_id().map(str::to_string),
        owning_service: s.owning_service().map(str::to_string),
        rotation_enabled: s.rotation_enabled() == Some(true),
        rotation_interval_days: rules.and_then(|r| r.automatically_after_days()),
        rotation_schedule: rules.and_then(|r| r.schedule_expression()).map(str::to_string),
        last_rotated: rfc3339(s.last_rotated_date()),
        next_rotation: rfc3339(s.next_rotation_date()),
        created: rfc3339(s.created_date()),
        deleted: s.deleted_date().is_some(),
    }
}

pub async fn collect(ctx: &Ctx) -> Secrets {
    let mut out = Secrets::default();
    let sm = &ctx.clients.secrets;
    match ctx.pages("secretsmanager", "ListSecrets", sm.list_secrets().max_results(100).into_paginator().send()).await {
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
                out.secrets.insert(secret(ctx, s, name, t));
            }
            if nameless > 0 {
                out.secrets.fail(&ctx.region, format!("secretsmanager:ListSecrets returned {nameless} secret(s) without a name or ARN"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::ctx;
    use aws_sdk_secretsmanager::types::RotationRulesType;

    #[test]
    fn rotation_as_secrets_manager_reports_it() {
        let c = ctx(|_| {});
        let base = || {
            SecretListEntry::builder()
                .name("rds!cluster-1")
                .arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1-AbCdEf")
                .owning_service("rds")
        };
        // RotationEnabled absent: never configured for rotation (documented), whoever owns it
        let never = secret(&c, &base().build(), "rds!cluster-1", Observed::Known(Default::default()));
        assert!(!never.rotation_enabled);
        assert_eq!(never.owning_service.as_deref(), Some("rds"));
        assert_eq!((never.rotation_interval_days, never.rotation_schedule.as_deref()), (None, None));
        let on = base()
            .rotation_enabled(true)
            .rotation_rules(RotationRulesType::builder().automatically_after_days(30).schedule_expression("rate(30 days)").build())
            .next_rotation_date(aws_smithy_types::DateTime::from_secs(1_800_000_000))
            .build();
        let s = secret(&c, &on, "rds!cluster-1", Observed::Known(Default::default()));
        assert!(s.rotation_enabled);
        assert_eq!(s.rotation_interval_days, Some(30));
        assert_eq!(s.rotation_schedule.as_deref(), Some("rate(30 days)"));
        assert_eq!(s.next_rotation.as_deref(), Some("2027-01-15T08:00:00Z"));
        assert_eq!(s.kms_key_id, None, "absent KmsKeyId: aws/secretsmanager");
    }
}
