/*!
A series file's split for one run's config: forecasting windows. Each series (one, or a panel's
many) is cut in time (`forecast::stretches`), scaled with its own training stretch's
statistics, cut into windows of inputs and the next `horizon` target values, then patched like
any series; the test windows' truth and naive baselines come with it, in the target's units.
One model learns the windows of every series.
*/
use super::origin::Origin;
use super::{ets, forecast, Dataset, Forecast, SeriesCut, Split, Target};
use crate::config::{Count, Normalize, RunConfig, Task, Transform};
use crate::error::UserError;
use crate::records::{Normalization, SeriesStats};

/// A forecasting run's windows: each series of the file cut in time (`forecast::stretches`),
/// scaled with its own training stretch's statistics, then patched like any series; a panel's
/// series give one window set, series by series, with one window length (the shortest any
/// series allows under "auto").
pub fn split(
    origin: &Origin,
    panel: &forecast::Panel,
    cfg: &RunConfig,
) -> Result<Dataset, UserError> {
    let cfg = &with_held_out(panel, cfg);
    let cfg = &with_transform(origin, panel, cfg)?;
    let cfg = &with_season(origin, panel, cfg)?;
    let cfg = &with_window(panel, cfg)?;
    let mut parts = Vec::with_capacity(panel.tables.len());
    let mut stats = Vec::with_capacity(panel.tables.len());
    for i in 0..panel.tables.len() {
        let (part, norm) = one_series(origin, panel, i, cfg)?;
        parts.push(part);
        stats.push(norm);
    }
    let cat = |k: usize| -> Split {
        let splits: Vec<&Split> = parts.iter().map(|p| &p.splits[k]).collect();
        Split::cat(&splits)
    };
    let (train, val, test) = (cat(0), cat(1), cat(2));
    let table = &panel.tables[0];
    let normalization = normalization(panel, cfg, &stats);
    let j = table.target;
    let first = &stats[0];
    let read = forecast::WindowScale::of(cfg, &first.0, &first.1);
    let (w, f) = (
        parts[0].cut.stretches.window as i64,
        (table.features() + read.extra_features()) as i64,
    );
    let target = match panel.is_panel() {
        // A panel's training and validation errors are in each series' own target std
        // (`Forecast::score_scaled`); its test errors in each series' units.
        true => Target {
            name: table.names[j].clone(),
            mean: 0.0,
            std: 1.0,
        },
        false => parts[0].cut.target.clone(),
    };
    let forecast = assemble(parts, cfg, read, panel.is_panel());
    Ok(Dataset {
        normalization: Some(normalization),
        task: Task::Forecast,
        target: Some(target),
        forecast: Some(forecast),
        ..origin.patched(cfg, [train, val, test], (w, f), false)?
    })
}

/// The series' parts as one forecast: their test targets' centres, truth and baselines one
/// after the other, and their cuts.
fn assemble(
    parts: Vec<Part>,
    cfg: &RunConfig,
    read: forecast::WindowScale,
    panel: bool,
) -> Forecast {
    let mut forecast = Forecast {
        horizon: cfg.horizon,
        season: cfg.season.fixed().unwrap_or(0),
        relative: read.relative,
        decomposed: read.season > 0,
        log: cfg.transform == Transform::Log,
        series: Vec::new(),
        centres: Vec::new(),
        val_centres: Vec::new(),
        truth: Vec::new(),
        naive: Vec::new(),
        snaive: Vec::new(),
        ets: None,
        panel,
    };
    for p in parts {
        forecast.centres.extend(p.centres);
        forecast.val_centres.extend(p.val_centres);
        forecast.truth.extend(p.truth);
        forecast.naive.extend(p.naive);
        forecast.snaive.extend(p.snaive);
        forecast.series.push(p.cut);
    }
    forecast
}

/// What `predict` scales new series with: the first series' statistics and target, and a
/// panel's each by id.
fn normalization(panel: &forecast::Panel, cfg: &RunConfig, stats: &[Stats]) -> Normalization {
    let (table, first) = (&panel.tables[0], &stats[0]);
    let j = table.target;
    Normalization {
        kind: cfg.normalize,
        mean: first.0.clone(),
        std: first.1.clone(),
        target_mean: Some(first.0[j]),
        target_std: Some(first.1[j]),
        columns: table.names.clone(),
        series: match panel.is_panel() {
            true => panel
                .ids
                .iter()
                .zip(stats)
                .map(|(id, (mean, std))| SeriesStats {
                    id: id.clone(),
                    mean: mean.clone(),
                    std: std.clone(),
                })
                .collect(),
            false => Vec::new(),
        },
        stats_inputs: None,
    }
}

