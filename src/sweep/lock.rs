/*!
One writer per sweep folder: an advisory lock (`flock`) on `<sweep>/.lock`, held for as long
as a sweep runs in it. A second sweep on the same folder either refuses at once, naming the
process that holds it, or (`--wait`) waits for it. The lock dies with its process, so a sweep
killed with -9 never leaves a stale lock behind; the pid in the file is only for messages.

Slurm shards of one sweep (`--shard K/N`) lock `<sweep>/.lock.K-of-N` instead: shards own
disjoint runs, so they may write into one folder side by side. Whoever trains a run also holds
that run's own lock, `<run>/.lock`, for as long as it trains it, so two invocations whose shares
overlap (a whole sweep and one of its shards, shards of different counts) never train one run
at once: the second skips it (or, with `--wait`, waits for it and finds it done).

A lock file is opened with `O_NOFOLLOW` and must be a regular file of one link: a symlink
planted at `.lock` is refused, never followed and truncated; a hard link to another file (its
link count above 1) is refused before the pid is written, so no other file gets it; a folder in
its place is refused too. `check` says the same from a look at the path alone, so that a sweep
refuses before it writes anything.
*/
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result};

use crate::error::UserError;

pub const LOCK: &str = ".lock";
/// The lock that writers of a sweep folder's own records take turns on (`tables`).
pub const TABLES: &str = ".tables.lock";

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

/// Opens (creating if missing) the lock file at `path`, refusing a symlink or anything but a
/// regular file.
fn open_lock(path: &Path, write: bool) -> Result<File> {
    let mut options = OpenOptions::new();
    // O_NONBLOCK: a FIFO planted at the path cannot block the open (it is refused below).
    options
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    if write {
        options.write(true).create(true).truncate(false).mode(0o666);
    }
    let file = options.open(path).map_err(|e| -> anyhow::Error {
        match e.raw_os_error() {
            Some(libc::ELOOP) => UserError::store(path, SYMLINK).into(),
            Some(libc::EISDIR) => UserError::store(path, FOLDER).into(),
            _ => crate::store::path_error(path, e, || {
                format!("could not open lock file '{}'", path.display())
            }),
        }
    })?;
    let meta = file
        .metadata()
        .with_context(|| format!("could not read '{}'", path.display()))?;
    // Checked through the handle that will be written: what is checked is what gets the pid.
    refuse(path, &meta)?;
    Ok(file)
}

const SYMLINK: &str = "is a symlink: rowseq never follows one where it writes; remove it";
const FOLDER: &str = "is a folder: expected rowseq's lock file; remove it";

/// Refuses a lock file that is not rowseq's own: anything but a regular file, or a file with
/// other hard links (the pid written into it would land in each of them).
fn refuse(path: &Path, meta: &std::fs::Metadata) -> Result<(), UserError> {
    use std::os::unix::fs::MetadataExt;
    if meta.file_type().is_symlink() {
        return Err(UserError::store(path, SYMLINK));
    }
    if meta.is_dir() {
        return Err(UserError::store(path, FOLDER));
    }
    if !meta.is_file() {
        return Err(UserError::store(path, "is not a regular file: remove it"));
    }
    if meta.nlink() != 1 {
        return Err(UserError::store(
            path,
            format!(
                "has {} hard links: a lock file is rowseq's own and has one (rowseq writes its \
                 pid into it); remove it",
                meta.nlink()
            ),
        ));
    }
    Ok(())
}

/// Checks the lock file at `path`, if there is one, without opening it: what taking it would
/// refuse (a symlink, a folder, a hard link).
pub fn check(path: &Path) -> Result<(), UserError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => refuse(path, &meta),
        Err(_) => Ok(()),
    }
}

impl SweepLock {
    /// Takes the lock file `name` in `dir` (created if missing).
    pub fn acquire(dir: &Path, name: &str, contended: Contended) -> Result<SweepLock> {
        let path = dir.join(name);
        let mut file = open_lock(&path, true)?;
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
        write_pid(&mut file, &path)?;
        Ok(SweepLock { _file: file })
    }

    /// Takes the lock of the run folder `run` (`<run>/.lock`) without waiting: None if another
    /// process holds it (with the text naming that process).
    pub fn try_run(run: &Path) -> Result<std::result::Result<SweepLock, String>> {
        let path = run.join(LOCK);
        let mut file = open_lock(&path, true)?;
        // `status` takes a shared lock for an instant to see whether a run is held: a few
        // tries apart tell that from a process that trains the run.
        let mut tries = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if tries < 3 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => return Ok(Err(holder_text(&mut file))),
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("could not lock '{}'", path.display()))
                }
            }
        }
        write_pid(&mut file, &path)?;
        Ok(Ok(SweepLock { _file: file }))
    }

    /// Takes the lock of the run folder `run`, waiting for as long as another process holds it.
    pub fn wait_run(run: &Path) -> Result<SweepLock> {
        let path = run.join(LOCK);
        let mut file = open_lock(&path, true)?;
        file.lock()
            .with_context(|| format!("could not lock '{}'", path.display()))?;
        write_pid(&mut file, &path)?;
        Ok(SweepLock { _file: file })
    }
}

