/*!
The sweep-wide event file: the HParams experiment (`hparams::experiment`), written once per
sweep invocation in place of an earlier one, into the folder of one of the sweep's runs
(`store::tensorboard::experiment_folder`) rather than at the root of `tb/`, where TensorBoard
would list it as an extra run named `.`.
*/
use std::path::Path;

use anyhow::Result;

use super::hparams;
use super::proto::{self, HParamsData};
use super::record::{unix_seconds, EventWriter};
use crate::config::RunConfig;
use crate::store::tensorboard::{experiment_folder, EXPERIMENT_SUFFIX};

/// Writes the sweep's hparams experiment below `tb_root`, replacing an earlier one, into the
/// folder of one of `folders` (the sweep's runs as `(label, run id)`, in plan order, as
/// `configs`): see `experiment_folder`.
pub fn write_experiment(
    tb_root: &Path,
    name: &str,
    swept: &[String],
    configs: &[&RunConfig],
    folders: &[(&str, &str)],
) -> Result<()> {
    let dir = experiment_folder(tb_root, folders)?;
    let now = unix_seconds();
    let mut writer = EventWriter::create_suffixed(&dir, EXPERIMENT_SUFFIX)?;
    let experiment = hparams::experiment(name, swept, configs, now);
    writer.summary(0, vec![proto::hparams(HParamsData::Experiment(experiment))])?;
    writer.flush()
}
