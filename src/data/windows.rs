/*!
One series' split for one run's config: forecasting windows. The series is cut in time
(`forecast::stretches`), scaled with the training stretch's statistics, cut into windows of
inputs and the next `horizon` target values, then patched like any series; the test windows'
truth and naive baselines come with it, in the target's units.
*/
use super::source::Source;
use super::{forecast, Dataset, Forecast, Target};
use crate::config::{Normalize, RunConfig, Task};
use crate::error::UserError;
use crate::records::Normalization;

/// A forecasting run's windows: the series cut in time (`forecast::stretches`), scaled with
/// the training stretch's statistics, then patched like any series.
pub fn split(
    source: &Source,
    table: &forecast::Table,
    cfg: &RunConfig,
) -> Result<Dataset, UserError> {
    let cut = forecast::stretches(table.steps, cfg)?;
    let h = cfg.horizon;
    let (mean, std) = match cfg.normalize {
        Normalize::None => (vec![0.0; table.features()], vec![1.0; table.features()]),
        _ => forecast::stats(table, cut.train),
    };
    let [train_o, val_o, test_o] = forecast::origins(&cut, h);
    let relative = cfg.normalize == Normalize::Last;
    let windows = |o: &[usize]| forecast::windows(table, o, cut.window, h, (&mean, &std), relative);
    let (train, val, test) = (windows(&train_o), windows(&val_o), windows(&test_o));
    let (w, f) = (cut.window as i64, table.features() as i64);
    let j = table.target;
    let target = Target {
        name: table.names[j].clone(),
        mean: mean[j],
        std: std[j],
    };
    let forecast = scored_against(source, table, cfg, cut, test_o, relative)?;
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
        ..source.patched(cfg, [train, val, test], (w, f), false)
    })
}

/// What the run's test windows (at `test_origins`) are scored against: their truth, the
/// naive and seasonal-naive forecasts, and MASE's scale, which must not be 0.
fn scored_against(
    source: &Source,
    table: &forecast::Table,
    cfg: &RunConfig,
    cut: forecast::Stretches,
    test_origins: Vec<usize>,
    relative: bool,
) -> Result<Forecast, UserError> {
    let (h, y) = (cfg.horizon, table.target_values());
    let scale = forecast::mase_scale(&y, cut.train, cfg.season);
    if scale <= 0.0 {
        return Err(UserError::data(
            &source.name,
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
        snaive: forecast::seasonal_naive(&y, &test_origins, h, cfg.season),
        ets: None,
        stretches: cut,
        horizon: h,
        relative,
        scale,
        test_origins,
    })
}