/// A series' per-variable mean and std over its training stretch.
type Stats = (Vec<f64>, Vec<f64>);

/// One series' part of a forecast: its windows of each split, its cut, the validation and
/// test targets' centres, and the test targets' truth and naive forecasts.
struct Part {
    splits: [Split; 3],
    cut: SeriesCut,
    centres: Vec<f64>,
    val_centres: Vec<f64>,
    truth: Vec<f64>,
    naive: Vec<f64>,
    snaive: Vec<f64>,
}

/// Series `i` of `panel` cut and read for `cfg` (season, window and transform fixed), with its
/// training stretch's per-variable mean and std, in the units the network reads (the target's
/// logarithm under `transform = "log"`); truth, baselines and MASE's scale in the file's.
fn one_series(
    origin: &Origin,
    panel: &forecast::Panel,
    i: usize,
    cfg: &RunConfig,
) -> Result<(Part, Stats), UserError> {
    let logged;
    let table = match cfg.transform {
        Transform::Log => {
            logged = panel.tables[i].with_log_target();
            &logged
        }
        _ => &panel.tables[i],
    };
    let cut = stretches_of(panel, i, cfg)?;
    let h = cfg.horizon;
    let (mean, std) = match cfg.normalize {
        Normalize::None => (vec![0.0; table.features()], vec![1.0; table.features()]),
        _ => forecast::stats(table, cut.train),
    };
    let [train_o, val_o, test_o] = forecast::origins(&cut, h);
    let scale = forecast::WindowScale::of(cfg, &mean, &std);
    let windows = |o: &[usize]| forecast::windows(table, o, cut.window, h, scale);
    let ((train, _), (val, val_centres)) = (windows(&train_o), windows(&val_o));
    let (test, centres) = windows(&test_o);
    let j = table.target;
    let y = panel.tables[i].target_values();
    let season = cfg.season.fixed().unwrap_or(0);
    let mase = forecast::mase_scale(&y, cut.train, season);
    if mase <= 0.0 {
        return Err(UserError::data(
            &origin.name,
            format!(
                "the target {:?}{} does not change over the {} training steps: expected a \
                 series that varies (MASE divides by its in-sample change)",
                table.names[j],
                panel.which(i),
                cut.train
            ),
        ));
    }
    let part = Part {
        truth: forecast::truth(&y, &test_o, h),
        naive: forecast::naive(&y, &test_o, h),
        snaive: forecast::seasonal_naive(&y, &test_o, h, season),
        splits: [train, val, test],
        centres,
        val_centres,
        cut: SeriesCut {
            id: panel.ids[i].clone(),
            stretches: cut,
            scale: mase,
            target: Target {
                name: table.names[j].clone(),
                mean: mean[j],
                std: std[j],
            },
            val_windows: val_o.len(),
            test_origins: test_o,
            calendar: table.calendar,
        },
    };
    Ok((part, (mean, std)))
}

/// Series `i`'s stretches for `cfg`; in a panel, an error names the series.
fn stretches_of(
    panel: &forecast::Panel,
    i: usize,
    cfg: &RunConfig,
) -> Result<forecast::Stretches, UserError> {
    forecast::stretches(panel.tables[i].steps, cfg).map_err(|e| match e {
        UserError::Config { origin, message } if panel.is_panel() => UserError::Config {
            origin,
            message: format!("series {:?}: {message}", panel.ids[i]),
        },
        e => e,
    })
}

/// `cfg` with the same held-out stretches for every series of a panel: under "auto",
/// `forecast::HELD_OUT` of its shortest series each (at least `horizon`), as one forecasts
/// every series of a panel the same steps ahead; a plain file's one series keeps its "auto".
fn with_held_out(panel: &forecast::Panel, cfg: &RunConfig) -> RunConfig {
    let Some(shortest) = panel.tables.iter().map(|t| t.steps).min() else {
        return cfg.clone();
    };
    if panel.tables.len() < 2 {
        return cfg.clone();
    }
    let auto = ((shortest as f64 * forecast::HELD_OUT).round() as usize).max(cfg.horizon);
    RunConfig {
        val_size: Count::Fixed(cfg.val_size.fixed().unwrap_or(auto)),
        test_size: match cfg.test_size {
            0 => auto,
            n => n,
        },
        ..cfg.clone()
    }
}

