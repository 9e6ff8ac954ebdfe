//! Permissions of the files at rest: the data directory is created 0700 and the SQLite
//! database 0600 before SQLite first opens it (SQLite gives its -wal and -shm files the
//! database file's permissions, so they follow). The database holds webhook URLs, PIN hints
//! and the audit trail; the master key file is created 0600 by the bootstrap. Existing files
//! and directories are left as the operator made them, with one warning line when they are
//! readable by others.

use std::path::{Path, PathBuf};

/// Creates `dir` (and missing parents) owner-only; notes it when it exists and is wider.
pub fn create_private_dir(dir: &Path, wide: &mut Vec<PathBuf>) -> Result<(), String> {
    let existed = dir.exists();
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    if existed {
        note_if_wide(dir, wide);
    }
    Ok(())
}

/// The database file of a `sqlite:` URL, when it names one.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// Creates the SQLite database file owner-only before SQLite does, or notes an existing one
/// (and its -wal and -shm files) when wider. Does nothing for other databases.
pub fn prepare_sqlite(url: &str, wide: &mut Vec<PathBuf>) -> Result<(), String> {
    let Some(db) = sqlite_path(url) else {
        return Ok(());
    };
    if db.exists() {
        for file in [db.clone(), suffixed(&db, "-wal"), suffixed(&db, "-shm")] {
            if file.exists() {
                note_if_wide(&file, wide);
            }
        }
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&db) {
        Ok(_) => Ok(()),
        // Another process created it meanwhile: SQLite opens it as it is.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // A missing parent directory and the like: SQLite reports it with the URL.
        Err(_) => Ok(()),
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Notes `path` when others may read it.
#[cfg(unix)]
pub fn note_if_wide(path: &Path, wide: &mut Vec<PathBuf>) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            wide.push(path.to_path_buf());
        }
    }
}

/// Notes `path` when others may read it.
#[cfg(not(unix))]
pub fn note_if_wide(_: &Path, _: &mut Vec<PathBuf>) {}

/// One line on stderr naming what others can read.
pub fn warn_if_wide(wide: &[PathBuf]) {
    if !wide.is_empty() {
        let list: Vec<String> = wide.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "warning: readable by other users (chmod 700 the data directory, 600 its files): {}",
            list.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn finds_the_sqlite_file() {
        assert_eq!(
            super::sqlite_path("sqlite:///var/lk/latchkey.db?mode=rwc"),
            Some(PathBuf::from("/var/lk/latchkey.db"))
        );
        assert_eq!(
            super::sqlite_path("sqlite://./d/latchkey.db"),
            Some(PathBuf::from("./d/latchkey.db"))
        );
        assert_eq!(super::sqlite_path("sqlite::memory:"), None);
        assert_eq!(super::sqlite_path("postgres://u@h/db"), None);
    }
}
