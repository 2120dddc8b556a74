//! The data plane: the Kinesis stream, the database credentials secret, and RDS PostgreSQL
//! (subnet group, parameter group forcing SSL, the encrypted private instance).

use super::nodes::private_subnet_id;
use super::secret::{generate_password, generate_username, Sensitive};
use super::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found};
use crate::error::{Error, Result, SdkResultExt};
use crate::spec::Engine;
use aws_sdk_kinesis::types::{EncryptionType, StreamStatus};
use aws_sdk_rds::types::{ApplyMethod, Parameter};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

// ---------- Kinesis ----------

pub fn stream_name(ctx: &Ctx) -> String {
    super::names::stream(&ctx.stack)
}

async fn stream_tags(ctx: &Ctx, name: &str) -> Result<Vec<(String, String)>> {
    let out = ctx.clients.kinesis.list_tags_for_stream().stream_name(name).send().await.ctx("kinesis", "ListTagsForStream", name)?;
    Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string())).collect())
}

pub async fn inspect_stream(ctx: &Ctx, id: &str) -> Result<Found> {
    let name = stream_name(ctx);
    let k = &ctx.clients.kinesis;
    let Some(out) =
        k.describe_stream_summary().stream_name(&name).send().await.found("kinesis", "DescribeStreamSummary", &name, &["ResourceNotFoundException"])?
    else {
        return Ok(Found::Absent);
    };
    let Some(s) = out.stream_description_summary() else { return Ok(Found::Absent) };
    if s.stream_status() == &StreamStatus::Deleting {
        return Ok(Found::Absent);
    }
    let tags = stream_tags(ctx, &name).await?;
    if tags.is_empty() && ctx.inherited(id, &name) {
        tracing::info!("stream {name}: the interrupted run that held the lock was creating it; adopting it");
    } else {
        ctx.claim(id, "kinesis:stream", &name, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    }
    let spec = &ctx.stack.spec.kinesis;
    let mut changes = Vec::new();
    diff(&mut changes, "kinesis.encryption", "KMS", s.encryption_type().map(|e| e.as_str()).unwrap_or("NONE"));
    if let Some(key) = ctx.get("data-key", "arn") {
        diff(&mut changes, "kinesis.kms_key", Some(key.as_str()), s.key_id());
    }
    diff(&mut changes, "kinesis.retention_hours", spec.retention_hours as i32, s.retention_period_hours());
    diff(&mut changes, "kinesis.shard_count", spec.shard_count as i32, s.open_shard_count());
    changes.extend(tag_changes(&ctx.tags(id, &name), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    Ok(Found::Present { attrs: attrs([("name", name), ("arn", s.stream_arn().to_string())]), changes })
}

async fn wait_stream_active(ctx: &Ctx, name: &str) -> Result<String> {
    wait_for(&format!("stream {name}"), Duration::from_secs(2), Duration::from_secs(300), || async {
        let out = ctx.clients.kinesis.describe_stream_summary().stream_name(name).send().await.ctx("kinesis", "DescribeStreamSummary", name)?;
        Ok(out.stream_description_summary().filter(|s| s.stream_status() == &StreamStatus::Active).map(|s| s.stream_arn().to_string()))
    })
    .await
}

pub async fn apply_stream(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let k = &ctx.clients.kinesis;
    let name = stream_name(ctx);
    let spec = &ctx.stack.spec.kinesis;
    let key = ctx.need("data-key", "arn")?;
    let changes: Vec<Change> = match found {
        Found::Absent => {
            // tags at creation; AddTagsToStream below sets them again once the stream is ACTIVE,
            // for endpoints that ignore creation tags (moto drops them). Until then the stream
            // is journalled on the stack lock, so a run killed in between is resumed by the
            // next one instead of leaving an untagged stream it would refuse to adopt.
            ctx.journal_begin(id, &name).await?;
            let tags: HashMap<String, String> = ctx.tags(id, &name).into_iter().collect();
            k.create_stream().stream_name(&name).shard_count(spec.shard_count as i32).set_tags(Some(tags)).send().await.ctx(
                "kinesis",
                "CreateStream",
                &name,
            )?;
            vec![]
        }
        Found::Present { changes, .. } => changes.clone(),
    };
    let created = matches!(found, Found::Absent);
    let arn = wait_stream_active(ctx, &name).await?;
    let has = |f: &str| created || changes.iter().any(|c| c.field == f || c.field.starts_with(f));
    if has("tags.") {
        let tags: HashMap<String, String> = ctx.tags(id, &name).into_iter().collect();
        k.add_tags_to_stream().stream_name(&name).set_tags(Some(tags)).send().await.ctx("kinesis", "AddTagsToStream", &name)?;
        ctx.journal_end(id).await?;
    }
    if has("kinesis.encryption") || has("kinesis.kms_key") {
        k.start_stream_encryption().stream_name(&name).encryption_type(EncryptionType::Kms).key_id(&key).send().await.ctx(
            "kinesis",
            "StartStreamEncryption",
            &name,
        )?;
        wait_stream_active(ctx, &name).await?;
    }
    if has("kinesis.retention_hours") {
        let current = k.describe_stream_summary().stream_name(&name).send().await.ctx("kinesis", "DescribeStreamSummary", &name)?;
        let current = current.stream_description_summary().map(|s| s.retention_period_hours()).unwrap_or(24);
        let want = spec.retention_hours as i32;
        if want > current {
            k.increase_stream_retention_period().stream_name(&name).retention_period_hours(want).send().await.ctx(
                "kinesis",
                "IncreaseStreamRetentionPeriod",
                &name,
            )?;
        } else if want < current {
            k.decrease_stream_retention_period().stream_name(&name).retention_period_hours(want).send().await.ctx(
                "kinesis",
                "DecreaseStreamRetentionPeriod",
                &name,
            )?;
        }
        wait_stream_active(ctx, &name).await?;
    }
    if !created && has("kinesis.shard_count") {
        k.update_shard_count()
            .stream_name(&name)
            .target_shard_count(spec.shard_count as i32)
            .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
            .send()
            .await
            .ctx("kinesis", "UpdateShardCount", &name)?;
        wait_stream_active(ctx, &name).await?;
    }
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete_stream(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let name = stream_name(ctx);
    let k = &ctx.clients.kinesis;
    if k.describe_stream_summary().stream_name(&name).send().await.found("kinesis", "DescribeStreamSummary", &name, &["ResourceNotFoundException"])?.is_none() {
        return Ok(None);
    }
    let tags = stream_tags(ctx, &name).await?;
    if !ctx.owns(id, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        tracing::warn!("stream {name} does not carry this stack's tags; left alone");
        return Ok(None);
    }
    k.delete_stream().stream_name(&name).enforce_consumer_deletion(true).send().await.ctx("kinesis", "DeleteStream", &name)?;
    Ok(Some(name))
}

// ---------- Secrets Manager ----------

pub fn secret_name(ctx: &Ctx) -> String {
    super::names::secret(&ctx.stack)
}

pub async fn inspect_secret(ctx: &Ctx, id: &str) -> Result<Found> {
    let name = secret_name(ctx);
    let sm = &ctx.clients.secrets;
    let Some(s) = sm.describe_secret().secret_id(&name).send().await.found("secretsmanager", "DescribeSecret", &name, &["ResourceNotFoundException"])? else {
        return Ok(Found::Absent);
    };
    ctx.claim(id, "secretsmanager:secret", &name, s.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())))?;
    let mut changes = Vec::new();
    if s.deleted_date().is_some() {
        changes.push(Change::new("secret.state", "active", "scheduled for deletion"));
    }
    if let Some(key) = ctx.get("data-key", "arn") {
        let got = s.kms_key_id().unwrap_or("aws/secretsmanager (AWS-managed)");
        let id_only = key.rsplit('/').next().unwrap_or_default();
        if got != key && got != id_only {
            changes.push(Change::new("secret.kms_key", &key, got));
        }
    }
    changes.extend(tag_changes(&ctx.tags(id, &name), s.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))));
    Ok(Found::Present { attrs: attrs([("name", name), ("arn", s.arn().unwrap_or_default().to_string())]), changes })
}

