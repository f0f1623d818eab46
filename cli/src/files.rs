//! Reading files with a size bound and writing them atomically.

use crate::fail::CliError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Reads at most `limit` bytes of `path`. A longer file comes back cut at `limit`, so the
/// caller's parser (the core) rejects it without the whole file ever being in memory.
///
/// The buffer is sized from the file's length up front, so that reading a private key leaves
/// no stray copies of it behind in reallocated memory.
pub fn read_prefix(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let expected = file.metadata().map_or(0, |m| m.len()).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(limit).min(limit));
    file.take(limit as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Who may read a file written by [`write_atomic`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Owner read/write only (0600): private keys.
    Private,
    /// The mode of the file being replaced, or the process default for a new file.
    Default,
}

/// Writes `contents` to `path` so that `path` is never seen half-written: the bytes go to a
/// fresh temporary file in the same directory, are synced, and then take `path`'s place.
/// Unless `replace`, an existing `path` is left alone and the write fails with
/// `AlreadyExists`, even if the file appeared while this one was being written.
pub fn write_atomic(path: &Path, contents: &[u8], access: Access, replace: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let keep_mode = match access {
        Access::Default => fs::metadata(path).ok().map(|m| m.permissions()),
        Access::Private => None,
    };
    let (temp_path, mut temp) = create_temp(dir, &name.to_string_lossy(), access)?;
    let result = (|| {
        temp.write_all(contents)?;
        if let Some(permissions) = keep_mode {
            temp.set_permissions(permissions)?;
        }
        temp.sync_all()?;
        drop(temp);
        if replace {
            fs::rename(&temp_path, path)
        } else {
            // A hard link fails if `path` exists, where a rename would replace it.
            fs::hard_link(&temp_path, path).map(|()| {
                let _ = fs::remove_file(&temp_path);
            })
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp_path);
    } else {
        sync_dir(dir);
    }
    result
}

fn create_temp(dir: &Path, name: &str, access: Access) -> io::Result<(PathBuf, File)> {
    let mut last_error = None;
    for _ in 0..8 {
        let suffix = random_hex(8).map_err(|e| io::Error::other(e.detail().to_owned()))?;
        let temp_path = dir.join(format!(".{name}.{suffix}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if access == Access::Private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = access;
        match options.open(&temp_path) {
            Ok(file) => return Ok((temp_path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

// Makes the rename itself durable; a failure here loses nothing already written.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// `bytes` random bytes from the operating system, as lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String, kycvs_core::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        kycvs_core::Error::new(
            kycvs_core::ErrorCode::RandomSource,
            format!("OS random source failed: {e}"),
        )
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Maps an I/O error on `path` to a configuration error.
pub fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> CliError + 'a {
    move |e| CliError::io(action, path, &e)
}
