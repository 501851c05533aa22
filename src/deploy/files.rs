//! Files a deployment writes, created with their final mode: keys, results, logs and run directories are
//! the owner's alone from the first byte (no window in which another local user can open them, no existing
//! file of someone else's reused).

use crate::error::{Error, Result, invalid};
use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source: e }
}

/// Makes `dir` (and missing parents) with mode 0700, or accepts an existing directory that only its owner
/// can enter. An existing directory open to the group or others is refused, not changed.
pub fn private_dir(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(invalid(format!("{} exists and is not a directory", dir.display()))),
        Ok(m) if m.mode() & 0o077 != 0 => Err(invalid(format!(
            "{} is open to other users (mode {:04o}): chmod 700 it, or name a new directory",
            dir.display(),
            m.mode() & 0o7777
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| io(dir, e))
        }
        Err(e) => Err(io(dir, e)),
    }
}

/// Creates `path` with `mode` and writes `bytes`; fails if it exists (unless `replace`, which removes it
/// first: the new file never inherits the old one's owner or mode).
pub fn write_new(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<()> {
    if replace {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(path, e)),
        }
    }
    let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            invalid(format!("{} exists: refusing to overwrite it (pass --force to replace it)", path.display()))
        } else {
            io(path, e)
        }
    })?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| io(path, e))
}

/// Writes `bytes` to `path` atomically with mode 0600: a reader sees the whole file or none, and the file
/// is the owner's alone from its creation (a fresh temporary name beside it, then a rename).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("partial-{}-{:08x}", std::process::id(), crate::rng::os_u64()? as u32));
    write_new(&tmp, bytes, 0o600, false)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// Creates `path` for writing with mode 0600 (truncating a file of this user's; for logs).
pub fn private_file(path: &Path) -> Result<std::fs::File> {
    OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(|e| io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_final_from_creation_and_loose_directories_are_refused() {
        let base = std::env::temp_dir().join(format!("rtas-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dir = base.join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let f = dir.join("k");
        write_new(&f, b"x", 0o600, false).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
        assert!(write_new(&f, b"y", 0o600, false).unwrap_err().to_string().contains("--force"));
        write_new(&f, b"y", 0o600, true).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"y");
        write_private(&dir.join("r.json"), b"{}").unwrap();
        assert_eq!(std::fs::metadata(dir.join("r.json")).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "no temporary file left");
        let loose = base.join("loose");
        std::fs::create_dir(&loose).unwrap();
        std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        assert!(private_dir(&loose).unwrap_err().to_string().contains("chmod 700"));
        let _ = std::fs::remove_dir_all(&base);
    }
}
