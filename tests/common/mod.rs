//! Helpers for the tests that drive the real `allps-ws` binary: temporary directories,
//! running `admin`, a server process killed on drop (also when the test panics), and a
//! minimal HTTP/1.1 client over `std::net::TcpStream`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_allps-ws");

/// The crate's directory (for `fixtures/`).
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the system temp dir.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "allps-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary with `args`, feeding `stdin` (or nothing: /dev/null).
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("ALLPS_DB")
        .env_remove("ALLPS_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command.spawn().expect("spawning allps-ws");
    if let Some(text) = stdin {
        // A command that refuses before it reads its password (an unknown organisation,
        // say) may exit first: the broken pipe is its answer, not the test's failure.
        let written = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes());
        if let Err(e) = written
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            panic!("writing stdin: {e}");
        }
    }
    child.wait_with_output().expect("allps-ws ran")
}

/// `allps-ws admin --db DB args...`.
pub fn admin(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let db = db.to_str().expect("utf-8 path");
    let mut all = vec!["admin", "--db", db];
    all.extend_from_slice(args);
    run(&all, stdin)
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// Asserts exit code `code` and returns stderr.
#[track_caller]
pub fn fails(output: Output, code: i32) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    stderr(&output)
}

/// A running `allps-ws serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// Starts `serve --listen 127.0.0.1:0 --db DB extra...` and waits for its
    /// "listening on" line.
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(extra)
            .env("ALLPS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning allps-ws serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        // Read the address, then keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent && let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
        });
        // The guard exists before waiting, so a failed start still kills the process.
        let mut server = Server {
            child,
            addr: String::new(),
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => server.addr = addr,
            Err(_) => panic!("the server did not report its address"),
        }
        server
    }

    /// The SOAP endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://{}/allps", self.addr)
    }

    /// POSTs a SOAP 1.1 body to `/allps`; returns status and body.
    pub fn post(&self, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let request = format!(
            "POST /allps HTTP/1.1\r\nHost: {}\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read");
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of the first `<Name>` element after `after` in `body`.
pub fn element_after(body: &str, after: &str, name: &str) -> Option<String> {
    let start = body.find(after)?;
    let rest = &body[start..];
    let open = format!("<{name}>");
    let from = rest.find(&open)? + open.len();
    let to = rest[from..].find('<')? + from;
    Some(rest[from..to].to_string())
}

/// The `AllpsFault` code of a fault body, if it is one.
pub fn fault_code(body: &str) -> Option<String> {
    element_after(body, "AllpsFault", "Code")
}

/// The `Result/Code` of a response body.
pub fn result_code(body: &str) -> Option<String> {
    element_after(body, "<Result>", "Code")
}
