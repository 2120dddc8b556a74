//! `[load_balancers.<id>]`: an Application Load Balancer in the public (internet-facing) or
//! private (internal) subnets, with an HTTPS listener (TLS 1.2+ policy; the certificate from
//! the stack file, or requested from ACM with DNS validation), an HTTP listener that only
//! redirects to HTTPS, a target group that speaks HTTPS to its (ip) targets, invalid header
//! fields dropped, and access logs to the stack's bucket.

use super::{desired_ids, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::elbv2::{Action, Certificate as CertModel, Listener, LoadBalancer as Model, Rule, TargetGroup};
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, Attrs, Ctx, Found, Node};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as SdkAction, ActionTypeEnum, Certificate, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum, RedirectActionConfig,
    RedirectActionStatusCodeEnum, Tag, TargetTypeEnum,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// ELBv2's limit on load balancer and target group names.
pub const NAME_LIMIT: usize = 32;
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadBalancer {
    /// `internal` (default: in the private subnets) or `internet-facing` (in the public ones).
    pub scheme: String,
    /// The security group (logical id) of the load balancer. Required.
    pub security_group: String,
    /// The HTTPS listener's certificate: an ACM certificate ARN...
    pub certificate_arn: Option<String>,
    /// ...or a domain name: the node `<id>-certificate` requests a certificate from ACM (DNS
    /// validation) and waits until it is issued.
    pub domain_name: Option<String>,
    /// The HTTPS listener's security policy: a TLS 1.2+ ELB policy.
    pub ssl_policy: String,
    /// The port the targets (the service's containers) listen on.
    pub target_port: u16,
    /// The protocol to the targets: HTTPS (default) or HTTP.
    pub target_protocol: String,
    /// The target group's health-check path.
    pub health_check_path: String,
    /// Deletion protection (destroy turns it off first).
    pub deletion_protection: bool,
    /// The bucket (logical id) that receives the access logs. Required.
    pub access_logs_bucket: String,
}

impl Default for LoadBalancer {
    fn default() -> Self {
        LoadBalancer {
            scheme: "internal".into(),
            security_group: String::new(),
            certificate_arn: None,
            domain_name: None,
            ssl_policy: DEFAULT_SSL_POLICY.into(),
            target_port: 8443,
            target_protocol: "HTTPS".into(),
            health_check_path: "/health".into(),
            deletion_protection: true,
            access_logs_bucket: String::new(),
        }
    }
}

fn https_listener(id: &str) -> String {
    format!("{id}-https-listener")
}
fn http_listener(id: &str) -> String {
    format!("{id}-http-listener")
}
fn target_group(id: &str) -> String {
    format!("{id}-target-group")
}
fn certificate(id: &str) -> String {
    format!("{id}-certificate")
}
fn tg_name(cx: &Cx) -> String {
    cx.name(&format!("{}-tg", cx.id))
}

/// The subnets (node ids) the load balancer is in.
fn subnets(cx: &Cx, scheme: &str) -> Vec<String> {
    if scheme == "internet-facing" {
        super::network::public_subnets(cx.stack)
    } else {
        super::network::private_subnets(cx.stack)
    }
}

/// The attributes the blueprint sets, as ELBv2 names them.
fn attributes(lb: &LoadBalancer, bucket: &str, prefix: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("routing.http.drop_invalid_header_fields.enabled".to_string(), "true".to_string()),
        ("deletion_protection.enabled".to_string(), lb.deletion_protection.to_string()),
        ("access_logs.s3.enabled".to_string(), "true".to_string()),
        ("access_logs.s3.bucket".to_string(), bucket.to_string()),
        ("access_logs.s3.prefix".to_string(), prefix.to_string()),
    ])
}

fn forward(target_group_arn: &str) -> Action {
    Action { action_type: "forward".into(), redirect_protocol: None, fixed_response_body: None, target_group_arns: vec![target_group_arn.to_string()] }
}
fn redirect() -> Action {
    Action { action_type: "redirect".into(), redirect_protocol: Some("HTTPS".into()), fixed_response_body: None, target_group_arns: vec![] }
}

/// RequestCertificate's idempotency token: ACM answers a repeated token (for an hour) with the
/// first request's certificate, even when that certificate was deleted since; so the token
/// names this request (the node and the second it is made), and SDK retries of the same call
/// reuse it. Letters and digits, at most 32.
fn request_token(node: &str, unix_seconds: i64) -> String {
    let at = format!("{:x}", unix_seconds.max(0));
    let base: String = node.chars().filter(|c| c.is_ascii_alphanumeric()).take(32 - at.len()).collect();
    format!("{base}{at}")
}

/// How long ACM's Amazon-issued public certificates are valid (198 days since the CA/Browser
/// Forum's 2026 limit; ACM renews them while in use): the pre-deployment view of a certificate
/// the stack requests (provision waits for it to be ISSUED before the listener presents it).
pub const ACM_PUBLIC_VALIDITY_DAYS: i64 = 198;

