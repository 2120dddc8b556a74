//! IAM policy semantics: how AWS reads a policy document, as small pure functions.
//!
//! - Wildcards (`*`, `?`) match the way IAM matches them: case-insensitively for actions,
//!   anywhere in the pattern (`kms:*crypt*` covers `kms:Decrypt`). [`pattern_covers`] tells
//!   whether one pattern matches everything another matches.
//! - `Action`/`NotAction`, `Resource`/`NotResource`: an Allow with `NotAction` grants every
//!   action it does not list, an Allow with `NotResource` every resource it does not list.
//! - Conditions are AND across operators and keys, OR across a key's values. Context key
//!   names are case-insensitive; operator names are matched exactly (an operator IAM does not
//!   know restricts nothing here). A key absent from the request makes a positive operator
//!   false, a negated one (`StringNotEquals`, `ArnNotLike`, ...) true, `...IfExists` true,
//!   `ForAllValues:` true and `ForAnyValue:` false
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>,
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>).
//! - Resource and trust policies: a statement is *public* when its principal is everyone
//!   (`"*"`, `{"AWS": "*"}`, an account wildcard such as `arn:aws:iam::*:root`, or `NotPrincipal`
//!   in an Allow) unless a condition restricts the caller to concrete accounts, organizations,
//!   VPCs or source ARNs, or a Deny in the same policy refuses every caller outside them.

use serde_json::Value;

// ---------- document shape ----------

/// Statements of a policy document as a list (a single statement object counts as one).
/// Lenient: a malformed document yields no statements; judge with [`parse_statements`].
pub fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => vec![],
    }
}

/// The statements of a policy, or why the document is not a policy AWS would evaluate
/// (never "no statements, so nothing is granted" for a document that was misread).
pub fn parse_statements(policy: &Value) -> Result<Vec<&Value>, String> {
    let Value::Object(doc) = policy else { return Err("the policy document is not a JSON object".into()) };
    let list: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        Some(_) => return Err("the policy's Statement is neither an object nor a list".into()),
        None => return Err("the policy document has no Statement".into()),
    };
    for (i, s) in list.iter().enumerate() {
        if !s.is_object() {
            return Err(format!("statement {i} is not a JSON object"));
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") | Some("Deny") => {}
            other => return Err(format!("statement {} has Effect {other:?} (IAM accepts only \"Allow\" and \"Deny\")", sid_or_index(s, i))),
        }
    }
    Ok(list)
}

fn sid_or_index(s: &Value, i: usize) -> String {
    s.get("Sid").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| format!("#{i}"))
}

/// A string-or-list policy field as a list of strings.
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

pub fn is_allow(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

pub fn is_deny(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Deny")
}

pub fn sid(statement: &Value) -> &str {
    statement.get("Sid").and_then(Value::as_str).unwrap_or("(no Sid)")
}

/// True when the statement has a Condition block.
pub fn has_condition(statement: &Value) -> bool {
    statement.get("Condition").is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()))
}

// ---------- wildcards ----------

