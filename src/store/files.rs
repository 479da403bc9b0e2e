//! Writing and reading files safely: the one atomic writer, record reads that refuse anything
//! but a regular file, folders that may not be links, the user's path errors and a full disk.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::error::UserError;

/// An I/O error at a path the user chose (`--out`, `--svg`, a folder rowseq creates there)
/// that the user must fix: the path is a file where a folder is expected, lies under a file,
/// is a folder where a file is expected, cannot be written, is too long, or its folder is
/// missing. Such an error is a `UserError` naming the path and what is expected; any other
/// (a full disk, a failing device) is returned as it is, with `context`, and exits 1.
pub fn path_error(
    path: &Path,
    e: std::io::Error,
    context: impl FnOnce() -> String,
) -> anyhow::Error {
    match user_path_problem(path, &e) {
        Some(user) => user.into(),
        None => anyhow::Error::new(e).context(context()),
    }
}

/// What `path_error` says for an error that is the user's to fix, if it is one.
fn user_path_problem(path: &Path, e: &std::io::Error) -> Option<UserError> {
    use std::io::ErrorKind as K;
    // tempfile wraps the OS error in its own (naming its temporary), leaving only its kind.
    let code = e.raw_os_error().or(match e.kind() {
        K::NotADirectory => Some(libc::ENOTDIR),
        K::AlreadyExists => Some(libc::EEXIST),
        K::IsADirectory => Some(libc::EISDIR),
        K::PermissionDenied => Some(libc::EACCES),
        K::ReadOnlyFilesystem => Some(libc::EROFS),
        K::InvalidFilename => Some(libc::ENAMETOOLONG),
        K::NotFound => Some(libc::ENOENT),
        _ => None,
    })?;
    let (at, message) = match code {
        libc::ENOTDIR | libc::EEXIST => not_a_folder(path)?,
        libc::EISDIR => (
            path.to_path_buf(),
            "is a folder: expected a file's path".to_string(),
        ),
        libc::EACCES | libc::EPERM => (
            path.to_path_buf(),
            "permission denied: expected a folder you can write to".to_string(),
        ),
        libc::EROFS => (
            path.to_path_buf(),
            "on a read-only file system: expected a writable folder".to_string(),
        ),
        libc::ENAMETOOLONG => {
            let longest = path.iter().map(|c| c.len()).max().unwrap_or(0);
            let message = if longest > 255 {
                format!("a name in the path is {longest} bytes long: expected names of at most 255 bytes")
            } else {
                format!(
                    "the path is {} bytes long: expected at most {} bytes",
                    path.as_os_str().len(),
                    libc::PATH_MAX - 1
                )
            };
            (path.to_path_buf(), message)
        }
        libc::ELOOP => (
            path.to_path_buf(),
            "too many levels of symlinks: expected a plain path".to_string(),
        ),
        libc::ENOENT => {
            let missing = path
                .ancestors()
                .skip(1)
                .take_while(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err())
                .last();
            match missing {
                Some(missing) => (
                    missing.to_path_buf(),
                    format!(
                        "no such folder: expected an existing folder to hold '{}'",
                        path.display()
                    ),
                ),
                // Every folder above it exists, yet the file system would not make it (a
                // pseudo file system such as /proc).
                None => (
                    path.to_path_buf(),
                    "cannot be created here: expected a folder you can write to".to_string(),
                ),
            }
        }
        _ => return None,
    };
    Some(UserError::store(at, message))
}

/// What is said where the nearest part of `path` that exists is not a folder (None where it
/// is one).
fn not_a_folder(path: &Path) -> Option<(PathBuf, String)> {
    // The nearest part of the path that exists is not a folder.
    let blocker = path
        .ancestors()
        .find(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_ok())?;
    let meta = std::fs::symlink_metadata(blocker).ok()?;
    if meta.is_dir() {
        return None;
    }
    let is = kind_of(&meta);
    let message = if blocker == path {
        format!("is {is}, not a folder: expected a folder, or a path where one can be created")
    } else {
        format!(
            "is {is}, not a folder, so '{}' cannot be created under it: expected a folder",
            path.display()
        )
    };
    Some((blocker.to_path_buf(), message))
}