/// `cfg` with one window for every series of a panel: as given, or under "auto" the shortest
/// of the series' own (`forecast::auto_window`); a plain file's one series keeps its "auto".
fn with_window(panel: &forecast::Panel, cfg: &RunConfig) -> Result<RunConfig, UserError> {
    if cfg.window != Count::Auto || panel.tables.len() < 2 {
        return Ok(cfg.clone());
    }
    let mut window = usize::MAX;
    for i in 0..panel.tables.len() {
        window = window.min(stretches_of(panel, i, cfg)?.window);
    }
    Ok(RunConfig {
        window: Count::Fixed(window),
        ..cfg.clone()
    })
}

/// `cfg` with its transform fixed: "auto" is log where every value of every series' target is
/// positive (a count, a price, a demand), none otherwise; "log" where one is not is an error
/// naming the series, the step and the value. The sign of every value decides, held-out ones
/// included: a logarithm cannot read a value that is not positive, and a test window reads
/// the values before it. That one bit is all a training window learns of later values.
fn with_transform(
    origin: &Origin,
    panel: &forecast::Panel,
    cfg: &RunConfig,
) -> Result<RunConfig, UserError> {
    if cfg.transform == Transform::None {
        return Ok(cfg.clone());
    }
    let first_bad =
        (0..panel.tables.len()).find_map(|i| panel.tables[i].non_positive(&panel.which(i)));
    let transform = match (cfg.transform, first_bad) {
        (Transform::Auto, None) => Transform::Log,
        (Transform::Auto, Some(_)) => Transform::None,
        (Transform::Log, Some(bad)) => {
            return Err(UserError::data(
                &origin.name,
                format!(
                    "transform = \"log\": {bad}: expected positive values only (a logarithm \
                     reads them), or transform = \"none\""
                ),
            ));
        }
        (t, _) => t,
    };
    Ok(RunConfig {
        transform,
        ..cfg.clone()
    })
}

