/*!
Datasets as sequence tensors: x is [N, T, F] float32 in [0, 1], y is [N] int64.

MNIST is read row by row: each 28x28 image becomes T = 28 timesteps of F = 28 pixels. The
validation split is the last `val_size` images of the training set (never seen in training);
`train_size` and `test_size` take the first N images, for quick runs on a real subset.
*/
pub mod idx;

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use crate::config::RunConfig;
use crate::error::UserError;

/// One split of a dataset. Sequences shorter than T are padded with zeros at the end;
/// `lengths` says how many timesteps of each are real, and the model never reads past it.
pub struct Split {
    /// [N, T, F] float32.
    pub x: Tensor,
    /// [N] int64 class indices.
    pub y: Tensor,
    /// [N] int64 valid timesteps per sequence, each in 1..=T.
    pub lengths: Tensor,
}

impl Split {
    /// A split whose sequences all have the full length T.
    pub fn full_length(x: Tensor, y: Tensor) -> Split {
        let size = x.size();
        let lengths = Tensor::full([size[0]], size[1], (Kind::Int64, x.device()));
        Split { x, y, lengths }
    }

    /// The examples at `index` ([K] int64), in that order.
    pub fn select(&self, index: &Tensor) -> Split {
        Split {
            x: self.x.index_select(0, index),
            y: self.y.index_select(0, index),
            lengths: self.lengths.index_select(0, index),
        }
    }

    /// The same split on `device`.
    pub fn to_device(&self, device: tch::Device) -> Split {
        Split {
            x: self.x.to_device(device),
            y: self.y.to_device(device),
            lengths: self.lengths.to_device(device),
        }
    }

    pub fn len(&self) -> usize {
        self.y.size()[0] as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Examples `start..start + len`, as views.
    pub fn narrow(&self, start: usize, len: usize) -> Split {
        let (start, len) = (start as i64, len as i64);
        Split {
            x: self.x.narrow(0, start, len),
            y: self.y.narrow(0, start, len),
            lengths: self.lengths.narrow(0, start, len),
        }
    }
}

/// A labelled sequence dataset, split three ways.
pub struct Dataset {
    pub name: String,
    pub train: Split,
    pub val: Split,
    pub test: Split,
    /// T: timesteps per sequence.
    pub seq_len: i64,
    /// F: features per timestep.
    pub features: i64,
    pub class_names: Vec<String>,
}

impl Dataset {
    pub fn classes(&self) -> i64 {
        self.class_names.len() as i64
    }
}

/// A whole dataset as loaded from disk, before the run's split sizes are applied. Loaded once
/// per process and shared by every run that uses it.
pub struct Source {
    pub name: String,
    train: Split,
    test: Split,
    seq_len: i64,
    features: i64,
    class_names: Vec<String>,
}

impl Source {
    /// Loads the named dataset from `dir`.
    pub fn load(name: &str, dir: &Path) -> Result<Source, UserError> {
        match name {
            "mnist" => {
                let raw = idx::load(dir)?;
                let to_split = |images: Vec<u8>, labels: Vec<u8>| {
                    let n = labels.len() as i64;
                    let x = Tensor::from_slice(&images)
                        .view([n, idx::ROWS as i64, idx::COLS as i64])
                        .to_kind(Kind::Float)
                        / 255.0;
                    let y = Tensor::from_slice(&labels).to_kind(Kind::Int64);
                    Split::full_length(x, y)
                };
                Ok(Source {
                    name: name.into(),
                    train: to_split(raw.train_images, raw.train_labels),
                    test: to_split(raw.test_images, raw.test_labels),
                    seq_len: idx::ROWS as i64,
                    features: idx::COLS as i64,
                    class_names: (0..10).map(|d| d.to_string()).collect(),
                })
            }
            other => Err(UserError::Config {
                origin: "dataset".into(),
                message: format!("unknown dataset {other:?}: expected \"mnist\""),
            }),
        }
    }

    /// The splits a run asks for: validation from the end of train, then the size limits.
    pub fn split(&self, cfg: &RunConfig) -> Result<Dataset, UserError> {
        let n_train = self.train.len();
        let too_big = |key: &str, v: usize, max: usize| UserError::Config {
            origin: key.to_string(),
            message: format!("{key} = {v}: expected at most {max} for {}", self.name),
        };
        if cfg.val_size >= n_train {
            return Err(too_big("val_size", cfg.val_size, n_train - 1));
        }
        let available = n_train - cfg.val_size;
        if cfg.train_size > available {
            return Err(too_big("train_size", cfg.train_size, available));
        }
        if cfg.test_size > self.test.len() {
            return Err(too_big("test_size", cfg.test_size, self.test.len()));
        }
        let train_len = if cfg.train_size == 0 {
            available
        } else {
            cfg.train_size
        };
        let test_len = if cfg.test_size == 0 {
            self.test.len()
        } else {
            cfg.test_size
        };
        Ok(Dataset {
            name: self.name.clone(),
            train: self.train.narrow(0, train_len),
            val: self.train.narrow(available, cfg.val_size),
            test: self.test.narrow(0, test_len),
            seq_len: self.seq_len,
            features: self.features,
            class_names: self.class_names.clone(),
        })
    }
}

/// The default data folder: `data/<dataset>` under the working directory if it exists,
/// else under the source checkout this binary was built from.
pub fn default_dir(dataset: &str) -> PathBuf {
    let local = Path::new("data").join(dataset);
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(dataset)
}