fn chars_lower(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// IAM wildcard match, case-insensitive: `*` any run of characters (also empty), `?` one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (chars_lower(pattern), chars_lower(text));
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// True when every string `specific` matches is also matched by `general` (both IAM
/// wildcard patterns, case-insensitive). Sound: a `*` or `?` in `specific` can only be
/// absorbed by a `*` (or, for `?`, a `?`) in `general`.
pub fn pattern_covers(general: &str, specific: &str) -> bool {
    let (g, s) = (chars_lower(general), chars_lower(specific));
    // cov(i, j): g[i..] covers s[j..]. Row i needs only row i + 1: two rows, one allocation.
    let width = s.len() + 1;
    let mut rows = vec![false; 2 * width];
    let (mut next, mut this) = rows.split_at_mut(width);
    next[s.len()] = true;
    for i in (0..g.len()).rev() {
        for j in (0..=s.len()).rev() {
            this[j] = match g[i] {
                '*' => next[j] || (j < s.len() && this[j + 1]),
                '?' => j < s.len() && s[j] != '*' && next[j + 1],
                c => j < s.len() && s[j] == c && next[j + 1],
            };
        }
        std::mem::swap(&mut next, &mut this);
    }
    next[0]
}

/// A pattern that matches every string (`*`, `**`).
pub fn matches_everything(pattern: &str) -> bool {
    !pattern.is_empty() && pattern.chars().all(|c| c == '*')
}

fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

/// True when `pattern` matches some action of `service` (`service:<anything non-empty>`).
fn intersects_service(pattern: &str, service: &str) -> bool {
    let p = chars_lower(pattern);
    let closure = |mut states: Vec<usize>| {
        let mut i = 0;
        while i < states.len() {
            let s = states[i];
            if s < p.len() && p[s] == '*' && !states.contains(&(s + 1)) {
                states.push(s + 1);
            }
            i += 1;
        }
        states
    };
    let mut states = closure(vec![0]);
    for c in chars_lower(&format!("{service}:")) {
        let next: Vec<usize> = states
            .iter()
            .flat_map(|&s| match p.get(s) {
                Some('*') => vec![s],
                Some('?') => vec![s + 1],
                Some(x) if *x == c => vec![s + 1],
                _ => vec![],
            })
            .collect();
        states = closure(next);
    }
    // a real action name follows the colon, so some pattern must remain to match it
    states.iter().any(|&s| s < p.len())
}

// ---------- actions ----------

/// What a statement's Action / NotAction grants or denies.
#[derive(Debug, Clone, PartialEq)]
pub enum Actions {
    /// `Action`: the listed patterns.
    Only(Vec<String>),
    /// `NotAction`: every action except the listed patterns.
    AllExcept(Vec<String>),
}

impl Actions {
    pub fn of(statement: &Value) -> Result<Actions, String> {
        match (statement.get("Action"), statement.get("NotAction")) {
            (Some(a), None) => Ok(Actions::Only(string_list(Some(a)))),
            (None, Some(n)) => Ok(Actions::AllExcept(string_list(Some(n)))),
            (Some(_), Some(_)) => Err("statement has both Action and NotAction".into()),
            (None, None) => Err("statement has neither Action nor NotAction".into()),
        }
    }

    /// True when the statement applies to `action` (a concrete action name).
    pub fn includes(&self, action: &str) -> bool {
        match self {
            Actions::Only(p) => p.iter().any(|p| glob_match(p, action)),
            Actions::AllExcept(p) => !p.iter().any(|p| glob_match(p, action)),
        }
    }

    /// True when the statement applies to every action of every service.
    pub fn includes_everything(&self) -> bool {
        match self {
            Actions::Only(p) => p.iter().any(|p| pattern_covers(p, "*:*")),
            Actions::AllExcept(p) => p.is_empty(),
        }
    }

    /// True when the statement applies to every action of `service` (e.g. `kms:*`, `k*:*`,
    /// `*`, or a NotAction that leaves the service out).
    pub fn includes_all_of(&self, service: &str) -> bool {
        match self {
            Actions::Only(p) => p.iter().any(|p| pattern_covers(p, &format!("{service}:*"))),
            Actions::AllExcept(p) => !p.iter().any(|p| intersects_service(p, service)),
        }
    }

    /// False only when no action of `service` can be among these: an `Action` list whose every
    /// pattern names another service without a wildcard in its service part. A quick test
    /// before the exact ones; true for any `NotAction`.
    pub fn may_name(&self, service: &str) -> bool {
        match self {
            Actions::Only(p) => p.iter().any(|p| match p.split_once(':') {
                // compared as glob_match compares (full Unicode lowercase: "\u{212A}MS" is kms)
                Some((head, _)) => head.contains(['*', '?']) || chars_lower(head) == chars_lower(service),
                None => p.contains(['*', '?']),
            }),
            Actions::AllExcept(_) => true,
        }
    }

    /// The patterns that match `action`, for messages ("kinesis:Get*").
    pub fn matching(&self, action: &str) -> String {
        match self {
            Actions::Only(p) => p.iter().filter(|p| glob_match(p, action)).cloned().collect::<Vec<_>>().join(", "),
            Actions::AllExcept(p) => format!("NotAction [{}]", p.join(", ")),
        }
    }

    /// True when every action `other` applies to is also covered by `self`.
    fn covers(&self, other: &Actions) -> bool {
        match (self, other) {
            (Actions::Only(d), Actions::Only(a)) => !a.is_empty() && a.iter().all(|ap| d.iter().any(|dp| pattern_covers(dp, ap))),
            (Actions::Only(d), Actions::AllExcept(_)) => d.iter().any(|dp| matches_everything(dp)),
            (Actions::AllExcept(n), Actions::Only(a)) => n.is_empty() && !a.is_empty(),
            (Actions::AllExcept(n), Actions::AllExcept(_)) => n.is_empty(),
        }
    }
}

// ---------- resources ----------

/// What a statement's Resource / NotResource covers.
#[derive(Debug, Clone, PartialEq)]
pub enum Resources {
    Only(Vec<String>),
    AllExcept(Vec<String>),
    /// No Resource element: a resource-based policy's own resource (or a trust policy's role).
    Implied,
}

impl Resources {
    pub fn of(statement: &Value) -> Result<Resources, String> {
        match (statement.get("Resource"), statement.get("NotResource")) {
            (Some(r), None) => Ok(Resources::Only(string_list(Some(r)))),
            (None, Some(n)) => Ok(Resources::AllExcept(string_list(Some(n)))),
            (Some(_), Some(_)) => Err("statement has both Resource and NotResource".into()),
            (None, None) => Ok(Resources::Implied),
        }
    }

    /// Every resource: `*` (or `**`), or a NotResource (which is as broad as what it leaves out).
    pub fn every(&self) -> bool {
        match self {
            Resources::Only(r) => r.iter().any(|r| matches_everything(r)),
            Resources::AllExcept(_) => true,
            Resources::Implied => false,
        }
    }

    /// Every resource of one service's kind in the account: [`Resources::every`], or an ARN
    /// pattern that leaves the resource name open (`arn:aws:kinesis:*:*:stream/*`,
    /// `arn:aws:s3:::*`, `arn:aws:secretsmanager:us-east-1:123456789012:secret:*`).
    pub fn every_of(&self, svc: &DataService) -> bool {
        self.every() || matches!(self, Resources::Only(r) if r.iter().any(|r| arn_pattern_spans_service(r, svc)))
    }

    fn covers(&self, other: &Resources) -> bool {
        match (self, other) {
            (Resources::Implied, _) | (_, Resources::Implied) => true,
            (Resources::Only(d), Resources::Only(a)) => {
                d.iter().any(|r| matches_everything(r)) || (!a.is_empty() && a.iter().all(|ar| d.iter().any(|dr| pattern_covers(dr, ar))))
            }
            (Resources::Only(d), Resources::AllExcept(_)) => d.iter().any(|r| matches_everything(r)),
            (Resources::AllExcept(n), _) => n.is_empty(),
        }
    }
}

/// An ARN pattern whose resource part names no particular resource of `svc`.
fn arn_pattern_spans_service(pattern: &str, svc: &DataService) -> bool {
    let fields: Vec<&str> = pattern.splitn(6, ':').collect();
    let last = fields.last().copied().unwrap_or_default();
    if fields.len() < 6 {
        // `arn:aws:*` or `arn:*`: the last wildcard spans the remaining fields
        return matches_everything(last) && glob_match(fields[0], "arn") && fields.get(2).is_none_or(|f| fields.len() == 3 || glob_match(f, svc.arn_service));
    }
    if !glob_match(fields[0], "arn") || !glob_match(fields[2], svc.arn_service) {
        return false;
    }
    matches_everything(last) || svc.resource_shapes.iter().any(|shape| pattern_covers(last, shape))
}

// ---------- principals ----------

/// Why a statement's principal is everyone, if it is: `"*"`, any principal type with `"*"`
/// (`{"AWS": "*"}`), an AWS principal with a wildcard (`arn:aws:iam::*:root`: IAM does not
/// support partial wildcards in principals, so whatever accepts one matches any account), or
/// `NotPrincipal` in an Allow (every principal not listed).
pub fn public_principal(statement: &Value) -> Option<String> {
    if is_allow(statement) && statement.get("NotPrincipal").is_some() {
        return Some(format!("NotPrincipal {} (every principal not listed)", compact(statement.get("NotPrincipal"))));
    }
    match statement.get("Principal")? {
        Value::String(s) if s == "*" => Some("Principal \"*\"".into()),
        Value::String(s) if has_wildcard(s) => Some(format!("Principal {s:?} (account wildcard)")),
        Value::Object(m) => m.iter().find_map(|(kind, v)| {
            string_list(Some(v)).into_iter().find_map(|p| {
                if p == "*" {
                    Some(format!("Principal {{\"{kind}\": \"*\"}}"))
                } else if kind == "AWS" && has_wildcard(&p) {
                    Some(format!("Principal {{\"AWS\": {p:?}}} (account wildcard)"))
                } else {
                    None
                }
            })
        }),
        _ => None,
    }
}

/// True when the principal is `"*"` or `{"AWS": "*"}` exactly (every principal, and nothing less).
pub fn is_everyone(statement: &Value) -> bool {
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m.get("AWS").is_some_and(|v| string_list(Some(v)).iter().any(|p| p == "*")),
        _ => false,
    }
}

/// The `Service` principals of a statement.
pub fn service_principals(statement: &Value) -> Vec<String> {
    match statement.get("Principal") {
        Some(Value::Object(m)) => string_list(m.get("Service")),
        _ => vec![],
    }
}

fn compact(v: Option<&Value>) -> String {
    v.map(Value::to_string).unwrap_or_default()
}

// ---------- conditions ----------

