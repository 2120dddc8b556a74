//! Test harness: a private moto server per test (free loopback port, started and stopped by
//! the project's own script), the built binary run against it, and SDK clients for checks.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod fault_proxy;

pub const ACCOUNT: &str = "123456789012";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A moto server on its own port, stopped when dropped.
pub struct Emulator {
    pub port: u16,
}

impl Emulator {
    pub fn start() -> Emulator {
        let port = free_port();
        let status = Command::new(root().join("scripts/emulator.sh"))
            .args(["start", &port.to_string()])
            .stdout(Stdio::null())
            .status()
            .expect("run scripts/emulator.sh");
        assert!(status.success(), "emulator did not start on port {port}");
        Emulator { port }
    }

    /// An emulator that enforces IAM once [`Emulator::enforce_iam`] is called (until then every
    /// request passes, so users and resources can be set up).
    pub fn start_enforcing() -> Emulator {
        let port = free_port();
        let status = Command::new(root().join("scripts/emulator.sh"))
            .args(["start", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "1000000000")
            .stdout(Stdio::null())
            .status()
            .expect("run scripts/emulator.sh");
        assert!(status.success(), "emulator did not start on port {port}");
        Emulator { port }
    }

    /// From now on every request is authenticated (SigV4) and authorized by IAM policies
    /// (`POST /moto-api/reset-auth` with the count of requests still let through: 0).
    pub fn enforce_iam(&self) {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the emulator");
        let request = format!(
            "POST /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0",
            self.port
        );
        conn.write_all(request.as_bytes()).expect("send reset-auth");
        let mut answer = String::new();
        conn.read_to_string(&mut answer).expect("read reset-auth");
        assert!(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"), "reset-auth: {answer}");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The tapaudit binary with this emulator as its AWS endpoint (the standard variables only).
    pub fn tapaudit(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tapaudit"));
        c.args(args)
            .current_dir(root())
            .env("AWS_ENDPOINT_URL", self.url())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::null());
        c
    }

    /// The binary run with these access keys instead of the test's.
    pub fn run_as(&self, keys: &(String, String), args: &[&str]) -> Run {
        let out = self.tapaudit(args).env("AWS_ACCESS_KEY_ID", &keys.0).env("AWS_SECRET_ACCESS_KEY", &keys.1).output().expect("run tapaudit");
        Run::from(out)
    }

    /// SDK configuration with these access keys.
    pub async fn sdk_as(&self, keys: &(String, String)) -> aws_config::SdkConfig {
        let creds = aws_sdk_sts::config::Credentials::new(keys.0.clone(), keys.1.clone(), None, None, "tests");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.url())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .load()
            .await
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.tapaudit(args).output().expect("run tapaudit");
        Run::from(out)
    }

    /// SDK configuration with the test's access keys.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        self.sdk_as(&("testing".to_string(), "testing".to_string())).await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/emulator.sh")).args(["stop", &self.port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(self, what: &str) -> Run {
        assert_eq!(self.code, 0, "{what} failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        assert!(!self.stderr.contains("panicked"), "{what} panicked: {}", self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

impl Emulator {
    /// tapaudit with no AWS endpoint reachable at all (for offline commands).
    pub fn offline_run(args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
            .args(args)
            .current_dir(root())
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run tapaudit");
        Run::from(out)
    }
}

/// The status of the one finding of `control` on the resource whose id, name or logical id is
/// `resource` (exactly one must exist).
pub fn status_of(report: &serde_json::Value, control: &str, resource: &str) -> String {
    let hits: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["control_id"] == control && (f["resource"]["id"] == resource || f["resource"]["name"] == resource || f["resource"]["logical_id"] == resource)
        })
        .collect();
    assert_eq!(hits.len(), 1, "{control} on {resource}: {hits:#?}");
    hits[0]["status"].as_str().expect("status").to_string()
}

/// A two-node Memcached cluster in one zone. moto reports a Memcached cluster's zone only when
/// one is given at creation (real AWS always reports it).
pub async fn single_az_memcached(ec: &aws_sdk_elasticache::Client, id: &str) {
    ec.create_cache_cluster()
        .cache_cluster_id(id)
        .engine("memcached")
        .cache_node_type("cache.t3.micro")
        .num_cache_nodes(2)
        .az_mode(aws_sdk_elasticache::types::AzMode::SingleAz)
        .preferred_availability_zone("us-east-1a")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create memcached {id}: {e:?}"));
}
