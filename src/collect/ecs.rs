//! ECS: clusters (settings and tags in one batch call), services (batches of 10), the task
//! definitions those services run (tagged or not), plus every ACTIVE one without a stack scope.
//! Fail-closed: a `failures` entry of a batch describe call, a resource that comes back without
//! its identity, and a task definition that cannot be described are collection errors naming
//! the resource, never silently dropped. Environment values are classified and measured (kind,
//! length, entropy: `semantics::secret_values`), never stored.

use super::{fan_out, tag_map, Ctx};
use crate::model::ecs::*;
use crate::model::{Collection, Observed, Resource};
use crate::semantics::secret_values::env_var;
use aws_sdk_ecs::types::{ClusterField, ServiceField, TaskDefinitionField, TaskDefinitionStatus};
use std::collections::{BTreeMap, BTreeSet};

/// Tags of a describe call made with `include = TAGS`. The ECS API omits `tags` when a resource
/// has none ("If tags is specified, the tags are included in the response. If this field is
/// omitted, tags aren't included in the response": DescribeClusters / DescribeServices /
/// DescribeTaskDefinition `include`, ECS API Reference), so absent = no tags. A tag's value is
/// "the optional part of a key-value pair" (ECS API Reference, Tag): absent = empty.
fn tags(t: &[aws_sdk_ecs::types::Tag]) -> Observed<BTreeMap<String, String>> {
    Observed::Known(tag_map(t.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))))))
}

/// Record one incomplete piece of a describe call: a collection error naming the resource (the
/// scan is incomplete) and a failure of `coll` in this region (its controls become `error`).
fn incomplete<T: Resource>(ctx: &Ctx, coll: &mut Collection<T>, operation: &str, resource: &str, code: &str, detail: &str) {
    ctx.record_incomplete("ecs", operation, &ctx.region, Some(resource), code, detail);
    let detail = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
    coll.fail(&ctx.region, format!("ecs:{operation} could not describe {resource}: {code}{detail}"));
}

/// `failures` entries of DescribeClusters / DescribeServices: each one a named collection error.
fn failures<T: Resource>(ctx: &Ctx, coll: &mut Collection<T>, operation: &str, f: &[aws_sdk_ecs::types::Failure]) {
    for f in f {
        incomplete(ctx, coll, operation, f.arn().unwrap_or("(no arn given)"), f.reason().unwrap_or("(no reason given)"), f.detail().unwrap_or(""));
    }
}

/// Container Insights from the cluster's settings (requested with `include = SETTINGS`). A
/// settings list without a `containerInsights` entry means it is off: Container Insights is
/// turned off unless the cluster or the account setting turns it on, and the account default
/// is recorded on the cluster at creation (ECS Developer Guide, "Amazon ECS Container Insights";
/// API Reference, ClusterSetting). No settings list at all is Unknown.
pub fn container_insights(c: &aws_sdk_ecs::types::Cluster) -> Observed<String> {
    match &c.settings {
        None => Observed::Unknown("DescribeClusters returned no settings for the cluster".into()),
        Some(settings) => match settings.iter().find(|s| s.name().map(|n| n.as_str()) == Some("containerInsights")) {
            None => Observed::Known("disabled".into()),
            Some(s) => match s.value() {
                Some(v) => Observed::Known(v.to_string()),
                None => Observed::Unknown("the containerInsights setting has no value".into()),
            },
        },
    }
}

fn status(s: Option<&str>, what: &str) -> Observed<String> {
    match s {
        Some(s) => Observed::Known(s.to_string()),
        None => Observed::Unknown(format!("{what} returned no status")),
    }
}

