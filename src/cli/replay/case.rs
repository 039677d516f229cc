//! Fixture cases as replay sees them: finding every `request.xml` under a directory,
//! reading the case's optional files (`setup/*.xml`, `headers.txt`, `seeds.txt`,
//! `seed.sql`, `clock.txt`, `replay.skip`) and its `response.snap` as `tests/fixtures.rs` writes it:
//! insta front matter between `---` lines, then `HTTP <status>`, `content-type: <value>`,
//! `store: <change>` (continuation lines indented), a blank line, and the body.

use std::path::{Path, PathBuf};

/// The stored answer of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: String,
    /// What the request changed in a fresh store (`unchanged`, or table lines).
    pub store: String,
    /// The response body.
    pub body: String,
}

impl Snapshot {
    /// Whether the request left the store as it was.
    pub fn store_unchanged(&self) -> bool {
        self.store == "unchanged"
    }
}

/// Parses a `response.snap`.
///
/// # Errors
///
/// A file that does not have the harness's shape, described.
pub fn parse_snapshot(text: &str) -> Result<Snapshot, String> {
    let text = text.replace("\r\n", "\n");
    let mut rest = text.as_str();
    if let Some(after) = rest.strip_prefix("---\n") {
        let end = after
            .find("\n---\n")
            .ok_or("front matter is not closed by a --- line")?;
        rest = &after[end + "\n---\n".len()..];
    }
    let (head, body) = match rest.find("\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest.trim_end_matches('\n'), ""),
    };
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.strip_prefix("HTTP "))
        .and_then(|s| s.trim().parse::<u16>().ok())
        .ok_or("the first line is not `HTTP <status>`")?;
    let content_type = lines
        .next()
        .and_then(|l| l.strip_prefix("content-type:"))
        .map(|s| s.trim().to_string())
        .ok_or("the second line is not `content-type: ...`")?;
    let mut store = lines
        .next()
        .and_then(|l| l.strip_prefix("store:"))
        .map(|s| s.trim().to_string())
        .ok_or("the third line is not `store: ...`")?;
    for more in lines {
        store.push('\n');
        store.push_str(more.trim());
    }
    Ok(Snapshot {
        status,
        content_type,
        store,
        body: body.to_string(),
    })
}

/// One fixture case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case directory.
    pub dir: PathBuf,
    /// How the case is named in the report (its path below the replayed directory).
    pub name: String,
    /// Why the case cannot be replayed against a remote server, if so.
    pub skip: Option<String>,
}

impl Case {
    /// The request file.
    pub fn request(&self) -> PathBuf {
        self.dir.join("request.xml")
    }

    /// The setup requests, in name order.
    pub fn setup_steps(&self) -> Vec<PathBuf> {
        let mut steps: Vec<PathBuf> = std::fs::read_dir(self.dir.join("setup"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "xml"))
                    .collect()
            })
            .unwrap_or_default();
        steps.sort();
        steps
    }

    /// `headers.txt` as `(name, value)` pairs, if the case has one.
    ///
    /// # Errors
    ///
    /// A line without a colon.
    pub fn headers(&self) -> Result<Option<Vec<(String, String)>>, String> {
        let Ok(text) = std::fs::read_to_string(self.dir.join("headers.txt")) else {
            return Ok(None);
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .ok_or_else(|| format!("headers.txt: `{l}` is not `Name: value`"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The stored response.
    ///
    /// # Errors
    ///
    /// Missing or malformed `response.snap`.
    pub fn snapshot(&self) -> Result<Snapshot, String> {
        let path = self.dir.join("response.snap");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("no stored response ({}: {e})", path.display()))?;
        parse_snapshot(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Why a case cannot be replayed against a remote server: it needs direct access to
/// the store or the clock, or its `replay.skip` says so.
fn skip_reason(dir: &Path) -> Option<String> {
    if dir.join("seed.sql").exists() {
        return Some("needs seed.sql".into());
    }
    if dir.join("seeds.txt").exists() {
        return Some("needs seeds.txt".into());
    }
    if dir.join("clock.txt").exists() {
        return Some("needs clock.txt".into());
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("replay.skip")) {
        let reason = text.lines().map(str::trim).find(|l| !l.is_empty());
        return Some(match reason {
            Some(reason) => format!("replay.skip: {reason}"),
            None => "replay.skip".into(),
        });
    }
    None
}

/// Every case (directory holding a `request.xml`) under `root`, which may itself be a
/// case, in path order. Directories named `setup` are not searched (they hold steps).
///
/// # Errors
///
/// An unreadable directory.
pub fn discover(root: &Path) -> Result<Vec<Case>, String> {
    let mut dirs = Vec::new();
    collect(root, &mut dirs)?;
    dirs.sort();
    Ok(dirs
        .into_iter()
        .map(|dir| {
            let name = match dir.strip_prefix(root) {
                Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
                _ => dir.display().to_string(),
            };
            Case {
                skip: skip_reason(&dir),
                dir,
                name,
            }
        })
        .collect())
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if dir.join("request.xml").is_file() {
        out.push(dir.to_path_buf());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let path = entry.path();
        if path.is_dir() && entry.file_name() != "setup" {
            collect(&path, out)?;
        }
    }
    Ok(())
}

/// The nearest `base.sql` at or above a case directory (the fixtures root's).
pub fn find_base_sql(case_dir: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(case_dir).unwrap_or_else(|_| case_dir.to_path_buf());
    start
        .ancestors()
        .map(|d| d.join("base.sql"))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_harness_snapshot_shape() {
        let text = "---\nsource: tests/fixtures.rs\ninput_file: fixtures/x/request.xml\n---\nHTTP 200\ncontent-type: text/xml; charset=utf-8\nstore: clients: +1 rows\n       replies: +1 rows\n\n<?xml version=\"1.0\"?>\n<a>\n\n</a>\n";
        let s = parse_snapshot(text).unwrap();
        assert_eq!(s.status, 200);
        assert_eq!(s.content_type, "text/xml; charset=utf-8");
        assert_eq!(s.store, "clients: +1 rows\nreplies: +1 rows");
        assert!(!s.store_unchanged());
        assert_eq!(s.body, "<?xml version=\"1.0\"?>\n<a>\n\n</a>\n");
        let empty = parse_snapshot(
            "---\nsource: x\n---\nHTTP 413\ncontent-type: text/plain\nstore: unchanged\n",
        )
        .unwrap();
        assert_eq!(empty.body, "");
        assert!(empty.store_unchanged());
        assert!(parse_snapshot("---\nsource: x\n---\nHTTP two\n").is_err());
    }
}
