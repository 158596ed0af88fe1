//! Which files a batch reads, and where each one's outputs go.
//!
//! * [`collect`] expands files, folders (searched recursively, with optional
//!   glob filters) and list files into a sorted list of paths. Symbolic links
//!   are followed, but every folder is searched and every file taken once
//!   (identified by device and inode): a link loop (`self -> .`) is a
//!   warning, never a hang.
//! * [`assign_outputs`] names each input's outputs: `<out>/<stem>.*` when
//!   every stem in the batch is unique; otherwise the batch mirrors its input
//!   folders under the output folder (see [`Layout`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// File extensions picked up when a folder is given (case-insensitive).
pub const IMAGE_EXTENSIONS: [&str; 8] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "pdf", "jfif"];

/// Largest list file read (`--list`), bytes.
pub const MAX_LIST_BYTES: u64 = 64 << 20;

/// Deepest folder level searched below a folder given.
pub const MAX_DEPTH: usize = 64;

/// How folders are searched.
#[derive(Clone, Debug, Default)]
pub struct CollectOptions {
    /// Glob patterns (`*.png`, `scans/**/*.tif`) a file found in a folder
    /// must match: patterns without `/` are matched against the file name,
    /// others against the path relative to the folder given. Empty: every
    /// file with an image extension. Files named explicitly are always taken.
    pub globs: Vec<String>,
}

/// A path that could not be used, and why.
pub type Problem = (PathBuf, String);

/// What [`collect`] found.
#[derive(Debug, Default)]
pub struct Collected {
    /// Inputs, sorted, each file once.
    pub files: Vec<PathBuf>,
    /// Paths that could not be used (missing, unreadable folders, bad globs).
    pub problems: Vec<Problem>,
    /// Things skipped on purpose: link loops, second links to a file or folder.
    pub warnings: Vec<String>,
}

/// Reads a list file: one path per line; blank lines and lines starting
/// with `#` are skipped; relative paths are relative to the list file's folder.
pub fn read_list(list: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let cannot =
        |e: &dyn std::fmt::Display| format!("cannot read list file {}: {e}", list.display());
    let meta = std::fs::metadata(list).map_err(|e| cannot(&e))?;
    if !meta.is_file() || meta.len() > MAX_LIST_BYTES {
        return Err(cannot(&format!(
            "not a regular file of at most {} MB",
            MAX_LIST_BYTES >> 20
        )));
    }
    let text = std::fs::read_to_string(list).map_err(|e| cannot(&e))?;
    let base = list.parent().unwrap_or(Path::new(""));
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let p = PathBuf::from(l);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        })
        .collect())
}

/// [`collect`] without its warnings.
pub fn collect_inputs(paths: &[PathBuf], opts: &CollectOptions) -> (Vec<PathBuf>, Vec<Problem>) {
    let c = collect(paths, opts);
    (c.files, c.problems)
}

/// Identity of a file or folder: device and inode where there are such.
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
fn file_id(_path: &Path, meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}
#[cfg(not(unix))]
fn file_id(path: &Path, _meta: &std::fs::Metadata) -> FileId {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

struct Walker {
    patterns: Vec<(bool, glob::Pattern)>,
    dirs: HashSet<FileId>,
    seen: HashMap<FileId, PathBuf>,
    out: Collected,
}

/// Expands files and folders into a sorted list of inputs, each file once.
pub fn collect(paths: &[PathBuf], opts: &CollectOptions) -> Collected {
    let mut w = Walker {
        patterns: Vec::new(),
        dirs: HashSet::new(),
        seen: HashMap::new(),
        out: Collected::default(),
    };
    for g in &opts.globs {
        match glob::Pattern::new(g) {
            Ok(p) => w.patterns.push((g.contains('/'), p)),
            Err(e) => w
                .out
                .problems
                .push((PathBuf::from(g), format!("invalid glob pattern: {e}"))),
        }
    }
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => w.walk(p, p, &m, 0),
            // files named explicitly are always taken; a FIFO or device
            // fails later with its own error
            Ok(m) => w.take(p, &m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let why = if p.is_symlink() {
                    "broken symbolic link"
                } else {
                    "no such file or folder"
                };
                w.out.problems.push((p.clone(), why.to_string()));
            }
            Err(e) => w.out.problems.push((p.clone(), format!("cannot use: {e}"))),
        }
    }
    w.out.files.sort();
    w.out
}

