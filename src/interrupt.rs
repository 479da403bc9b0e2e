/*!
Ctrl-C. The first press asks the sweep to stop at the next epoch boundary: the epoch in flight
finishes, its checkpoint is written, and rowseq exits with code 130 saying how to resume. A
second press exits at once (the last checkpoint is still on disk, so nothing is lost but the
current epoch). Worker processes of `--jobs` get every press forwarded (`add_child`).
*/
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Forward Ctrl-C to this worker process from now on.
pub fn add_child(pid: u32) {
    CHILDREN.lock().unwrap().push(pid);
}

pub fn remove_child(pid: u32) {
    CHILDREN.lock().unwrap().retain(|p| *p != pid);
}

fn forward() {
    for pid in CHILDREN.lock().unwrap().iter() {
        // SAFETY: kill(2) with a pid of a child we started and have not reaped.
        unsafe {
            libc::kill(*pid as libc::pid_t, libc::SIGINT);
        }
    }
}

/// The exit code of a process stopped by SIGINT (128 + 2).
pub const EXIT_CODE: u8 = 130;

/// Installs the SIGINT handler.
pub fn install() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        let again = REQUESTED.swap(true, Ordering::SeqCst);
        forward();
        if again {
            eprintln!("\ninterrupted again: stopping now");
            std::process::exit(EXIT_CODE as i32);
        }
        eprintln!(
            "\ninterrupt: finishing the current epoch and saving a checkpoint \
             (Ctrl-C again stops at once)"
        );
    })?;
    Ok(())
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