impl Component for LoadBalancer {
    const KIND: Kind = Kind::LoadBalancer;

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if !self.security_group.is_empty() {
            out.push(Reference::new("security_group", &self.security_group, &[Kind::SecurityGroup]));
        }
        if !self.access_logs_bucket.is_empty() {
            out.push(Reference::new("access_logs_bucket", &self.access_logs_bucket, &[Kind::Bucket]));
        }
        out
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if !["internal", "internet-facing"].contains(&self.scheme.as_str()) {
            out.push(cx.problem("scheme", format!("must be internal or internet-facing (got {:?})", self.scheme)));
        }
        if self.security_group.is_empty() {
            out.push(cx.problem("security_group", "is required: the security group (logical id) of the load balancer"));
        }
        if self.access_logs_bucket.is_empty() {
            out.push(cx.problem("access_logs_bucket", "is required: the bucket (logical id) that receives the access logs"));
        }
        match (&self.certificate_arn, &self.domain_name) {
            (Some(_), Some(_)) => {
                out.push(cx.problem("certificate_arn", "and domain_name are exclusive: give an ACM certificate ARN or a domain to request one for"))
            }
            (None, None) => out.push(cx.problem("", "needs a certificate for its HTTPS listener: set certificate_arn or domain_name")),
            (Some(arn), None) if !arn.starts_with("arn:aws") || !arn.contains(":acm:") || !arn.contains(":certificate/") => out
                .push(cx.problem("certificate_arn", format!("must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id> (got {arn:?})"))),
            (None, Some(d)) if !valid_domain(d) => out.push(cx.problem("domain_name", format!("must be a DNS name such as app.example.org (got {d:?})"))),
            _ => {}
        }
        if !crate::controls::is_tls12_plus_policy(&self.ssl_policy) {
            out.push(cx.problem(
                "ssl_policy",
                format!("{:?} admits TLS versions older than 1.2: use {DEFAULT_SSL_POLICY} or another TLS 1.2+ ELB policy", self.ssl_policy),
            ));
        }
        if self.target_port == 0 {
            out.push(cx.problem("target_port", "must be between 1 and 65535"));
        }
        if !["HTTPS", "HTTP"].contains(&self.target_protocol.as_str()) {
            out.push(cx.problem("target_protocol", format!("must be HTTPS or HTTP (got {:?})", self.target_protocol)));
        }
        if !self.health_check_path.starts_with('/') || self.health_check_path.len() > 1024 {
            out.push(cx.problem("health_check_path", format!("must be a path starting with / (got {:?})", self.health_check_path)));
        }
        for (what, name) in [("load balancer", cx.name(cx.id)), ("target group", tg_name(cx))] {
            if name.len() > NAME_LIMIT {
                out.push(cx.problem(
                    "",
                    format!("makes the {what} name {name:?} ({} characters), longer than ELBv2's {NAME_LIMIT}: use a shorter logical id", name.len()),
                ));
            }
        }
        if cx.name(cx.id).starts_with("internal-") {
            out.push(cx.problem("", "makes a load balancer name starting with \"internal-\", which ELBv2 refuses"));
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let id = cx.id;
        let mut out = Vec::new();
        let cert = match (&self.certificate_arn, &self.domain_name) {
            (Some(arn), _) => CertSource::Arn(arn.clone()),
            (None, Some(domain)) => {
                out.push(cx.node(certificate(id), CertificateNode { domain: domain.clone() }, &[]));
                CertSource::Node(certificate(id))
            }
            (None, None) => CertSource::Arn(String::new()),
        };
        let subnets = subnets(cx, &self.scheme);
        let mut deps: Vec<String> = subnets.clone();
        deps.push(self.security_group.clone());
        deps.push(self.access_logs_bucket.clone());
        // the load balancer waits for its target group, so destroy deletes the load balancer
        // (and with it every listener, also one added outside the stack that forwards to the
        // group) before the group
        deps.push(target_group(id));
        let lb = LbNode {
            name: cx.name(id),
            scheme: self.scheme.clone(),
            subnets,
            security_group: self.security_group.clone(),
            bucket: self.access_logs_bucket.clone(),
            prefix: cx.stack.prefix(),
            deletion_protection: self.deletion_protection,
        };
        let deps_ref: Vec<&str> = deps.iter().map(String::as_str).collect();
        out.push(cx.node(id, lb, &deps_ref));
        let tg =
            TgNode { name: tg_name(cx), port: self.target_port, protocol: self.target_protocol.clone(), health_check_path: self.health_check_path.clone() };
        out.push(cx.node(target_group(id), tg, &["vpc"]));
        let mut https_deps = vec![id.to_string(), target_group(id)];
        if let CertSource::Node(n) = &cert {
            https_deps.push(n.clone());
        }
        let https =
            ListenerNode { lb: id.to_string(), port: 443, kind: ListenerKind::Https { policy: self.ssl_policy.clone(), cert, target_group: target_group(id) } };
        let https_deps: Vec<&str> = https_deps.iter().map(String::as_str).collect();
        out.push(cx.node(https_listener(id), https, &https_deps));
        out.push(cx.node(http_listener(id), ListenerNode { lb: id.to_string(), port: 80, kind: ListenerKind::Redirect }, &[id]));
        out
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let id = cx.id;
        let name = cx.name(id);
        let arn = lb_arn(cx, &name);
        st.elbv2.load_balancers.insert(Model {
            meta: cx.meta("elbv2:load-balancer", id, &name, arn.clone(), &name, ""),
            lb_type: Observed::Known("application".into()),
            scheme: Observed::Known(self.scheme.clone()),
            vpc_id: Some(desired_ids::VPC.to_string()),
            security_groups: vec![desired_ids::security_group(&self.security_group)],
            attributes: Observed::Known(attributes(self, &desired_bucket(st, &self.access_logs_bucket), &cx.stack.prefix())),
        });
        let tg = tg_name(cx);
        let tg_arn = cx.arn("elasticloadbalancing", &format!("targetgroup/{tg}/{}", target_group(id)));
        st.elbv2.target_groups.insert(TargetGroup {
            meta: cx.meta("elbv2:target-group", &target_group(id), &tg, tg_arn.clone(), &tg, "target_protocol"),
            protocol: Observed::Known(self.target_protocol.clone()),
            port: Some(self.target_port as i32),
            target_type: Observed::Known("ip".into()),
            vpc_id: Some(desired_ids::VPC.to_string()),
            health_check_protocol: Some(self.target_protocol.clone()),
            load_balancer_arns: vec![arn.clone()],
        });
        let cert_arn = match (&self.certificate_arn, &self.domain_name) {
            (Some(a), _) => a.clone(),
            (None, Some(domain)) => {
                // requested by the stack: provision waits for ISSUED; ACM renews it while in use
                let cert_arn = cx.arn("acm", &format!("certificate/{}", certificate(id)));
                let not_after = (time::OffsetDateTime::now_utc() + time::Duration::days(ACM_PUBLIC_VALIDITY_DAYS))
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| e.to_string());
                st.elbv2.certificates.insert(CertModel {
                    meta: cx.meta("elbv2:certificate", &certificate(id), &certificate(id), cert_arn.clone(), domain, "domain_name"),
                    status: Observed::Known("ISSUED".into()),
                    not_after: match not_after {
                        Ok(t) => Observed::Known(t),
                        Err(e) => Observed::Unknown(format!("the projected expiry could not be written: {e}")),
                    },
                    key_algorithm: Observed::Known("RSA_2048".into()),
                    cert_type: Observed::Known("AMAZON_ISSUED".into()),
                    in_use_by: vec![arn.clone()],
                });
                cert_arn
            }
            (None, None) => String::new(),
        };
        // listeners carry their load balancer's tags (logical id), as the collector reads them
        #[allow(clippy::too_many_arguments)]
        let listener =
            |port: i32, protocol: &str, policy: Option<String>, action: Action, rules: Observed<Vec<Rule>>, certs: Observed<Vec<String>>, field: &str| {
                Listener {
                    meta: {
                        let mut m = cx.meta("elbv2:listener", id, &format!("{name}:{port}"), format!("{arn}/listener-{port}"), &name, field);
                        m.name = None;
                        m
                    },
                    load_balancer_arn: arn.clone(),
                    protocol: protocol.into(),
                    port,
                    ssl_policy: policy,
                    default_actions: vec![action],
                    rules,
                    certificate_arns: certs,
                }
            };
        let https_default = Rule { arn: format!("{arn}/listener-443/default"), priority: Some("default".into()), actions: vec![forward(&tg_arn)] };
        let https = listener(
            443,
            "HTTPS",
            Some(self.ssl_policy.clone()),
            forward(&tg_arn),
            Observed::Known(vec![https_default]),
            Observed::Known(vec![cert_arn].into_iter().filter(|a| !a.is_empty()).collect()),
            "ssl_policy",
        );
        let default_rule = Rule { arn: format!("{arn}/listener-80/default"), priority: Some("default".into()), actions: vec![redirect()] };
        let http = listener(
            80,
            "HTTP",
            None,
            redirect(),
            Observed::Known(vec![default_rule]),
            Observed::Unknown("not read: certificates are read for HTTPS listeners only".into()),
            "",
        );
        st.elbv2.listeners.insert(https);
        st.elbv2.listeners.insert(http);
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        vec![
            Output { name: cx.at("arn"), node: cx.id.to_string(), attr: "arn".into() },
            Output { name: cx.at("dns_name"), node: cx.id.to_string(), attr: "dns_name".into() },
        ]
    }
}

