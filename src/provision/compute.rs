//! ECS Fargate: the cluster (Container Insights), the data-processor task definition and
//! its service in the private subnets without public IPs.

use super::logs::group_name;
use super::nodes::{private_subnet_id, LogPurpose};
use super::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found};
use crate::error::{Result, SdkResultExt};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ClusterField, ClusterSetting, ClusterSettingName, Compatibility, ContainerDefinition, KeyValuePair, LaunchType,
    LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode, PortMapping, PropagateTags, TaskDefinitionField, TaskDefinitionStatus, TransportProtocol,
};
use std::collections::BTreeSet;
use std::time::Duration;

use super::names::CONTAINER;

fn ecs_tags(tags: std::collections::BTreeMap<String, String>) -> Vec<aws_sdk_ecs::types::Tag> {
    tags.into_iter().map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build()).collect()
}

fn ecs_tag_pairs(tags: &[aws_sdk_ecs::types::Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

pub fn cluster_name(ctx: &Ctx) -> String {
    super::names::cluster(&ctx.stack)
}

fn insights_value(ctx: &Ctx) -> &'static str {
    if ctx.stack.spec.ecs.container_insights {
        "enabled"
    } else {
        "disabled"
    }
}

async fn describe_cluster(ctx: &Ctx) -> Result<Option<aws_sdk_ecs::types::Cluster>> {
    let name = cluster_name(ctx);
    let out = ctx.clients.ecs.describe_clusters().clusters(&name).include(ClusterField::Settings).include(ClusterField::Tags).send().await.ctx(
        "ecs",
        "DescribeClusters",
        &name,
    )?;
    Ok(out.clusters().iter().find(|c| c.status() == Some("ACTIVE") || c.status() == Some("PROVISIONING")).cloned())
}

pub async fn inspect_cluster(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(c) = describe_cluster(ctx).await? else { return Ok(Found::Absent) };
    ctx.claim(id, "ecs:cluster", &cluster_name(ctx), ecs_tag_pairs(c.tags()))?;
    let mut changes = Vec::new();
    let got = c.settings().iter().find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights)).and_then(|s| s.value()).unwrap_or("disabled");
    // "enhanced" observability also satisfies Container Insights
    let got = if got == "enhanced" { "enabled" } else { got };
    diff(&mut changes, "ecs.container_insights", insights_value(ctx), got);
    changes.extend(tag_changes(&ctx.tags(id, &cluster_name(ctx)), ecs_tag_pairs(c.tags())));
    Ok(Found::Present { attrs: attrs([("name", cluster_name(ctx)), ("arn", c.cluster_arn().unwrap_or_default().to_string())]), changes })
}