/// Condition operators IAM knows (without `ForAnyValue:`/`ForAllValues:` and `IfExists`).
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// Operators whose values may hold `*`/`?` wildcards (ArnEquals and ArnLike both match
/// each ARN field with wildcards).
const WILDCARD_OPERATORS: &[&str] = &["StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"];
const POSITIVE_MATCH: &[&str] = &["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"];
const NEGATED_MATCH: &[&str] = &["StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// One (operator, key) test of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionEntry {
    /// As written, e.g. `ForAnyValue:StringEqualsIfExists`.
    pub operator: String,
    pub qualifier: Option<SetQualifier>,
    /// The base operator if IAM knows it (`StringEquals`), else None.
    pub base: Option<&'static str>,
    pub if_exists: bool,
    /// Lower-cased (context key names are case-insensitive).
    pub key: String,
    pub values: Vec<String>,
}

impl ConditionEntry {
    fn describe(&self) -> String {
        format!("{} {} {:?}", self.operator, self.key, self.values)
    }
}

fn parse_operator(op: &str) -> (Option<SetQualifier>, Option<&'static str>, bool) {
    let (qualifier, rest) = if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::ForAnyValue), r)
    } else if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::ForAllValues), r)
    } else {
        (None, op)
    };
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(r) if r != "Null" => (r, true),
        _ => (rest, false),
    };
    (qualifier, OPERATORS.iter().copied().find(|o| *o == rest), if_exists)
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => None,
    }
}

/// Every (operator, key) test of a statement's Condition, or why the block is malformed.
pub fn condition_entries(statement: &Value) -> Result<Vec<ConditionEntry>, String> {
    let ops = match statement.get("Condition") {
        None => return Ok(vec![]),
        Some(Value::Object(o)) => o,
        Some(_) => return Err("Condition is not an object".into()),
    };
    let mut out = Vec::new();
    for (op, block) in ops {
        let Value::Object(block) = block else { return Err(format!("Condition operator {op} does not hold an object")) };
        let (qualifier, base, if_exists) = parse_operator(op);
        for (key, v) in block {
            let values: Option<Vec<String>> = match v {
                Value::Array(a) => a.iter().map(scalar_string).collect(),
                other => scalar_string(other).map(|s| vec![s]),
            };
            let values = values.ok_or_else(|| format!("Condition {op} {key} has a value that is not a string, number or boolean"))?;
            out.push(ConditionEntry { operator: op.clone(), qualifier, base, if_exists, key: key.to_ascii_lowercase(), values });
        }
    }
    Ok(out)
}

/// The values a statement's Condition gives `key` (matched case-insensitively, as IAM matches
/// keys) under the operators `op` accepts (operator names are matched exactly).
pub fn condition_values(statement: &Value, op: impl Fn(&str) -> bool, key: &str) -> Vec<String> {
    let key = key.to_ascii_lowercase();
    condition_entries(statement).unwrap_or_default().into_iter().filter(|e| op(&e.operator) && e.key == key).flat_map(|e| e.values).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Account,
    Org,
    OrgPath,
    Arn,
    Vpc,
}

/// Context keys that say who calls (or on whose behalf a service calls) or from which network.
fn caller_key(key: &str) -> Option<KeyKind> {
    Some(match key {
        "aws:principalaccount" | "aws:sourceaccount" | "kms:calleraccount" | "aws:sourceowner" => KeyKind::Account,
        "aws:principalorgid" | "aws:sourceorgid" => KeyKind::Org,
        "aws:principalorgpaths" | "aws:sourceorgpaths" => KeyKind::OrgPath,
        "aws:principalarn" | "aws:sourcearn" => KeyKind::Arn,
        "aws:sourcevpc" | "aws:sourcevpce" => KeyKind::Vpc,
        _ => return None,
    })
}

/// Keys a service principal's request carries about the resource it acts for (confused deputy).
const SOURCE_KEYS: &[&str] = &["aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourceowner"];

/// True when the value names concrete accounts / organizations / VPCs / ARNs.
fn concrete(kind: KeyKind, value: &str, wildcard_operator: bool) -> bool {
    if value.is_empty() || value.contains("${") {
        return false; // a policy variable matches whatever the caller brings
    }
    if !wildcard_operator {
        return true;
    }
    match kind {
        KeyKind::Account | KeyKind::Org | KeyKind::Vpc => !has_wildcard(value),
        KeyKind::OrgPath => value.split('/').next().is_some_and(|org| !org.is_empty() && !has_wildcard(org)),
        KeyKind::Arn => {
            let f: Vec<&str> = value.splitn(6, ':').collect();
            if f.len() != 6 || f[0] != "arn" {
                return false;
            }
            if f[4].is_empty() {
                // no account field (S3 bucket ARNs): only a fully named resource is concrete
                !f[5].is_empty() && !has_wildcard(f[5]) && !has_wildcard(f[2])
            } else {
                !has_wildcard(f[4])
            }
        }
    }
}

/// Whether one condition test restricts the caller to concrete accounts, organizations, VPCs
/// or source ARNs: Ok(description) or Err(why it does not).
fn restricts_caller(e: &ConditionEntry, keys: impl Fn(&str) -> bool) -> Result<String, String> {
    let d = e.describe();
    let Some(base) = e.base else { return Err(format!("{d}: {} is not an IAM condition operator", e.operator)) };
    let Some(kind) = caller_key(&e.key).filter(|_| keys(&e.key)) else { return Err(format!("{d}: {} does not restrict who calls", e.key)) };
    if e.if_exists {
        return Err(format!("{d}: ...IfExists is true for requests without {}", e.key));
    }
    if e.qualifier == Some(SetQualifier::ForAllValues) {
        return Err(format!("{d}: ForAllValues is true for requests without {}", e.key));
    }
    if !POSITIVE_MATCH.contains(&base) {
        return Err(format!("{d}: {base} does not limit callers to the listed values"));
    }
    if base.starts_with("Arn") && kind != KeyKind::Arn {
        return Err(format!("{d}: {base} on a key that is not an ARN"));
    }
    if e.values.is_empty() {
        return Err(format!("{d}: no values"));
    }
    let wild = WILDCARD_OPERATORS.contains(&base);
    if let Some(v) = e.values.iter().find(|v| !concrete(kind, v, wild)) {
        return Err(format!("{d}: {v:?} does not name a concrete account, organization, VPC or resource"));
    }
    Ok(d)
}

/// A Deny test that refuses every caller outside concrete accounts/organizations/VPCs/ARNs
/// (`StringNotEquals aws:PrincipalAccount [own]`; true also when the key is absent).
fn refuses_outsiders(e: &ConditionEntry) -> bool {
    let (Some(base), Some(kind)) = (e.base, caller_key(&e.key)) else { return false };
    e.qualifier.is_none()
        && NEGATED_MATCH.contains(&base)
        && (!base.starts_with("Arn") || kind == KeyKind::Arn)
        && !e.values.is_empty()
        && e.values.iter().all(|v| concrete(kind, v, WILDCARD_OPERATORS.contains(&base)))
}

