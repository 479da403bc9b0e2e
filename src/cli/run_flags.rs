/*!
`RunFlags`, the `--flag` of every run key for `train` and `explain`, made from the key table of
`config/keys.rs` (`for_each_run_key!`), so that a key is still declared once: its doc comment
is the flag's help. A flag's text is read as a sweep file's value would be (`flag_parser`) and
checked by the config's own rules, so a flag and a sweep file give one rule. A yes-or-no key's
flag may be given bare (`--bidirectional` means true).
*/
use std::any::TypeId;

use serde::de::DeserializeOwned;

// The key table's types and words are read where `run_flags!` expands it.
use crate::config::{
    dataset, for_each_run_key, Cell, Count, CsvLayout, Decompose, EvalTest, Fill, Keep, Labels,
    Noise, Normalize, Patch, Pooling, RunConfig, Schedule, SweepConfig, Task, Transform, ValSplit,
    NOISE_EXPECTED, PATCH_EXPECTED, RUN_KEYS,
};

use super::TrainArgs;

/// The flags of the key table: every key an optional flag, unset flags keeping the defaults.
macro_rules! run_flags {
    ($(
        $(#[doc = $doc:literal])*
        $key:ident: $ty:ty = $default:expr, $in_id:ident, $scope:ident,
            expected $expected:expr $(, valid $valid:expr)?;
    )*) => {
        /// The flag of every run key (`--num-units`, `--eval-test`, ...): given flags override
        /// the defaults, series data's included.
        #[derive(clap::Args, Debug, Clone, Default)]
        pub struct RunFlags {
            $(
                $(#[doc = $doc])*
                #[arg(
                    long,
                    allow_negative_numbers = true,
                    value_parser = flag_parser::<$ty>($expected),
                    num_args = if switch::<$ty>() { 0..=1 } else { 1..=1 },
                    require_equals = switch::<$ty>(),
                    default_missing_value = switch::<$ty>().then_some("true"),
                )]
                pub $key: Option<$ty>,
            )*
        }

        impl RunFlags {
            /// The defaults overridden by the flags given (series data's defaults are
            /// `RunConfig::with_series_defaults`).
            pub fn given_config(&self) -> RunConfig {
                let d = RunConfig::default();
                RunConfig { $( $key: self.$key.clone().unwrap_or(d.$key), )* }
            }

            /// Whether the flag of a run key was given.
            pub fn given(&self, key: &str) -> bool {
                match key {
                    $( stringify!($key) => self.$key.is_some(), )*
                    _ => false,
                }
            }
        }
    };
}

for_each_run_key!(run_flags);

/// Whether a key's flag is a switch: a yes-or-no key, given bare for true or as `--key=false`.
fn switch<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<bool>()
}

/// The parser of a key's flag: the text as the TOML value a sweep file would hold (a number,
/// `true`, a word), else as text (`--label-column 5`), else as a word with '-' read as '_'
/// (`--eval-test every-epoch`). Only the type is checked here; `RunConfig::check_keys` checks
/// the value, so that a flag and a sweep file give one rule.
fn flag_parser<T: DeserializeOwned + Clone + Send + Sync + 'static>(
    expected: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let candidates = [
            flag_value(s),
            toml::Value::String(s.to_string()),
            toml::Value::String(s.replace('-', "_")),
        ];
        candidates
            .iter()
            .find_map(|v| v.clone().try_into().ok())
            .ok_or_else(|| format!("expected {expected}"))
    }
}

/// A flag's text as the TOML value a sweep file would hold: a whole number, a number, true
/// or false, or a word (`auto`).
fn flag_value(s: &str) -> toml::Value {
    match (s.parse::<i64>(), s.parse::<f64>(), s.parse::<bool>()) {
        (Ok(n), _, _) => toml::Value::Integer(n),
        (_, Ok(x), _) => toml::Value::Float(x),
        (_, _, Ok(b)) => toml::Value::Boolean(b),
        _ => toml::Value::String(s.to_string()),
    }
}

impl RunFlags {
    /// The run's config: defaults (series data's "auto" ones included, as a sweep file's),
    /// overridden by the flags given.
    pub fn config(&self) -> RunConfig {
        self.given_config().with_series_defaults(|k| self.given(k))
    }
}

impl TrainArgs {
    /// The folder the run joins: `--name`, else the data set's short name (`GunPoint` for
    /// `ts:data/GunPoint/GunPoint`, `GunPoint` for `npz:x/GunPoint_TRAIN.npz,...`, `my` for
    /// `csv:my/train.csv,my/test.csv`).
    pub fn folder(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let dataset = self.run.config().dataset;
        let short = crate::config::dataset::Spec::parse(&dataset)
            .map(|spec| spec.short_name(&dataset))
            .unwrap_or_else(|_| "train".into());
        let name = ["_TRAIN", "_train", "-train", "_Train"]
            .iter()
            .find_map(|s| short.strip_suffix(s).filter(|rest| !rest.is_empty()))
            .unwrap_or(&short);
        // `csv:my/train.csv,my/test.csv`: the files' folder names the data, not "train".
        if name.eq_ignore_ascii_case("train") {
            let first = dataset
                .split_once(':')
                .map_or("", |(_, f)| f)
                .split(',')
                .next();
            let folder = first
                .and_then(|f| std::path::Path::new(f).parent()?.file_name()?.to_str())
                .filter(|f| crate::config::valid_name(f));
            if let Some(folder) = folder {
                return folder.to_string();
            }
        }
        name.to_string()
    }

