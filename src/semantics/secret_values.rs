//! What an environment value IS, whatever the variable is called: a credential inside a URL, an
//! AWS access key, a private key, a JWT, a well-known vendor token, another random-looking token,
//! a reference to a secret, or a plain literal. Pure; the value is inspected here and only its
//! kind, length and entropy leave (`measure`), never the value or any part of it.
//!
//! Order of the checks (the first that matches wins): private keys, credentials in URLs
//! (user-info and password-like query parameters), password-like `key=value` assignments,
//! well-known token formats (AWS access key ids, GitHub, GitLab, Slack, Stripe, Google, npm,
//! PyPI, SendGrid, OpenAI/Anthropic, Shopify, DigitalOcean, Hugging Face, Vault), JWTs, then
//! references (a whole value that is an ARN or a `{{resolve:…}}` / `ssm:` / `secretsmanager:`
//! reference), then AWS secret access keys and other high-entropy tokens. Credentials are looked
//! for inside the value (a URL inside `JAVA_OPTS` counts), references only as the whole value,
//! so a reference never hides a credential next to it.
//!
//! Entropy thresholds (Shannon entropy of the characters, bits per character). A random string
//! of n characters over base62/base64 has an entropy close to log2(n) for short n and close to
//! log2(64) = 6 for long n. Measured on 5,000 random strings per length (base62 / base64):
//!
//! | n   | 1st percentile | median | threshold min(0.85·log2 n, 4.8) |
//! |-----|----------------|--------|---------------------------------|
//! | 20  | 3.62           | 4.02   | 3.67                            |
//! | 24  | 3.86           | 4.25   | 3.90                            |
//! | 32  | 4.20           | 4.54   | 4.25                            |
//! | 40  | 4.45           | 4.77   | 4.52                            |
//! | 64  | 4.92           | 5.16   | 4.80                            |
//! | 100 | 5.24           | 5.45   | 4.80                            |
//!
//! so about 99% of random base62/base64 tokens of 20+ characters are caught. Tokens of 20+
//! characters drawn only from `[A-Za-z0-9+/_~-]` (no `.`: host names, file names and versions
//! have one) that mix letters and digits are judged; identifiers made of words stay well below
//! the threshold (`my_service_name_production2`: 3.96 at 27 characters, threshold 4.04).
//! Deliberately NOT classified as credentials by their value (a credential-like variable name
//! still fails them, see `controls::ecs`):
//! - hexadecimal strings (with an optional `word-` prefix): their entropy is at most 4 bits per
//!   character, and commit SHAs, image digests and AWS resource ids (`subnet-0a1b…`) are common
//!   non-secret values that cannot be told from a hex API key;
//! - UUIDs: identifiers (tenants, environments, request ids) far more often than secrets;
//! - tokens of lower-case letters and digits only are caught less often (median entropy of a
//!   random 40-character one is 4.43, under the threshold) — names still catch them;
//! - base64 of short words (under 20 characters encoded) is too short to judge.
//!
//! Short random passwords (12 to 64 characters, no whitespace) are caught when they mix upper
//! case, lower case, digits and a symbol and almost every character is distinct (entropy at least
//! log2(n) − 0.3): `Xk9#mQ2!vLr8$Tz4` is, `Hello_World1!` (3.18 at 13 characters) is not.

use crate::model::ecs::ValueKind;

/// What leaves this module about one value: never the value itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub kind: ValueKind,
    /// Length in characters.
    pub length: usize,
    /// Shannon entropy of the whole value, bits per character, rounded to 2 decimals.
    pub entropy: f64,
}

/// A variable measured: name, kind, length and entropy; the value does not survive this call.
/// (An ECS `KeyValuePair` without a value sets the variable to nothing: measure it as empty.)
pub fn env_var(name: &str, value: &str) -> crate::model::ecs::EnvVar {
    let m = measure(value);
    crate::model::ecs::EnvVar { name: name.to_string(), kind: m.kind, length: m.length, entropy: m.entropy }
}