/// The condition of a statement that restricts its caller (any one suffices: tests are AND),
/// or the reasons none does.
pub fn caller_restriction(statement: &Value) -> Result<String, Vec<String>> {
    restriction_by(statement, |_| true)
}

/// Like [`caller_restriction`], with only the keys that bind a service principal to the
/// resource it acts for: aws:SourceAccount, aws:SourceArn, aws:SourceOrgID, aws:SourceOrgPaths,
/// aws:SourceOwner.
pub fn source_restriction(statement: &Value) -> Result<String, Vec<String>> {
    restriction_by(statement, |k| SOURCE_KEYS.contains(&k))
}

fn restriction_by(statement: &Value, keys: impl Fn(&str) -> bool) -> Result<String, Vec<String>> {
    let entries = condition_entries(statement).map_err(|e| vec![e])?;
    let mut why = Vec::new();
    for e in &entries {
        match restricts_caller(e, &keys) {
            Ok(d) => return Ok(d),
            Err(w) => why.push(w),
        }
    }
    if why.is_empty() {
        why.push("no condition".into());
    }
    Err(why)
}

/// A Deny in `policy` that refuses `allow`'s actions on its resources to everyone outside
/// concrete accounts / organizations / VPCs / source ARNs (or to everyone).
fn deny_restricting(policy: &[&Value], allow: &Value) -> Option<String> {
    let (Ok(allow_actions), Ok(allow_resources)) = (Actions::of(allow), Resources::of(allow)) else { return None };
    policy.iter().filter(|d| is_deny(d)).find_map(|d| {
        let (Ok(actions), Ok(resources), Ok(entries)) = (Actions::of(d), Resources::of(d), condition_entries(d)) else { return None };
        let who = if is_everyone(d) {
            entries.iter().all(refuses_outsiders)
        } else if let Some(Value::Object(np)) = d.get("NotPrincipal") {
            // Deny NotPrincipal {named principals}: everyone else is refused
            entries.is_empty() && np.values().flat_map(|v| string_list(Some(v))).all(|p| !has_wildcard(&p))
        } else {
            false
        };
        (who && actions.covers(&allow_actions) && resources.covers(&allow_resources)).then(|| format!("Deny {}", sid(d)))
    })
}

/// A statement of a resource or trust policy that lets anyone call.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicGrant {
    pub sid: String,
    /// Which principal makes it public.
    pub principal: String,
    /// Why each of its conditions does not restrict the caller.
    pub unrestricted_because: Vec<String>,
}

impl PublicGrant {
    pub fn describe(&self) -> String {
        format!("statement {}: {} ({})", self.sid, self.principal, self.unrestricted_because.join("; "))
    }
}

/// The Allow statements that grant access to everyone, after conditions and Denies.
pub fn public_grants(policy: &Value) -> Result<Vec<PublicGrant>, String> {
    let all = parse_statements(policy)?;
    Ok(all
        .iter()
        .filter(|s| is_allow(s))
        .filter_map(|s| {
            let principal = public_principal(s)?;
            let why = caller_restriction(s).err()?;
            if deny_restricting(&all, s).is_some() {
                return None;
            }
            Some(PublicGrant { sid: sid(s).to_string(), principal, unrestricted_because: why })
        })
        .collect())
}

// ---------- transport ----------

/// True when the policy denies every principal requests made without TLS for every action
/// in `actions` (concrete names, matched with IAM wildcards), on every resource (`*`, no
/// Resource element, or `own_arn`), by statements whose only condition is `Bool` /
/// `BoolIfExists` `aws:SecureTransport` `"false"`.
pub fn denies_insecure_transport(policy: &Value, actions: &[&str], own_arn: Option<&str>) -> bool {
    let Ok(all) = parse_statements(policy) else { return false };
    let qualifying: Vec<Actions> = all
        .into_iter()
        .filter(|s| is_deny(s) && is_everyone(s))
        .filter(|s| match Resources::of(s) {
            Ok(Resources::Implied) => true,
            Ok(Resources::Only(r)) => r.iter().any(|r| matches_everything(r) || own_arn.is_some_and(|arn| glob_match(r, arn) && !has_wildcard(arn))),
            _ => false,
        })
        .filter(|s| only_insecure_transport_condition(s))
        .filter_map(|s| Actions::of(s).ok())
        .collect();
    !actions.is_empty() && actions.iter().all(|a| qualifying.iter().any(|q| q.includes(a)))
}

/// A statement whose only condition is `Bool` / `BoolIfExists` `aws:SecureTransport` `"false"`
/// (true exactly for requests made without TLS).
fn only_insecure_transport_condition(statement: &Value) -> bool {
    match condition_entries(statement) {
        Ok(entries) => {
            entries.len() == 1
                && entries.iter().all(|e| {
                    e.qualifier.is_none()
                        && e.base == Some("Bool")
                        && e.key == "aws:securetransport"
                        && e.values.iter().any(|v| v.eq_ignore_ascii_case("false"))
                })
        }
        Err(_) => false,
    }
}

/// True when the policy denies every principal every action of `service` without TLS on every
/// one of `resources` (ARNs or ARN patterns: `arn:aws:s3:::b` and `arn:aws:s3:::b/*`, every
/// object of the bucket). A resource counts as covered when a qualifying Deny (every principal,
/// every action of the service, only the `aws:SecureTransport` `"false"` condition) has no
/// Resource element or a Resource pattern that covers it; a Deny of one object prefix
/// (`arn:aws:s3:::b/logs/*`) leaves the other objects open. NotResource is not counted.
pub fn denies_insecure_transport_on(policy: &Value, service: &str, resources: &[&str]) -> bool {
    let Ok(all) = parse_statements(policy) else { return false };
    let qualifying: Vec<Resources> = all
        .into_iter()
        .filter(|s| is_deny(s) && is_everyone(s) && only_insecure_transport_condition(s))
        .filter(|s| Actions::of(s).is_ok_and(|a| a.includes_all_of(service)))
        .filter_map(|s| Resources::of(s).ok())
        .collect();
    !resources.is_empty()
        && resources.iter().all(|r| {
            qualifying.iter().any(|q| match q {
                Resources::Implied => true,
                Resources::Only(patterns) => patterns.iter().any(|p| pattern_covers(p, r)),
                Resources::AllExcept(_) => false,
            })
        })
}

// ---------- identity policies ----------

