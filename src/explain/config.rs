//! A configuration explained before any training (`rowseq explain` with flags): MNIST's shapes
//! are known without reading it; other data's timesteps, features, classes and "auto" values
//! come from its files and the run's split.
use super::*;
use crate::config::RunConfig;

/// MNIST's classes: the digits 0 to 9.
const MNIST_CLASSES: i64 = 10;

/// Explains the model that `cfg` builds, after checking it as flags give it.
pub fn explain_config(cfg: &RunConfig, data_dir: Option<&Path>) -> Result<Explanation> {
    cfg.validate()?;
    if cfg.dataset == "mnist" {
        // MNIST: 28 rows of 28 pixels, read `patch` pixels a step (a row by default),
        // 10 classes; no need to read it.
        let (rows, cols) = (crate::data::idx::ROWS as i64, crate::data::idx::COLS as i64);
        crate::data::patch::check(cfg.patch, rows, cols, true, cfg.task)?;
        let r = crate::data::patch::reading(cfg.patch, rows, cols, true);
        let arch = Arch::of(cfg, r.features, MNIST_CLASSES, r.timesteps);
        // "auto" on MNIST's 48,000 training images is the largest automatic batch.
        let batch = cfg
            .batch_size
            .fixed()
            .unwrap_or(crate::data::auto::MAX_BATCH);
        Ok(explain(&arch, batch as i64, r.timesteps))
    } else {
        // Other data: T, F and the classes come from the files and the patch, the
        // "auto" values from the run's split.
        let source = Source::load(cfg, data_dir)?;
        let split = source.split(cfg)?;
        let cfg = crate::data::auto::resolve(cfg, &split);
        let arch = Arch::of(&cfg, split.features, split.classes(), split.seq_len);
        Ok(explain(&arch, cfg.batch_size.get() as i64, split.seq_len)
            .with_data(source.summary())
            .with_task(&split))
    }
}