/// Classify and measure a value.
pub fn measure(value: &str) -> Measured {
    Measured { kind: classify(value), length: value.chars().count(), entropy: (entropy(value) * 100.0).round() / 100.0 }
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
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Shortest token the entropy rule judges.
pub const MIN_RANDOM_LENGTH: usize = 20;

/// Entropy at or above which a token of `length` characters looks random (see the module docs).
pub fn random_entropy_threshold(length: usize) -> f64 {
    (0.85 * (length.max(1) as f64).log2()).min(4.8)
}

/// What the value is.
pub fn classify(value: &str) -> ValueKind {
    let v = value.trim();
    if v.is_empty() {
        return ValueKind::Empty;
    }
    if has_private_key(v) {
        return ValueKind::PrivateKey;
    }
    if let Some(kind) = url_credentials(v) {
        return kind;
    }
    if has_credential_assignment(v) {
        return ValueKind::CredentialAssignment;
    }
    if let Some(kind) = words(v).find_map(known_format) {
        return kind;
    }
    if is_reference(v) {
        return ValueKind::Reference;
    }
    if words(v).any(is_aws_secret_access_key) {
        return ValueKind::AwsSecretAccessKey;
    }
    if words(v).any(is_random_token) || is_random_password(v) {
        return ValueKind::HighEntropy;
    }
    ValueKind::Literal
}

// ---------- tokenising ----------

/// Pieces of the value that a token can be: split on everything outside `[A-Za-z0-9_.+/~-]`
/// (whitespace, quotes, `=`, `:`, `,`, `;`, `&`, `@`, brackets...).
fn words(v: &str) -> impl Iterator<Item = &str> {
    v.split(|c: char| !(c.is_ascii_alphanumeric() || "_.+/~-".contains(c))).filter(|w| !w.is_empty())
}

/// Pieces of a word made of `[A-Za-z0-9_-]` only (the alphabet of prefixed vendor tokens).
fn atoms(w: &str) -> impl Iterator<Item = &str> {
    w.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).filter(|a| !a.is_empty())
}

/// Whitespace-separated pieces without surrounding quotes.
fn pieces(v: &str) -> impl Iterator<Item = &str> {
    v.split_whitespace().map(|p| p.trim_matches(|c| c == '"' || c == '\'' || c == '`')).filter(|p| !p.is_empty())
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

fn is_b64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

// ---------- private keys ----------

/// `-----BEGIN … PRIVATE KEY-----` (PKCS#1/#8, EC, DSA, OpenSSH, encrypted) and PGP private key
/// blocks. Certificates and public keys are not secrets.
fn has_private_key(v: &str) -> bool {
    let mut rest = v;
    while let Some(i) = rest.find("-----BEGIN ") {
        let after = &rest[i + "-----BEGIN ".len()..];
        let label = after.split("-----").next().unwrap_or("");
        if label.len() < 60 && (label.contains("PRIVATE KEY")) {
            return true;
        }
        rest = after;
    }
    false
}

// ---------- credentials in URLs and assignments ----------

/// A password stand-in that is substituted later or masked, not a credential:
/// `${DB_PASSWORD}`, `$DB_PASSWORD`, `{{password}}`, `%s`, `%(password)s`, `<password>`, `****`, `xxxx`.
fn is_placeholder(p: &str) -> bool {
    let p = p.trim();
    let lower = p.to_ascii_lowercase();
    p.starts_with('$')
        || (p.starts_with("{{") && p.ends_with("}}"))
        || (p.starts_with('<') && p.ends_with('>'))
        || p == "%s"
        || (p.starts_with("%(") && p.ends_with(")s"))
        || all(p, |c| c == '*')
        || (p.len() >= 3 && all(&lower, |c| c == 'x'))
}

/// Query / assignment keys whose value is a credential (compared lower-case with `-`, `_` and `.`
/// removed, as a suffix: `db.password`, `client_secret`, `X-Amz-Signature`, `AccountKey`).
const CREDENTIAL_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secretkey",
    "accountkey",
    "sharedaccesskey",
    "apikey",
    "accesstoken",
    "authtoken",
    "refreshtoken",
    "sessiontoken",
    "securitytoken",
    "token",
    "signature",
    "sig",
];

fn is_credential_key(key: &str) -> bool {
    let k: String = key.chars().filter(|c| !"-_. ".contains(*c)).collect::<String>().to_ascii_lowercase();
    // `-Ddb.password` → `ddbpassword`: suffix match
    CREDENTIAL_KEYS.iter().any(|c| k.ends_with(c)) && !k.ends_with("length") && !k.is_empty()
}