fn valid_domain(d: &str) -> bool {
    let d = d.strip_prefix("*.").unwrap_or(d);
    d.len() <= 253
        && d.contains('.')
        && d.split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// A desired load balancer's ARN (its AWS id is assigned at creation; desired uses the name).
fn lb_arn(cx: &Cx, name: &str) -> String {
    cx.arn("elasticloadbalancing", &format!("loadbalancer/app/{name}/{}", cx.id))
}

/// The bucket's desired name, from the desired State (the bucket component runs first), else
/// its logical id.
fn desired_bucket(st: &State, bucket: &str) -> String {
    let _ = st;
    bucket.to_string()
}

// ---------- drift ----------

/// Drift of the stack's load balancers (scheme, security groups, the attributes the blueprint
/// sets) and their listeners (matched by load balancer and port: protocol, policy, default
/// actions; a listener the stack does not declare on a declared load balancer is unmanaged).
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.elbv2.load_balancers, &live.elbv2.load_balancers, |d, w, g| {
        let at = d.setting(&w.meta, "scheme");
        d.observed(&g.meta, "scheme", &at, json!(w.scheme.known()), &g.scheme);
        let at = d.setting(&w.meta, "security_group");
        let want: BTreeSet<String> = w.security_groups.iter().map(|s| d.res(s)).collect();
        let got: BTreeSet<String> = g.security_groups.iter().cloned().collect();
        d.field(&g.meta, "security_groups", &at, json!(want), json!(got));
        let Some(want) = w.attributes.known() else { return };
        match g.attributes.get() {
            Err(e) => {
                let at = d.setting(&w.meta, "");
                d.unknown(&g.meta, "attributes", &at, e)
            }
            Ok(got) => {
                for (k, v) in want {
                    if k == "access_logs.s3.bucket" {
                        continue; // the bucket's physical name: compared by the bucket's own drift
                    }
                    let field = match k.as_str() {
                        "deletion_protection.enabled" => "deletion_protection",
                        k if k.starts_with("access_logs.") => "access_logs_bucket",
                        _ => "",
                    };
                    let at = d.setting(&w.meta, field);
                    d.field(&g.meta, &format!("attributes.{k}"), &at, json!(v), json!(got.get(k)));
                }
            }
        }
    });
    listeners(d, desired, live);
    d.each(&desired.elbv2.target_groups, &live.elbv2.target_groups, |d, w, g| {
        let at = d.setting(&w.meta, "target_protocol");
        d.observed(&g.meta, "protocol", &at, json!(w.protocol.known()), &g.protocol);
        d.field(&g.meta, "health_check_protocol", &at, json!(w.health_check_protocol), json!(g.health_check_protocol));
        let at = d.setting(&w.meta, "target_port");
        d.field(&g.meta, "port", &at, json!(w.port), json!(g.port));
    });
    // a requested certificate: present, tagged, for the declared domain
    d.each(&desired.elbv2.certificates, &live.elbv2.certificates, |d, w, g| {
        let at = d.setting(&w.meta, "domain_name");
        d.field(&g.meta, "domain_name", &at, json!(w.meta.name), json!(g.meta.name));
    });
}