/// What is said of a folder, device or FIFO where a file is written (`atomic`, and the output
/// checks before it): "is a folder: expected a file's path", "is a FIFO: ...".
pub(super) fn not_a_file(meta: &std::fs::Metadata) -> String {
    format!("is {}: expected a file's path", kind_of(meta))
}

/// "a file", "a folder", "a FIFO", ...: what a path is.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_file() {
        "a file"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "something other than a file or a folder"
    }
}

/// Creates the folder `path` (`what`, e.g. "sweep folder") and its parents; a path the user
/// must fix is a `UserError` (`path_error`).
pub fn create_dir(path: &Path, what: &str) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| {
        path_error(path, e, || {
            format!("could not create {what} '{}'", path.display())
        })
    })
}

/// The one atomic writer: `fill` writes the temporary file, through its handle or (for tch,
/// which takes paths) its path: a fresh file beside `path`, created exclusively, with the
/// extension of `path`, since tch picks a format from it, and with the permissions a plain
/// `create` gets: 0666 less the umask. It is then synced (through the handle it was created
/// with, and its data written by path included) and renamed over `path`. A symlink at `path`
/// is replaced, not followed; a folder, device or FIFO at `path` is refused (a `UserError`).
pub fn atomic(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File, &Path) -> Result<()>,
) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Only a file (or a link, replaced) is ever renamed over: never a device such as
    // /dev/null, a FIFO or a folder.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.is_file() && !meta.file_type().is_symlink() {
            return Err(UserError::store(path, not_a_file(&meta)).into());
        }
    }
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp.")
        .suffix(&suffix)
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| {
            path_error(path, e, || {
                format!("could not create a temporary file in '{}'", dir.display())
            })
        })?;
    let tmp_path = tmp.path().to_path_buf();
    test_enospc(path).with_context(|| format!("could not write '{}'", path.display()))?;
    fill(tmp.as_file_mut(), &tmp_path)
        .with_context(|| format!("could not write '{}'", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("could not write '{}'", path.display()))?;
    tmp.persist(path).map_err(|e| {
        path_error(path, e.error, || {
            format!("could not write '{}'", path.display())
        })
    })?;
    Ok(())
}

/// Writes `bytes` to `path` atomically (`atomic`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic(path, |file, _| {
        use std::io::Write;
        file.write_all(bytes)?;
        Ok(())
    })
}

/// Removes the `.tmp.*` files (`atomic`'s temporaries) that a process killed mid-write left in
/// `dir`: called only under the lock that every writer of that folder's records holds (a run
/// folder's `.lock`, a sweep folder's `.tables.lock`, a report folder's one writer). Anything
/// else so named (a folder, say) is left alone.
pub fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let ours = entry
            .file_type()
            .is_ok_and(|t| t.is_file() || t.is_symlink());
        if ours && entry.file_name().to_string_lossy().starts_with(".tmp.") {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

/// Reads a record (or any file rowseq reads back from a results folder): a regular file only.
/// It is opened without blocking and checked through its handle before a byte is read, so a
/// FIFO, a device or a folder in a record's place is an error ("not a regular file"), never a
/// hang. Errors keep their kind (`NotFound` means "not there").
pub fn read_record(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `read_record` as UTF-8 text.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_record(path)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Ok if `path` is a regular file (through links), for files that a library reads by path
/// (weights and checkpoints, read by tch): the same refusal as `read_record`'s.
pub fn regular(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path)?.is_file() {
        true => Ok(()),
        false => Err(not_regular()),
    }
}

fn not_regular() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "not a regular file (a FIFO, a device or a folder): expected a rowseq record; remove it",
    )
}