/// What the admin control counts as administrator access, for an Allow statement on every
/// resource (`*`, or any NotResource):
/// - every action (`*`, `*:*`, `**`), or
/// - a NotAction: it grants every action of every service it does not list, including
///   services added later (AWS's PowerUserAccess is `NotAction iam:*, organizations:*,
///   account:*`); only a NotAction that leaves out every action grants nothing, or
/// - every IAM action (`iam:*`, `iam:*` via `i*`): whoever holds it can attach
///   AdministratorAccess to itself.
///
/// Conditions are not considered: administrator access under a condition is still
/// administrator access whenever the condition holds.
pub fn admin_grant(statement: &Value) -> Option<String> {
    if !is_allow(statement) {
        return None;
    }
    let (Ok(actions), Ok(resources)) = (Actions::of(statement), Resources::of(statement)) else { return None };
    if !resources.every() {
        return None;
    }
    let on = resource_words(&resources);
    match &actions {
        a if a.includes_everything() => Some(format!("allows every action ({}) on {on}", a.matching("iam:PassRole"))),
        Actions::AllExcept(n) => {
            (!n.iter().any(|p| pattern_covers(p, "*:*"))).then(|| format!("allows every action except {} (NotAction) on {on}", n.join(", ")))
        }
        a if a.includes_all_of("iam") => {
            Some(format!("allows every IAM action ({}) on {on}: it can grant itself anything", a.matching("iam:AttachRolePolicy")))
        }
        _ => None,
    }
}

fn resource_words(r: &Resources) -> String {
    match r {
        Resources::AllExcept(n) => format!("every resource except {} (NotResource)", n.join(", ")),
        _ => "Resource \"*\"".into(),
    }
}

/// A service that holds or guards the pipeline's data, and its read-everything actions.
pub struct DataService {
    /// Action prefix (`kinesis`).
    pub prefix: &'static str,
    /// Service field of its ARNs (`rds-data` acts on `arn:aws:rds:...:cluster:...`).
    pub arn_service: &'static str,
    /// Resource parts that name every resource of a kind (`stream/*`).
    pub resource_shapes: &'static [&'static str],
    /// Actions that read, decrypt or hand out the stored data (or destroy it / open it to others).
    pub sensitive: &'static [&'static str],
}

pub const DATA_SERVICES: &[DataService] = &[
    DataService {
        prefix: "s3",
        arn_service: "s3",
        resource_shapes: &["*/*"],
        sensitive: &["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteObject"],
    },
    DataService {
        prefix: "kms",
        arn_service: "kms",
        resource_shapes: &["key/*"],
        sensitive: &["kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"],
    },
    DataService {
        prefix: "rds",
        arn_service: "rds",
        resource_shapes: &["db:*", "cluster:*", "snapshot:*", "cluster-snapshot:*"],
        sensitive: &[
            "rds:DeleteDBInstance",
            "rds:DeleteDBCluster",
            "rds:ModifyDBInstance",
            "rds:ModifyDBCluster",
            "rds:ModifyDBSnapshotAttribute",
            "rds:ModifyDBClusterSnapshotAttribute",
        ],
    },
    DataService {
        prefix: "rds-data",
        arn_service: "rds",
        resource_shapes: &["cluster:*"],
        sensitive: &["rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement"],
    },
    DataService { prefix: "rds-db", arn_service: "rds-db", resource_shapes: &["dbuser:*", "dbuser:*/*"], sensitive: &["rds-db:connect"] },
    DataService {
        prefix: "dynamodb",
        arn_service: "dynamodb",
        resource_shapes: &["table/*"],
        sensitive: &[
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:PartiQLSelect",
            "dynamodb:ExportTableToPointInTime",
            "dynamodb:DeleteTable",
        ],
    },
    DataService {
        prefix: "kinesis",
        arn_service: "kinesis",
        resource_shapes: &["stream/*"],
        sensitive: &["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:SubscribeToShard", "kinesis:DeleteStream"],
    },
    DataService { prefix: "firehose", arn_service: "firehose", resource_shapes: &["deliverystream/*"], sensitive: &["firehose:DeleteDeliveryStream"] },
    DataService {
        prefix: "secretsmanager",
        arn_service: "secretsmanager",
        resource_shapes: &["secret:*"],
        sensitive: &["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteSecret"],
    },
    DataService {
        prefix: "ssm",
        arn_service: "ssm",
        resource_shapes: &["parameter/*", "parameter*"],
        sensitive: &["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"],
    },
    DataService {
        prefix: "elasticfilesystem",
        arn_service: "elasticfilesystem",
        resource_shapes: &["file-system/*"],
        sensitive: &[
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientRootAccess",
            "elasticfilesystem:DeleteFileSystem",
            "elasticfilesystem:PutFileSystemPolicy",
        ],
    },
    DataService {
        prefix: "elasticache",
        arn_service: "elasticache",
        resource_shapes: &["replicationgroup:*", "cluster:*", "user:*"],
        sensitive: &["elasticache:Connect", "elasticache:ModifyReplicationGroup", "elasticache:DeleteReplicationGroup", "elasticache:DeleteCacheCluster"],
    },
    // Reading log events (logs:GetLogEvents, FilterLogEvents, StartQuery, ...) on every log
    // group is deliberately not counted: AWS's AmazonAPIGatewayPushToCloudWatchLogs, the policy
    // API Gateway's account-level logging role needs, grants logs:GetLogEvents and
    // logs:FilterLogEvents on "*" (only the API Gateway service can use that role). The audit
    // trail is guarded against destruction here; logs:* on "*" still fails as a whole.
    DataService {
        prefix: "logs",
        arn_service: "logs",
        resource_shapes: &["log-group:*"],
        sensitive: &["logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:DisassociateKmsKey"],
    },
    DataService {
        prefix: "backup",
        arn_service: "backup",
        resource_shapes: &["backup-vault:*", "recovery-point:*"],
        sensitive: &["backup:DeleteRecoveryPoint", "backup:DeleteBackupVault", "backup:StartRestoreJob"],
    },
];

/// What an Allow statement grants over a data service's every resource: the whole service
/// (`kms:*`, `*`, a NotAction that leaves it out) or any of its sensitive actions (`kinesis:Get*`
/// covers `kinesis:GetRecords`). One line per service.
pub fn data_service_grants(statement: &Value) -> Vec<String> {
    if !is_allow(statement) {
        return vec![];
    }
    let (Ok(actions), Ok(resources)) = (Actions::of(statement), Resources::of(statement)) else { return vec![] };
    DATA_SERVICES
        .iter()
        .filter(|svc| actions.may_name(svc.prefix) && resources.every_of(svc))
        .filter_map(|svc| {
            let on = || if resources.every() { resource_words(&resources) } else { format!("every {} resource ({})", svc.prefix, resource_list(&resources)) };
            if actions.includes_all_of(svc.prefix) {
                let via = match &actions {
                    Actions::AllExcept(n) => format!("NotAction [{}]", n.join(", ")),
                    a => a.matching(&format!("{}:AnyAction", svc.prefix)),
                };
                return Some(format!("allows every {} action ({via}) on {}", svc.prefix, on()));
            }
            let hit: Vec<String> = svc.sensitive.iter().filter(|a| actions.includes(a)).map(|a| format!("{a} (via {})", actions.matching(a))).collect();
            (!hit.is_empty()).then(|| format!("allows {} on {}", hit.join(", "), on()))
        })
        .collect()
}