fn write_pid(file: &mut File, path: &Path) -> Result<()> {
    file.set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| write!(file, "{}", std::process::id()))
        .and_then(|_| file.flush())
        .with_context(|| format!("could not write '{}'", path.display()))
}

/// The process training run folder `run`, if one is (holds `<run>/.lock`).
pub fn run_holder(run: &Path) -> Option<String> {
    held_by(&run.join(LOCK))
}

fn held_by(path: &Path) -> Option<String> {
    let mut file = open_lock(path, false).ok()?;
    match file.try_lock_shared() {
        Err(TryLockError::WouldBlock) => Some(holder_text(&mut file)),
        _ => None,
    }
}

/// Runs `f` holding `<dir>/.tables.lock`, waiting for it silently: writers of the sweep's
/// tables and `sweep.json` (shards, `--jobs` parents) take turns, so the last one to write has
/// seen every result finished before it, and one that clears the folder's temporaries clears
/// no one else's.
pub fn tables<T>(dir: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let path = dir.join(TABLES);
    let file = open_lock(&path, true)?;
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
        if let Some(holder) = held_by(&entry.path()) {
            return Some(holder);
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

    // flock locks belong to an open file description, which a process forked by another test
    // thread shares until it execs: right after a drop, a lock may still be held for a moment.
    // So these tests never assert "free" right after a drop; they take the lock again with
    // `Contended::Wait`, which returns as soon as it is free. The release itself, seen from
    // another process, is tested end to end (tests/resume.rs).

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
        let again = SweepLock::acquire(dir.path(), LOCK, Contended::Wait).unwrap();
        assert_eq!(
            holder(dir.path()),
            Some(format!("pid {}", std::process::id()))
        );
        drop(again);
    }

    #[test]
    fn a_run_lock_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = SweepLock::try_run(dir.path()).unwrap().unwrap();
        let busy = SweepLock::try_run(dir.path()).unwrap().unwrap_err();
        assert_eq!(busy, format!("pid {}", std::process::id()));
        assert_eq!(run_holder(dir.path()), Some(busy));
        drop(first);
        SweepLock::wait_run(dir.path()).unwrap();
    }

    #[test]
    fn a_symlinked_lock_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let sweep = dir.path().join("sweep");
        std::fs::create_dir(&sweep).unwrap();
        std::os::unix::fs::symlink(&victim, sweep.join(LOCK)).unwrap();
        let err = SweepLock::acquire(&sweep, LOCK, Contended::Refuse).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains(".lock: is a symlink"), "{msg}");
        assert!(err.downcast_ref::<UserError>().is_some());
        assert!(SweepLock::try_run(&sweep).is_err());
        assert!(tables(&sweep, || Ok(())).is_ok());
        std::os::unix::fs::symlink(&victim, sweep.join(".tables.lock")).ok();
        std::fs::remove_file(sweep.join(".tables.lock")).unwrap();
        std::os::unix::fs::symlink(&victim, sweep.join(".tables.lock")).unwrap();
        assert!(tables(&sweep, || Ok(())).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        // A folder in its place is not a lock either.
        let other = dir.path().join("other");
        std::fs::create_dir_all(other.join(LOCK)).unwrap();
        let err = SweepLock::acquire(&other, LOCK, Contended::Refuse).unwrap_err();
        assert!(format!("{err:#}").contains(".lock: is a folder"), "{err:#}");
        assert!(err.downcast_ref::<UserError>().is_some());
        assert!(check(&other.join(LOCK)).is_err());
    }

    #[test]
    fn a_hard_linked_lock_is_refused_and_its_other_name_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        std::fs::hard_link(&victim, dir.path().join(LOCK)).unwrap();
        assert!(check(&dir.path().join(LOCK)).is_err());
        let err = SweepLock::acquire(dir.path(), LOCK, Contended::Refuse).unwrap_err();
        assert!(
            format!("{err:#}").contains(".lock: has 2 hard links"),
            "{err:#}"
        );
        assert!(err.downcast_ref::<UserError>().is_some());
        assert!(SweepLock::try_run(dir.path()).is_err());
        assert!(SweepLock::wait_run(dir.path()).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        // rowseq's own lock, one link, passes.
        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        drop(SweepLock::acquire(&mine, LOCK, Contended::Refuse).unwrap());
        assert!(check(&mine.join(LOCK)).is_ok());
    }
}
