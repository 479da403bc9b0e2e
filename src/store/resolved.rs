/*!
The run's resolved config on disk (`<run-id>/resolved.json`): what `data::auto::resolve` chose
for its "auto" values, written once before the run trains, and read by every later reader
(status, tables, predict, explain; the PyTorch loader reads the file itself). Run folders from
before the record existed fall back to the copy in `result.json` (`resolved`, or `config` where
the run had no "auto"), so that older results (the committed `paper/` sweeps) read as before.
*/
use anyhow::Result;

use super::{check_config, read_text, write_json, RunDir};
use crate::config::Resolved;
use crate::error::UserError;

pub const RESOLVED: &str = "resolved.json";

impl RunDir {
    /// Records the config the run trains (before its first epoch).
    pub fn write_resolved(&self, resolved: &Resolved) -> Result<()> {
        write_json(&self.path.join(RESOLVED), resolved)
    }

    /// The config the run trained (or trains): its `resolved.json`, else, for a folder from
    /// before that record, the one its `result.json` holds, else its `config.json` where that
    /// has no "auto"; an edited record that still says "auto", or that fails a config's
    /// checks, is an error naming it.
    pub fn resolved(&self) -> Result<Resolved, UserError> {
        let path = self.path.join(RESOLVED);
        match read_text(&path) {
            Ok(text) => {
                let resolved: Resolved = serde_json::from_str(&text).map_err(|e| {
                    UserError::store(&path, format!("not a rowseq resolved config: {e}"))
                })?;
                check_config(&path, resolved.config(), "")?;
                Ok(resolved)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Older folders: the copy in result.json, else a config with no "auto".
                let (from, cfg) = match self.result()? {
                    Some(result) => (super::RESULT, result.effective().clone()),
                    None => (super::CONFIG, self.config()?),
                };
                Resolved::new(cfg).map_err(|key| {
                    UserError::store(
                        self.path.join(from),
                        format!(
                            "{key} = \"auto\" and no resolved.json: expected a run that has \
                             started (it records what \"auto\" resolved to before it trains)"
                        ),
                    )
                })
            }
            Err(e) => Err(UserError::store(&path, format!("cannot read: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Count, Noise, Patch, RunConfig};

    fn resolved() -> Resolved {
        Resolved::new(RunConfig {
            dataset: "ts:d/n".into(),
            epochs: Count::Fixed(7),
            batch_size: Count::Fixed(4),
            val_size: Count::Fixed(2),
            patch: Patch::Values(5),
            noise: Noise::Std(0.25),
            ..RunConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn the_record_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path(), "abc");
        run.create().unwrap();
        run.write_resolved(&resolved()).unwrap();
        assert_eq!(run.resolved().unwrap(), resolved());
    }

    #[test]
    fn an_edited_record_with_auto_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path(), "abc");
        run.create().unwrap();
        let text = serde_json::to_string(&resolved())
            .unwrap()
            .replace("\"epochs\":7", "\"epochs\":\"auto\"");
        std::fs::write(run.path.join(RESOLVED), text).unwrap();
        let e = run.resolved().unwrap_err().to_string();
        assert!(
            e.contains("resolved.json") && e.contains("epochs = \"auto\""),
            "{e}"
        );
    }

    #[test]
    fn a_folder_without_the_record_reads_a_config_without_auto() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path(), "abc");
        run.create().unwrap();
        run.write_config(&RunConfig::default()).unwrap();
        assert_eq!(run.resolved().unwrap().config(), &RunConfig::default());
        let series = RunConfig {
            epochs: Count::Auto,
            ..RunConfig::default()
        };
        run.write_config(&series).unwrap();
        let e = run.resolved().unwrap_err().to_string();
        assert!(
            e.contains("config.json") && e.contains("epochs = \"auto\""),
            "{e}"
        );
    }
}