fn listeners(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    let lbs: BTreeSet<String> = desired.elbv2.listeners.iter().map(|l| d.res(&l.load_balancer_arn)).collect();
    let key = |lb: String, l: &Listener| (lb, l.port);
    let want: BTreeMap<_, _> = desired.elbv2.listeners.iter().map(|l| (key(d.res(&l.load_balancer_arn), l), l)).collect();
    let got: BTreeMap<_, _> =
        live.elbv2.listeners.iter().filter(|l| lbs.contains(&l.load_balancer_arn)).map(|l| (key(l.load_balancer_arn.clone(), l), l)).collect();
    let live_lbs: BTreeSet<String> = live.elbv2.load_balancers.iter().map(|l| l.meta.arn.clone()).collect();
    for (k, w) in &want {
        match got.get(k) {
            // a listener of a missing load balancer is reported with the load balancer
            None if !live_lbs.contains(&k.0) => {}
            None => d.absent(&w.meta, &live.elbv2.listeners),
            Some(g) => {
                let at = d.setting(&w.meta, "");
                d.field(&g.meta, "protocol", &at, json!(w.protocol), json!(g.protocol));
                // a security policy applies to HTTPS listeners only (an HTTP listener has none,
                // whatever the API reports: the emulator reports its default policy)
                if w.protocol.eq_ignore_ascii_case("HTTPS") {
                    let at = d.setting(&w.meta, "ssl_policy");
                    d.field(&g.meta, "ssl_policy", &at, json!(w.ssl_policy), json!(g.ssl_policy));
                }
                let at = d.setting(&w.meta, "");
                let show = |a: &[Action]| json!(a.iter().map(|x| (x.action_type.clone(), x.redirect_protocol.clone())).collect::<Vec<_>>());
                d.field(&g.meta, "default_actions", &at, show(&w.default_actions), show(&g.default_actions));
            }
        }
    }
    for (k, g) in got.iter().filter(|(k, _)| !want.contains_key(*k)) {
        let table = want.iter().find(|(w, _)| w.0 == k.0).map(|(_, w)| d.setting(&w.meta, "")).unwrap_or_default();
        let what = format!("{} listener on port {} of the stack's load balancer is not declared by the stack file", g.protocol, g.port);
        d.unmanaged(&g.meta, what, "resource", json!(format!("{}:{}", g.protocol, g.port)), &table);
    }
}

