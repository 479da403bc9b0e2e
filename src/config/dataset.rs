/*!
What the `dataset` key names: a bundled name or a format and its files.

```text
mnist                    MNIST, read row by row (data/mnist or --data-dir)
fashion-mnist            Fashion-MNIST, same layout (data/fashion-mnist or --data-dir)
idx:DIR                  any IDX image set in DIR (the four MNIST file names, raw or .gz)
ts:DIR/NAME              UEA/UCR .ts files DIR/NAME_TRAIN.ts and DIR/NAME_TEST.ts
csv:TRAIN.csv,TEST.csv   CSV files, one series per row or long format (csv_layout)
csv:SERIES.csv           one long series, a column per variable, for task = "forecast"
npz:TRAIN.npz,TEST.npz   NumPy archives: X (n_cases, n_channels, n_timepoints) and labels y
```
Relative paths are resolved against the working directory. `short_name` is what run labels
and folder names use: `GunPoint` for `ts:data/GunPoint/GunPoint`.
*/
use std::path::{Path, PathBuf};

/// A parsed `dataset` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Mnist,
    FashionMnist,
    Idx(PathBuf),
    /// `.ts` files: the folder and the problem name.
    Ts {
        dir: PathBuf,
        name: String,
    },
    Csv {
        train: PathBuf,
        test: PathBuf,
    },
    /// One CSV file holding one long series in time order (forecasting).
    Series(PathBuf),
    /// NumPy archives of `X` and `y` (`data::npz`).
    Npz {
        train: PathBuf,
        test: PathBuf,
    },
}

/// What `dataset` may be, for error messages.
pub const EXPECTED: &str = "\"mnist\", \"fashion-mnist\", \"idx:DIR\", \"ts:DIR/NAME\" (reads \
    NAME_TRAIN.ts and NAME_TEST.ts), \"csv:TRAIN.csv,TEST.csv\", \"npz:TRAIN.npz,TEST.npz\" or \"csv:SERIES.csv\" (forecasting)";

impl Spec {
    /// A series set's training and test files (`ts:` and `csv:`; None for other data).
    pub fn files(&self) -> Option<(PathBuf, PathBuf)> {
        match self {
            Spec::Ts { dir, name } => Some((
                dir.join(format!("{name}_TRAIN.ts")),
                dir.join(format!("{name}_TEST.ts")),
            )),
            Spec::Csv { train, test } | Spec::Npz { train, test } => {
                Some((train.clone(), test.clone()))
            }
            _ => None,
        }
    }

    pub fn parse(value: &str) -> Result<Spec, String> {
        let nonempty = |s: &str| !s.trim().is_empty();
        match value {
            "mnist" => return Ok(Spec::Mnist),
            "fashion-mnist" => return Ok(Spec::FashionMnist),
            _ => {}
        }
        let Some((format, rest)) = value.split_once(':') else {
            return Err(format!("unknown dataset {value:?}"));
        };
        match format {
            "idx" if nonempty(rest) => Ok(Spec::Idx(rest.into())),
            "ts" => {
                let path = Path::new(rest);
                match (path.file_name(), rest.ends_with('/')) {
                    (Some(name), false) if nonempty(rest) => Ok(Spec::Ts {
                        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                        name: name.to_string_lossy().into_owned(),
                    }),
                    _ => Err(format!(
                        "{value:?} names no problem: expected ts:DIR/NAME for DIR/NAME_TRAIN.ts"
                    )),
                }
            }
            "csv" => match rest.split_once(',') {
                Some((train, test)) if nonempty(train) && nonempty(test) && !test.contains(',') => {
                    Ok(Spec::Csv {
                        train: train.into(),
                        test: test.into(),
                    })
                }
                None if nonempty(rest) => Ok(Spec::Series(rest.into())),
                _ => Err(format!(
                    "{value:?}: expected csv:TRAIN.csv,TEST.csv (two files) or csv:SERIES.csv"
                )),
            },
            "npz" => match rest.split_once(',') {
                Some((train, test)) if nonempty(train) && nonempty(test) && !test.contains(',') => {
                    Ok(Spec::Npz {
                        train: train.into(),
                        test: test.into(),
                    })
                }
                _ => Err(format!(
                    "{value:?}: expected npz:TRAIN.npz,TEST.npz (two NumPy archives of X and y)"
                )),
            },
            _ => Err(format!("unknown dataset {value:?}")),
        }
    }

    /// Image sets keep MNIST's treatment: pixels / 255 and validation from the end of train.
    pub fn is_images(&self) -> bool {
        matches!(self, Spec::Mnist | Spec::FashionMnist | Spec::Idx(_))
    }

    /// Named datasets live in `data/<name>` (or `--data-dir`); the others name their files.
    pub fn is_named(&self) -> bool {
        matches!(self, Spec::Mnist | Spec::FashionMnist)
    }

    /// A name for labels and folders: letters, digits, '-', '_' and '.' only.
    pub fn short_name(&self, value: &str) -> String {
        let raw = match self {
            Spec::Mnist | Spec::FashionMnist => value.to_string(),
            Spec::Idx(dir) => file_name(dir),
            Spec::Ts { name, .. } => name.clone(),
            Spec::Csv { train, .. } | Spec::Npz { train, .. } | Spec::Series(train) => train
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let clean: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if clean.is_empty() || clean.chars().all(|c| c == '.') {
            "data".into()
        } else {
            clean
        }
    }
}

fn file_name(p: &Path) -> String {
    std::path::absolute(p)
        .ok()
        .as_deref()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse() {
        assert_eq!(Spec::parse("mnist"), Ok(Spec::Mnist));
        assert_eq!(Spec::parse("fashion-mnist"), Ok(Spec::FashionMnist));
        assert_eq!(Spec::parse("idx:d/x"), Ok(Spec::Idx("d/x".into())));
        assert_eq!(
            Spec::parse("ts:data/GunPoint/GunPoint"),
            Ok(Spec::Ts {
                dir: "data/GunPoint".into(),
                name: "GunPoint".into()
            })
        );
        assert_eq!(
            Spec::parse("ts:Local"),
            Ok(Spec::Ts {
                dir: "".into(),
                name: "Local".into()
            })
        );
        assert_eq!(
            Spec::parse("csv:a/series.csv"),
            Ok(Spec::Series("a/series.csv".into()))
        );
        assert_eq!(
            Spec::parse("csv:a/tr.csv,b/te.csv"),
            Ok(Spec::Csv {
                train: "a/tr.csv".into(),
                test: "b/te.csv".into()
            })
        );
    }

    #[test]
    fn bad_values_say_why() {
        for (v, want) in [
            ("MNIST", "unknown dataset"),
            ("ts:", "names no problem"),
            ("ts:dir/", "names no problem"),
            ("csv:a.csv,", "two files"),
            ("csv:a,b,c", "two files"),
            ("idx:", "unknown dataset"),
            ("parquet:x", "unknown dataset"),
        ] {
            let e = Spec::parse(v).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn short_names_fit_labels_and_folders() {
        let short = |v: &str| Spec::parse(v).unwrap().short_name(v);
        assert_eq!(short("mnist"), "mnist");
        assert_eq!(short("ts:data/GunPoint/GunPoint"), "GunPoint");
        assert_eq!(short("csv:x/my data.csv,x/t.csv"), "my_data");
        assert_eq!(short("idx:some/fashion"), "fashion");
    }
}