fn sm_tags(tags: std::collections::BTreeMap<String, String>) -> Vec<aws_sdk_secretsmanager::types::Tag> {
    tags.into_iter().map(|(k, v)| aws_sdk_secretsmanager::types::Tag::builder().key(k).value(v).build()).collect()
}

pub async fn apply_secret(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let sm = &ctx.clients.secrets;
    let name = secret_name(ctx);
    let key = ctx.need("data-key", "arn")?;
    let arn = match found {
        Found::Absent => {
            let username = ctx.stack.spec.database.master_username.clone().unwrap_or_else(generate_username);
            let password = generate_password();
            let value = Sensitive::new(
                json!({
                    "username": username,
                    "password": password.expose(),
                    "engine": "postgres",
                    "port": ctx.stack.spec.database.port,
                    "dbname": ctx.stack.spec.database.db_name,
                })
                .to_string(),
            );
            sm.create_secret()
                .name(&name)
                .description(format!("{} database master credentials (generated by tapaudit)", ctx.stack.prefix()))
                .kms_key_id(&key)
                .secret_string(value.expose())
                .set_tags(Some(sm_tags(ctx.tags(id, &name))))
                .send()
                .await
                .ctx("secretsmanager", "CreateSecret", &name)?
                .arn()
                .unwrap_or_default()
                .to_string()
        }
        Found::Present { attrs, changes } => {
            if changes.iter().any(|c| c.field == "secret.state") {
                sm.restore_secret().secret_id(&name).send().await.ctx("secretsmanager", "RestoreSecret", &name)?;
            }
            if changes.iter().any(|c| c.field == "secret.kms_key") {
                sm.update_secret().secret_id(&name).kms_key_id(&key).send().await.ctx("secretsmanager", "UpdateSecret", &name)?;
            }
            sm.tag_resource().secret_id(&name).set_tags(Some(sm_tags(ctx.tags(id, &name)))).send().await.ctx("secretsmanager", "TagResource", &name)?;
            attrs["arn"].clone()
        }
    };
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete_secret(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let name = secret_name(ctx);
    let sm = &ctx.clients.secrets;
    let Some(s) = sm.describe_secret().secret_id(&name).send().await.found("secretsmanager", "DescribeSecret", &name, &["ResourceNotFoundException"])? else {
        return Ok(None);
    };
    if !ctx.owns(id, s.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))) {
        tracing::warn!("secret {name} does not carry this stack's tags; left alone");
        return Ok(None);
    }
    sm.delete_secret().secret_id(&name).force_delete_without_recovery(true).send().await.ctx("secretsmanager", "DeleteSecret", &name)?;
    Ok(Some(name))
}