fn resource_list(r: &Resources) -> String {
    match r {
        Resources::Only(v) => v.join(", "),
        other => resource_words(other),
    }
}

// ---------- trust policies ----------

/// Service principals that honour aws:SourceAccount / aws:SourceArn when they assume a role,
/// so a trust policy for them must carry one (cross-service confused deputy). Services whose
/// role assumption does not carry these keys (EC2 instance profiles, Lambda execution roles,
/// Glue, Backup, API Gateway per community reports) are not listed: demanding the condition
/// there would fail policies that cannot comply.
pub const CONFUSED_DEPUTY_SERVICES: &[&str] = &[
    "ecs-tasks.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "states.amazonaws.com",
    "scheduler.amazonaws.com",
    "events.amazonaws.com",
    "firehose.amazonaws.com",
    "config.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "logs.amazonaws.com",
    "sns.amazonaws.com",
    "sagemaker.amazonaws.com",
    "personalize.amazonaws.com",
    "appstream.amazonaws.com",
    "codebuild.amazonaws.com",
    "datasync.amazonaws.com",
    "transfer.amazonaws.com",
    "iot.amazonaws.com",
    "batchoperations.s3.amazonaws.com",
];

/// Whether a trusted service must be bound with aws:SourceAccount / aws:SourceArn.
pub fn needs_source_condition(service: &str) -> bool {
    let s = service.to_ascii_lowercase();
    CONFUSED_DEPUTY_SERVICES.iter().any(|c| *c == s || (c.ends_with(".amazonaws.com") && regional_form(&s, c)))
}

/// `logs.us-east-1.amazonaws.com` is the regional form of `logs.amazonaws.com`.
fn regional_form(service: &str, global: &str) -> bool {
    let Some(name) = global.strip_suffix(".amazonaws.com") else { return false };
    service.strip_prefix(&format!("{name}.")).and_then(|r| r.strip_suffix(".amazonaws.com")).is_some_and(|region| !region.is_empty() && !region.contains('.'))
}