/// `cfg` with its season fixed: as given, or for "auto" the period `ets::detect_season` finds
/// on the training stretch alone, the dates' season first (0 where it finds none); a training
/// stretch too short to hold three of the shortest periods it looks for is an error naming
/// the key. In a panel, the period found for most series (the shorter on a tie).
fn with_season(
    origin: &Origin,
    panel: &forecast::Panel,
    cfg: &RunConfig,
) -> Result<RunConfig, UserError> {
    if cfg.season != Count::Auto {
        return Ok(cfg.clone());
    }
    let none = RunConfig {
        season: Count::Fixed(0),
        ..cfg.clone()
    };
    let mut votes: std::collections::BTreeMap<usize, usize> = Default::default();
    for (i, table) in panel.tables.iter().enumerate() {
        let train = stretches_of(panel, i, &none)?.train;
        let calendar = table.calendar.and_then(|c| c.season());
        let found =
            ets::detect_season(&table.target_values()[..train], calendar).map_err(|needed| {
                UserError::Config {
                    origin: "season".into(),
                    message: format!(
                    "season = \"auto\": the training stretch of {}{} has {train} steps: expected \
                     at least {needed} to detect a season (a number, or 0 for none)",
                    origin.name,
                    panel.which(i)
                ),
                }
            })?;
        *votes.entry(found).or_default() += 1;
    }
    let most = votes.values().copied().max().unwrap_or(0);
    let found = votes
        .iter()
        .find(|(_, &n)| n == most)
        .map_or(0, |(&p, _)| p);
    Ok(RunConfig {
        season: Count::Fixed(found),
        ..none
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dataset::Spec;
    use crate::data::Held;

    /// A forecast of `values` (one column "v", season 4, window 8) under `transform`.
    fn forecast_of(values: &[f64], transform: Transform) -> Result<Dataset, UserError> {
        let text: String = values.iter().map(|v| format!("{v}\n")).collect();
        let cfg = RunConfig {
            dataset: "csv:s.csv".into(),
            task: Task::Forecast,
            season: Count::Fixed(4),
            window: Count::Fixed(8),
            val_size: Count::Fixed(10),
            test_size: 10,
            transform,
            ..RunConfig::default()
        }
        .with_series_defaults(|k| ["transform", "val_size", "window", "season"].contains(&k));
        let path = std::path::Path::new("s.csv");
        let panel = forecast::parse(&format!("v\n{text}"), path, &cfg)?;
        let origin = Origin {
            name: "s.csv".into(),
            spec: Spec::parse("csv:s.csv").unwrap(),
            train_sha256: None,
        };
        split(&origin, &panel, &cfg)
    }

    fn doubles(t: &tch::Tensor) -> Vec<f64> {
        Vec::<f64>::try_from(t.flatten(0, -1).to_kind(tch::Kind::Double)).unwrap()
    }

    #[test]
    fn a_log_read_target_maps_back_to_the_files_values() {
        // A season that grows with the level: its log is a constant season on a line.
        let values: Vec<f64> = (0..60)
            .map(|t| (0.05 * t as f64).exp() * [1.0, 2.0, 3.0, 1.5][t % 4])
            .collect();
        let data = forecast_of(&values, Transform::Auto).unwrap();
        let f = data.forecast.as_ref().unwrap();
        assert!(f.log);
        // The windows hold z-scores of the log: the scaled truth mapped back is the file's.
        for held in [Held::Val, Held::Test] {
            let split = match held {
                Held::Val => &data.val,
                Held::Test => &data.test,
            };
            let back = f.unscaled(&doubles(&split.y), held);
            let [_, val, test] = forecast::origins(&f.series[0].stretches, 1);
            let origins = match held {
                Held::Val => val,
                Held::Test => test,
            };
            assert_eq!(origins.len(), 10, "{held:?}");
            assert_eq!(back.len(), origins.len());
            for (b, t) in back.iter().zip(&origins) {
                let want = values[t + 1];
                assert!(
                    (b - want).abs() <= 1e-5 * want,
                    "{held:?} {t}: {b} vs {want}"
                );
            }
        }
        assert_eq!(data.test_values(&doubles(&data.test.y)).len(), 10);
        // A panel's validation MASE (`score_scaled`) is in the file's units: each forecast
        // mapped back, its MAE over the in-sample scale of the file's values.
        let truth_z = doubles(&data.val.y);
        let z: Vec<f64> = truth_z.iter().map(|v| v + 0.1).collect();
        let [_, val, _] = forecast::origins(&f.series[0].stretches, 1);
        let s = &f.series[0];
        let centres = &f.val_centres;
        let mae = val
            .iter()
            .enumerate()
            .map(|(i, t)| ((z[i] * s.target.std + centres[i]).exp() - values[t + 1]).abs())
            .sum::<f64>()
            / val.len() as f64;
        let mase = f.score_scaled(&z, &truth_z, Held::Val).mase.unwrap();
        assert!(
            (mase - mae / s.scale).abs() <= 1e-6 * mase,
            "{mase} {}",
            mae / s.scale
        );
        // Baselines and truth stay in the file's units.
        let t0 = f.series[0].test_origins[0];
        assert_eq!(f.truth[0], values[t0 + 1]);
        assert_eq!(f.naive[0], values[t0]);
        assert_eq!(data.target.as_ref().unwrap().mean, {
            let logs: Vec<f64> = values[..40].iter().map(|v| v.ln()).collect();
            logs.iter().sum::<f64>() / 40.0
        });
    }

    #[test]
    fn auto_reads_values_as_they_are_where_one_is_not_positive_and_log_refuses_them() {
        let reads_log =
            |values: &[f64], t: Transform| forecast_of(values, t).unwrap().forecast.unwrap().log;
        let mut values: Vec<f64> = (0..60).map(|t| 1.0 + (t % 4) as f64).collect();
        values[7] = -0.5;
        assert!(!reads_log(&values, Transform::Auto));
        let Err(err) = forecast_of(&values, Transform::Log) else {
            panic!("log read a negative value");
        };
        let err = err.to_string();
        assert!(
            err.contains("transform = \"log\": the target \"v\" is -0.5 at step 7 (0-based)"),
            "{err}"
        );
        // The sign of a held-out value decides too: a zero in the test stretch.
        let mut later: Vec<f64> = (0..60)
            .map(|t| 1.0 + (t % 4) as f64 + 0.1 * t as f64)
            .collect();
        assert!(reads_log(&later, Transform::Auto));
        later[58] = 0.0;
        assert!(!reads_log(&later, Transform::Auto));
        // Given "none", a positive series is read as it is.
        values[7] = 2.0;
        assert!(!reads_log(&values, Transform::None));
    }
}