pub async fn apply_cluster(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let ecs = &ctx.clients.ecs;
    let name = cluster_name(ctx);
    let setting = ClusterSetting::builder().name(ClusterSettingName::ContainerInsights).value(insights_value(ctx)).build();
    let arn = match found {
        Found::Absent => ecs
            .create_cluster()
            .cluster_name(&name)
            .settings(setting)
            .set_tags(Some(ecs_tags(ctx.tags(id, &name))))
            .send()
            .await
            .ctx("ecs", "CreateCluster", &name)?
            .cluster()
            .and_then(|c| c.cluster_arn())
            .unwrap_or_default()
            .to_string(),
        Found::Present { attrs, .. } => {
            ecs.update_cluster().cluster(&name).settings(setting).send().await.ctx("ecs", "UpdateCluster", &name)?;
            ecs.tag_resource().resource_arn(&attrs["arn"]).set_tags(Some(ecs_tags(ctx.tags(id, &name)))).send().await.ctx("ecs", "TagResource", &name)?;
            attrs["arn"].clone()
        }
    };
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete_cluster(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some(c) = describe_cluster(ctx).await? else { return Ok(None) };
    if !ctx.owns(id, ecs_tag_pairs(c.tags())) {
        return Ok(None);
    }
    let name = cluster_name(ctx);
    ctx.clients.ecs.delete_cluster().cluster(&name).send().await.ctx("ecs", "DeleteCluster", &name)?;
    Ok(Some(name))
}

pub fn family(ctx: &Ctx) -> String {
    super::names::task_family(&ctx.stack)
}

/// The settings of a task definition that matter, as comparable text.
#[derive(Debug, PartialEq)]
struct TaskShape {
    cpu: String,
    memory: String,
    image: String,
    execution_role: String,
    task_role: String,
    log_group: String,
    environment: BTreeSet<(String, String)>,
    readonly_root: bool,
    privileged: bool,
    port: i32,
}

fn desired_shape(ctx: &Ctx) -> Result<TaskShape> {
    let e = &ctx.stack.spec.ecs;
    Ok(TaskShape {
        cpu: e.cpu.to_string(),
        memory: e.memory.to_string(),
        image: e.image.clone(),
        execution_role: ctx.need("ecs-execution-role", "arn")?,
        task_role: ctx.need("ecs-task-role", "arn")?,
        log_group: group_name(ctx, LogPurpose::Ecs),
        environment: environment(ctx)?.into_iter().collect(),
        readonly_root: e.readonly_root_filesystem,
        privileged: false,
        port: e.container_port as i32,
    })
}

fn environment(ctx: &Ctx) -> Result<Vec<(String, String)>> {
    let mut env = vec![("STREAM_NAME".into(), ctx.need("stream", "name")?)];
    if let Some(db) = crate::components::database::legacy_service_database(&ctx.stack) {
        env.push(("DB_SECRET_ARN".into(), ctx.need(&db, "secret_arn")?));
    }
    env.push(("AWS_REGION".into(), ctx.region.clone()));
    Ok(env)
}

fn live_shape(td: &aws_sdk_ecs::types::TaskDefinition) -> TaskShape {
    let c = td.container_definitions().first();
    TaskShape {
        cpu: td.cpu().unwrap_or_default().to_string(),
        memory: td.memory().unwrap_or_default().to_string(),
        image: c.and_then(|c| c.image()).unwrap_or_default().to_string(),
        execution_role: td.execution_role_arn().unwrap_or_default().to_string(),
        task_role: td.task_role_arn().unwrap_or_default().to_string(),
        log_group: c.and_then(|c| c.log_configuration()).and_then(|l| l.options()).and_then(|o| o.get("awslogs-group")).cloned().unwrap_or_default(),
        environment: c
            .map(|c| c.environment().iter().map(|kv| (kv.name().unwrap_or_default().to_string(), kv.value().unwrap_or_default().to_string())).collect())
            .unwrap_or_default(),
        readonly_root: c.and_then(|c| c.readonly_root_filesystem()).unwrap_or(false),
        privileged: c.and_then(|c| c.privileged()).unwrap_or(false),
        port: c.and_then(|c| c.port_mappings().first()).and_then(|p| p.container_port()).unwrap_or(0),
    }
}

async fn describe_task_definition(ctx: &Ctx) -> Result<Option<(aws_sdk_ecs::types::TaskDefinition, Vec<aws_sdk_ecs::types::Tag>)>> {
    let fam = family(ctx);
    let out = ctx.clients.ecs.describe_task_definition().task_definition(&fam).include(TaskDefinitionField::Tags).send().await.found(
        "ecs",
        "DescribeTaskDefinition",
        &fam,
        &["ClientException"],
    )?;
    Ok(out.and_then(|o| {
        let tags = o.tags().to_vec();
        o.task_definition().filter(|t| t.status() == Some(&TaskDefinitionStatus::Active)).cloned().map(|t| (t, tags))
    }))
}

pub async fn inspect_task_definition(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some((td, tags)) = describe_task_definition(ctx).await? else { return Ok(Found::Absent) };
    ctx.claim(id, "ecs:task-definition", td.task_definition_arn().unwrap_or(&family(ctx)), ecs_tag_pairs(&tags))?;
    let mut changes = Vec::new();
    if let Ok(want) = desired_shape(ctx) {
        let got = live_shape(&td);
        if want != got {
            for (field, w, g) in [
                ("ecs.cpu", want.cpu.clone(), got.cpu.clone()),
                ("ecs.memory", want.memory.clone(), got.memory.clone()),
                ("ecs.image", want.image.clone(), got.image.clone()),
                ("ecs.execution_role", want.execution_role.clone(), got.execution_role.clone()),
                ("ecs.task_role", want.task_role.clone(), got.task_role.clone()),
                ("ecs.log_group", want.log_group.clone(), got.log_group.clone()),
                ("ecs.environment", format!("{:?}", want.environment), format!("{:?}", got.environment)),
                ("ecs.readonly_root_filesystem", want.readonly_root.to_string(), got.readonly_root.to_string()),
                ("ecs.privileged", want.privileged.to_string(), got.privileged.to_string()),
                ("ecs.container_port", want.port.to_string(), got.port.to_string()),
            ] {
                if w != g {
                    changes.push(Change::new(field, w, g));
                }
            }
        }
    }
    changes.extend(tag_changes(&ctx.tags(id, &family(ctx)), ecs_tag_pairs(&tags)));
    Ok(Found::Present { attrs: attrs([("family", family(ctx)), ("arn", td.task_definition_arn().unwrap_or_default().to_string())]), changes })
}

pub async fn apply_task_definition(ctx: &Ctx, id: &str, _found: &Found) -> Result<Attrs> {
    let shape = desired_shape(ctx)?;
    let fam = family(ctx);
    let log = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &shape.log_group)
        .options("awslogs-region", &ctx.region)
        .options("awslogs-stream-prefix", CONTAINER)
        .build()?;
    let container = ContainerDefinition::builder()
        .name(CONTAINER)
        .image(&shape.image)
        .essential(true)
        .readonly_root_filesystem(shape.readonly_root)
        .privileged(false)
        .port_mappings(PortMapping::builder().container_port(shape.port).protocol(TransportProtocol::Tcp).build())
        .log_configuration(log)
        .set_environment(Some(environment(ctx)?.into_iter().map(|(k, v)| KeyValuePair::builder().name(k).value(v).build()).collect()))
        .build();
    let out = ctx
        .clients
        .ecs
        .register_task_definition()
        .family(&fam)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu(&shape.cpu)
        .memory(&shape.memory)
        .execution_role_arn(&shape.execution_role)
        .task_role_arn(&shape.task_role)
        .container_definitions(container)
        .set_tags(Some(ecs_tags(ctx.tags(id, &fam))))
        .send()
        .await
        .ctx("ecs", "RegisterTaskDefinition", &fam)?;
    let arn = out.task_definition().and_then(|t| t.task_definition_arn()).unwrap_or_default().to_string();
    Ok(attrs([("family", fam), ("arn", arn)]))
}