/// A policy document in a form where equal meaning is equal JSON: keys in sorted order,
/// `Statement` a set of statements (a single object is a one-element set), `Sid`s dropped (they
/// name statements, they grant nothing), every string-or-list field (actions, resources,
/// principals, condition values) a sorted set of strings, actions lower-cased (IAM matches
/// action names case-insensitively).
pub fn meaning(doc: &Value) -> Value {
    fn sorted(map: Vec<(String, Value)>) -> Value {
        let mut map = map;
        map.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(map.into_iter().collect())
    }
    fn string_set(v: &Value, lower: bool) -> Value {
        let items: Vec<Value> = match v {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        let mut out: Vec<Value> = items
            .into_iter()
            .map(|x| match x {
                Value::String(s) if lower => Value::String(s.to_ascii_lowercase()),
                Value::Bool(b) => Value::String(b.to_string()),
                Value::Number(n) => Value::String(n.to_string()),
                other => other,
            })
            .collect();
        out.sort_by_key(|x| x.to_string());
        out.dedup();
        Value::Array(out)
    }
    fn principal(v: &Value) -> Value {
        match v {
            Value::Object(m) => sorted(m.iter().map(|(k, x)| (k.clone(), string_set(x, false))).collect()),
            other => other.clone(),
        }
    }
    fn condition(v: &Value) -> Value {
        match v {
            Value::Object(ops) => sorted(
                ops.iter()
                    .map(|(op, block)| {
                        let block = match block {
                            // condition keys are case-insensitive
                            Value::Object(keys) => sorted(keys.iter().map(|(k, x)| (k.to_ascii_lowercase(), string_set(x, false))).collect()),
                            other => other.clone(),
                        };
                        (op.clone(), block)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    fn statement(s: &Value) -> Value {
        let Value::Object(m) = s else { return s.clone() };
        sorted(
            m.iter()
                .filter(|(k, _)| k.as_str() != "Sid")
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "Action" | "NotAction" => string_set(v, true),
                        "Resource" | "NotResource" => string_set(v, false),
                        "Principal" | "NotPrincipal" => principal(v),
                        "Condition" => condition(v),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }
    let Value::Object(m) = doc else { return doc.clone() };
    sorted(
        m.iter()
            .map(|(k, v)| {
                let v = if k == "Statement" {
                    let mut st: Vec<Value> = match v {
                        Value::Array(a) => a.iter().map(statement).collect(),
                        other => vec![statement(other)],
                    };
                    st.sort_by_key(|x| x.to_string());
                    st.dedup();
                    Value::Array(st)
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn may_name_is_false_only_where_nothing_of_the_service_can_match() {
        let only = |p: &[&str]| Actions::Only(p.iter().map(|s| s.to_string()).collect());
        for (patterns, service, want) in [
            (vec!["s3:GetObject"], "kms", false),
            (vec!["s3:*", "logs:PutLogEvents"], "kms", false),
            (vec!["KMS:Decrypt"], "kms", true),
            (vec!["*"], "kms", true),
            (vec!["k*:Decrypt"], "kms", true),
            (vec!["km?:*"], "kms", true),
            (vec!["kmsx:Decrypt"], "kms", false),
            (vec!["kms"], "kms", false),
            (vec!["\u{212A}MS:Decrypt"], "kms", true),
            (vec![], "kms", false),
        ] {
            assert_eq!(only(&patterns).may_name(service), want, "{patterns:?} {service}");
            // the quick test never hides what the exact ones find
            if !want {
                let a = only(&patterns);
                assert!(!a.includes_all_of(service) && !a.includes(&format!("{service}:Decrypt")), "{patterns:?}");
            }
        }
        assert!(only(&["\u{212A}MS:Decrypt"]).includes("kms:Decrypt"), "the exact test lowercases the Kelvin sign too");
        assert!(Actions::AllExcept(vec!["kms:*".into()]).may_name("kms"), "a NotAction is judged by the exact tests");
    }

    #[test]
    fn glob_matches_the_way_iam_does() {
        for (p, t, want) in [
            ("kms:*crypt*", "kms:Decrypt", true),
            ("kms:*crypt*", "kms:Encrypt", true),
            ("kms:*crypt*", "kms:ReEncryptFrom", true),
            ("kms:*crypt*", "kms:GenerateDataKey", false),
            ("KMS:DECRYPT", "kms:Decrypt", true),
            ("s3:Get*", "s3:GetObject", true),
            ("s3:Get*", "s3:PutObject", false),
            ("ec2:*Instances", "ec2:DescribeInstances", true),
            ("iam:?etRole", "iam:GetRole", true),
            ("iam:?etRole", "iam:GettRole", false),
            ("*", "anything:AtAll", true),
            ("*:*", "kinesis:GetRecords", true),
            ("", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
        ] {
            assert_eq!(glob_match(p, t), want, "{p} ~ {t}");
        }
    }

    #[test]
    fn pattern_coverage() {
        for (g, s, want) in [
            ("*", "kms:*", true),
            ("kms:*", "kms:Get*", true),
            ("kms:Get*", "kms:*", false),
            ("k*:*", "kms:*", true),
            ("*:*", "*", false),
            ("**", "*", true),
            ("kms:*crypt*", "kms:ReEncrypt*", true),
            ("kms:?ecrypt", "kms:Decrypt", true),
            ("kms:?ecrypt", "kms:*ecrypt", false),
            ("kms:*", "KMS:DECRYPT", true),
            ("arn:aws:kinesis:*:*:stream/*", "arn:aws:kinesis:us-east-1:123456789012:stream/x", true),
        ] {
            assert_eq!(pattern_covers(g, s), want, "{g} covers {s}");
        }
        assert!(intersects_service("kms:Decrypt", "kms"));
        assert!(intersects_service("*", "kms"));
        assert!(intersects_service("k*", "kms"));
        assert!(!intersects_service("iam:*", "kms"));
        assert!(!intersects_service("kms:", "kms"));
    }

    #[test]
    fn actions_and_not_actions() {
        let only = Actions::of(&json!({"Action": ["kms:*crypt*"]})).unwrap();
        assert!(only.includes("kms:Decrypt") && only.includes("kms:ReEncryptTo") && !only.includes("kms:ScheduleKeyDeletion"));
        assert!(!only.includes_all_of("kms") && !only.includes_everything());
        let not = Actions::of(&json!({"NotAction": "iam:*"})).unwrap();
        assert!(not.includes("kms:Decrypt") && !not.includes("iam:CreateUser") && !not.includes("IAM:CreateUser"));
        assert!(not.includes_all_of("kms") && !not.includes_all_of("iam") && !not.includes_everything());
        assert!(Actions::of(&json!({"Action": "*:*"})).unwrap().includes_everything());
        assert!(Actions::of(&json!({"Action": "kms:*", "NotAction": "iam:*"})).is_err());
        assert!(Actions::of(&json!({"Resource": "*"})).is_err());
    }

    #[test]
    fn principals() {
        for (s, public) in [
            (json!({"Effect": "Allow", "Principal": "*"}), true),
            (json!({"Effect": "Allow", "Principal": {"AWS": "*"}}), true),
            (json!({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}}), true),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}}), true),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:role/admin"}}), true),
            (json!({"Effect": "Allow", "Principal": {"CanonicalUser": "*"}}), true),
            (json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}}), true),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}), false),
            (json!({"Effect": "Allow", "Principal": {"AWS": "111122223333"}}), false),
            (json!({"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}}), false),
            (json!({"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}}), false),
        ] {
            assert_eq!(public_principal(&s).is_some(), public, "{s}");
        }
    }

    #[test]
    fn operators_parse_as_iam_writes_them() {
        assert_eq!(parse_operator("StringEquals"), (None, Some("StringEquals"), false));
        assert_eq!(parse_operator("ForAnyValue:StringLikeIfExists"), (Some(SetQualifier::ForAnyValue), Some("StringLike"), true));
        assert_eq!(parse_operator("ForAllValues:StringEquals"), (Some(SetQualifier::ForAllValues), Some("StringEquals"), false));
        assert_eq!(parse_operator("Null"), (None, Some("Null"), false));
        assert_eq!(parse_operator("stringequals").1, None, "operator names are not case-folded");
        assert_eq!(parse_operator("StringEqualz").1, None);
    }

    /// Resource-policy statements (KMS key policy and bucket policy shapes from the AWS docs),
    /// each with Principal "*" and one condition: is the caller restricted?
    #[test]
    fn conditions_that_restrict_the_caller() {
        let cases = [
            // restricting: concrete accounts, organizations, VPCs, source ARNs
            (json!({"StringEquals": {"kms:CallerAccount": "111122223333"}}), true),
            (json!({"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "ec2.us-west-2.amazonaws.com"}}), true),
            (json!({"StringEquals": {"aws:PrincipalOrgID": "o-xxxxxxxxxxx"}}), true),
            (json!({"StringEquals": {"AWS:PrincipalAccount": ["111122223333", "444455556666"]}}), true),
            (json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]}}), true),
            (json!({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111122223333:trail/*"}}), true),
            (json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/reader"}}), true),
            (json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), true),
            (json!({"StringEquals": {"aws:SourceVpc": "vpc-111bbb22"}}), true),
            (json!({"StringEquals": {"aws:SourceAccount": "111122223333"}}), true),
            (json!({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:PrincipalAccount": "111122223333"}}), true),
            // not restricting: who calls is not constrained
            (json!({"Bool": {"aws:SecureTransport": "true"}}), false),
            (json!({"StringLike": {"aws:UserAgent": "aws-cli/*"}}), false),
            (json!({"StringLike": {"aws:Referer": "https://example.com/*"}}), false),
            (json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}), false),
            (json!({"StringLike": {"aws:PrincipalAccount": "*"}}), false),
            (json!({"StringLike": {"aws:PrincipalAccount": "1111*"}}), false),
            (json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}}), false),
            (json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}), false),
            (json!({"StringLike": {"aws:PrincipalOrgPaths": "*/r-ab12/*"}}), false),
            (json!({"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}), false),
            (json!({"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}), false),
            (json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-xxxxxxxxxxx"}}), false),
            (json!({"Null": {"aws:PrincipalOrgID": "false"}}), false),
            (json!({"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}}), false),
            (json!({"stringequals": {"aws:PrincipalAccount": "111122223333"}}), false),
            (json!({"ArnEquals": {"aws:PrincipalAccount": "111122223333"}}), false),
            (json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), false),
        ];
        for (condition, restricted) in cases {
            let s = json!({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": condition});
            assert_eq!(caller_restriction(&s).is_ok(), restricted, "{condition}: {:?}", caller_restriction(&s));
            assert_eq!(public_grants(&policy(json!([s]))).unwrap().is_empty(), restricted, "{condition}");
        }
    }

    #[test]
    fn a_deny_for_everyone_outside_the_account_restricts_a_public_allow() {
        let open = json!({"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"});
        let deny = |action: Value, condition: Value| json!({"Sid": "OnlyOurs", "Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*", "Condition": condition});
        let own = json!({"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}});
        let cases = [
            (deny(json!("kms:*"), own.clone()), true),
            (deny(json!("*"), json!({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-xxxxxxxxxxx"}})), true),
            (deny(json!(["kms:Decrypt", "kms:Describe*"]), own.clone()), true),
            // only some of the allowed actions
            (deny(json!("kms:Decrypt"), own.clone()), false),
            // a Deny that only applies without TLS leaves TLS callers from anywhere in
            (deny(json!("kms:*"), json!({"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}, "Bool": {"aws:SecureTransport": "false"}})), false),
            // a wildcard "outside" is nobody
            (deny(json!("kms:*"), json!({"StringNotLike": {"aws:PrincipalAccount": "*"}})), false),
            (deny(json!("kms:*"), json!({"StringEquals": {"aws:PrincipalAccount": "999999999999"}})), false),
            (json!({"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "*", "Resource": "*"}), true),
            (
                json!({"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:111122223333:key/other", "Condition": own.clone()}),
                false,
            ),
        ];
        for (d, restricted) in cases {
            let got = public_grants(&policy(json!([open.clone(), d.clone()]))).unwrap();
            assert_eq!(got.is_empty(), restricted, "{d}");
        }
    }

    #[test]
    fn malformed_policies_are_errors_not_empty() {
        assert!(parse_statements(&json!("not a policy")).is_err());
        assert!(parse_statements(&json!({"Version": "2012-10-17"})).is_err());
        assert!(parse_statements(&json!({"Statement": "x"})).is_err());
        assert!(parse_statements(&json!({"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]})).is_err());
        assert!(public_grants(&json!({"Statement": [1]})).is_err());
        assert_eq!(parse_statements(&json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})).unwrap().len(), 1);
    }

    #[test]
    fn insecure_transport_denial_is_exact() {
        let efs = ["elasticfilesystem:ClientMount"];
        let deny = |principal: Value, action: Value, resource: Option<Value>, condition: Value| {
            let mut s = json!({"Effect": "Deny", "Principal": principal, "Action": action, "Condition": condition});
            if let Some(r) = resource {
                s["Resource"] = r;
            }
            policy(json!([s]))
        };
        let tls = json!({"Bool": {"aws:SecureTransport": "false"}});
        let own = "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-0123";
        for (p, want) in [
            (deny(json!({"AWS": "*"}), json!("*"), None, tls.clone()), true),
            (deny(json!("*"), json!("elasticfilesystem:Client*"), Some(json!("*")), tls.clone()), true),
            (deny(json!("*"), json!("elasticfilesystem:*"), Some(json!(own)), tls.clone()), true),
            (deny(json!("*"), json!("*"), None, json!({"BoolIfExists": {"AWS:SecureTransport": false}})), true),
            // some actions only
            (deny(json!("*"), json!("elasticfilesystem:ClientWrite"), None, tls.clone()), false),
            // some resources only
            (deny(json!("*"), json!("*"), Some(json!("arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-other")), tls.clone()), false),
            // some principals only
            (deny(json!({"AWS": "arn:aws:iam::111122223333:role/x"}), json!("*"), None, tls.clone()), false),
            // narrowed by a second condition
            (
                deny(json!("*"), json!("*"), None, json!({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "111122223333"}})),
                false,
            ),
            // the condition the wrong way round, or not IAM's operator name
            (deny(json!("*"), json!("*"), None, json!({"Bool": {"aws:SecureTransport": "true"}})), false),
            (deny(json!("*"), json!("*"), None, json!({"bool": {"aws:SecureTransport": "false"}})), false),
            (deny(json!("*"), json!("*"), None, json!({"StringEquals": {"aws:SecureTransport": "false"}})), false),
        ] {
            assert_eq!(denies_insecure_transport(&p, &efs, Some(own)), want, "{p}");
        }
        // an Allow does not enforce anything; NotAction Deny covering the action does
        assert!(!denies_insecure_transport(&policy(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": tls}])), &efs, None));
        assert!(denies_insecure_transport(&policy(json!([{"Effect": "Deny", "Principal": "*", "NotAction": "s3:*", "Condition": tls}])), &efs, None));
        // split over two statements, both qualifying
        let s3 = ["s3:GetObject", "s3:PutObject"];
        let split = policy(json!([
            {"Effect": "Deny", "Principal": "*", "Action": "s3:Get*", "Resource": "*", "Condition": tls},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:Put*", "Resource": "*", "Condition": tls}
        ]));
        assert!(denies_insecure_transport(&split, &s3, None));
        assert!(!denies_insecure_transport(
            &policy(json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:Get*", "Resource": "*", "Condition": tls}])),
            &s3,
            None
        ));
    }

    #[test]
    fn admin_like_statements() {
        for (s, admin) in [
            (json!({"Effect": "Allow", "Action": "*", "Resource": "*"}), true),
            (json!({"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": ["*"]}), true),
            (json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), true),
            (json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}), true),
            (json!({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}), true),
            (json!({"Effect": "Allow", "Action": "i*", "Resource": "*"}), true),
            (json!({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit/*"}), true),
            (json!({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}), false),
            (json!({"Effect": "Allow", "NotAction": "*", "Resource": "*"}), false),
            (json!({"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}), false),
            (json!({"Effect": "Deny", "Action": "*", "Resource": "*"}), false),
        ] {
            assert_eq!(admin_grant(&s).is_some(), admin, "{s}");
        }
    }

    #[test]
    fn data_service_reads_on_every_resource() {
        for (s, hits) in [
            (json!({"Effect": "Allow", "Action": "kinesis:Get*", "Resource": "*"}), 1),
            (json!({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}), 1),
            (json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}), 1),
            (json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:*"}), 1),
            (json!({"Effect": "Allow", "Action": "kms:*crypt*", "Resource": "*"}), 1),
            (json!({"Effect": "Allow", "Action": "rds-data:*", "Resource": "*"}), 1),
            (json!({"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "arn:aws:dynamodb:*:*:table/*"}), 1),
            (json!({"Effect": "Allow", "Action": "KMS:*", "Resource": "*"}), 1),
            (json!({"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:*"}), 1),
            (json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), DATA_SERVICES.len()),
            // scoped, harmless or denied
            (json!({"Effect": "Allow", "Action": "kinesis:Get*", "Resource": "arn:aws:kinesis:us-east-1:111122223333:stream/ingest"}), 0),
            (json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}), 0),
            (json!({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}), 0),
            (json!({"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": "*"}), 0),
            (json!({"Effect": "Allow", "Action": ["cloudwatch:*", "kinesis:DescribeStream"], "Resource": "*"}), 0),
            (json!({"Effect": "Deny", "Action": "*", "Resource": "*"}), 0),
        ] {
            assert_eq!(data_service_grants(&s).len(), hits, "{s}: {:?}", data_service_grants(&s));
        }
    }

    #[test]
    fn confused_deputy_services() {
        assert!(needs_source_condition("ecs-tasks.amazonaws.com"));
        assert!(needs_source_condition("logs.us-east-1.amazonaws.com"));
        assert!(!needs_source_condition("ec2.amazonaws.com"));
        assert!(!needs_source_condition("lambda.amazonaws.com"));
        let trust = |c: Value| json!({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": c});
        assert!(source_restriction(&trust(json!({"StringEquals": {"aws:SourceAccount": "111122223333"}}))).is_ok());
        assert!(source_restriction(&trust(json!({"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:111122223333:*"}}))).is_ok());
        assert!(source_restriction(&trust(json!({"ArnLike": {"aws:SourceArn": "arn:aws:ecs:*:*:*"}}))).is_err());
        assert!(
            source_restriction(&trust(json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}))).is_err(),
            "service principals carry no aws:PrincipalAccount"
        );
        assert!(source_restriction(&trust(json!({"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}))).is_err());
    }
}
