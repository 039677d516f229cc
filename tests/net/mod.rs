//! Shared by the socket-level tests (`server`, `durability`, `observability`): a raw
//! HTTP/1 client over `std::net::TcpStream` with a timeout on every read, SOAP request
//! builders, an in-process server (`server::run` on a port-0 listener, in-memory store,
//! fixture principals and `fixtures/base.sql`), and the real binary started on a
//! temporary database file.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use allps_ws::app::{App, AppConfig};
use allps_ws::testing::TestService;

/// Every read and write in these tests gives up after this long.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The fixture / demo credentials, as real clients send them on every call.
pub const AUTH_HEADER: &str = "<soap:Header><AuthHeader xmlns=\"urn:allps:ws:v1\"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header>";

/// A SOAP 1.1 envelope with the demo credentials around `body`.
pub fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">{AUTH_HEADER}<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

/// `GetClient` for a client number.
pub fn get_client(number: &str) -> String {
    envelope(&format!(
        "<GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>{number}</ClientNumber></GetClient>"
    ))
}

/// `AddEmployer` with a monthly pay day.
pub fn add_employer(code: &str) -> String {
    envelope(&format!(
        "<AddEmployer xmlns=\"urn:allps:ws:v1\"><EmployerCode>{code}</EmployerCode><EmployerName>Employer {code}</EmployerName><PayFrequency>MONTHLY</PayFrequency><PayDay>25</PayDay></AddEmployer>"
    ))
}

/// `AddClient` with a passport (an ID number may belong to one client per branch, so
/// each call gets its own).
pub fn add_client(number: &str, employer: &str, passport: &str) -> String {
    envelope(&format!(
        "<AddClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>{number}</ClientNumber><EmployerCode>{employer}</EmployerCode><FirstName>Lerato</FirstName><Surname>Dlamini</Surname><IdType>PASSPORT</IdType><IdNumber>{passport}</IdNumber><DateOfBirth>1985-03-14</DateOfBirth><Gender>F</Gender><CellphoneNumber>0821234567</CellphoneNumber></AddClient>"
    ))
}

/// The bytes of an HTTP/1.1 SOAP 1.1 POST to `/allps` with a Content-Length.
pub fn post(body: &str) -> Vec<u8> {
    post_with(body.as_bytes(), &[])
}

/// The bytes of an HTTP/1.1 SOAP 1.1 POST with extra header lines (`"Name: value"`).
pub fn post_with(body: &[u8], extra: &[&str]) -> Vec<u8> {
    let mut head = format!(
        "POST /allps HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\n",
        body.len()
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `<Code>` of an `AllpsFault` detail.
    pub fn fault_code(&self) -> Option<String> {
        let text = self.text();
        let detail = &text[text.find("<AllpsFault")?..];
        between(detail, "<Code>", "</Code>")
    }

    /// The `<Result><Code>` of a normal response.
    pub fn result_code(&self) -> Option<i64> {
        let text = self.text();
        let result = &text[text.find("<Result>")?..];
        between(result, "<Code>", "</Code>")?.parse().ok()
    }

    /// A leaf element's text (first occurrence).
    pub fn leaf(&self, name: &str) -> Option<String> {
        between(&self.text(), &format!("<{name}>"), &format!("</{name}>"))
    }

    /// Whether this is a `200` with Result code 0.
    pub fn is_ok(&self) -> bool {
        self.status == 200 && self.result_code() == Some(0)
    }
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].to_string())
}

/// Connects with read and write timeouts set.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// A client connection: a buffered reader over the stream and a writer half.
pub struct Conn {
    /// Reads responses.
    pub reader: BufReader<TcpStream>,
    /// Writes requests.
    pub writer: TcpStream,
}

impl Conn {
    /// Opens a connection.
    pub fn open(addr: SocketAddr) -> Conn {
        Conn::try_open(addr).expect("connect")
    }

    /// Opens a connection, or says why not.
    pub fn try_open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }

    /// Writes bytes.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()
    }

    /// Reads one response (a `1xx` counts as one).
    pub fn read(&mut self) -> std::io::Result<Response> {
        read_response(&mut self.reader)
    }

    /// Sends a request and reads its final response.
    pub fn roundtrip(&mut self, bytes: &[u8]) -> std::io::Result<Response> {
        self.send(bytes)?;
        self.read()
    }

    /// Whether the server has closed the connection: a read returns EOF (or a reset)
    /// within `within`.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        self.reader
            .get_ref()
            .set_read_timeout(Some(within))
            .unwrap();
        let mut byte = [0u8; 1];
        let closed = match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        };
        self.reader
            .get_ref()
            .set_read_timeout(Some(IO_TIMEOUT))
            .unwrap();
        closed
    }
}