// ---------- nodes ----------

#[derive(Debug, Clone)]
enum CertSource {
    Arn(String),
    /// The certificate node's `arn`.
    Node(String),
}

#[derive(Debug, Clone)]
struct CertificateNode {
    domain: String,
}

#[derive(Debug, Clone)]
struct LbNode {
    name: String,
    scheme: String,
    /// Subnet node ids.
    subnets: Vec<String>,
    security_group: String,
    /// The access-log bucket's node id (`name` attribute).
    bucket: String,
    prefix: String,
    deletion_protection: bool,
}

#[derive(Debug, Clone)]
struct TgNode {
    name: String,
    port: u16,
    protocol: String,
    health_check_path: String,
}

#[derive(Debug, Clone)]
enum ListenerKind {
    Https { policy: String, cert: CertSource, target_group: String },
    Redirect,
}

#[derive(Debug, Clone)]
struct ListenerNode {
    /// The load balancer's node id.
    lb: String,
    port: i32,
    kind: ListenerKind,
}

crate::node_ops!(CertificateNode, "acm:certificate");
crate::node_ops!(LbNode, "elbv2:load-balancer");
crate::node_ops!(TgNode, "elbv2:target-group");
crate::node_ops!(ListenerNode, "elbv2:listener");

fn elb_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

async fn elb_tags_of(ctx: &Ctx, arn: &str) -> Result<Vec<(String, String)>> {
    let out = ctx.clients.elbv2.describe_tags().resource_arns(arn).send().await.ctx("elbv2", "DescribeTags", arn)?;
    Ok(out.tag_descriptions().iter().flat_map(|d| d.tags()).filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect())
}

impl CertificateNode {
    /// The stack's certificate for the domain: found by domain name and the stack's tags.
    async fn find(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let acm = &ctx.clients.acm;
        let mut pages = acm.list_certificates().into_paginator().items().send();
        let mut owned = Vec::new();
        while let Some(c) = pages.next().await {
            let c = c.ctx("acm", "ListCertificates", &self.domain)?;
            let (Some(arn), Some(domain)) = (c.certificate_arn(), c.domain_name()) else { continue };
            if domain != self.domain {
                continue;
            }
            let tags = acm.list_tags_for_certificate().certificate_arn(arn).send().await.ctx("acm", "ListTagsForCertificate", arn)?;
            if ctx.owns(id, tags.tags().iter().map(|t| (t.key(), t.value().unwrap_or_default()))) {
                owned.push(arn.to_string());
            }
        }
        ctx.single(id, "acm:certificate", owned, |a| a.clone())
    }