    /// A one-run sweep of the flags' config.
    pub fn sweep(&self) -> SweepConfig {
        let cfg = self.run.config();
        let value = toml::Value::try_from(&cfg).expect("config converts to TOML");
        // Keys left out of the config at their default stay out of the grid, unless their flag
        // was given: a given value, even the default, wins over a series or task default
        // (`--normalize feature` on a forecast).
        let grid = RUN_KEYS
            .iter()
            .filter_map(|k| {
                let v = match self.run.given(k) {
                    true => cfg.toml_value(k),
                    false => value.get(*k)?.clone(),
                };
                Some((k.to_string(), vec![v]))
            })
            .collect();
        // Every key came from a flag or its default: errors found in the data name the flag.
        let origins = RUN_KEYS
            .iter()
            .map(|k| {
                let flag = format!("--{}", k.replace('_', "-"));
                let given = self.run.given(k);
                (
                    k.to_string(),
                    if given {
                        flag
                    } else {
                        format!("{flag} (default)")
                    },
                )
            })
            .collect();
        SweepConfig {
            name: self.folder(),
            select: Default::default(),
            grid,
            search: None,
            origins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn train(args: &[&str]) -> TrainArgs {
        let mut all = vec!["rowseq", "train"];
        all.extend(args);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Train(t) => t,
            other => panic!("not train: {other:?}"),
        }
    }

    #[test]
    fn a_train_folder_is_named_after_its_data() {
        let folder = |d: &str| train(&["--dataset", d]).folder();
        assert_eq!(folder("mnist"), "mnist");
        assert_eq!(folder("ts:data/GunPoint/GunPoint"), "GunPoint");
        assert_eq!(
            folder("npz:x/GunPoint_TRAIN.npz,x/GunPoint_TEST.npz"),
            "GunPoint"
        );
        assert_eq!(folder("csv:my/train.csv,my/test.csv"), "my");
        assert_eq!(folder("csv:walks.csv,walks_test.csv"), "walks");
        assert_eq!(folder("csv:train.csv,test.csv"), "train");
        assert_eq!(train(&["--name", "mine"]).folder(), "mine");
    }

    #[test]
    fn a_given_flag_wins_over_a_task_default_even_at_the_plain_default() {
        let forecast = ["--dataset", "csv:s.csv", "--task", "forecast"];
        let runs = train(&forecast).sweep().runs();
        assert_eq!(
            (runs[0].task, runs[0].normalize),
            (Task::Forecast, Normalize::Last)
        );
        let mut given = forecast.to_vec();
        given.extend(["--normalize", "feature"]);
        let runs = train(&given).sweep().runs();
        assert_eq!(runs[0].normalize, Normalize::Feature);
    }

    #[test]
    fn flags_take_a_sweep_files_values_and_their_own_spellings() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunFlags,
        }
        let cli = Cli::try_parse_from([
            "t",
            "--eval-test",
            "every-epoch",
            "--label-column",
            "5",
            "--epochs",
            "auto",
            "--bidirectional",
            "--cell",
            "gru",
            "--noise",
            "0.3",
        ])
        .unwrap();
        let cfg = cli.run.config();
        assert_eq!(cfg.eval_test, EvalTest::EveryEpoch);
        assert_eq!(cfg.label_column, "5");
        assert_eq!(cfg.epochs, Count::Auto);
        assert!(cfg.bidirectional);
        assert_eq!(cfg.cell, Cell::Gru);
        assert_eq!(cfg.noise, Noise::Std(0.3));
        assert!(cli.run.given("cell") && !cli.run.given("seed"));
        // A yes-or-no flag takes a value after '=' only.
        let cli = Cli::try_parse_from(["t", "--bidirectional=false"]).unwrap();
        assert_eq!(cli.run.bidirectional, Some(false));
        assert!(Cli::try_parse_from(["t", "--bidirectional", "false"]).is_err());
        // A value of the wrong type is clap's error, naming what is expected; a value out of
        // range is `validate`'s, naming the flag.
        let e = Cli::try_parse_from(["t", "--num-units", "many"])
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("expected a whole number of hidden units"),
            "{e}"
        );
        let cli = Cli::try_parse_from(["t", "--num-units", "0"]).unwrap();
        let e = cli.run.config().validate().unwrap_err().to_string();
        assert_eq!(
            e,
            "--num-units 0: expected a whole number of hidden units from 1 to 65536"
        );
    }
}