impl Walker {
    fn take(&mut self, p: &Path, meta: &std::fs::Metadata) {
        match self.seen.entry(file_id(p, meta)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                if first.get() != p {
                    self.out.warnings.push(format!(
                        "{} is the same file as {}: read once",
                        p.display(),
                        first.get().display()
                    ));
                }
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(p.to_path_buf());
                self.out.files.push(p.to_path_buf());
            }
        }
    }

    fn walk(&mut self, root: &Path, dir: &Path, meta: &std::fs::Metadata, depth: usize) {
        if !self.dirs.insert(file_id(dir, meta)) {
            self.out.warnings.push(format!(
                "{}: folder already searched (a symbolic link loop or a second link to it), skipped",
                dir.display()
            ));
            return;
        }
        if depth > MAX_DEPTH {
            self.out.warnings.push(format!(
                "{}: more than {MAX_DEPTH} folder levels deep, not searched",
                dir.display()
            ));
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.out
                    .problems
                    .push((dir.to_path_buf(), format!("cannot list folder: {e}")));
                return;
            }
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        // real folders before linked ones, so a file is named by its real path
        let mut subdirs: Vec<(bool, PathBuf, std::fs::Metadata)> = Vec::new();
        for p in paths {
            let meta = std::fs::metadata(&p);
            if let Ok(m) = &meta {
                if m.is_dir() {
                    subdirs.push((p.is_symlink(), p, m.clone()));
                    continue;
                }
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || !self.wanted(root, &p, name) {
                continue; // hidden files (our own temporary files), filtered out
            }
            match meta {
                Ok(m) => self.take(&p, &m),
                // a broken link: taken, it fails with its own error
                Err(_) => self.out.files.push(p),
            }
        }
        subdirs.sort_by_key(|(linked, _, _)| *linked);
        for (_, p, m) in subdirs {
            self.walk(root, &p, &m, depth + 1);
        }
    }

    fn wanted(&self, root: &Path, p: &Path, name: &str) -> bool {
        if self.patterns.is_empty() {
            return p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        }
        let opts = glob::MatchOptions {
            case_sensitive: false,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let rel = p.strip_prefix(root).unwrap_or(p);
        self.patterns.iter().any(|(with_dir, pat)| {
            if *with_dir {
                pat.matches_path_with(rel, opts)
            } else {
                pat.matches_with(name, opts)
            }
        })
    }
}

/// Where one input's outputs go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputName {
    /// Folder under the output folder (empty: the output folder itself).
    pub dir: PathBuf,
    /// File stem of the outputs (`<stem>.csv`, `<stem>-p2.csv` for page 2).
    pub stem: String,
}

/// Output names of a batch.
///
/// The rule: outputs are flat, `<out>/<stem>.*`, unless inputs in different
/// folders share a file stem (`a/x.png`, `b/x.png`): then every output of
/// the batch mirrors its input's folder below the deepest folder holding all
/// inputs (`<out>/a/x.*`, `<out>/b/x.*`), so `ecgdig eval --truth a --pred
/// <out>/a` pairs them. Inputs of one folder that share a stem (`x.png`,
/// `x.jpg`) get their extension added (`x_png`, `x_jpg`).
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub names: Vec<OutputName>,
    /// True when the outputs mirror the input folders.
    pub mirrored: bool,
}

impl Layout {
    /// One line for the summary, when the layout is not flat.
    pub fn note(&self) -> Option<String> {
        self.mirrored.then(|| {
            "outputs mirror the input folders under the output folder (inputs in different folders share a file stem)"
                .to_string()
        })
    }
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect()
}

fn base_stem(p: &Path) -> String {
    p.file_stem()
        .and_then(|s| s.to_str())
        .map(clean)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "page".to_string())
}

/// Assigns every input its output folder and stem (see [`Layout`]).
pub fn assign_outputs(inputs: &[PathBuf]) -> Layout {
    let mut names: Vec<OutputName> = inputs
        .iter()
        .map(|p| OutputName {
            dir: PathBuf::new(),
            stem: base_stem(p),
        })
        .collect();
    let parents: Vec<PathBuf> = inputs
        .iter()
        .map(|p| {
            // the folder the input is listed in (not a link's target)
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
        })
        .collect();
    // mirror when a stem is shared by inputs in different folders
    let mut folders: HashMap<&str, HashSet<&Path>> = HashMap::new();
    for (n, parent) in names.iter().zip(&parents) {
        folders.entry(&n.stem).or_default().insert(parent);
    }
    let mirrored = folders.values().any(|f| f.len() > 1);
    if mirrored {
        let common = common_prefix(&parents);
        for (n, parent) in names.iter_mut().zip(&parents) {
            n.dir = parent
                .strip_prefix(&common)
                .map(|r| {
                    r.components()
                        .filter(|c| matches!(c, std::path::Component::Normal(_)))
                        .collect()
                })
                .unwrap_or_default();
        }
    }
    // a stem shared in one folder: add the extension, then a number
    let key = |n: &OutputName| (n.dir.clone(), n.stem.clone());
    let mut count: HashMap<(PathBuf, String), usize> = HashMap::new();
    for n in &names {
        *count.entry(key(n)).or_default() += 1;
    }
    for (n, p) in names.iter_mut().zip(inputs) {
        if count[&key(n)] > 1 {
            if let Some(e) = p.extension().and_then(|e| e.to_str()) {
                n.stem = format!("{}_{}", n.stem, clean(&e.to_ascii_lowercase()));
            }
        }
    }
    let mut seen: HashMap<(PathBuf, String), usize> = HashMap::new();
    for n in names.iter_mut() {
        let k = seen.entry(key(n)).or_default();
        *k += 1;
        if *k > 1 {
            n.stem = format!("{}-{k}", n.stem);
        }
    }
    Layout { names, mirrored }
}