    async fn status(ctx: &Ctx, arn: &str) -> Result<String> {
        let out = ctx.clients.acm.describe_certificate().certificate_arn(arn).send().await.ctx("acm", "DescribeCertificate", arn)?;
        Ok(out.certificate().and_then(|c| c.status()).map(|s| s.as_str().to_string()).unwrap_or_default())
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(arn) = self.find(ctx, id).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        let status = Self::status(ctx, &arn).await?;
        diff(&mut changes, "domain_name.status", "ISSUED", status.as_str());
        Ok(Found::Present { attrs: attrs([("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let acm = &ctx.clients.acm;
        let arn = match found {
            Found::Present { attrs, .. } => attrs["arn"].clone(),
            Found::Absent => {
                let tags: Vec<aws_sdk_acm::types::Tag> = ctx
                    .tags(id, &self.domain)
                    .into_iter()
                    .map(|(k, v)| aws_sdk_acm::types::Tag::builder().key(k).value(v).build())
                    .collect::<std::result::Result<_, _>>()?;
                let out = acm
                    .request_certificate()
                    .domain_name(&self.domain)
                    .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
                    .idempotency_token(request_token(id, time::OffsetDateTime::now_utc().unix_timestamp()))
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .ctx("acm", "RequestCertificate", &self.domain)?;
                out.certificate_arn().ok_or_else(|| Error::usage("acm RequestCertificate returned no certificate ARN"))?.to_string()
            }
        };
        let what = format!("certificate for {} to be issued (DNS validation: create the CNAME record ACM lists for it)", self.domain);
        crate::provision::wait_for(&what, Duration::from_secs(5), Duration::from_secs(900), || async {
            let s = Self::status(ctx, &arn).await?;
            match s.as_str() {
                "ISSUED" => Ok(Some(())),
                "PENDING_VALIDATION" | "" => Ok(None),
                other => Err(Error::usage(format!("certificate {arn} for {} is {other}", self.domain))),
            }
        })
        .await?;
        Ok(attrs([("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(arn) = self.find(ctx, id).await? else { return Ok(None) };
        ctx.clients.acm.delete_certificate().certificate_arn(&arn).send().await.ctx("acm", "DeleteCertificate", &arn)?;
        Ok(Some(arn))
    }
}

impl LbNode {
    async fn describe(&self, ctx: &Ctx) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>> {
        let out = ctx.clients.elbv2.describe_load_balancers().names(&self.name).send().await.found(
            "elbv2",
            "DescribeLoadBalancers",
            &self.name,
            &["LoadBalancerNotFound", "LoadBalancerNotFoundException"],
        )?;
        Ok(out.and_then(|o| o.load_balancers().first().cloned()))
    }

    fn want_attributes(&self, bucket: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("routing.http.drop_invalid_header_fields.enabled".to_string(), "true".to_string()),
            ("deletion_protection.enabled".to_string(), self.deletion_protection.to_string()),
            ("access_logs.s3.enabled".to_string(), "true".to_string()),
            ("access_logs.s3.bucket".to_string(), bucket.to_string()),
            ("access_logs.s3.prefix".to_string(), self.prefix.clone()),
        ])
    }

    async fn live_attributes(ctx: &Ctx, arn: &str) -> Result<BTreeMap<String, String>> {
        let out =
            ctx.clients.elbv2.describe_load_balancer_attributes().load_balancer_arn(arn).send().await.ctx("elbv2", "DescribeLoadBalancerAttributes", arn)?;
        Ok(out.attributes().iter().filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string()))).collect())
    }

    async fn set_attributes(ctx: &Ctx, arn: &str, want: &BTreeMap<String, String>) -> Result<()> {
        let attrs: Vec<LoadBalancerAttribute> = want.iter().map(|(k, v)| LoadBalancerAttribute::builder().key(k).value(v).build()).collect();
        ctx.clients.elbv2.modify_load_balancer_attributes().load_balancer_arn(arn).set_attributes(Some(attrs)).send().await.ctx(
            "elbv2",
            "ModifyLoadBalancerAttributes",
            arn,
        )?;
        Ok(())
    }

    fn attrs(lb: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer) -> Attrs {
        attrs([("arn", lb.load_balancer_arn().unwrap_or_default().to_string()), ("dns_name", lb.dns_name().unwrap_or_default().to_string())])
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(lb) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
        let tags = elb_tags_of(ctx, &arn).await?;
        ctx.claim(id, "elbv2:load-balancer", &self.name, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let mut changes = Vec::new();
        diff(&mut changes, "scheme", Some(self.scheme.as_str()), lb.scheme().map(|s| s.as_str()));
        if let Some(sg) = ctx.get(&self.security_group, "id") {
            diff(&mut changes, "security_group", vec![sg], lb.security_groups().to_vec());
        }
        if let Some(bucket) = ctx.get(&self.bucket, "name") {
            let live = Self::live_attributes(ctx, &arn).await?;
            for (k, v) in self.want_attributes(&bucket) {
                diff(&mut changes, &format!("attributes.{k}"), Some(&v), live.get(&k));
            }
        }
        changes.extend(tag_changes(&ctx.tags(id, &self.name), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        Ok(Found::Present { attrs: Self::attrs(&lb), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let elb = &ctx.clients.elbv2;
        let sg = ctx.need(&self.security_group, "id")?;
        let bucket = ctx.need(&self.bucket, "name")?;
        let lb = match found {
            Found::Absent => {
                let subnets = self.subnets.iter().map(|s| ctx.need(s, "id")).collect::<Result<Vec<_>>>()?;
                let out = elb
                    .create_load_balancer()
                    .name(&self.name)
                    .r#type(LoadBalancerTypeEnum::Application)
                    .scheme(LoadBalancerSchemeEnum::from(self.scheme.as_str()))
                    .set_subnets(Some(subnets))
                    .security_groups(&sg)
                    .set_tags(Some(elb_tags(ctx.tags(id, &self.name))))
                    .send()
                    .await
                    .ctx("elbv2", "CreateLoadBalancer", &self.name)?;
                out.load_balancers().first().cloned().ok_or_else(|| Error::usage("elbv2 CreateLoadBalancer returned no load balancer"))?
            }
            Found::Present { changes, .. } => {
                let lb = self.describe(ctx).await?.ok_or_else(|| Error::usage(format!("load balancer {} disappeared", self.name)))?;
                let arn = lb.load_balancer_arn().unwrap_or_default();
                if changes.iter().any(|c| c.field == "security_group") {
                    elb.set_security_groups().load_balancer_arn(arn).security_groups(&sg).send().await.ctx("elbv2", "SetSecurityGroups", arn)?;
                }
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    elb.add_tags().resource_arns(arn).set_tags(Some(elb_tags(ctx.tags(id, &self.name)))).send().await.ctx("elbv2", "AddTags", arn)?;
                }
                lb
            }
        };
        let arn = lb.load_balancer_arn().unwrap_or_default();
        Self::set_attributes(ctx, arn, &self.want_attributes(&bucket)).await?;
        Ok(Self::attrs(&lb))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(lb) = self.describe(ctx).await? else { return Ok(None) };
        let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
        let tags = elb_tags_of(ctx, &arn).await?;
        if !ctx.owns(id, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            tracing::warn!("load balancer {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        let off = BTreeMap::from([("deletion_protection.enabled".to_string(), "false".to_string())]);
        Self::set_attributes(ctx, &arn, &off).await?;
        ctx.clients.elbv2.delete_load_balancer().load_balancer_arn(&arn).send().await.ctx("elbv2", "DeleteLoadBalancer", &arn)?;
        Ok(Some(self.name.clone()))
    }
}

impl TgNode {
    async fn describe(&self, ctx: &Ctx) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::TargetGroup>> {
        let out = ctx.clients.elbv2.describe_target_groups().names(&self.name).send().await.found(
            "elbv2",
            "DescribeTargetGroups",
            &self.name,
            &["TargetGroupNotFound", "TargetGroupNotFoundException"],
        )?;
        Ok(out.and_then(|o| o.target_groups().first().cloned()))
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(tg) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        let arn = tg.target_group_arn().unwrap_or_default().to_string();
        let tags = elb_tags_of(ctx, &arn).await?;
        ctx.claim(id, "elbv2:target-group", &self.name, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let mut changes = Vec::new();
        diff(&mut changes, "target_protocol", Some(self.protocol.as_str()), tg.protocol().map(|p| p.as_str()));
        diff(&mut changes, "target_port", Some(self.port as i32), tg.port());
        diff(&mut changes, "health_check_path", Some(self.health_check_path.as_str()), tg.health_check_path());
        if let Some(vpc) = ctx.get("vpc", "id") {
            diff(&mut changes, "vpc", Some(vpc.as_str()), tg.vpc_id());
        }
        changes.extend(tag_changes(&ctx.tags(id, &self.name), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        Ok(Found::Present { attrs: attrs([("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let elb = &ctx.clients.elbv2;
        let protocol = ProtocolEnum::from(self.protocol.as_str());
        let arn = match found {
            Found::Present { attrs, changes } => {
                let arn = attrs["arn"].clone();
                if changes.iter().any(|c| c.field == "target_protocol" || c.field == "target_port" || c.field == "vpc") {
                    return Err(Error::usage(format!(
                        "target group {}: its protocol, port or VPC differs from the stack file, and ELBv2 cannot change them in place: destroy and provision again",
                        self.name
                    )));
                }
                elb.modify_target_group().target_group_arn(&arn).health_check_protocol(protocol).health_check_path(&self.health_check_path).send().await.ctx(
                    "elbv2",
                    "ModifyTargetGroup",
                    &self.name,
                )?;
                elb.add_tags().resource_arns(&arn).set_tags(Some(elb_tags(ctx.tags(id, &self.name)))).send().await.ctx("elbv2", "AddTags", &arn)?;
                arn
            }
            Found::Absent => {
                let out = elb
                    .create_target_group()
                    .name(&self.name)
                    .protocol(protocol.clone())
                    .port(self.port as i32)
                    .vpc_id(ctx.need("vpc", "id")?)
                    .target_type(TargetTypeEnum::Ip)
                    .health_check_enabled(true)
                    .health_check_protocol(protocol)
                    .health_check_path(&self.health_check_path)
                    .set_tags(Some(elb_tags(ctx.tags(id, &self.name))))
                    .send()
                    .await
                    .ctx("elbv2", "CreateTargetGroup", &self.name)?;
                out.target_groups().first().and_then(|t| t.target_group_arn()).unwrap_or_default().to_string()
            }
        };
        Ok(attrs([("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(tg) = self.describe(ctx).await? else { return Ok(None) };
        let arn = tg.target_group_arn().unwrap_or_default().to_string();
        let tags = elb_tags_of(ctx, &arn).await?;
        if !ctx.owns(id, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            return Ok(None);
        }
        ctx.clients.elbv2.delete_target_group().target_group_arn(&arn).send().await.ctx("elbv2", "DeleteTargetGroup", &arn)?;
        Ok(Some(self.name.clone()))
    }
}

impl ListenerNode {
    async fn find(&self, ctx: &Ctx, lb_arn: &str) -> Result<Option<aws_sdk_elasticloadbalancingv2::types::Listener>> {
        let out = ctx.clients.elbv2.describe_listeners().load_balancer_arn(lb_arn).send().await.ctx("elbv2", "DescribeListeners", lb_arn)?;
        Ok(out.listeners().iter().find(|l| l.port() == Some(self.port)).cloned())
    }

    fn actions(&self, ctx: &Ctx) -> Result<Vec<SdkAction>> {
        Ok(vec![match &self.kind {
            ListenerKind::Https { target_group, .. } => {
                SdkAction::builder().r#type(ActionTypeEnum::Forward).target_group_arn(ctx.need(target_group, "arn")?).build()
            }
            ListenerKind::Redirect => SdkAction::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(RedirectActionConfig::builder().protocol("HTTPS").port("443").status_code(RedirectActionStatusCodeEnum::Http301).build())
                .build(),
        }])
    }

    fn certificate(&self, ctx: &Ctx) -> Result<Option<String>> {
        match &self.kind {
            ListenerKind::Https { cert: CertSource::Arn(a), .. } => Ok(Some(a.clone())),
            ListenerKind::Https { cert: CertSource::Node(n), .. } => ctx.need(n, "arn").map(Some),
            ListenerKind::Redirect => Ok(None),
        }
    }

    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let Some(lb) = ctx.get(&self.lb, "arn") else { return Ok(Found::Absent) };
        let Some(l) = self.find(ctx, &lb).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        let action = l.default_actions().first();
        match &self.kind {
            ListenerKind::Https { policy, target_group, .. } => {
                diff(&mut changes, "protocol", Some("HTTPS"), l.protocol().map(|p| p.as_str()));
                diff(&mut changes, "ssl_policy", Some(policy.as_str()), l.ssl_policy());
                diff(&mut changes, "default_action", Some("forward"), action.and_then(|a| a.r#type()).map(|t| t.as_str()));
                if let Some(tg) = ctx.get(target_group, "arn") {
                    diff(&mut changes, "default_action.target_group", Some(tg.as_str()), action.and_then(|a| a.target_group_arn()));
                }
                if let Ok(Some(cert)) = self.certificate(ctx) {
                    diff(&mut changes, "certificate", Some(cert.as_str()), l.certificates().first().and_then(|c| c.certificate_arn()));
                }
            }
            ListenerKind::Redirect => {
                diff(&mut changes, "protocol", Some("HTTP"), l.protocol().map(|p| p.as_str()));
                diff(&mut changes, "default_action", Some("redirect"), action.and_then(|a| a.r#type()).map(|t| t.as_str()));
                diff(&mut changes, "default_action.redirect_protocol", Some("HTTPS"), action.and_then(|a| a.redirect_config()).and_then(|r| r.protocol()));
            }
        }
        Ok(Found::Present { attrs: attrs([("arn", l.listener_arn().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let elb = &ctx.clients.elbv2;
        let lb = ctx.need(&self.lb, "arn")?;
        let (protocol, policy) = match &self.kind {
            ListenerKind::Https { policy, .. } => (ProtocolEnum::Https, Some(policy.clone())),
            ListenerKind::Redirect => (ProtocolEnum::Http, None),
        };
        let certs = self.certificate(ctx)?.map(|c| vec![Certificate::builder().certificate_arn(c).build()]);
        let arn = match found {
            Found::Present { attrs, .. } => {
                let arn = attrs["arn"].clone();
                elb.modify_listener()
                    .listener_arn(&arn)
                    .port(self.port)
                    .protocol(protocol)
                    .set_ssl_policy(policy)
                    .set_certificates(certs)
                    .set_default_actions(Some(self.actions(ctx)?))
                    .send()
                    .await
                    .ctx("elbv2", "ModifyListener", &arn)?;
                arn
            }
            Found::Absent => {
                let name = format!("{}:{}", ctx.name(&self.lb), self.port);
                let out = elb
                    .create_listener()
                    .load_balancer_arn(&lb)
                    .port(self.port)
                    .protocol(protocol)
                    .set_ssl_policy(policy)
                    .set_certificates(certs)
                    .set_default_actions(Some(self.actions(ctx)?))
                    .set_tags(Some(elb_tags(ctx.tags(id, &name))))
                    .send()
                    .await
                    .ctx("elbv2", "CreateListener", &name)?;
                out.listeners().first().and_then(|l| l.listener_arn()).unwrap_or_default().to_string()
            }
        };
        Ok(attrs([("arn", arn)]))
    }

    /// Deleted with its load balancer; a listener is deleted first so its certificate and
    /// target group can go.
    async fn delete(&self, ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        let lb = LbNode { name: ctx.name(&self.lb), ..lb_stub() };
        let Some(l) = lb.describe(ctx).await? else { return Ok(None) };
        let lb_arn = l.load_balancer_arn().unwrap_or_default().to_string();
        let tags = elb_tags_of(ctx, &lb_arn).await?;
        if !ctx.owns(&self.lb, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            return Ok(None);
        }
        let Some(li) = self.find(ctx, &lb_arn).await? else { return Ok(None) };
        let arn = li.listener_arn().unwrap_or_default().to_string();
        ctx.clients.elbv2.delete_listener().listener_arn(&arn).send().await.ctx("elbv2", "DeleteListener", &arn)?;
        Ok(Some(arn))
    }
}

fn lb_stub() -> LbNode {
    LbNode {
        name: String::new(),
        scheme: String::new(),
        subnets: vec![],
        security_group: String::new(),
        bucket: String::new(),
        prefix: String::new(),
        deletion_protection: false,
    }
}

#[cfg(test)]
mod tests;
