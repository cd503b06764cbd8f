//! The widget and console builds inside the binary, so that a deployment is one file and a
//! database: `cargo xtask dist` compiles them in (`--features embed`). At start they are written
//! out once, into a directory named by their content, and served from there exactly as from
//! `--widget-dir` and `--console-dir` (hashed names, precompressed variants, caching), which
//! remain for development.

use std::path::{Path, PathBuf};

use include_dir::Dir;
use sha2::{Digest, Sha256};

#[cfg(feature = "embed")]
static WIDGET: Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../dist");
#[cfg(feature = "embed")]
static CONSOLE: Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../console/dist");

/// The builds this binary carries (widget, console), if it was built with them.
pub fn embedded() -> Option<(&'static Dir<'static>, &'static Dir<'static>)> {
    #[cfg(feature = "embed")]
    return Some((&WIDGET, &CONSOLE));
    #[cfg(not(feature = "embed"))]
    None
}

/// Where to serve the builds from: the directories given when they hold a build (development,
/// or a deployment that ships them), else the builds inside this binary, written out under the
/// system's temporary directory.
pub fn builds(widget_dir: PathBuf, console_dir: PathBuf) -> (PathBuf, PathBuf) {
    let have = widget_dir.join("tandem.js").is_file() && console_dir.join("index.html").is_file();
    let Some((widget, console)) = embedded().filter(|_| !have) else { return (widget_dir, console_dir) };
    let root = std::env::temp_dir().join("tandem");
    let written = std::fs::create_dir_all(&root)
        .and_then(|()| Ok((write_out(widget, &root, "widget")?, write_out(console, &root, "console")?)));
    match written {
        Ok(dirs) => dirs,
        Err(error) => {
            tracing::warn!(%error, dir = %root.display(), "cannot write out the builds inside this binary; serving --widget-dir and --console-dir");
            (widget_dir, console_dir)
        }
    }
}

/// `dir` written out under `root`, in a directory named by a hash of its files, so that every
/// build gets its own and a second start reuses it. Written beside, then renamed into place:
/// a server never serves half a build.
pub fn write_out(dir: &Dir<'_>, root: &Path, name: &str) -> std::io::Result<PathBuf> {
    let target = root.join(format!("{name}-{}", content_hash(dir)));
    if target.is_dir() {
        return Ok(target);
    }
    let partial = root.join(format!("{name}-partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial)?;
    dir.extract(&partial)?;
    match std::fs::rename(&partial, &target) {
        Ok(()) => Ok(target),
        // Another server starting at once wrote the same build first.
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&partial);
            Ok(target)
        }
        Err(error) => Err(error),
    }
}

fn content_hash(dir: &Dir<'_>) -> String {
    let mut hasher = Sha256::new();
    let mut files: Vec<_> = all_files(dir);
    files.sort_by_key(|file| file.path());
    for file in files {
        hasher.update(file.path().to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(file.contents());
    }
    hex::encode(&hasher.finalize()[..8])
}

fn all_files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut files: Vec<_> = dir.files().collect();
    for sub in dir.dirs() {
        files.extend(all_files(sub));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    static FIXTURE: Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/assets");

    #[test]
    fn a_build_is_written_out_once_by_its_content() {
        let root = tempfile::tempdir().expect("temp dir");
        let first = write_out(&FIXTURE, root.path(), "widget").expect("written");
        assert_eq!(
            std::fs::read_to_string(first.join("tandem.js")).expect("file"),
            "console.log(\"loader\")\n"
        );
        assert!(first.join("sub/manifest.json").is_file(), "directories too");
        std::fs::write(first.join("tandem.js"), "changed").expect("write");
        let again = write_out(&FIXTURE, root.path(), "widget").expect("reused");
        assert_eq!(again, first, "the same build, the same place");
        assert_eq!(
            std::fs::read_to_string(again.join("tandem.js")).expect("file"),
            "changed",
            "not written twice"
        );
        let entries = std::fs::read_dir(root.path()).expect("list").count();
        assert_eq!(entries, 1, "nothing half written left behind");
    }
}
