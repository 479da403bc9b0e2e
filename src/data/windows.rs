/*!
One series' split for one run's config: forecasting windows. The series is cut in time
(`forecast::stretches`), scaled with the training stretch's statistics, cut into windows of
inputs and the next `horizon` target values, then patched like any series; the test windows'
truth and naive baselines come with it, in the target's units.
*/
use super::origin::Origin;
use super::{ets, forecast, Dataset, Forecast, Target};
use crate::config::{Count, Normalize, RunConfig, Task};
use crate::error::UserError;
use crate::records::Normalization;

/// A forecasting run's windows: the series cut in time (`forecast::stretches`), scaled with
/// the training stretch's statistics, then patched like any series.
pub fn split(
    origin: &Origin,
    table: &forecast::Table,
    cfg: &RunConfig,
) -> Result<Dataset, UserError> {
    let cfg = &with_season(origin, table, cfg)?;
    let cut = forecast::stretches(table.steps, cfg)?;
    let h = cfg.horizon;
    let (mean, std) = match cfg.normalize {
        Normalize::None => (vec![0.0; table.features()], vec![1.0; table.features()]),
        _ => forecast::stats(table, cut.train),
    };
    let [train_o, val_o, test_o] = forecast::origins(&cut, h);
    let scale = forecast::WindowScale::of(cfg, &mean, &std);
    let windows = |o: &[usize]| forecast::windows(table, o, cut.window, h, scale);
    let ((train, _), (val, _)) = (windows(&train_o), windows(&val_o));
    let (test, test_centres) = windows(&test_o);
    let (w, f) = (cut.window as i64, table.features() as i64);
    let j = table.target;
    let target = Target {
        name: table.names[j].clone(),
        mean: mean[j],
        std: std[j],
    };
    let forecast = scored_against(origin, table, cfg, cut, (test_o, test_centres), scale)?;
    Ok(Dataset {
        normalization: Some(Normalization {
            kind: cfg.normalize,
            mean,
            std,
            target_mean: Some(target.mean),
            target_std: Some(target.std),
            columns: table.names.clone(),
        }),
        task: Task::Forecast,
        target: Some(target),
        forecast: Some(forecast),
        ..origin.patched(cfg, [train, val, test], (w, f), false)
    })
}

/// `cfg` with its season fixed: as given, or for "auto" the period `ets::detect_season` finds
/// on the training stretch alone, the dates' season first (0 where it finds none); a training stretch too short to
/// hold three of the shortest periods it looks for is an error naming the key.
fn with_season(
    origin: &Origin,
    table: &forecast::Table,
    cfg: &RunConfig,
) -> Result<RunConfig, UserError> {
    if cfg.season != Count::Auto {
        return Ok(cfg.clone());
    }
    let none = RunConfig {
        season: Count::Fixed(0),
        ..cfg.clone()
    };
    let train = forecast::stretches(table.steps, &none)?.train;
    let calendar = table.calendar.and_then(|c| c.season());
    let found =
        ets::detect_season(&table.target_values()[..train], calendar).map_err(|needed| {
            UserError::Config {
                origin: "season".into(),
                message: format!(
                    "season = \"auto\": the training stretch of {} has {train} steps: expected at \
                 least {needed} to detect a season (a number, or 0 for none)",
                    origin.name
                ),
            }
        })?;
    Ok(RunConfig {
        season: Count::Fixed(found),
        ..none
    })
}

/// What the run's test windows (at `test_origins`) are scored against: their truth, the
/// naive and seasonal-naive forecasts, and MASE's scale, which must not be 0.
fn scored_against(
    origin: &Origin,
    table: &forecast::Table,
    cfg: &RunConfig,
    cut: forecast::Stretches,
    (test_origins, centres): (Vec<usize>, Vec<f64>),
    read: forecast::WindowScale,
) -> Result<Forecast, UserError> {
    let (h, y) = (cfg.horizon, table.target_values());
    let season = cfg.season.fixed().unwrap_or(0);
    let scale = forecast::mase_scale(&y, cut.train, season);
    if scale <= 0.0 {
        return Err(UserError::data(
            &origin.name,
            format!(
                "the target {:?} does not change over the {} training steps: expected a \
                 series that varies (MASE divides by its in-sample change)",
                table.names[table.target], cut.train
            ),
        ));
    }
    Ok(Forecast {
        truth: forecast::truth(&y, &test_origins, h),
        naive: forecast::naive(&y, &test_origins, h),
        snaive: forecast::seasonal_naive(&y, &test_origins, h, season),
        season,
        ets: None,
        calendar: table.calendar,
        stretches: cut,
        horizon: h,
        relative: read.relative,
        decomposed: read.season > 0,
        centres,
        scale,
        test_origins,
    })
}