/// A described cluster as the model holds it; Err names what is missing.
pub fn cluster(ctx: &Ctx, c: &aws_sdk_ecs::types::Cluster) -> Result<Cluster, String> {
    let arn = c.cluster_arn().ok_or("a cluster without an ARN")?;
    let name = c.cluster_name().or_else(|| arn.rsplit('/').next()).ok_or_else(|| format!("{arn}: no name"))?;
    Ok(Cluster {
        meta: ctx.meta("ecs:cluster", name, arn.to_string(), Some(name.to_string()), tags(c.tags())),
        status: status(c.status(), "DescribeClusters"),
        container_insights: container_insights(c),
    })
}

/// A described service; Err names what is missing. `networkConfiguration.awsvpcConfiguration`
/// absent = the service is not awsvpc (bridge/host tasks get no address of their own): no
/// public-IP setting, no subnets or security groups of its own. Within an awsvpc configuration,
/// `assignPublicIp` absent means DISABLED ("The default value is DISABLED": AwsVpcConfiguration,
/// ECS API Reference).
pub fn service(ctx: &Ctx, s: &aws_sdk_ecs::types::Service) -> Result<Service, String> {
    let arn = s.service_arn().ok_or("a service without an ARN")?;
    let name = s.service_name().or_else(|| arn.rsplit('/').next()).ok_or_else(|| format!("{arn}: no name"))?;
    let cluster_arn = s.cluster_arn().ok_or_else(|| format!("{arn}: no cluster ARN"))?;
    // the EXTERNAL deployment controller runs task sets instead, which are not read
    let task_definition = s.task_definition().ok_or_else(|| format!("{arn}: no task definition (task sets are not read)"))?;
    let (assign_public_ip, subnets, security_groups) = match s.network_configuration().and_then(|n| n.awsvpc_configuration()) {
        None => (None, vec![], vec![]),
        Some(net) => (
            Some(net.assign_public_ip().map(|a| a.as_str().to_string()).unwrap_or_else(|| "DISABLED".to_string())),
            net.subnets().to_vec(),
            net.security_groups().to_vec(),
        ),
    };
    Ok(Service {
        meta: ctx.meta("ecs:service", name, arn.to_string(), Some(name.to_string()), tags(s.tags())),
        cluster_arn: cluster_arn.to_string(),
        status: status(s.status(), "DescribeServices"),
        task_definition: task_definition.to_string(),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        desired_count: s.desired_count(),
        assign_public_ip,
        subnets,
        security_groups,
    })
}