fn common_prefix(paths: &[PathBuf]) -> PathBuf {
    let Some(first) = paths.first() else {
        return PathBuf::new();
    };
    let mut common: Vec<_> = first.components().collect();
    for p in &paths[1..] {
        let n = common
            .iter()
            .zip(p.components())
            .take_while(|(a, b)| *a == b)
            .count();
        common.truncate(n);
    }
    common.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(inputs: &[&str]) -> (Vec<String>, bool) {
        let v: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
        let l = assign_outputs(&v);
        let n = l
            .names
            .iter()
            .map(|n| n.dir.join(&n.stem).display().to_string())
            .collect();
        (n, l.mirrored)
    }

    #[test]
    fn unique_stems_are_flat_and_shared_ones_mirror_the_folders() {
        assert_eq!(
            names(&["a/1.png", "b/2.png"]),
            (vec!["1".into(), "2".into()], false)
        );
        assert_eq!(
            names(&["c/2.png", "c/2.jpg", "3.tif"]),
            (vec!["2_png".into(), "2_jpg".into(), "3".into()], false)
        );
        assert_eq!(
            names(&[
                "in/a/1.png",
                "in/b/1.png",
                "in/c/2.png",
                "in/c/2.jpg",
                "in/3.tif"
            ]),
            (
                vec![
                    "a/1".into(),
                    "b/1".into(),
                    "c/2_png".into(),
                    "c/2_jpg".into(),
                    "3".into()
                ],
                true
            )
        );
        let (n, _) = names(&["x/1.png", "x/1.png"]);
        assert_ne!(n[0], n[1]);
    }

    #[test]
    fn list_files_skip_comments_and_resolve_relative_paths() {
        let dir = std::env::temp_dir().join(format!("ecgdig-list-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let list = dir.join("files.txt");
        std::fs::write(
            &list,
            "# scans\n\n a.png \n/abs/b.jpg\n  # indented comment\n",
        )
        .unwrap();
        let v = read_list(&list).unwrap();
        assert_eq!(v, vec![dir.join("a.png"), PathBuf::from("/abs/b.jpg")]);
        assert!(read_list(&dir.join("missing.txt")).is_err());
        assert!(read_list(&dir).is_err(), "a folder is not a list");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn folders_are_searched_with_globs() {
        let dir = std::env::temp_dir().join(format!("ecgdig-glob-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        for f in [
            "a.png",
            "b.JPG",
            "notes.txt",
            "sub/c.png",
            "sub/deeper/d.tif",
            ".hidden.png",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let (all, problems) =
            collect_inputs(std::slice::from_ref(&dir), &CollectOptions::default());
        assert!(problems.is_empty());
        let names: Vec<String> = all
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            vec!["a.png", "b.JPG", "sub/c.png", "sub/deeper/d.tif"]
        );
        let png = CollectOptions {
            globs: vec!["*.png".into()],
        };
        let (v, _) = collect_inputs(std::slice::from_ref(&dir), &png);
        assert_eq!(v, vec![dir.join("a.png"), dir.join("sub/c.png")]);
        let deep = CollectOptions {
            globs: vec!["sub/**/*.tif".into()],
        };
        let (v, _) = collect_inputs(std::slice::from_ref(&dir), &deep);
        assert_eq!(v, vec![dir.join("sub/deeper/d.tif")]);
        let (_, problems) = collect_inputs(&[dir.join("nope")], &png);
        assert_eq!(problems.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn link_loops_are_searched_once() {
        let dir = std::env::temp_dir().join(format!("ecgdig-loop-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("loopdir/sub")).unwrap();
        std::fs::write(dir.join("loopdir/a.png"), b"x").unwrap();
        std::os::unix::fs::symlink(".", dir.join("loopdir/self")).unwrap();
        std::os::unix::fs::symlink("../../loopdir", dir.join("loopdir/sub/up")).unwrap();
        std::os::unix::fs::symlink("a.png", dir.join("loopdir/b.png")).unwrap();
        let c = collect(&[dir.join("loopdir")], &CollectOptions::default());
        assert_eq!(c.files, vec![dir.join("loopdir/a.png")]);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