/// The secret's JSON value (only the provisioner reads it: to hand the password to RDS and to
/// add the endpoint). Never printed.
async fn secret_value(ctx: &Ctx) -> Result<Sensitive> {
    let name = secret_name(ctx);
    let out = ctx.clients.secrets.get_secret_value().secret_id(&name).send().await.ctx("secretsmanager", "GetSecretValue", &name)?;
    Ok(Sensitive::new(out.secret_string().unwrap_or_default().to_string()))
}

fn parse_secret(s: &Sensitive) -> Result<serde_json::Map<String, Value>> {
    match serde_json::from_str::<Value>(s.expose()) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::usage("the database secret does not hold a JSON object; restore it or delete it to regenerate credentials")),
    }
}

pub async fn inspect_secret_endpoint(ctx: &Ctx) -> Result<Found> {
    let (Some(host), Some(_)) = (ctx.get("database", "endpoint"), ctx.get("db-credentials", "arn")) else {
        return Ok(Found::Absent);
    };
    let value = parse_secret(&secret_value(ctx).await?)?;
    let mut changes = Vec::new();
    diff(&mut changes, "secret.host", Some(host.as_str()), value.get("host").and_then(Value::as_str));
    let port = ctx.get("database", "port").and_then(|p| p.parse::<u64>().ok());
    diff(&mut changes, "secret.port", port, value.get("port").and_then(Value::as_u64));
    Ok(Found::Present { attrs: attrs([("host", host)]), changes })
}

pub async fn apply_secret_endpoint(ctx: &Ctx) -> Result<Attrs> {
    let name = secret_name(ctx);
    let host = ctx.need("database", "endpoint")?;
    let port: u64 = ctx.need("database", "port")?.parse().unwrap_or(5432);
    let mut value = parse_secret(&secret_value(ctx).await?)?;
    value.insert("host".into(), json!(host));
    value.insert("port".into(), json!(port));
    value.insert("dbname".into(), json!(ctx.stack.spec.database.db_name));
    let updated = Sensitive::new(Value::Object(value).to_string());
    ctx.clients.secrets.put_secret_value().secret_id(&name).secret_string(updated.expose()).send().await.ctx("secretsmanager", "PutSecretValue", &name)?;
    Ok(attrs([("host", host)]))
}

