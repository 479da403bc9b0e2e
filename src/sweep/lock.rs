/*!
One writer per sweep folder: an advisory lock (`flock`) on `<sweep>/.lock`, held for as long
as a sweep runs in it. A second sweep on the same folder either refuses at once, naming the
process that holds it, or (`--wait`) waits for it. The lock dies with its process, so a sweep
killed with -9 never leaves a stale lock behind; the pid in the file is only for messages.

Slurm shards of one sweep (`--shard K/N`) lock `<sweep>/.lock.K-of-N` instead: shards own
disjoint runs, so they may write into one folder side by side.
*/
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::error::UserError;

pub const LOCK: &str = ".lock";

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct SweepLock {
    _file: File,
}

/// What to do when another process holds the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contended {
    Refuse,
    Wait,
}

impl SweepLock {
    /// Takes the lock file `name` in `dir` (created if missing).
    pub fn acquire(dir: &Path, name: &str, contended: Contended) -> Result<SweepLock> {
        let path = dir.join(name);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("could not open lock file '{}'", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = holder_text(&mut file);
                if contended == Contended::Refuse {
                    return Err(UserError::store(
                        dir,
                        format!(
                            "another rowseq ({holder}) is running this sweep; wait for it to \
                             finish, or pass --wait to queue behind it"
                        ),
                    )
                    .into());
                }
                eprintln!(
                    "waiting for another rowseq ({holder}) to finish with {}",
                    dir.display()
                );
                file.lock()
                    .with_context(|| format!("could not lock '{}'", path.display()))?;
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("could not lock '{}'", path.display()))
            }
        }
        // Only the holder writes, so this cannot tear a reader's view of another holder.
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| write!(file, "{}", std::process::id()))
            .and_then(|_| file.flush())
            .with_context(|| format!("could not write '{}'", path.display()))?;
        Ok(SweepLock { _file: file })
    }
}

/// Runs `f` holding `<dir>/.tables.lock`, waiting for it silently: writers of the sweep's
/// tables (shards, `--jobs` parents) take turns, so the last one to write has seen every result
/// finished before it.
pub fn tables<T>(dir: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let path = dir.join(".tables.lock");
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("could not open lock file '{}'", path.display()))?;
    file.lock()
        .with_context(|| format!("could not lock '{}'", path.display()))?;
    f()
}

/// The pid holding a sweep's lock, if any process holds it (any lock file of the folder).
pub fn holder(dir: &Path) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name != LOCK && !name.starts_with(".lock.") {
            continue;
        }
        let Ok(mut file) = File::open(entry.path()) else {
            continue;
        };
        if let Err(TryLockError::WouldBlock) = file.try_lock_shared() {
            return Some(holder_text(&mut file));
        }
    }
    None
}

fn holder_text(file: &mut File) -> String {
    let mut pid = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut pid));
    match pid.trim() {
        "" => "pid unknown".to_string(),
        p => format!("pid {p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = SweepLock::acquire(dir.path(), LOCK, Contended::Refuse).unwrap();
        let err = SweepLock::acquire(dir.path(), LOCK, Contended::Refuse).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(err.downcast_ref::<UserError>().is_some());
        assert_eq!(
            holder(dir.path()),
            Some(format!("pid {}", std::process::id()))
        );
        drop(first);
        assert_eq!(holder(dir.path()), None);
        SweepLock::acquire(dir.path(), LOCK, Contended::Refuse).unwrap();
    }
}
