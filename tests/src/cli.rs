//! Running the `ecgdig` binary from integration tests: find an up-to-date
//! build, and run it with a deadline so a hang fails the test instead of
//! stalling the suite.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Newest modification time of the sources the binary is built from.
pub fn newest_source() -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, newest);
            } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                if newest.is_none_or(|n| m > n) {
                    *newest = Some(m);
                }
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut newest = None;
    for d in ["core/src", "stages/src", "pipelines/src", "configs"] {
        walk(&root.join(d), &mut newest);
    }
    newest
}

/// `target/<profile>/ecgdig`, if it exists and is newer than every source
/// file it is built from (otherwise it may be stale: say so and skip).
pub fn fresh_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join(format!("ecgdig{}", std::env::consts::EXE_SUFFIX));
    let Ok(meta) = std::fs::metadata(&bin) else {
        eprintln!(
            "SKIPPED the CLI part: {} not found (cargo build -p ecgdig)",
            bin.display()
        );
        return None;
    };
    let stale = match (meta.modified(), newest_source()) {
        (Ok(b), Some(src)) => b < src,
        _ => false,
    };
    if stale {
        eprintln!(
            "SKIPPED the CLI part: {} is older than the sources (cargo build -p ecgdig)",
            bin.display()
        );
        return None;
    }
    Some(bin)
}

/// Runs `cmd` (stdin closed, output captured), killing it after `limit`;
/// panics with what it printed if it did not finish in time.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    wait_within(cmd.stdout(Stdio::piped()), limit)
}

/// [`output_within`] with stdout left as the caller set it (captured only
/// when piped).
pub fn wait_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    // drain the pipes on threads so a chatty child cannot block on them
    let out = child.stdout.take();
    let mut err = child.stderr.take().expect("stderr piped");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(mut out) = out {
            let _ = std::io::Read::read_to_end(&mut out, &mut b);
        }
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut b);
        b
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the command") {
            break s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = t_err.join().unwrap_or_default();
            let text = String::from_utf8_lossy(&stderr);
            let tail: String = text
                .chars()
                .rev()
                .take(2000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!("{cmd:?} did not finish within {limit:?} (killed); stderr tail:\n{tail}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// Runs `f` on a thread and returns its result, or panics if it takes longer
/// than `limit` (the thread is left behind: the test has failed anyway).
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what} did not finish within {limit:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{what} panicked")
        }
    }
}
