//! Where a loaded dataset came from: its `dataset` value, that value parsed, and the training
//! file's SHA-256. The splits name it in their errors and carry it into every run's `Dataset`
//! (`Origin::patched`).
use super::{patch, Dataset, Split};
use crate::config::dataset::Spec;
use crate::config::{Patch, RunConfig};
use crate::error::UserError;

/// Where a loaded dataset came from.
pub struct Origin {
    /// The `dataset` value.
    pub name: String,
    pub spec: Spec,
    /// Series sets (`ts:`, `csv:`): the SHA-256 of the training file as read, which a run
    /// records so that `predict` refuses the file once it has changed.
    pub train_sha256: Option<String>,
}

impl Origin {
    /// A run's dataset from its (train, validation, test) splits of sequences `shape` (T, F)
    /// long and wide, each patched as the run's `patch` says; class names, scaling, target
    /// and forecast are the caller's to add. A patch of more values than a sequence has is
    /// an error naming the key.
    pub fn patched(
        &self,
        cfg: &RunConfig,
        [train, val, test]: [Split; 3],
        (t, f): (i64, i64),
        images: bool,
    ) -> Result<Dataset, UserError> {
        patch::check(cfg.patch, t, f, images, cfg.task)?;
        let reading = patch::reading(cfg.patch, t, f, images);
        let natural = patch::reading(Patch::Natural, t, f, images);
        Ok(Dataset {
            name: self.name.clone(),
            train: patch::apply(&train, reading, images),
            val: patch::apply(&val, reading, images),
            test: patch::apply(&test, reading, images),
            seq_len: reading.timesteps,
            features: reading.features,
            class_names: Vec::new(),
            images,
            image_shape: images.then_some((t, f)),
            patch: (reading != natural).then_some(reading.values),
            normalization: None,
            step_change: None,
            task: cfg.task,
            target: None,
            forecast: None,
            neighbours: None,
            train_sha256: self.train_sha256.clone(),
        })
    }
}