/// One container definition; Err when it lacks what every registered container has.
fn container(c: &aws_sdk_ecs::types::ContainerDefinition, i: usize) -> Result<Container, String> {
    let name = c.name().ok_or_else(|| format!("container #{} has no name", i + 1))?;
    let image = c.image().ok_or_else(|| format!("container {name} has no image"))?;
    let log = c.log_configuration();
    let environment = c
        .environment()
        .iter()
        .map(|kv| match kv.name() {
            Some(n) => Ok(env_var(n, kv.value().unwrap_or(""))),
            None => Err(format!("container {name} has an environment entry without a name")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Container {
        name: name.to_string(),
        image: image.to_string(),
        privileged: c.privileged(),
        readonly_root_filesystem: c.readonly_root_filesystem(),
        log_driver: log.map(|l| l.log_driver().as_str().to_string()),
        log_group: log.and_then(|l| l.options()).and_then(|o| o.get("awslogs-group")).cloned(),
        environment,
        secret_names: c.secrets().iter().map(|s| s.name().to_string()).collect(),
    })
}

/// A described task definition; Err names what is missing.
pub fn task_definition(ctx: &Ctx, requested: &str, td: &aws_sdk_ecs::types::TaskDefinition, t: &[aws_sdk_ecs::types::Tag]) -> Result<TaskDefinition, String> {
    let arn = td.task_definition_arn().unwrap_or(requested);
    let family = td.family().ok_or_else(|| format!("{arn}: no family"))?;
    let containers =
        td.container_definitions().iter().enumerate().map(|(i, c)| container(c, i)).collect::<Result<Vec<_>, _>>().map_err(|e| format!("{arn}: {e}"))?;
    Ok(TaskDefinition {
        meta: ctx.meta("ecs:task-definition", &format!("{family}:{}", td.revision()), arn.to_string(), Some(family.to_string()), tags(t)),
        family: family.to_string(),
        revision: td.revision(),
        status: status(td.status().map(|s| s.as_str()), "DescribeTaskDefinition"),
        network_mode: td.network_mode().map(|n| n.as_str().to_string()),
        cpu: td.cpu().map(str::to_string),
        memory: td.memory().map(str::to_string),
        task_role_arn: td.task_role_arn().map(str::to_string),
        execution_role_arn: td.execution_role_arn().map(str::to_string),
        containers,
    })
}

pub async fn collect(ctx: &Ctx) -> Ecs {
    let ecs = &ctx.clients.ecs;
    let mut out = Ecs::default();
    let arns = match ctx.pages("ecs", "ListClusters", ecs.list_clusters().max_results(100).into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.cluster_arns().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.clusters.fail(&ctx.region, e.clone());
            out.services.fail(&ctx.region, e.clone());
            out.task_definitions.fail(&ctx.region, e);
            return out;
        }
    };
    // task definitions the in-scope services run: kept whatever their tags say
    let mut run_by_services: BTreeSet<String> = BTreeSet::new();
    for chunk in arns.chunks(100) {
        let described = ctx
            .call(
                "ecs",
                "DescribeClusters",
                None,
                ecs.describe_clusters().set_clusters(Some(chunk.to_vec())).include(ClusterField::Settings).include(ClusterField::Tags).send(),
            )
            .await;
        let described = match described {
            Ok(d) => d,
            Err(e) => {
                out.clusters.fail(&ctx.region, e);
                continue;
            }
        };
        failures(ctx, &mut out.clusters, "DescribeClusters", described.failures());
        for c in described.clusters() {
            if c.status() == Some("INACTIVE") || !ctx.scope.wants(&tags(c.tags())) {
                continue;
            }
            match cluster(ctx, c) {
                Ok(c) => out.clusters.insert(c),
                Err(e) => incomplete(ctx, &mut out.clusters, "DescribeClusters", c.cluster_arn().unwrap_or("a cluster"), "IncompleteResponse", &e),
            }
        }
    }
    // services of every cluster (in scope or not: a tagged service may run in a shared cluster)
    for cluster_arn in &arns {
        let names = match ctx.pages("ecs", "ListServices", ecs.list_services().cluster(cluster_arn).max_results(100).into_paginator().send()).await {
            Ok(pages) => pages.iter().flat_map(|p| p.service_arns().to_vec()).collect::<Vec<_>>(),
            Err(e) => {
                out.services.fail(&ctx.region, e);
                continue;
            }
        };
        for chunk in names.chunks(10) {
            let described = ctx
                .call(
                    "ecs",
                    "DescribeServices",
                    Some(cluster_arn),
                    ecs.describe_services().cluster(cluster_arn).set_services(Some(chunk.to_vec())).include(ServiceField::Tags).send(),
                )
                .await;
            let described = match described {
                Ok(d) => d,
                Err(e) => {
                    out.services.fail(&ctx.region, e);
                    continue;
                }
            };
            failures(ctx, &mut out.services, "DescribeServices", described.failures());
            for s in described.services() {
                // INACTIVE services are deleted; a service without a status is kept (Unknown)
                if s.status() == Some("INACTIVE") || !ctx.scope.wants(&tags(s.tags())) {
                    continue;
                }
                match service(ctx, s) {
                    Ok(svc) => {
                        run_by_services.insert(svc.task_definition.clone());
                        out.services.insert(svc);
                    }
                    Err(e) => incomplete(ctx, &mut out.services, "DescribeServices", s.service_arn().unwrap_or("a service"), "IncompleteResponse", &e),
                }
            }
        }
    }
    // task definitions: the ones services run, plus every ACTIVE one without a stack (or when
    // no service of the stack was found, to find its tagged task definitions)
    let mut task_defs = run_by_services.clone();
    if ctx.scope.stack.is_none() || run_by_services.is_empty() {
        match ctx
            .pages("ecs", "ListTaskDefinitions", ecs.list_task_definitions().status(TaskDefinitionStatus::Active).max_results(100).into_paginator().send())
            .await
        {
            Ok(pages) => task_defs.extend(pages.iter().flat_map(|p| p.task_definition_arns().to_vec())),
            Err(e) => out.task_definitions.fail(&ctx.region, e),
        }
    }
    let described = fan_out(ctx, task_defs.into_iter().collect(), |arn| async move {
        let r = ctx
            .call("ecs", "DescribeTaskDefinition", Some(&arn), ecs.describe_task_definition().task_definition(&arn).include(TaskDefinitionField::Tags).send())
            .await;
        (arn, r)
    })
    .await;
    for (arn, r) in described {
        let d = match r {
            Ok(d) => d,
            Err(e) => {
                // already recorded as a collection error naming the ARN; the services that run
                // it stay in the State, and its controls are `error` for this region
                out.task_definitions.fail(&ctx.region, format!("task definition {arn} could not be described: {e}"));
                continue;
            }
        };
        let Some(td) = d.task_definition() else {
            incomplete(ctx, &mut out.task_definitions, "DescribeTaskDefinition", &arn, "IncompleteResponse", "the response has no taskDefinition");
            continue;
        };
        if !run_by_services.contains(&arn) && !ctx.scope.wants(&tags(d.tags())) {
            continue;
        }
        match task_definition(ctx, &arn, td, d.tags()) {
            Ok(td) => out.task_definitions.insert(td),
            Err(e) => incomplete(ctx, &mut out.task_definitions, "DescribeTaskDefinition", &arn, "IncompleteResponse", &e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::ctx;
    use aws_sdk_ecs::types::{self as t, AwsVpcConfiguration, ContainerDefinition, KeyValuePair, NetworkConfiguration};

    #[test]
    fn environment_values_are_classified_and_measured_never_kept() {
        let url = env_var("APP_CONFIG", "postgres://app:S3cr3tPassw0rdExample@db:5432/x");
        assert_eq!((url.name.as_str(), url.kind, url.length), ("APP_CONFIG", ValueKind::UrlCredentials, 46));
        let json = serde_json::to_string(&url).unwrap();
        assert!(!json.contains("S3cr3t") && !json.contains("db:5432"), "the value itself never enters the State: {json}");
        let arn = env_var("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf");
        assert_eq!(arn.kind, ValueKind::Reference);
        assert_eq!(env_var("EMPTY", "").kind, ValueKind::Empty);
    }

    #[test]
    fn batch_failures_are_named_collection_errors() {
        let c = ctx(|_| {});
        let mut coll: Collection<Service> = Collection::default();
        let f = t::Failure::builder().arn("arn:aws:ecs:us-east-1:123456789012:service/c/gone").reason("MISSING").build();
        failures(&c, &mut coll, "DescribeServices", &[f]);
        assert_eq!(coll.failures.len(), 1);
        assert!(coll.failures[0].reason.contains("service/c/gone") && coll.failures[0].reason.contains("MISSING"), "{:?}", coll.failures);
        let (_, errors) = c.rec.finish(Default::default(), Default::default());
        assert_eq!(errors[0].resource.as_deref(), Some("arn:aws:ecs:us-east-1:123456789012:service/c/gone"));
        assert_eq!((errors[0].operation.as_str(), errors[0].code.as_str()), ("DescribeServices", "MISSING"));
    }

    #[test]
    fn cluster_settings_absent_is_unknown_and_a_missing_entry_is_off() {
        let base = || t::Cluster::builder().cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/c").cluster_name("c").status("ACTIVE");
        assert!(matches!(container_insights(&base().build()), Observed::Unknown(_)));
        let other = t::ClusterSetting::builder().name(t::ClusterSettingName::from("somethingElse")).value("x").build();
        assert_eq!(container_insights(&base().settings(other).build()), Observed::Known("disabled".into()));
        let on = t::ClusterSetting::builder().name(t::ClusterSettingName::ContainerInsights).value("enhanced").build();
        assert_eq!(container_insights(&base().settings(on).build()), Observed::Known("enhanced".into()));
        let c = ctx(|_| {});
        let no_status = cluster(&c, &base().set_status(None).build()).unwrap();
        assert!(matches!(no_status.status, Observed::Unknown(_)));
        assert!(cluster(&c, &t::Cluster::builder().cluster_name("c").build()).is_err(), "no ARN: an error, not a nameless cluster");
    }

    #[test]
    fn service_network_defaults_follow_the_api_reference() {
        let c = ctx(|_| {});
        let base = || {
            t::Service::builder()
                .service_arn("arn:aws:ecs:us-east-1:123456789012:service/c/s")
                .service_name("s")
                .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/c")
                .status("ACTIVE")
                .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/f:1")
        };
        let bridge = service(&c, &base().build()).unwrap();
        assert_eq!((bridge.assign_public_ip, bridge.subnets.len()), (None, 0));
        let vpc = AwsVpcConfiguration::builder().subnets("subnet-1").build().unwrap();
        let awsvpc = service(&c, &base().network_configuration(NetworkConfiguration::builder().awsvpc_configuration(vpc).build()).build()).unwrap();
        assert_eq!(awsvpc.assign_public_ip.as_deref(), Some("DISABLED"), "assignPublicIp defaults to DISABLED");
        assert!(matches!(service(&c, &base().set_status(None).build()).unwrap().status, Observed::Unknown(_)));
        assert!(service(&c, &base().set_task_definition(None).build()).unwrap_err().contains("no task definition"));
    }

    #[test]
    fn task_definition_mapping_keeps_absent_flags_absent_and_fails_on_nameless_parts() {
        let c = ctx(|_| {});
        let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/f:3";
        let container = ContainerDefinition::builder()
            .name("app")
            .image("public.ecr.aws/nginx/nginx:1.25")
            .environment(KeyValuePair::builder().name("APP_CONFIG").value("postgres://app:S3cr3tPassw0rdExample@db:5432/x").build())
            .environment(KeyValuePair::builder().name("UNSET").build())
            .build();
        let td = t::TaskDefinition::builder()
            .task_definition_arn(arn)
            .family("f")
            .revision(3)
            .status(t::TaskDefinitionStatus::Active)
            .container_definitions(container)
            .build();
        let got = task_definition(&c, arn, &td, &[]).unwrap();
        let app = &got.containers[0];
        assert_eq!((app.privileged, app.readonly_root_filesystem), (None, None));
        assert!(!app.runs_privileged() && !app.root_is_read_only());
        assert_eq!(app.environment[0].kind, ValueKind::UrlCredentials);
        assert_eq!(app.environment[1].kind, ValueKind::Empty);
        assert!(!serde_json::to_string(&got).unwrap().contains("S3cr3t"));
        let nameless =
            t::TaskDefinition::builder().task_definition_arn(arn).family("f").container_definitions(ContainerDefinition::builder().image("x").build()).build();
        assert!(task_definition(&c, arn, &nameless, &[]).unwrap_err().contains("no name"));
        let env_nameless = ContainerDefinition::builder().name("app").image("x").environment(KeyValuePair::builder().value("v").build()).build();
        let td = t::TaskDefinition::builder().task_definition_arn(arn).family("f").container_definitions(env_nameless).build();
        assert!(task_definition(&c, arn, &td, &[]).is_err());
    }
}
