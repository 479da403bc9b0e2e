/*!
The sweep-wide event file: the HParams experiment (`hparams::experiment`) at the root of
`tb/`, written once per sweep invocation in place of an earlier one.
*/
use std::path::Path;

use anyhow::Result;

use super::hparams;
use super::proto::{self, HParamsData};
use super::record::{unix_seconds, EventWriter};
use crate::config::RunConfig;
use crate::store::tensorboard::clear_experiment;

/// Writes the sweep's hparams experiment at the root of `tb_root`, replacing an earlier one.
pub fn write_experiment(
    tb_root: &Path,
    name: &str,
    swept: &[String],
    runs: &[&RunConfig],
) -> Result<()> {
    clear_experiment(tb_root)?;
    let now = unix_seconds();
    let mut writer = EventWriter::create(tb_root)?;
    let experiment = hparams::experiment(name, swept, runs, now);
    writer.summary(0, vec![proto::hparams(HParamsData::Experiment(experiment))])?;
    writer.flush()
}
