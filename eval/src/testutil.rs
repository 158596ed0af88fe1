//! Helpers for this crate's tests: the shared data folder, python wfdb, temp folders.

use std::path::PathBuf;
use std::process::Command;

/// `$ECGDIG_SHARED`, or `<workspace>/../shared`, when it exists.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("ECGDIG_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    dir.is_dir().then_some(dir)
}

/// True when `python3 -c "import numpy, wfdb"` works.
pub fn python_wfdb() -> bool {
    Command::new("python3")
        .args(["-c", "import numpy, wfdb"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A fresh, empty folder unique to this process and `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ecgdig-eval-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp folder");
    d
}
