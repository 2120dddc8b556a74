//! Test-only: a loopback HTTP/1.1 server that answers each request with the next scripted
//! answer (raw bytes, a reset, a cut-short body, a late answer), for measuring what the SDK
//! does with each failure and what tapaudit says about it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub enum Answer {
    /// These bytes, then keep the connection.
    Raw(Vec<u8>),
    /// These bytes, then close the connection.
    RawClose(Vec<u8>),
    /// Read the request, then reset the connection.
    Reset,
    /// Wait, then answer.
    Late(Duration, Vec<u8>),
}

/// An HTTP answer with a correct `Content-Length`.
pub fn http(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// The head of an answer that declares `declared` bytes, followed by only `body`.
pub fn cut_short(status: &str, headers: &[(&str, &str)], body: &str, declared: usize) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {declared}\r\n\r\n{body}"));
    out.into_bytes()
}

pub struct Scripted {
    pub url: String,
    requests: Arc<Mutex<u32>>,
}

impl Scripted {
    /// Serve `script` in order; once it is used up, every further request gets `then`.
    pub async fn start(script: Vec<Answer>, then: Answer) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let requests = Arc::new(Mutex::new(0));
        let counter = requests.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, script.clone(), then.clone(), counter.clone()));
            }
        });
        Scripted { url, requests }
    }

    pub fn requests(&self) -> u32 {
        *self.requests.lock().unwrap()
    }
}

async fn serve(mut conn: TcpStream, script: Arc<Mutex<VecDeque<Answer>>>, then: Answer, counter: Arc<Mutex<u32>>) {
    let mut buf = Vec::new();
    loop {
        // one request: head, then Content-Length bytes
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        while buf.len() < head_end + 4 + len {
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + 4 + len);
        *counter.lock().unwrap() += 1;
        let answer = script.lock().unwrap().pop_front().unwrap_or_else(|| then.clone());
        match answer {
            Answer::Raw(bytes) => {
                if conn.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Answer::RawClose(bytes) => {
                let _ = conn.write_all(&bytes).await;
                let _ = conn.shutdown().await;
                return;
            }
            Answer::Reset => {
                let _ = conn.set_zero_linger();
                return;
            }
            Answer::Late(d, bytes) => {
                tokio::time::sleep(d).await;
                if conn.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}