pub async fn delete_task_definition(ctx: &Ctx, _id: &str) -> Result<Option<String>> {
    let fam = family(ctx);
    let ecs = &ctx.clients.ecs;
    let mut arns = Vec::new();
    let mut pages = ecs.list_task_definitions().family_prefix(&fam).status(TaskDefinitionStatus::Active).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("ecs", "ListTaskDefinitions", &fam)?;
        arns.extend(page.task_definition_arns().iter().filter(|a| a.contains(&format!("/{fam}:"))).cloned());
    }
    if arns.is_empty() {
        return Ok(None);
    }
    for arn in &arns {
        ecs.deregister_task_definition().task_definition(arn).send().await.ctx("ecs", "DeregisterTaskDefinition", arn)?;
    }
    // deregistered revisions stay (INACTIVE, still tagged) until deleted
    for chunk in arns.chunks(10) {
        ecs.delete_task_definitions().set_task_definitions(Some(chunk.to_vec())).send().await.ctx("ecs", "DeleteTaskDefinitions", &fam)?;
    }
    Ok(Some(format!("{fam} ({} revision(s))", arns.len())))
}

pub fn service_name(ctx: &Ctx) -> String {
    super::names::service(&ctx.stack)
}

async fn describe_service(ctx: &Ctx) -> Result<Option<aws_sdk_ecs::types::Service>> {
    let name = service_name(ctx);
    let out =
        ctx.clients.ecs.describe_services().cluster(cluster_name(ctx)).services(&name).include(aws_sdk_ecs::types::ServiceField::Tags).send().await.found(
            "ecs",
            "DescribeServices",
            &name,
            &["ClusterNotFoundException"],
        )?;
    Ok(out.and_then(|o| o.services().iter().find(|s| s.status() == Some("ACTIVE")).cloned()))
}

fn private_subnets(ctx: &Ctx) -> Vec<String> {
    (0..ctx.stack.spec.network.az_count).filter_map(|i| ctx.get(&private_subnet_id(i), "id")).collect()
}

