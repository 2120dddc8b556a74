//! ECS: clusters (settings and tags in one batch call), services (batches of 10), the task
//! definitions those services use (plus every ACTIVE one without a stack scope). Environment
//! values are measured (length, entropy, reference or not), never stored.

use super::{fan_out, tag_map, Ctx};
use crate::model::ecs::*;
use crate::model::Observed;
use aws_sdk_ecs::types::{ClusterField, ServiceField, TaskDefinitionField, TaskDefinitionStatus};
use std::collections::BTreeSet;

fn tags(t: &[aws_sdk_ecs::types::Tag]) -> Observed<std::collections::BTreeMap<String, String>> {
    Observed::Known(tag_map(t.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))))
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts.values().map(|&c| {
        let p = c as f64 / n;
        -p * p.log2()
    }).sum()
}

pub fn env_var(name: &str, value: &str) -> EnvVar {
    let is_reference = value.starts_with("arn:") || value.starts_with("{{resolve:") || value.starts_with("ssm:") || value.starts_with("secretsmanager:");
    EnvVar { name: name.to_string(), length: value.chars().count(), is_reference, entropy: (entropy(value) * 100.0).round() / 100.0 }
}

pub async fn collect(ctx: &Ctx) -> Ecs {
    let ecs = &ctx.clients.ecs;
    let mut out = Ecs::default();
    let arns = match ctx.pages("ecs", "ListClusters", ecs.list_clusters().into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.cluster_arns().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.clusters.fail(&ctx.region, e.clone());
            out.services.fail(&ctx.region, e.clone());
            out.task_definitions.fail(&ctx.region, e);
            return out;
        }
    };
    let mut task_defs: BTreeSet<String> = BTreeSet::new();
    for chunk in arns.chunks(100) {
        let described = ctx
            .call("ecs", "DescribeClusters", None, ecs.describe_clusters().set_clusters(Some(chunk.to_vec())).include(ClusterField::Settings).include(ClusterField::Tags).send())
            .await;
        let described = match described {
            Ok(d) => d,
            Err(e) => {
                out.clusters.fail(&ctx.region, e);
                continue;
            }
        };
        for c in described.clusters() {
            let t = tags(c.tags());
            if c.status() == Some("INACTIVE") || !ctx.scope.wants(&t) {
                continue;
            }
            let name = c.cluster_name().unwrap_or_default();
            let insights = c
                .settings()
                .iter()
                .find(|s| s.name().map(|n| n.as_str()) == Some("containerInsights"))
                .and_then(|s| s.value())
                .unwrap_or("disabled")
                .to_string();
            out.clusters.insert(Cluster {
                meta: ctx.meta("ecs:cluster", name, c.cluster_arn().unwrap_or_default().to_string(), Some(name.to_string()), t),
                status: c.status().unwrap_or_default().to_string(),
                container_insights: Observed::Known(insights),
            });
        }
    }
    // services of every cluster (in scope or not: a tagged service may run in a shared cluster)
    for cluster in &arns {
        let names = match ctx.pages("ecs", "ListServices", ecs.list_services().cluster(cluster).into_paginator().send()).await {
            Ok(pages) => pages.iter().flat_map(|p| p.service_arns().to_vec()).collect::<Vec<_>>(),
            Err(e) => {
                out.services.fail(&ctx.region, e);
                continue;
            }
        };
        for chunk in names.chunks(10) {
            let described = ctx
                .call("ecs", "DescribeServices", Some(cluster), ecs.describe_services().cluster(cluster).set_services(Some(chunk.to_vec())).include(ServiceField::Tags).send())
                .await;
            let described = match described {
                Ok(d) => d,
                Err(e) => {
                    out.services.fail(&ctx.region, e);
                    continue;
                }
            };
            for s in described.services() {
                let t = tags(s.tags());
                if s.status() != Some("ACTIVE") || !ctx.scope.wants(&t) {
                    continue;
                }
                let net = s.network_configuration().and_then(|n| n.awsvpc_configuration());
                let td = s.task_definition().unwrap_or_default().to_string();
                task_defs.insert(td.clone());
                let name = s.service_name().unwrap_or_default();
                out.services.insert(Service {
                    meta: ctx.meta("ecs:service", name, s.service_arn().unwrap_or_default().to_string(), Some(name.to_string()), t),
                    cluster_arn: s.cluster_arn().unwrap_or_default().to_string(),
                    status: s.status().unwrap_or_default().to_string(),
                    task_definition: td,
                    launch_type: s.launch_type().map(|l| l.as_str().to_string()),
                    desired_count: s.desired_count(),
                    assign_public_ip: net.and_then(|n| n.assign_public_ip()).map(|a| a.as_str().to_string()),
                    subnets: net.map(|n| n.subnets().to_vec()).unwrap_or_default(),
                    security_groups: net.map(|n| n.security_groups().to_vec()).unwrap_or_default(),
                });
            }
        }
    }
    // task definitions: the ones services run, plus every ACTIVE family's latest without a stack
    if ctx.scope.stack.is_none() || task_defs.is_empty() {
        match ctx.pages("ecs", "ListTaskDefinitions", ecs.list_task_definitions().status(TaskDefinitionStatus::Active).into_paginator().send()).await {
            Ok(pages) => task_defs.extend(pages.iter().flat_map(|p| p.task_definition_arns().to_vec())),
            Err(e) => out.task_definitions.fail(&ctx.region, e),
        }
    }
    let described = fan_out(ctx, task_defs.into_iter().collect(), |arn| async move {
        let r = ctx.call("ecs", "DescribeTaskDefinition", Some(&arn), ecs.describe_task_definition().task_definition(&arn).include(TaskDefinitionField::Tags).send()).await;
        (arn, r)
    })
    .await;
    for (arn, r) in described {
        let d = match r {
            Ok(d) => d,
            Err(e) => {
                out.task_definitions.fail(&ctx.region, format!("{arn}: {e}"));
                continue;
            }
        };
        let Some(td) = d.task_definition() else { continue };
        let t = tags(d.tags());
        if !ctx.scope.wants(&t) {
            continue;
        }
        let family = td.family().unwrap_or_default();
        let containers = td
            .container_definitions()
            .iter()
            .map(|c| {
                let log = c.log_configuration();
                Container {
                    name: c.name().unwrap_or_default().to_string(),
                    image: c.image().unwrap_or_default().to_string(),
                    privileged: c.privileged(),
                    readonly_root_filesystem: c.readonly_root_filesystem(),
                    log_driver: log.map(|l| l.log_driver().as_str().to_string()),
                    log_group: log.and_then(|l| l.options()).and_then(|o| o.get("awslogs-group")).cloned(),
                    environment: c.environment().iter().map(|kv| env_var(kv.name().unwrap_or_default(), kv.value().unwrap_or_default())).collect(),
                    secret_names: c.secrets().iter().map(|s| s.name().to_string()).collect(),
                }
            })
            .collect();
        let td_arn = td.task_definition_arn().unwrap_or(&arn).to_string();
        out.task_definitions.insert(TaskDefinition {
            meta: ctx.meta("ecs:task-definition", &format!("{family}:{}", td.revision()), td_arn, Some(family.to_string()), t),
            family: family.to_string(),
            revision: td.revision(),
            status: td.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            network_mode: td.network_mode().map(|n| n.as_str().to_string()),
            cpu: td.cpu().map(str::to_string),
            memory: td.memory().map(str::to_string),
            task_role_arn: td.task_role_arn().map(str::to_string),
            execution_role_arn: td.execution_role_arn().map(str::to_string),
            containers,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_values_are_measured_never_kept() {
        let secret = env_var("DB_PASSWORD", "Xk9#mQ2!vLr8$Tz4");
        assert_eq!(secret.name, "DB_PASSWORD");
        assert_eq!(secret.length, 16);
        assert!(!secret.is_reference);
        assert!(secret.entropy > 3.5, "{}", secret.entropy);
        let json = serde_json::to_string(&secret).unwrap();
        assert!(!json.contains("Xk9#mQ2"), "the value itself never enters the State: {json}");
        let arn = env_var("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf");
        assert!(arn.is_reference);
        assert_eq!(env_var("EMPTY", "").entropy, 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("ab") - 1.0).abs() < 1e-9);
    }
}
