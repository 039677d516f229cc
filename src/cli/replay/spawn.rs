//! `replay --spawn`: a sandbox server of replay's own, the same binary
//! (`std::env::current_exe()`) run as `serve` on a free loopback port with a fresh
//! temporary database, killed and its directory removed on drop. The database is seeded
//! before the server starts (fixture principals and the case's SQL), or the server is a
//! plain `serve --demo` sandbox (for a recorded session). Its clock reads an instant from
//! a file replay writes (the hidden `serve --clock-file`), so a case's `clock.txt` can move
//! it between the setup steps and the request, and the background processor is off (as in
//! the fixture harness).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::store::{Db, DbOptions, inspect};

/// A running sandbox server.
pub struct Sandbox {
    child: Child,
    dir: PathBuf,
    clock_file: PathBuf,
    /// Its SOAP endpoint, `http://127.0.0.1:<port>/allps`.
    pub endpoint: String,
}

/// What the sandbox's store starts with.
pub enum Seed<'a> {
    /// The fixture principals, then these scripts (base.sql, the case's seeds).
    Fixtures(&'a [String]),
    /// `serve --demo`: organisation DEMO, branch BR001, user demo.
    Demo,
}

impl Sandbox {
    /// Starts a sandbox with its clock at `now`.
    ///
    /// # Errors
    ///
    /// The database cannot be created or seeded, or the server does not start.
    pub async fn start(seed: &Seed<'_>, now: OffsetDateTime) -> Result<Sandbox, String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "allps-replay-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let clock_file = dir.join("clock.txt");
        let db_path = dir.join("sandbox.db");
        let mut sandbox_dir = Cleanup(Some(dir.clone()));
        std::fs::write(&clock_file, format_timestamp(now))
            .map_err(|e| format!("writing {}: {e}", clock_file.display()))?;
        if let Seed::Fixtures(scripts) = seed {
            seed_fixtures(&db_path, scripts).await?;
        }
        let exe = std::env::current_exe().map_err(|e| format!("finding allps-ws itself: {e}"))?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .arg("--db")
            .arg(&db_path)
            .args(["--listen", "127.0.0.1:0", "--log-level", "error"])
            .arg("--clock-file")
            .arg(&clock_file)
            .arg("--no-processor")
            .env_remove("ALLPS_DEMO")
            .env_remove("ALLPS_RECORD")
            .env_remove("ALLPS_FIXED_TIME")
            .env_remove("ALLPS_PATH")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if matches!(seed, Seed::Demo) {
            command.arg("--demo");
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("starting a sandbox server: {e}"))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Hand over the listening line, then keep draining so the server never blocks.
            let mut told = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !told {
                    if let Some(rest) = line.strip_prefix("allps-ws listening on ") {
                        let url = rest.split_whitespace().next().unwrap_or("").to_string();
                        told = tx.send(Ok(url)).is_ok();
                    } else if line.starts_with("allps-ws: ") {
                        told = tx.send(Err(line)).is_ok();
                    }
                }
            }
            let _ = tx.send(Err("the sandbox server exited before listening".into()));
        });
        let started = Instant::now();
        let endpoint = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Ok(url)) => break url,
                Ok(Err(e)) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("sandbox server: {e}"));
                }
                Err(_) if started.elapsed() > Duration::from_secs(30) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("the sandbox server did not start within 30 s".into());
                }
                Err(_) => {}
            }
        };
        sandbox_dir.0 = None;
        Ok(Sandbox {
            child,
            dir,
            clock_file,
            endpoint,
        })
    }

    /// Moves the sandbox's clock.
    ///
    /// # Errors
    ///
    /// The clock file cannot be written.
    pub fn set_clock(&self, at: OffsetDateTime) -> Result<(), String> {
        write_clock(&self.clock_file, at)
    }
}

/// Writes an instant to a `--clock-file` (whole, through a rename).
fn write_clock(path: &Path, at: OffsetDateTime) -> Result<(), String> {
    let partial = path.with_extension("new");
    std::fs::write(&partial, format_timestamp(at))
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes a directory on drop unless disarmed.
struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Creates the database with the fixture principals and runs the scripts, in one
/// transaction.
async fn seed_fixtures(path: &Path, scripts: &[String]) -> Result<(), String> {
    let db = Db::open(
        path,
        &DbOptions {
            readers: 1,
            ..DbOptions::default()
        },
    )
    .map_err(|e| format!("creating {}: {e}", path.display()))?;
    let scripts = scripts.to_vec();
    let result = db
        .write(move |tx| {
            crate::cli::fixtures::seed_principals(tx, crate::cli::fixtures::FIXED_NOW)
                .map_err(|e| e.to_string())?;
            for sql in &scripts {
                inspect::run_script(tx, sql).map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| format!("seeding the sandbox: {e}")));
    let closing = db.clone();
    let _ = tokio::task::spawn_blocking(move || closing.close()).await;
    result
}
