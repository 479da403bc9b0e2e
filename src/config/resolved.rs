/*!
The resolved run config: the config that trains, every "auto" value replaced by the value the
data chose. A planned config (`RunConfig`, whose JSON hashes into the run id) may say "auto";
a `Resolved` never does. `data::auto::resolve` makes it, once per run, from the planned config
and the run's split; the store records it (`<run-id>/resolved.json`), and every later reader
(training, the ETA, status, tables, the report, predict, explain and the PyTorch loader) reads
that record rather than resolving again.

It derefs to the `RunConfig` it holds for the keys that have no "auto" (`lr`, `cell`, ...), and
its accessors give the counts that "auto" can stand for as plain numbers.
*/
use std::ops::Deref;

use serde::{Deserialize, Serialize};

use super::keys::RunConfig;
use super::values::{Count, Noise, Patch, Task, Transform};

/// A run config with no "auto" left.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Resolved(RunConfig);

impl Resolved {
    /// `cfg` as resolved, or the first key that still says "auto". Only `data::auto::resolve`
    /// makes one from a planned config; readers get theirs from the store.
    pub fn new(cfg: RunConfig) -> Result<Resolved, &'static str> {
        let counts = [
            ("epochs", cfg.epochs),
            ("batch_size", cfg.batch_size),
            ("val_size", cfg.val_size),
            ("patience", cfg.patience),
        ];
        if let Some((key, _)) = counts.iter().find(|(_, c)| *c == Count::Auto) {
            return Err(key);
        }
        if cfg.task == Task::Forecast && cfg.window == Count::Auto {
            return Err("window");
        }
        if cfg.task == Task::Forecast && cfg.season == Count::Auto {
            return Err("season");
        }
        if cfg.task == Task::Forecast && cfg.transform == Transform::Auto {
            return Err("transform");
        }
        if cfg.patch == Patch::Auto {
            return Err("patch");
        }
        if cfg.noise == Noise::Auto {
            return Err("noise");
        }
        Ok(Resolved(cfg))
    }

    /// The config itself (what `resolved.json` holds).
    pub fn config(&self) -> &RunConfig {
        &self.0
    }

    /// Passes over the training split (the budget; early stopping may train fewer).
    pub fn epochs(&self) -> usize {
        self.0.epochs.get()
    }

    /// Series per optimiser step (before capping at the training split's size).
    pub fn batch_size(&self) -> usize {
        self.0.batch_size.get()
    }

    /// Epochs without a better validation score before training stops (0: never).
    pub fn patience(&self) -> usize {
        self.0.patience.get()
    }

    /// Forecasting: the time steps a window reads.
    pub fn window(&self) -> Option<usize> {
        self.0.window.fixed()
    }

    /// Forecasting: the season length (0: none).
    pub fn season(&self) -> usize {
        self.0.season.fixed().unwrap_or(0)
    }

    /// The standard deviation of the training jitter (0: none).
    pub fn noise(&self) -> f64 {
        match self.0.noise {
            Noise::Std(x) => x,
            _ => 0.0,
        }
    }
}

impl Deref for Resolved {
    type Target = RunConfig;

    fn deref(&self) -> &RunConfig {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Resolved {
    /// A record read back: a config with an "auto" left is not a resolved one.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let cfg = RunConfig::deserialize(d)?;
        Resolved::new(cfg).map_err(|key| {
            serde::de::Error::custom(format!("{key} = \"auto\": expected the resolved value"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_with_auto_is_not_resolved() {
        let series = RunConfig {
            dataset: "ts:d/n".into(),
            ..RunConfig::default()
        }
        .with_series_defaults(|_| false);
        assert_eq!(Resolved::new(series.clone()), Err("epochs"));
        let fixed = RunConfig {
            epochs: Count::Fixed(7),
            batch_size: Count::Fixed(8),
            val_size: Count::Fixed(3),
            patch: Patch::Values(5),
            noise: Noise::Std(0.25),
            ..series
        };
        let r = Resolved::new(fixed.clone()).unwrap();
        assert_eq!((r.epochs(), r.batch_size(), r.val_size.get()), (7, 8, 3));
        assert_eq!((r.patience(), r.noise()), (0, 0.25));
        assert_eq!(r.config(), &fixed);
    }

    #[test]
    fn mnist_defaults_are_already_resolved() {
        let r = Resolved::new(RunConfig::default()).unwrap();
        assert_eq!(
            (r.epochs(), r.batch_size(), r.val_size.get()),
            (12, 128, 5000)
        );
        assert_eq!(r.num_units, 128, "the other keys read through");
    }

    #[test]
    fn a_record_round_trips_and_an_auto_in_it_is_refused() {
        let r = Resolved::new(RunConfig {
            noise: Noise::Std(0.5),
            ..RunConfig::default()
        })
        .unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, serde_json::to_string(r.config()).unwrap());
        assert_eq!(serde_json::from_str::<Resolved>(&json).unwrap(), r);
        let auto = json.replace("\"epochs\":12", "\"epochs\":\"auto\"");
        let err = serde_json::from_str::<Resolved>(&auto).unwrap_err();
        assert!(err.to_string().contains("epochs = \"auto\""), "{err}");
    }
}