/// What a link or a file in the place of a folder that rowseq writes into is told.
const LINKED: &str =
    "is a symbolic link: rowseq does not write through links under --out; remove it";

/// Checks, before anything is written, that folder `path` (at or below `root`) could be made
/// or written into without following a link: every part of it below `root` that exists is a
/// real folder, not a symbolic link or a file. `root` (`--out`, or a sweep folder named on the
/// command line) is the user's and is followed as given. Parts that cannot be looked at (a
/// `root` that is a file, say) are left to the write itself to report.
pub fn check_folder(root: &Path, path: &Path) -> Result<(), UserError> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(());
    };
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Err(UserError::store(&at, LINKED)),
            Ok(m) if !m.is_dir() => {
                return Err(UserError::store(
                    &at,
                    "is not a folder: rowseq writes only into real folders under --out; \
                     remove it",
                ))
            }
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Creates folder `path` (at or below `root`, which is created as given if missing, links
/// followed): every part below `root` is made or found a real folder, never a link
/// (`check_folder`). The one way rowseq makes a folder under `--out`.
pub fn create_dir_nofollow(root: &Path, path: &Path) -> Result<()> {
    create_dir(root, "folder")?;
    let rel = path
        .strip_prefix(root)
        .with_context(|| format!("'{}' is not inside '{}'", path.display(), root.display()))?;
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::create_dir(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                check_folder(root, &at)?;
            }
            Err(e) => {
                return Err(path_error(&at, e, || {
                    format!("could not create folder '{}'", at.display())
                }))
            }
        }
    }
    Ok(())
}

/// The test hook of a full disk: when `ROWSEQ_TEST_ENOSPC` is `NAME` or `NAME@N`, the N-th
/// (default first) atomic write of a file named NAME in this process fails as a full disk does
/// (ENOSPC). Without the variable, nothing.
pub const TEST_ENOSPC: &str = "ROWSEQ_TEST_ENOSPC";

fn test_enospc(path: &Path) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let Some(spec) = std::env::var_os(TEST_ENOSPC) else {
        return Ok(());
    };
    let spec = spec.to_string_lossy();
    let (name, nth) = match spec.split_once('@') {
        Some((name, n)) => (name, n.parse().unwrap_or(1)),
        None => (&*spec, 1),
    };
    if path.file_name().is_some_and(|n| n == name)
        && WRITES.fetch_add(1, Ordering::Relaxed) + 1 == nth
    {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

/// Whether `e` is a write that failed for lack of space (ENOSPC, EDQUOT), anywhere in its
/// chain; libtorch's own writes (weights, checkpoints) say so only in their text.
pub fn disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if matches!(io.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) {
                return true;
            }
        }
        says_disk_full(&cause.to_string())
    })
}

/// Whether an error's text (a failure recorded by an earlier version, libtorch's message) says
/// that the disk was full.
pub fn says_disk_full(text: &str) -> bool {
    [
        "No space left on device",
        "Disk quota exceeded",
        "StorageFull",
        "QuotaExceeded",
    ]
    .iter()
    .any(|t| text.contains(t))
}

/// A sweep stopped by a full disk: one line, said once, by the process that the user started.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0}: the disk is full; free some space and run the same command again: unfinished runs \
     resume from their last checkpoints"
)]
pub struct DiskFull(pub String);

/// `e` as a `DiskFull` if it is a write that failed for lack of space, else as it is.
pub fn when_disk_full(e: anyhow::Error) -> anyhow::Error {
    if e.downcast_ref::<DiskFull>().is_some() || !disk_full(&e) {
        return e;
    }
    DiskFull(format!("{e:#}").replace(['\n', '\r'], " ")).into()
}

/// Removes `path`; one that is already gone is fine.
pub fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("could not remove '{}'", path.display()))
        }
        _ => Ok(()),
    }
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}