/// Reads one HTTP response: status line, headers, then a body framed by
/// `Transfer-Encoding: chunked`, `Content-Length`, or the end of the connection.
pub fn read_response(reader: &mut impl BufRead) -> std::io::Result<Response> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap_or("").to_string();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or_else(|| std::io::Error::other(format!("bad header {l:?}")))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut response = Response {
        version,
        status,
        headers,
        body: Vec::new(),
    };
    if (100..200).contains(&status) {
        return Ok(response);
    }
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                line.clear();
                reader.read_line(&mut line)?;
                break;
            }
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            chunk.truncate(size);
            response.body.extend_from_slice(&chunk);
        }
    } else if let Some(len) = response.header("content-length") {
        let len: usize = len.parse().map_err(std::io::Error::other)?;
        response.body = vec![0u8; len];
        reader.read_exact(&mut response.body)?;
    } else {
        reader.read_to_end(&mut response.body)?;
    }
    Ok(response)
}

/// One request on a fresh connection.
pub fn request(addr: SocketAddr, bytes: &[u8]) -> Response {
    Conn::open(addr).roundtrip(bytes).expect("a response")
}

/// Polls `check` every 10 ms until it holds or `within` passes.
pub fn wait_until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "allps-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The server in this process: `server::run` on a port-0 listener, on its own runtime
/// thread, over an in-memory store with the fixture principals and `fixtures/base.sql`.
pub struct InProc {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The shared state (for the store, counters).
    pub app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: mpsc::Receiver<std::io::Result<()>>,
}

impl InProc {
    /// With the default configuration.
    pub fn start() -> InProc {
        InProc::with_config(AppConfig::default())
    }

    /// With a given configuration.
    pub fn with_config(config: AppConfig) -> InProc {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let result = runtime.block_on(async move {
                let service = TestService::with_config(config).await;
                let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/base.sql");
                service
                    .execute_sql(&std::fs::read_to_string(base).expect("base.sql"))
                    .await;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                ready_tx
                    .send((listener.local_addr()?, service.app.clone()))
                    .expect("test waiting");
                allps_ws::server::run(listener, service.app.clone(), async move {
                    let _ = stop_rx.await;
                })
                .await
            });
            let _ = done_tx.send(result);
        });
        let (addr, app) = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("in-process server started");
        InProc {
            addr,
            app,
            stop: Some(stop),
            done,
        }
    }

    /// Starts shutdown and waits (bounded) for `run` to return.
    pub fn shutdown(mut self, within: Duration) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.done
            .recv_timeout(within)
            .expect("server::run returned in time")
    }
}

impl Drop for InProc {
    fn drop(&mut self) {
        // Start shutdown; the runtime thread ends on its own.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The real binary, `serve --demo` on a database file, port 0.
pub struct Proc {
    /// The child process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every stderr line so far.
    pub stderr: Arc<Mutex<Vec<String>>>,
    stderr_done: mpsc::Receiver<()>,
}

impl Proc {
    /// Starts `allps-ws serve --demo --db <db> --listen 127.0.0.1:0 <extra…>` and waits
    /// for its "listening" line.
    pub fn start(db: &Path, extra: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_allps-ws"))
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(extra)
            .env_remove("ALLPS_LOG")
            .env_remove("ALLPS_LOG_FORMAT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning allps-ws");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let pipe = child.stderr.take().expect("stderr");
        let (addr_tx, addr_rx) = mpsc::channel();
        let (done_tx, stderr_done) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("allps-ws listening on http://") {
                    let addr = rest.split('/').next().unwrap_or("").to_string();
                    let _ = addr_tx.send(addr);
                }
                lines.lock().unwrap().push(line);
            }
            let _ = done_tx.send(());
        });
        let addr = match addr_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "allps-ws did not start: {:?}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Proc {
            child,
            addr,
            stderr,
            stderr_done,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "allps-ws did not exit within {within:?}; stderr:\n{}",
                    self.stderr.lock().unwrap().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// All stderr lines, after the process has exited and the pipe is drained.
    pub fn stderr_after_exit(&self) -> Vec<String> {
        let _ = self.stderr_done.recv_timeout(Duration::from_secs(10));
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Opens a database file read-only (for checks after the server is gone).
pub fn open_db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database")
}

/// `PRAGMA integrity_check` on a database file.
pub fn integrity_check(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).expect("open the database");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}