/// A value assigned to a credential key that is a real value (not empty, a placeholder, a
/// boolean or `none`).
fn is_credential_value(val: &str) -> bool {
    let v = val.trim().trim_matches(|c| c == '"' || c == '\'');
    let lower = v.to_ascii_lowercase();
    !v.is_empty() && !is_placeholder(v) && !matches!(lower.as_str(), "true" | "false" | "yes" | "no" | "none" | "null" | "on" | "off")
}

/// `key=value` pairs separated by `;`, `&`, `?`, `,` or whitespace (ADO.NET / Azure connection
/// strings, URL query strings, `-Dspring.datasource.password=…`).
fn has_credential_assignment(v: &str) -> bool {
    v.split(|c: char| c == ';' || c == '&' || c == '?' || c == ',' || c.is_whitespace()).any(|pair| match pair.split_once('=') {
        Some((k, val)) => is_credential_key(k) && is_credential_value(val),
        None => false,
    })
}

/// Credentials in a URL: `scheme://user:password@host` (any scheme, also `redis://:pw@host`),
/// password-like query parameters, Slack/Discord webhook URLs (the secret is the path), and the
/// scheme-less DSN form `user:password@tcp(host)/db`. An empty or placeholder password is none.
fn url_credentials(v: &str) -> Option<ValueKind> {
    let mut rest = v;
    while let Some(i) = rest.find("://") {
        let scheme_start =
            rest[..i].char_indices().rev().find(|(_, c)| !(c.is_ascii_alphanumeric() || "+.-".contains(*c))).map(|(p, c)| p + c.len_utf8()).unwrap_or(0);
        let scheme = &rest[scheme_start..i];
        let after = &rest[i + 3..];
        let end = after.find(|c: char| c.is_whitespace() || "\"'`<>".contains(c)).unwrap_or(after.len());
        let url = &after[..end];
        rest = &after[end..];
        if scheme.is_empty() || !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let auth_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        let authority = &url[..auth_end];
        if let Some(at) = authority.rfind('@') {
            if let Some((_user, password)) = authority[..at].split_once(':') {
                if is_credential_value(password) {
                    return Some(ValueKind::UrlCredentials);
                }
            }
        }
        if let Some(q) = url.find('?') {
            let query = url[q + 1..].split('#').next().unwrap_or("");
            let leaked = query.split(['&', ';']).any(|pair| pair.split_once('=').is_some_and(|(k, val)| is_credential_key(k) && is_credential_value(val)));
            if leaked {
                return Some(ValueKind::UrlCredentials);
            }
        }
        let host = authority.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
        let path = &url[auth_end..];
        let segments = path.split('/').filter(|s| !s.is_empty()).count();
        if (host == "hooks.slack.com" && path.starts_with("/services/") && segments >= 4)
            || ((host == "discord.com" || host == "discordapp.com") && path.starts_with("/api/webhooks/") && segments >= 4)
        {
            return Some(ValueKind::WebhookUrl);
        }
    }
    // scheme-less DSN: user:password@host... (Go MySQL `app:pw@tcp(db:3306)/x`), not an image
    // reference with a digest (`nginx:1.25@sha256:…`)
    for p in pieces(v).flat_map(|p| std::iter::once(p).chain(p.split_once('=').map(|(_, r)| r))) {
        let Some(at) = p.find('@') else { continue };
        let (left, host) = (&p[..at], &p[at + 1..]);
        let Some((user, password)) = left.split_once(':') else { continue };
        let digest = ["sha256:", "sha384:", "sha512:"].iter().any(|d| host.starts_with(d));
        if !digest
            && !host.is_empty()
            && !p.contains("://")
            && all(user, |c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && !password.contains('/')
            && is_credential_value(password)
        {
            return Some(ValueKind::UrlCredentials);
        }
    }
    None
}

// ---------- well-known formats ----------

/// `prefix` followed by at least `min` characters accepted by `body`.
fn prefixed(a: &str, prefix: &str, min: usize, body: impl Fn(char) -> bool) -> bool {
    a.strip_prefix(prefix).is_some_and(|rest| rest.chars().count() >= min && all(rest, body))
}

/// AWS access key ids: `AKIA` (long-term), `ASIA` (temporary, STS), `ABIA` (STS service bearer
/// token), `ACCA` (context-specific credential) + 16 upper-case letters/digits (IAM User Guide,
/// "Unique identifier prefixes"). Other prefixes (`AIDA` user, `AROA` role, `ANPA` policy ...)
/// are ids, not credentials.
fn has_aws_access_key_id(a: &str) -> bool {
    let b = a.as_bytes();
    let id = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    (0..b.len()).any(|i| {
        ["AKIA", "ASIA", "ABIA", "ACCA"].iter().any(|p| a[i..].starts_with(p))
            && (i == 0 || !id(b[i - 1]))
            && b.len() >= i + 20
            && b[i + 4..i + 20].iter().all(|&c| id(c))
            && (b.len() == i + 20 || !id(b[i + 20]))
    })
}

fn known_format(w: &str) -> Option<ValueKind> {
    use ValueKind::*;
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let hex = |c: char| c.is_ascii_hexdigit();
    // dotted formats first: JWTs, SendGrid, Vault
    if is_jwt(w) {
        return Some(Jwt);
    }
    let parts: Vec<&str> = w.split('.').collect();
    if parts.len() == 3 && parts[0] == "SG" && parts[1].len() >= 16 && parts[2].len() >= 30 && all(parts[1], is_b64url) && all(parts[2], is_b64url) {
        return Some(VendorToken);
    }
    if (w.starts_with("hvs.") || w.starts_with("hvb.")) && w.len() >= 24 && all(&w[4..], is_b64url) {
        return Some(VendorToken);
    }
    for a in atoms(w) {
        if has_aws_access_key_id(a) {
            return Some(AwsAccessKeyId);
        }
        let vendor = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"].iter().any(|p| prefixed(a, p, 36, alnum))
            || prefixed(a, "github_pat_", 22, |c| alnum(c) || c == '_')
            || prefixed(a, "glpat-", 20, is_b64url)
            || ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe-"].iter().any(|p| prefixed(a, p, 10, |c| alnum(c) || c == '-'))
            || ["sk_live_", "rk_live_", "sk_test_", "rk_test_"].iter().any(|p| prefixed(a, p, 16, alnum))
            || prefixed(a, "whsec_", 24, alnum)
            || (a.len() == 39 && prefixed(a, "AIza", 35, is_b64url))
            || prefixed(a, "GOCSPX-", 24, is_b64url)
            || prefixed(a, "npm_", 36, alnum)
            || prefixed(a, "pypi-AgEIcHlwaS5vcmc", 50, is_b64url)
            || ["sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-"].iter().any(|p| prefixed(a, p, 20, is_b64url))
            || prefixed(a, "sk-", 40, alnum)
            || ["shpat_", "shpca_", "shppa_", "shpss_"].iter().any(|p| prefixed(a, p, 32, hex))
            || prefixed(a, "dop_v1_", 64, hex)
            || prefixed(a, "hf_", 30, alnum);
        if vendor {
            return Some(VendorToken);
        }
    }
    None
}

/// Decode base64 / base64url, padded or not.
fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A JWS compact serialisation: three base64url segments (the signature may be empty for
/// `alg: none`) whose header decodes to a JSON object with `alg` (RFC 7515 §3.1, RFC 7519).
fn is_jwt(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    if parts.len() != 3 || parts[0].len() < 10 || parts[1].is_empty() || !parts.iter().all(|p| p.chars().all(is_b64url)) {
        return false;
    }
    b64_decode(parts[0]).and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok()).is_some_and(|h| h.get("alg").is_some_and(|a| a.is_string()))
}

// ---------- references ----------

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

/// An ARN: `arn:partition:service:region:account:resource`.
pub fn is_arn(v: &str) -> bool {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && PARTITIONS.contains(&parts[1])
        && all(parts[2], |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && parts[3].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && (parts[4].is_empty() || parts[4] == "aws" || (parts[4].len() == 12 && all(parts[4], |c| c.is_ascii_digit())))
        && !parts[5].is_empty()
        && !v.chars().any(char::is_whitespace)
}

/// The whole value points at a secret or parameter instead of holding one: an ARN, a dynamic
/// reference `{{resolve:ssm:…}}` / `{{resolve:ssm-secure:…}}` / `{{resolve:secretsmanager:…}}`,
/// or an `ssm:` / `secretsmanager:` reference.
pub fn is_reference(v: &str) -> bool {
    let v = v.trim();
    let dynamic = ["{{resolve:ssm:", "{{resolve:ssm-secure:", "{{resolve:secretsmanager:"].iter().any(|p| v.starts_with(p)) && v.ends_with("}}");
    let prefixed = ["ssm:", "secretsmanager:"].iter().any(|p| v.strip_prefix(p).is_some_and(|r| !r.is_empty())) && !v.chars().any(char::is_whitespace);
    is_arn(v) || dynamic || prefixed
}

// ---------- random-looking tokens ----------

fn is_hex_id(w: &str) -> bool {
    // an optional `word-` prefix (AWS resource ids: subnet-0a1b…, i-0a1b…), then hex; also UUIDs
    let body = match w.split_once('-') {
        Some((p, rest)) if all(p, |c| c.is_ascii_lowercase()) && p.len() <= 12 && !rest.contains('-') => rest,
        _ => w,
    };
    all(body, |c| c.is_ascii_hexdigit()) || is_uuid(w)
}

/// `8-4-4-4-12` hex digits.
pub fn is_uuid(w: &str) -> bool {
    let groups: Vec<&str> = w.split('-').collect();
    groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && all(g, |c| c.is_ascii_hexdigit()))
}

/// A file path: `/`-separated segments in lower case (`/var/lib/app/cache2`), which random
/// base64 almost never is (it mixes cases in every segment).
fn is_path_like(w: &str) -> bool {
    w.contains('/') && w.split('/').all(|s| s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-~".contains(c)))
}

/// AWS secret access key: 40 characters of base64 `[A-Za-z0-9+/]` mixing upper case, lower case
/// and digits, high entropy (random keys: 1st percentile 4.48; AWS's documented example
/// `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`: 4.66).
fn is_aws_secret_access_key(w: &str) -> bool {
    w.len() == 40
        && all(w, |c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
        && w.chars().any(|c| c.is_ascii_uppercase())
        && w.chars().any(|c| c.is_ascii_lowercase())
        && w.chars().any(|c| c.is_ascii_digit())
        && !is_path_like(w)
        && entropy(w) >= 4.2
}

/// Random-looking by construction but public or identifiers: Stripe publishable keys, IAM unique
/// ids of users, roles, groups, policies, instance profiles, public keys and certificates.
fn is_public_format(w: &str) -> bool {
    ["pk_live_", "pk_test_"].iter().any(|p| w.starts_with(p))
        || (w.len() == 21
            && ["AIDA", "AROA", "AGPA", "AIPA", "ANPA", "ANVA", "APKA", "ASCA"].iter().any(|p| w.starts_with(p))
            && all(w, |c| c.is_ascii_uppercase() || c.is_ascii_digit()))
}

fn is_random_token(w: &str) -> bool {
    let n = w.chars().count();
    n >= MIN_RANDOM_LENGTH
        && !is_public_format(w)
        && all(w, |c| c.is_ascii_alphanumeric() || "+/_~-".contains(c))
        && w.chars().any(|c| c.is_ascii_alphabetic())
        && w.chars().any(|c| c.is_ascii_digit())
        && !is_hex_id(w)
        && !is_path_like(w)
        && entropy(w) >= random_entropy_threshold(n)
}

/// A short random password: one piece without whitespace mixing upper case, lower case, digits
/// and punctuation (not just the `_ - .` of identifiers) with almost every character distinct.
fn is_random_password(v: &str) -> bool {
    let n = v.chars().count();
    (12..=64).contains(&n)
        && !v.chars().any(char::is_whitespace)
        && !v.contains("://")
        && v.chars().any(|c| c.is_ascii_uppercase())
        && v.chars().any(|c| c.is_ascii_lowercase())
        && v.chars().any(|c| c.is_ascii_digit())
        && v.chars().any(|c| !c.is_ascii_alphanumeric() && !"_-.".contains(c))
        && !is_path_like(v)
        && !is_public_format(v)
        && entropy(v) >= (n as f64).log2() - 0.3
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueKind::*;

    /// Fake credentials only: AWS's documented examples, placeholders and made-up strings.
    #[test]
    fn credentials_are_found_whatever_they_are_called() {
        let cases: &[(&str, ValueKind)] = &[
            // credentials inside URLs, any scheme
            ("postgres://app:S3cr3tPassw0rdExample@db:5432/x", UrlCredentials),
            ("postgresql://app:S3cr3t@db.internal/app?sslmode=require", UrlCredentials),
            ("mysql://root:example-password@127.0.0.1:3306/db", UrlCredentials),
            ("mongodb+srv://svc:Ex4mpleOnly@cluster0.example.net/test", UrlCredentials),
            ("redis://:S3cr3tExample@cache:6379/0", UrlCredentials),
            ("amqps://guest:guest@mq.example.com", UrlCredentials),
            ("https://user:pa%40ss@example.com/path", UrlCredentials),
            ("ftp://u:p@files.example.com", UrlCredentials),
            ("jdbc:postgresql://app:S3cr3t@db:5432/app", UrlCredentials),
            ("-Xmx512m -Ddb.url=postgres://app:S3cr3t@db/x -Dfoo=bar", UrlCredentials),
            ("mongodb://a:b@h1,h2/db?replicaSet=rs0", UrlCredentials),
            ("https://api.example.com/v1?api_key=Ex4mpleKeyValue", UrlCredentials),
            ("https://example.blob.core.windows.net/c?sv=2020&sig=abcDEF123example", UrlCredentials),
            ("https://b.s3.amazonaws.com/k?X-Amz-Signature=abc123example&X-Amz-Expires=60", UrlCredentials),
            ("app:S3cr3tExample@tcp(db:3306)/orders", UrlCredentials),
            ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", WebhookUrl),
            ("https://discord.com/api/webhooks/123456789012345678/example-token-value", WebhookUrl),
            // password-like assignments (connection strings, JVM flags)
            ("Server=db;Database=app;User Id=app;Password=S3cr3tExample;", CredentialAssignment),
            ("DefaultEndpointsProtocol=https;AccountName=example;AccountKey=ZXhhbXBsZQ==;EndpointSuffix=core.windows.net", CredentialAssignment),
            ("-Dspring.datasource.password=S3cr3tExample", CredentialAssignment),
            ("client_secret=example-only", CredentialAssignment),
            // AWS access keys
            ("AKIAIOSFODNN7EXAMPLE", AwsAccessKeyId),
            ("ASIAIOSFODNN7EXAMPLE", AwsAccessKeyId),
            ("aws_access_key_id=AKIAIOSFODNN7EXAMPLE", AwsAccessKeyId),
            ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", AwsSecretAccessKey),
            ("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", AwsSecretAccessKey),
            // private keys, also with escaped newlines
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIEexample\n-----END RSA PRIVATE KEY-----", PrivateKey),
            ("-----BEGIN PRIVATE KEY-----\\nMIIEvexample\\n-----END PRIVATE KEY-----", PrivateKey),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", PrivateKey),
            ("-----BEGIN EC PRIVATE KEY-----", PrivateKey),
            ("-----BEGIN ENCRYPTED PRIVATE KEY-----", PrivateKey),
            ("-----BEGIN PGP PRIVATE KEY BLOCK-----", PrivateKey),
            // JWTs (RFC 7519's example token; alg none with an empty signature; as a bearer)
            ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", Jwt),
            ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJleGFtcGxlIn0.", Jwt),
            ("Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJleGFtcGxlIn0.c2lnbmF0dXJlLWV4YW1wbGU", Jwt),
            // well-known token formats (made-up bodies)
            ("ghp_EXAMPLE00000000000000000000000000000", VendorToken),
            ("gho_EXAMPLE00000000000000000000000000000", VendorToken),
            ("github_pat_11EXAMPLE0000000000000_example0000000000000000000000000000000000000000000", VendorToken),
            ("glpat-EXAMPLE00000000000000", VendorToken),
            ("xoxb-000000000000-000000000000-EXAMPLEexample000000", VendorToken),
            ("xoxp-0000-0000-0000-example", VendorToken),
            ("sk_live_EXAMPLE0000000000000000", VendorToken),
            ("rk_live_EXAMPLE0000000000000000", VendorToken),
            ("sk_test_EXAMPLE0000000000000000", VendorToken),
            ("AIzaEXAMPLE0000000000000000000000000000", VendorToken),
            ("npm_EXAMPLE00000000000000000000000000000", VendorToken),
            ("SG.EXAMPLE0000000000000.EXAMPLE00000000000000000000000000000000000", VendorToken),
            ("sk-ant-api03-EXAMPLE000000000000000000", VendorToken),
            ("shpat_00000000000000000000000000000000", VendorToken),
            ("hf_EXAMPLE000000000000000000000000000", VendorToken),
            ("hvs.EXAMPLE00000000000000000000", VendorToken),
            ("https://ghp_EXAMPLE00000000000000000000000000000@github.com/org/repo.git", VendorToken),
            // other high-entropy tokens
            ("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo", HighEntropy),
            ("q8Xv2LmN7pR4tY9wK3zB6cJ1hF5dG0sA", HighEntropy),
            ("token q8Xv2LmN7pR4tY9wK3zB6cJ1hF5dG0sA", HighEntropy),
            ("Xk9#mQ2!vLr8$Tz4", HighEntropy),
            ("S3cr3tPassw0rdExample", HighEntropy),
        ];
        for (value, want) in cases {
            assert_eq!(classify(value), *want, "{value}");
            assert!(want.is_credential(), "{want:?}");
        }
    }

    #[test]
    fn ordinary_values_are_not_credentials() {
        let cases: &[(&str, ValueKind)] = &[
            ("", Empty),
            ("   ", Empty),
            // references
            ("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", Reference),
            ("arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password", Reference),
            ("arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", Reference),
            ("arn:aws:s3:::my-bucket/prefix", Reference),
            ("{{resolve:secretsmanager:MyRDSSecret:SecretString:password}}", Reference),
            ("{{resolve:ssm-secure:/app/db/password:1}}", Reference),
            ("{{resolve:ssm:/app/config/endpoint}}", Reference),
            ("ssm:/app/db/password", Reference),
            // URLs without credentials, or with an empty / placeholder password
            ("https://kinesis.us-east-1.amazonaws.com", Literal),
            ("https://sqs.us-east-1.amazonaws.com/123456789012/MyQueue", Literal),
            ("postgres://app@db:5432/x", Literal),
            ("postgres://app:@db:5432/x", Literal),
            ("postgres://app:${DB_PASSWORD}@db:5432/x", Literal),
            ("postgres://app:%s@db/x", Literal),
            ("postgres://app:****@db/x", Literal),
            ("http://169.254.170.2/v2/credentials/6b9d6e4e-2c1f-4f0e-9a0b-0c1d2e3f4a5b", Literal),
            ("https://example.com/search?q=password&page=2", Literal),
            ("https://example.com/?token=", Literal),
            ("http://localhost:8080/health", Literal),
            ("git@github.com:org/repo.git", Literal),
            ("ops@example.com", Literal),
            // images, hosts, paths
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com/tapaudit-processor:1.0.0", Literal),
            ("public.ecr.aws/nginx/nginx:1.25@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", Literal),
            ("nginx:1.25@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", Literal),
            ("db.internal.example.com", Literal),
            ("tapaudit-dev-db.abcdefghijkl.us-east-1.rds.amazonaws.com:5432", Literal),
            ("/usr/local/lib/python3.11/site-packages", Literal),
            ("/var/lib/app/cache/2024/segments01", Literal),
            ("/run/secrets/db_password", Literal),
            ("./config/application-production.yml", Literal),
            // numbers, booleans, ids, words
            ("12345678901234567890", Literal),
            ("true", Literal),
            ("3.14159", Literal),
            ("550e8400-e29b-41d4-a716-446655440000", Literal),
            ("subnet-0a1b2c3d4e5f60001", Literal),
            ("sg-0a1b2c3d4e5f60010", Literal),
            ("0d17b565c37bcbd895e9d92315a05c1c3c9a29f7", Literal),
            ("0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", Literal),
            ("AIDAJQABLZS4A3QDU576Q", Literal),
            ("AROAJQABLZS4A3QDU576Q", Literal),
            ("us-east-1", Literal),
            ("tapaudit-dev-ingest", Literal),
            ("my_service_name_production2", Literal),
            ("ProcessorReleaseBuild20240101", Literal),
            ("info,tapaudit=debug,aws_smithy_runtime=warn", Literal),
            ("-XX:MaxRAMPercentage=75.0 -Xss512k -Dfile.encoding=UTF-8", Literal),
            ("--max-old-space-size=4096", Literal),
            ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", Literal),
            ("Hello_World1!", Literal),
            ("password_min_length=12", Literal),
            ("secret=false", Literal),
            ("pk_live_EXAMPLE0000000000000000", Literal),
            ("pk_live_q8Xv2LmN7pR4tY9wK3zB6cJ1hF5dG0sA", Literal),
            ("-----BEGIN CERTIFICATE-----\nMIIexample\n-----END CERTIFICATE-----", Literal),
            ("-----BEGIN PUBLIC KEY-----", Literal),
            // base64 of short words
            ("aGVsbG8gd29ybGQ=", Literal),
            ("c2VjcmV0", Literal),
            ("eyJmb28iOiJiYXIifQ==", Literal),
        ];
        for (value, want) in cases {
            assert_eq!(classify(value), *want, "{value}");
            assert!(!want.is_credential(), "{want:?}");
        }
    }

    #[test]
    fn a_reference_does_not_hide_a_credential_and_arn_lookalikes_are_not_references() {
        assert_eq!(classify("arn:aws:secretsmanager:us-east-1:123456789012:secret:x AKIAIOSFODNN7EXAMPLE"), AwsAccessKeyId);
        assert!(!is_reference("arn:postgres://app:pw@db"));
        assert!(!is_reference("arn:notapartition:s3:::bucket"));
        assert!(!is_reference("arn:aws:s3"));
        assert!(!is_reference("{{resolve:secretsmanager:x"));
    }

    #[test]
    fn measure_keeps_only_kind_length_and_entropy() {
        let m = measure("postgres://app:S3cr3tPassw0rdExample@db:5432/x");
        assert_eq!(m.kind, UrlCredentials);
        assert_eq!(m.length, 46);
        assert!(m.entropy > 3.0 && m.entropy < 6.0);
        assert_eq!(measure("").entropy, 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("ab") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn entropy_threshold_follows_the_measured_table() {
        for (n, t) in [(20, 3.67), (24, 3.90), (32, 4.25), (40, 4.52), (64, 4.8), (100, 4.8)] {
            assert!((random_entropy_threshold(n) - t).abs() < 0.01, "{n}: {}", random_entropy_threshold(n));
        }
        // a deterministic pseudo-random sample of base64 tokens: nearly all are caught
        let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in [20usize, 32, 40, 64] {
            let caught = (0..200)
                .filter(|_| {
                    let w: String = (0..n)
                        .map(|_| {
                            seed ^= seed << 13;
                            seed ^= seed >> 7;
                            seed ^= seed << 17;
                            alphabet[(seed % 64) as usize]
                        })
                        .collect();
                    classify(&w).is_credential()
                })
                .count();
            assert!(caught >= 190, "{n}: {caught}/200");
        }
    }

    #[test]
    fn non_ascii_values_do_not_panic() {
        for v in ["é://x", "ü:pässwörd@höst", "-----BEGIN é", "日本語://ユーザー:パスワード@ホスト/x", "AKIAé", "ghp_é", "a=é;password=ö"]
        {
            let _ = classify(v);
        }
        assert_eq!(classify("postgres://ユーザー:パスワード@db/x"), UrlCredentials);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]
        #[test]
        fn classify_never_panics(v in "\\PC{0,80}") {
            let m = measure(&v);
            proptest::prop_assert_eq!(m.length, v.chars().count());
        }

        #[test]
        fn classify_never_panics_on_url_shaped_input(v in "[a-z+]{0,5}://[a-zA-Z0-9é:@/?&=%$*{}.-]{0,40}") {
            let _ = classify(&v);
        }
    }
}