pub async fn inspect_service(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(s) = describe_service(ctx).await? else { return Ok(Found::Absent) };
    ctx.claim(id, "ecs:service", &service_name(ctx), ecs_tag_pairs(s.tags()))?;
    let mut changes = Vec::new();
    diff(&mut changes, "ecs.desired_count", ctx.stack.spec.ecs.desired_count, s.desired_count());
    if let Some(td) = ctx.get("task-definition", "arn") {
        diff(&mut changes, "ecs.task_definition", Some(td.as_str()), s.task_definition());
    }
    let net = s.network_configuration().and_then(|n| n.awsvpc_configuration());
    diff(&mut changes, "ecs.assign_public_ip", "DISABLED", net.and_then(|n| n.assign_public_ip()).map(|a| a.as_str()).unwrap_or("DISABLED"));
    let subnets: BTreeSet<String> = net.map(|n| n.subnets().iter().cloned().collect()).unwrap_or_default();
    let want: BTreeSet<String> = private_subnets(ctx).into_iter().collect();
    if !want.is_empty() {
        diff(&mut changes, "ecs.subnets", want, subnets);
    }
    if let Some(sg) = ctx.get("ecs-tasks-sg", "id") {
        let got: BTreeSet<String> = net.map(|n| n.security_groups().iter().cloned().collect()).unwrap_or_default();
        diff(&mut changes, "ecs.security_groups", BTreeSet::from([sg]), got);
    }
    changes.extend(tag_changes(&ctx.tags(id, &service_name(ctx)), ecs_tag_pairs(s.tags())));
    Ok(Found::Present { attrs: attrs([("name", service_name(ctx)), ("arn", s.service_arn().unwrap_or_default().to_string())]), changes })
}

fn network(ctx: &Ctx) -> Result<NetworkConfiguration> {
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(private_subnets(ctx)))
                .security_groups(ctx.need("ecs-tasks-sg", "id")?)
                .assign_public_ip(AssignPublicIp::Disabled)
                .build()?,
        )
        .build())
}

pub async fn apply_service(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let ecs = &ctx.clients.ecs;
    let name = service_name(ctx);
    let td = ctx.need("task-definition", "arn")?;
    let arn = match found {
        Found::Absent => ecs
            .create_service()
            .cluster(cluster_name(ctx))
            .service_name(&name)
            .task_definition(&td)
            .desired_count(ctx.stack.spec.ecs.desired_count)
            .launch_type(LaunchType::Fargate)
            .network_configuration(network(ctx)?)
            .propagate_tags(PropagateTags::Service)
            .enable_ecs_managed_tags(true)
            .set_tags(Some(ecs_tags(ctx.tags(id, &name))))
            .send()
            .await
            .ctx("ecs", "CreateService", &name)?
            .service()
            .and_then(|s| s.service_arn())
            .unwrap_or_default()
            .to_string(),
        Found::Present { attrs, .. } => {
            ecs.update_service()
                .cluster(cluster_name(ctx))
                .service(&name)
                .task_definition(&td)
                .desired_count(ctx.stack.spec.ecs.desired_count)
                .network_configuration(network(ctx)?)
                .send()
                .await
                .ctx("ecs", "UpdateService", &name)?;
            ecs.tag_resource().resource_arn(&attrs["arn"]).set_tags(Some(ecs_tags(ctx.tags(id, &name)))).send().await.ctx("ecs", "TagResource", &name)?;
            attrs["arn"].clone()
        }
    };
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete_service(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some(s) = describe_service(ctx).await? else { return Ok(None) };
    if !ctx.owns(id, ecs_tag_pairs(s.tags())) {
        return Ok(None);
    }
    let name = service_name(ctx);
    let ecs = &ctx.clients.ecs;
    ecs.delete_service().cluster(cluster_name(ctx)).service(&name).force(true).send().await.ctx("ecs", "DeleteService", &name)?;
    // tasks must stop (and release their network interfaces) before subnets and groups go
    wait_for(&format!("service {name} to drain"), Duration::from_secs(5), Duration::from_secs(900), || async {
        Ok(describe_service(ctx).await?.is_none().then_some(()))
    })
    .await?;
    Ok(Some(name))
}
