//! IAM and KMS policy documents the stack applies, and structural comparison of policies
//! (order of statements and list members, single value vs one-element list, URL-encoding).

use serde_json::{json, Value};

/// Canonical form: lists sorted, single values as one-element lists, statements as a list.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, val) in map {
                let listy = matches!(k.as_str(), "Statement" | "Action" | "NotAction" | "Resource" | "NotResource" | "Service" | "AWS" | "Federated");
                let n = normalize(val);
                let n = match (listy, n) {
                    (true, Value::Array(a)) => Value::Array(a),
                    (true, other) => Value::Array(vec![other]),
                    (false, other) => other,
                };
                out.insert(k.clone(), n);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut n: Vec<Value> = items.iter().map(normalize).collect();
            n.sort_by_key(|x| x.to_string());
            n.dedup();
            Value::Array(n)
        }
        other => other.clone(),
    }
}

/// Parse a policy document as AWS returns it (IAM returns it URL-encoded).
pub fn parse_document(raw: &str) -> Option<Value> {
    serde_json::from_str(raw).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
        serde_json::from_str(&decoded).ok()
    })
}

pub fn same(raw: &str, want: &Value) -> bool {
    parse_document(raw).is_some_and(|got| normalize(&got) == normalize(want))
}

/// What a customer-managed key is for: the services that may use it on behalf of principals
/// of this account (`kms:ViaService` names such as `rds`, `kinesis`), and whether CloudWatch
/// Logs encrypts the stack's log groups with it. Each key is used only by its services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyUses {
    pub logs: bool,
    pub services: std::collections::BTreeSet<String>,
}

/// A key's policy: the account root administers it; CloudWatch Logs may use it for this
/// stack's log groups (when `uses.logs`); the named services may use it on behalf of
/// principals of this account only. No wildcard principal.
pub fn key_policy_for(key_name: &str, log_prefix: &str, uses: &KeyUses, p: &str, region: &str, acct: &str) -> Value {
    let mut statements = vec![json!({
        "Sid": "AccountRootAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:{p}:iam::{acct}:root")},
        "Action": "kms:*",
        "Resource": "*"
    })];
    if uses.logs {
        statements.push(json!({
            "Sid": "CloudWatchLogsEncryptsStackLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": format!("logs.{region}.amazonaws.com")},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": format!("arn:{p}:logs:{region}:{acct}:log-group:{log_prefix}*")}}
        }));
    }
    if !uses.services.is_empty() {
        let via: Vec<String> = uses.services.iter().map(|s| format!("{s}.{region}.amazonaws.com")).collect();
        statements.push(json!({
            "Sid": "StackServicesUseKeyForThisAccount",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{p}:iam::{acct}:root")},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": acct, "kms:ViaService": via}}
        }));
    }
    json!({"Version": "2012-10-17", "Id": format!("{key_name}-policy"), "Statement": statements})
}

/// Trust policy for a service principal, limited to this account (confused-deputy guard).
pub fn trust_policy_for(account: &str, service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }]
    })
}

pub fn allow(sid: &str, actions: &[&str], resources: &[String]) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources})
}

pub fn document(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_ignores_order_and_list_shape() {
        let a = json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":["b","a"]}});
        let b = json!({"Version":"2012-10-17","Statement":[{"Resource":["a","b"],"Action":["s3:GetObject"],"Effect":"Allow"}]});
        assert_eq!(normalize(&a), normalize(&b));
        let c = json!({"Version":"2012-10-17","Statement":[{"Resource":["a"],"Action":["s3:GetObject"],"Effect":"Allow"}]});
        assert_ne!(normalize(&a), normalize(&c));
    }

    #[test]
    fn parses_url_encoded_documents() {
        let raw = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(parse_document(raw), Some(json!({"Version": "2012-10-17"})));
        assert!(same(raw, &json!({"Version": "2012-10-17"})));
    }
}
