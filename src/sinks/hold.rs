/*!
Pause points for the tests, so that no test depends on how fast the machine is.

Only when the environment variable `ROWSEQ_TEST_HOLD` names a folder: at each point of a run,
after the point's work is on disk, the process creates `<folder>/<run-id>.<point>` (the
"reached" marker), then waits for as long as `<folder>/hold-<point>` exists, or until Ctrl-C
is pressed. The points are `start` (the run is about to train its first batch) and `epoch-E`
(epoch E ended, its metrics and its checkpoint are written). A test creates the hold file,
starts rowseq, waits for the marker, does what it tests (a kill, a Ctrl-C, a second sweep on
the same folder) while the run is known to be exactly there, and removes the hold file to let
the run go on. Without the variable this sink is never built.
*/
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::interrupt;
use crate::train::{Event, Sink};

pub const VAR: &str = "ROWSEQ_TEST_HOLD";

pub struct Hold {
    dir: PathBuf,
    run_id: String,
}

impl Hold {
    /// The hold sink of run `run_id`, if `ROWSEQ_TEST_HOLD` is set.
    pub fn from_env(run_id: &str) -> Option<Hold> {
        let dir = std::env::var_os(VAR).filter(|d| !d.is_empty())?;
        Some(Hold {
            dir: PathBuf::from(dir),
            run_id: run_id.to_string(),
        })
    }

    fn reach(&self, point: &str) -> anyhow::Result<()> {
        let marker = self.dir.join(format!("{}.{point}", self.run_id));
        std::fs::write(&marker, b"")
            .map_err(|e| anyhow::anyhow!("{VAR}: could not create '{}': {e}", marker.display()))?;
        wait_while(&self.dir.join(format!("hold-{point}")));
        Ok(())
    }
}

/// Waits while `path` exists, or until Ctrl-C (the run then stops at its next boundary).
fn wait_while(path: &Path) {
    while path.exists() && !interrupt::requested() {
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Sink for Hold {
    fn event(&mut self, event: &Event) -> anyhow::Result<()> {
        match event {
            Event::Start { .. } => self.reach("start"),
            Event::Epoch { metrics, .. } => {
                let epoch = metrics.last().map_or(0, |m| m.epoch);
                self.reach(&format!("epoch-{epoch}"))
            }
            Event::Batch { .. } | Event::End(_) => Ok(()),
        }
    }
}