// ---------- RDS ----------

pub fn subnet_group_name(ctx: &Ctx) -> String {
    super::names::db_subnet_group(&ctx.stack)
}

fn rds_tags(tags: std::collections::BTreeMap<String, String>) -> Vec<aws_sdk_rds::types::Tag> {
    tags.into_iter().map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build()).collect()
}

fn rds_tag_pairs(tags: &[aws_sdk_rds::types::Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

async fn rds_tag_list(ctx: &Ctx, arn: &str) -> Result<Vec<aws_sdk_rds::types::Tag>> {
    let out = ctx.clients.rds.list_tags_for_resource().resource_name(arn).send().await.ctx("rds", "ListTagsForResource", arn)?;
    Ok(out.tag_list().to_vec())
}

fn private_subnets(ctx: &Ctx) -> Vec<String> {
    (0..ctx.stack.spec.network.az_count).filter_map(|i| ctx.get(&private_subnet_id(i), "id")).collect()
}

pub async fn inspect_subnet_group(ctx: &Ctx, id: &str) -> Result<Found> {
    let name = subnet_group_name(ctx);
    let Some(out) = ctx.clients.rds.describe_db_subnet_groups().db_subnet_group_name(&name).send().await.found(
        "rds",
        "DescribeDBSubnetGroups",
        &name,
        &["DBSubnetGroupNotFoundFault"],
    )?
    else {
        return Ok(Found::Absent);
    };
    let Some(g) = out.db_subnet_groups().first() else { return Ok(Found::Absent) };
    let arn = g.db_subnet_group_arn().unwrap_or_default().to_string();
    let live_tags = rds_tag_list(ctx, &arn).await?;
    ctx.claim(id, "rds:subnet-group", &name, rds_tag_pairs(&live_tags))?;
    let mut changes = Vec::new();
    let got: BTreeSet<String> = g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect();
    let want: BTreeSet<String> = private_subnets(ctx).into_iter().collect();
    if !want.is_empty() {
        diff(&mut changes, "database.subnets", want, got);
    }
    changes.extend(tag_changes(&ctx.tags(id, &name), rds_tag_pairs(&live_tags)));
    Ok(Found::Present { attrs: attrs([("name", name), ("arn", arn)]), changes })
}

pub async fn apply_subnet_group(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let rds = &ctx.clients.rds;
    let name = subnet_group_name(ctx);
    let subnets = private_subnets(ctx);
    let arn = match found {
        Found::Absent => rds
            .create_db_subnet_group()
            .db_subnet_group_name(&name)
            .db_subnet_group_description(format!("{}: private subnets only", ctx.stack.prefix()))
            .set_subnet_ids(Some(subnets))
            .set_tags(Some(rds_tags(ctx.tags(id, &name))))
            .send()
            .await
            .ctx("rds", "CreateDBSubnetGroup", &name)?
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_arn())
            .unwrap_or_default()
            .to_string(),
        Found::Present { attrs, .. } => {
            rds.modify_db_subnet_group().db_subnet_group_name(&name).set_subnet_ids(Some(subnets)).send().await.ctx("rds", "ModifyDBSubnetGroup", &name)?;
            rds.add_tags_to_resource().resource_name(&attrs["arn"]).set_tags(Some(rds_tags(ctx.tags(id, &name)))).send().await.ctx(
                "rds",
                "AddTagsToResource",
                &name,
            )?;
            attrs["arn"].clone()
        }
    };
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete_subnet_group(ctx: &Ctx, _id: &str) -> Result<Option<String>> {
    let name = subnet_group_name(ctx);
    let rds = &ctx.clients.rds;
    let Some(out) = rds.describe_db_subnet_groups().db_subnet_group_name(&name).send().await.found(
        "rds",
        "DescribeDBSubnetGroups",
        &name,
        &["DBSubnetGroupNotFoundFault"],
    )?
    else {
        return Ok(None);
    };
    let Some(arn) = out.db_subnet_groups().first().and_then(|g| g.db_subnet_group_arn()).map(str::to_string) else {
        return Ok(None);
    };
    if !ctx.owns("db-subnet-group", rds_tag_pairs(&rds_tag_list(ctx, &arn).await?)) {
        return Ok(None);
    }
    rds.delete_db_subnet_group().db_subnet_group_name(&name).send().await.ctx("rds", "DeleteDBSubnetGroup", &name)?;
    Ok(Some(name))
}

pub fn parameter_family(ctx: &Ctx) -> String {
    super::names::parameter_family(&ctx.stack)
}

pub fn parameter_group_name(ctx: &Ctx) -> String {
    super::names::parameter_group(&ctx.stack)
}

async fn force_ssl_value(ctx: &Ctx, name: &str) -> Result<Option<String>> {
    let mut pages = ctx.clients.rds.describe_db_parameters().db_parameter_group_name(name).source("user").into_paginator().items().send();
    while let Some(p) = pages.next().await {
        let p = p.ctx("rds", "DescribeDBParameters", name)?;
        if p.parameter_name() == Some("rds.force_ssl") {
            return Ok(p.parameter_value().map(str::to_string));
        }
    }
    Ok(None)
}

pub async fn inspect_parameter_group(ctx: &Ctx, id: &str) -> Result<Found> {
    let name = parameter_group_name(ctx);
    let rds = &ctx.clients.rds;
    let Some(out) = rds.describe_db_parameter_groups().db_parameter_group_name(&name).send().await.found(
        "rds",
        "DescribeDBParameterGroups",
        &name,
        &["DBParameterGroupNotFound"],
    )?
    else {
        return Ok(Found::Absent);
    };
    let Some(g) = out.db_parameter_groups().first() else { return Ok(Found::Absent) };
    let arn = g.db_parameter_group_arn().unwrap_or_default().to_string();
    let live_tags = rds_tag_list(ctx, &arn).await?;
    ctx.claim(id, "rds:parameter-group", &name, rds_tag_pairs(&live_tags))?;
    let mut changes = Vec::new();
    let want = if ctx.stack.spec.database.force_ssl { "1" } else { "0" };
    diff(&mut changes, "database.force_ssl", Some(want.to_string()), force_ssl_value(ctx, &name).await?);
    changes.extend(tag_changes(&ctx.tags(id, &name), rds_tag_pairs(&live_tags)));
    Ok(Found::Present { attrs: attrs([("name", name), ("arn", arn)]), changes })
}

pub async fn apply_parameter_group(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let rds = &ctx.clients.rds;
    let name = parameter_group_name(ctx);
    let arn = match found {
        Found::Absent => rds
            .create_db_parameter_group()
            .db_parameter_group_name(&name)
            .db_parameter_group_family(parameter_family(ctx))
            .description(format!("{}: TLS required", ctx.stack.prefix()))
            .set_tags(Some(rds_tags(ctx.tags(id, &name))))
            .send()
            .await
            .ctx("rds", "CreateDBParameterGroup", &name)?
            .db_parameter_group()
            .and_then(|g| g.db_parameter_group_arn())
            .unwrap_or_default()
            .to_string(),
        Found::Present { attrs, .. } => {
            rds.add_tags_to_resource().resource_name(&attrs["arn"]).set_tags(Some(rds_tags(ctx.tags(id, &name)))).send().await.ctx(
                "rds",
                "AddTagsToResource",
                &name,
            )?;
            attrs["arn"].clone()
        }
    };
    let value = if ctx.stack.spec.database.force_ssl { "1" } else { "0" };
    rds.modify_db_parameter_group()
        .db_parameter_group_name(&name)
        .parameters(Parameter::builder().parameter_name("rds.force_ssl").parameter_value(value).apply_method(ApplyMethod::Immediate).build())
        .send()
        .await
        .ctx("rds", "ModifyDBParameterGroup", &name)?;
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete_parameter_group(ctx: &Ctx, _id: &str) -> Result<Option<String>> {
    let name = parameter_group_name(ctx);
    let rds = &ctx.clients.rds;
    let Some(out) = rds.describe_db_parameter_groups().db_parameter_group_name(&name).send().await.found(
        "rds",
        "DescribeDBParameterGroups",
        &name,
        &["DBParameterGroupNotFound"],
    )?
    else {
        return Ok(None);
    };
    let Some(arn) = out.db_parameter_groups().first().and_then(|g| g.db_parameter_group_arn()).map(str::to_string) else {
        return Ok(None);
    };
    if !ctx.owns("db-parameter-group", rds_tag_pairs(&rds_tag_list(ctx, &arn).await?)) {
        return Ok(None);
    }
    rds.delete_db_parameter_group().db_parameter_group_name(&name).send().await.ctx("rds", "DeleteDBParameterGroup", &name)?;
    Ok(Some(name))
}

pub fn db_identifier(ctx: &Ctx) -> String {
    super::names::db_instance(&ctx.stack)
}

async fn describe_db(ctx: &Ctx) -> Result<Option<aws_sdk_rds::types::DbInstance>> {
    let ident = db_identifier(ctx);
    let out = ctx.clients.rds.describe_db_instances().db_instance_identifier(&ident).send().await.found(
        "rds",
        "DescribeDBInstances",
        &ident,
        &["DBInstanceNotFound", "DBInstanceNotFoundFault"],
    )?;
    Ok(out.and_then(|o| o.db_instances().first().cloned()))
}

fn db_attrs(db: &aws_sdk_rds::types::DbInstance) -> Attrs {
    let endpoint = db.endpoint();
    attrs([
        ("id", db.db_instance_identifier().unwrap_or_default().to_string()),
        ("arn", db.db_instance_arn().unwrap_or_default().to_string()),
        ("endpoint", endpoint.and_then(|e| e.address()).unwrap_or_default().to_string()),
        ("port", endpoint.and_then(|e| e.port()).map(|p| p.to_string()).unwrap_or_default()),
    ])
}

/// Settings that `ModifyDBInstance` can change in place.
fn db_changes(ctx: &Ctx, db: &aws_sdk_rds::types::DbInstance) -> Vec<Change> {
    let d = &ctx.stack.spec.database;
    let mut c = Vec::new();
    diff(&mut c, "database.storage_encrypted", Some(true), db.storage_encrypted());
    if let Some(key) = ctx.get("data-key", "arn") {
        diff(&mut c, "database.kms_key", Some(key.as_str()), db.kms_key_id());
    }
    diff(&mut c, "database.publicly_accessible", Some(false), db.publicly_accessible());
    diff(&mut c, "database.backup_retention_days", Some(d.backup_retention_days as i32), db.backup_retention_period());
    diff(&mut c, "database.backup_window", Some(d.backup_window.as_str()), db.preferred_backup_window());
    let exports: BTreeSet<&str> = db.enabled_cloudwatch_logs_exports().iter().map(String::as_str).collect();
    diff(&mut c, "database.log_exports", d.log_exports.iter().map(String::as_str).collect::<BTreeSet<_>>(), exports);
    diff(&mut c, "database.multi_az", Some(d.multi_az), db.multi_az());
    diff(&mut c, "database.deletion_protection", Some(d.deletion_protection), db.deletion_protection());
    diff(&mut c, "database.instance_class", Some(d.instance_class.as_str()), db.db_instance_class());
    diff(&mut c, "database.engine_version", Some(d.engine_version.as_str()), db.engine_version());
    diff(&mut c, "database.subnet_group", Some(subnet_group_name(ctx)), db.db_subnet_group().and_then(|g| g.db_subnet_group_name()).map(str::to_string));
    let pgs: Vec<&str> = db.db_parameter_groups().iter().filter_map(|p| p.db_parameter_group_name()).collect();
    diff(&mut c, "database.parameter_group", vec![parameter_group_name(ctx)], pgs.iter().map(|s| s.to_string()).collect());
    if let Some(sg) = ctx.get("db-sg", "id") {
        let got: Vec<&str> = db.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
        diff(&mut c, "database.security_groups", vec![sg.as_str()], got);
    }
    c
}

pub async fn inspect_database(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(db) = describe_db(ctx).await? else { return Ok(Found::Absent) };
    ctx.claim(id, "rds:db-instance", &db_identifier(ctx), rds_tag_pairs(db.tag_list()))?;
    if db.db_instance_status() == Some("deleting") {
        return Err(Error::usage(format!("database {} is being deleted; run provision again once it is gone", db_identifier(ctx))));
    }
    let mut changes = db_changes(ctx, &db);
    changes.extend(tag_changes(&ctx.tags(id, &db_identifier(ctx)), rds_tag_pairs(db.tag_list())));
    Ok(Found::Present { attrs: db_attrs(&db), changes })
}

async fn wait_db_available(ctx: &Ctx) -> Result<aws_sdk_rds::types::DbInstance> {
    let ident = db_identifier(ctx);
    wait_for(&format!("database {ident}"), Duration::from_secs(10), Duration::from_secs(2400), || async {
        Ok(describe_db(ctx).await?.filter(|db| db.db_instance_status() == Some("available")))
    })
    .await
}

pub async fn apply_database(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let d = &ctx.stack.spec.database;
    if d.engine != Engine::Postgres {
        return Err(Error::usage("database.engine: only postgres is provisioned by this version"));
    }
    let rds = &ctx.clients.rds;
    let ident = db_identifier(ctx);
    let key = ctx.need("data-key", "arn")?;
    let sg = ctx.need("db-sg", "id")?;
    match found {
        Found::Absent => {
            let creds = parse_secret(&secret_value(ctx).await?)?;
            let username = creds.get("username").and_then(Value::as_str).unwrap_or_default().to_string();
            let password = Sensitive::new(creds.get("password").and_then(Value::as_str).unwrap_or_default().to_string());
            if username.is_empty() || password.expose().is_empty() {
                return Err(Error::usage(format!("secret {} lacks username/password", secret_name(ctx))));
            }
            rds.create_db_instance()
                .db_instance_identifier(&ident)
                .engine(d.engine.as_str())
                .engine_version(&d.engine_version)
                .db_instance_class(&d.instance_class)
                .allocated_storage(d.allocated_storage_gb as i32)
                .storage_type(&d.storage_type)
                .storage_encrypted(true)
                .kms_key_id(&key)
                .master_username(&username)
                .master_user_password(password.expose())
                .db_name(&d.db_name)
                .port(d.port as i32)
                .publicly_accessible(false)
                .db_subnet_group_name(subnet_group_name(ctx))
                .vpc_security_group_ids(&sg)
                .db_parameter_group_name(parameter_group_name(ctx))
                .backup_retention_period(d.backup_retention_days as i32)
                .preferred_backup_window(&d.backup_window)
                .set_enable_cloudwatch_logs_exports(Some(d.log_exports.clone()))
                .multi_az(d.multi_az)
                .deletion_protection(d.deletion_protection)
                .copy_tags_to_snapshot(true)
                .auto_minor_version_upgrade(true)
                .set_tags(Some(rds_tags(ctx.tags(id, &ident))))
                .send()
                .await
                .ctx("rds", "CreateDBInstance", &ident)?;
        }
        Found::Present { changes, attrs } => {
            let immutable: Vec<&Change> = changes.iter().filter(|c| c.field == "database.storage_encrypted" || c.field == "database.kms_key").collect();
            if let Some(c) = immutable.first() {
                return Err(Error::usage(format!(
                    "{} cannot be changed on an existing instance (want {}, got {}): restore an encrypted snapshot copy",
                    c.field, c.want, c.got
                )));
            }
            let db = wait_db_available(ctx).await?;
            let current_exports: BTreeSet<String> = db.enabled_cloudwatch_logs_exports().iter().cloned().collect();
            let want_exports: BTreeSet<String> = d.log_exports.iter().cloned().collect();
            let enable: Vec<String> = want_exports.difference(&current_exports).cloned().collect();
            let disable: Vec<String> = current_exports.difference(&want_exports).cloned().collect();
            let mut m = rds
                .modify_db_instance()
                .db_instance_identifier(&ident)
                .apply_immediately(true)
                .publicly_accessible(false)
                .backup_retention_period(d.backup_retention_days as i32)
                .preferred_backup_window(&d.backup_window)
                .multi_az(d.multi_az)
                .deletion_protection(d.deletion_protection)
                .db_instance_class(&d.instance_class)
                .db_subnet_group_name(subnet_group_name(ctx))
                .vpc_security_group_ids(&sg)
                .db_parameter_group_name(parameter_group_name(ctx));
            if changes.iter().any(|c| c.field == "database.engine_version") {
                m = m.engine_version(&d.engine_version).allow_major_version_upgrade(false);
            }
            if !enable.is_empty() || !disable.is_empty() {
                m = m.cloudwatch_logs_export_configuration(
                    aws_sdk_rds::types::CloudwatchLogsExportConfiguration::builder()
                        .set_enable_log_types(Some(enable))
                        .set_disable_log_types(Some(disable))
                        .build(),
                );
            }
            m.send().await.ctx("rds", "ModifyDBInstance", &ident)?;
            if changes.iter().any(|c| c.field.starts_with("tags.")) {
                rds.add_tags_to_resource().resource_name(&attrs["arn"]).set_tags(Some(rds_tags(ctx.tags(id, &ident)))).send().await.ctx(
                    "rds",
                    "AddTagsToResource",
                    &ident,
                )?;
            }
        }
    }
    let db = wait_db_available(ctx).await?;
    Ok(db_attrs(&db))
}

pub async fn delete_database(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some(db) = describe_db(ctx).await? else { return Ok(None) };
    let ident = db_identifier(ctx);
    if !ctx.owns(id, rds_tag_pairs(db.tag_list())) {
        tracing::warn!("database {ident} does not carry this stack's tags; left alone");
        return Ok(None);
    }
    let rds = &ctx.clients.rds;
    if db.db_instance_status() != Some("deleting") {
        if db.deletion_protection() == Some(true) {
            rds.modify_db_instance().db_instance_identifier(&ident).deletion_protection(false).apply_immediately(true).send().await.ctx(
                "rds",
                "ModifyDBInstance",
                &ident,
            )?;
        }
        let snapshot = ctx.final_snapshot.then(|| final_snapshot_id(&ident, time::OffsetDateTime::now_utc()));
        let delete = rds.delete_db_instance().db_instance_identifier(&ident).delete_automated_backups(true);
        let delete = match &snapshot {
            Some(snap) => delete.skip_final_snapshot(false).final_db_snapshot_identifier(snap),
            None => delete.skip_final_snapshot(true),
        };
        delete.send().await.ctx("rds", "DeleteDBInstance", &ident)?;
        if let Some(snap) = snapshot {
            // DeleteDBInstance cannot tag its final snapshot (CopyTagsToSnapshot copies the
            // instance's tags on AWS); tag it right after, so it carries the stack's tags anyway
            let arn = ctx.arn("rds", &format!("snapshot:{snap}"));
            let tags = rds_tags(ctx.tags(FINAL_SNAPSHOT_LOGICAL_ID, &snap));
            if let Err(e) = rds.add_tags_to_resource().resource_name(&arn).set_tags(Some(tags)).send().await.ctx("rds", "AddTagsToResource", &snap) {
                eprintln!("warning: final snapshot {snap} could not be tagged with the stack's tags: {e}");
            }
            eprintln!("final snapshot {snap} of database {ident} (kept after destroy; delete it with rds DeleteDBSnapshot when no longer needed)");
            ctx.set(id, attrs([("final_snapshot", snap)]));
        }
    }
    wait_for(&format!("deletion of database {ident}"), Duration::from_secs(10), Duration::from_secs(2400), || async {
        Ok(describe_db(ctx).await?.is_none().then_some(()))
    })
    .await?;
    Ok(Some(match ctx.get(id, "final_snapshot") {
        Some(snap) => format!("{ident} (final snapshot {snap})"),
        None => ident,
    }))
}

/// The logical id on a final snapshot's tags: it belongs to the stack but is not one of its
/// declared resources.
pub const FINAL_SNAPSHOT_LOGICAL_ID: &str = "database-final-snapshot";

/// `<db>-final-<UTC yyyymmdd-hhmmss>`: letters, digits and single hyphens, as RDS requires.
pub fn final_snapshot_id(db: &str, at: time::OffsetDateTime) -> String {
    format!("{db}-final-{:04}{:02}{:02}-{:02}{:02}{:02}", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_snapshot_ids_are_valid_rds_identifiers_and_sort_by_time() {
        let at = time::macros::datetime!(2026-12-01 08:05:09 UTC);
        let id = final_snapshot_id("tapaudit-dev-db", at);
        assert_eq!(id, "tapaudit-dev-db-final-20261201-080509");
        assert!(id.chars().next().unwrap().is_ascii_lowercase());
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        assert!(!id.contains("--") && !id.ends_with('-') && id.len() <= 255);
        let later = final_snapshot_id("tapaudit-dev-db", time::macros::datetime!(2026-12-01 10:00:00 UTC));
        assert!(later > id);
    }
}
