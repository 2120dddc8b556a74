//! API Gateway REST: APIs (tags in the list), every method with its authorization and
//! integration (GetResources with `embed=methods` returns them in one paginated call), stages
//! with method settings and access logs (one GetStages per API).

use super::{fan_out, tag_map, Ctx};
use crate::model::apigw::*;
use crate::model::Observed;
use std::collections::BTreeMap;

pub async fn collect(ctx: &Ctx) -> ApiGateway {
    let a = &ctx.clients.apigw;
    let mut out = ApiGateway::default();
    let apis = match ctx.pages("apigateway", "GetRestApis", a.get_rest_apis().limit(500).into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.items().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.rest_apis.fail(&ctx.region, e.clone());
            out.methods.fail(&ctx.region, e.clone());
            out.stages.fail(&ctx.region, e);
            return out;
        }
    };
    // an API without an id cannot be read further or named: the listing is incomplete
    let (apis, nameless): (Vec<_>, Vec<_>) = apis.into_iter().partition(|api| api.id().is_some());
    if !nameless.is_empty() {
        let why = format!("apigateway:GetRestApis returned {} API(s) without an id", nameless.len());
        out.rest_apis.fail(&ctx.region, why.clone());
        out.methods.fail(&ctx.region, why.clone());
        out.stages.fail(&ctx.region, why);
    }
    let apis: Vec<_> = apis
        .into_iter()
        .filter(|api| ctx.scope.wants(&Observed::Known(tag_map(api.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))))))
        .collect();
    let details = fan_out(ctx, apis, |api| async move {
        let id = api.id().unwrap_or_default().to_string();
        let (resources, stages) = tokio::join!(
            ctx.pages("apigateway", "GetResources", a.get_resources().rest_api_id(&id).embed("methods").limit(500).into_paginator().send()),
            ctx.call("apigateway", "GetStages", Some(&id), a.get_stages().rest_api_id(&id).send()),
        );
        (api, resources, stages)
    })
    .await;
    for (api, resources, stages) in details {
        let id = api.id().unwrap_or_default().to_string();
        let t = Observed::Known(tag_map(api.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))));
        let api_arn = format!("arn:{}:apigateway:{}::/restapis/{id}", ctx.partition, ctx.region);
        let api_name = api.name().map(str::to_string);
        match resources {
            Err(e) => out.methods.fail(&ctx.region, format!("API {id}: {e}")),
            Ok(pages) => {
                for r in pages.iter().flat_map(|p| p.items()) {
                    // a resource without id or path cannot be told from another: incomplete
                    let (Some(rid), Some(path)) = (r.id(), r.path()) else {
                        out.methods.fail(&ctx.region, format!("API {id}: apigateway:GetResources returned a resource without an id or path"));
                        continue;
                    };
                    for (verb, m) in r.resource_methods().into_iter().flatten() {
                        let integration = m.method_integration();
                        out.methods.insert(Method {
                            meta: ctx.meta(
                                "apigateway:method",
                                &format!("{id} {verb} {path}"),
                                format!("{api_arn}/resources/{rid}/methods/{verb}"),
                                Some(format!("{} {verb} {path}", api_name.clone().unwrap_or_default())),
                                t.clone(),
                            ),
                            api_id: id.clone(),
                            path: path.to_string(),
                            http_method: verb.clone(),
                            // judged in the failing direction when absent: no authorization, no key
                            authorization_type: m.authorization_type().unwrap_or("NONE").to_string(),
                            api_key_required: m.api_key_required() == Some(true),
                            integration_type: integration.and_then(|i| i.r#type()).map(|x| x.as_str().to_string()),
                            integration_uri: integration.and_then(|i| i.uri()).map(str::to_string),
                        });
                    }
                }
            }
        }
        match stages {
            Err(e) => out.stages.fail(&ctx.region, format!("API {id}: {e}")),
            Ok(s) => {
                for st in s.item() {
                    let Some(name) = st.stage_name() else {
                        out.stages.fail(&ctx.region, format!("API {id}: apigateway:GetStages returned a stage without a name"));
                        continue;
                    };
                    let settings: BTreeMap<String, MethodSetting> = st
                        .method_settings()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                MethodSetting {
                                    logging_level: v.logging_level().map(str::to_string),
                                    data_trace: v.data_trace_enabled(),
                                    metrics: v.metrics_enabled(),
                                },
                            )
                        })
                        .collect();
                    let stage_tags = st.tags().map(|m| tag_map(m.iter().map(|(k, v)| (k.as_str(), v.as_str())))).filter(|m| !m.is_empty());
                    out.stages.insert(Stage {
                        meta: ctx.meta(
                            "apigateway:stage",
                            &format!("{id}/{name}"),
                            format!("{api_arn}/stages/{name}"),
                            Some(format!("{}/{name}", api_name.clone().unwrap_or_default())),
                            stage_tags.map(Observed::Known).unwrap_or_else(|| t.clone()),
                        ),
                        api_id: id.clone(),
                        stage_name: name.to_string(),
                        deployment_id: st.deployment_id().map(str::to_string),
                        // tracingEnabled, dataTraceEnabled and metricsEnabled are booleans whose
                        // absence the API model defines as false (@default(false))
                        tracing_enabled: st.tracing_enabled(),
                        access_log_destination: st.access_log_settings().and_then(|l| l.destination_arn()).map(str::to_string),
                        access_log_format: st.access_log_settings().and_then(|l| l.format()).map(str::to_string),
                        method_settings: settings,
                        client_certificate_id: st.client_certificate_id().map(str::to_string),
                        web_acl_arn: st.web_acl_arn().map(str::to_string),
                    });
                }
            }
        }
        out.rest_apis.insert(RestApi {
            meta: ctx.meta("apigateway:rest-api", &id, api_arn, api_name, t),
            endpoint_types: api.endpoint_configuration().map(|e| e.types().iter().map(|t| t.as_str().to_string()).collect()).unwrap_or_default(),
        });
    }
    out
}
