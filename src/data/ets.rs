/*!
The AutoETS baseline of forecasting, with Grafana's `augurs` crates (no hand-written ETS).

The form (error, trend, damping: "A,N,N", "M,A,N", ...) is chosen once by AutoETS (AICc) on the
series before the test stretch's first target is known (the fitting stretch the caller
passes: the training stretch). A series with a season (`season` > 1) is first deseasonalised by
MSTL with that period, and ETS models what is left: augurs' ETS forecasts leave the seasonal
state out (its `forecast` says "TODO: seasonal component"), so seasonal ETS forms are never
used, and MSTL adds the season back (the model is then named "MSTL(m)+A,N,N").

augurs has no way to filter a new observation through a fitted model with its parameters
fixed, so the forecast at each test origin t refits the chosen form on y[0..=t] (only the
past, as the naive forecasts read only y[t]) and forecasts `horizon` steps: one refit per
origin, which is why the sweep computes this once per series and cut (`Source::ets`).

augurs 0.10's AutoETS cannot fit a spec whose trend is "N" ("ANN", "MNN"): its trend candidates
for `ComponentSpec::None` are an empty list (auto.rs, `trend_candidates`), so the search tries
nothing and answers `NoModelFound`. The work-around: a chosen form is refitted through augurs'
`Unfit` with that model type (the form AutoETS would fit, with the same defaults), never through
a one-form AutoETS spec; the tests show the bug and the way round it.
*/
use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use augurs_core::{Fit, Predict};
use augurs_ets::model::{
    ErrorComponent, Model, ModelType, SeasonalComponent, TrendComponent, Unfit,
};
use augurs_ets::{AutoETS, FittedAutoETS};
use augurs_mstl::{FittedTrendModel, MSTLModel, TrendModel};

/// An ETS baseline's forecasts of the test windows, [N * horizon] row-major, with the model
/// that made them (`ets_model` in the result).
#[derive(Clone, Debug, PartialEq)]
pub struct EtsForecast {
    pub model: String,
    pub values: Vec<f64>,
}

/// A non-seasonal ETS form: error, trend, and whether the trend is damped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Form {
    pub error: char,
    pub trend: char,
    pub damped: bool,
}

impl Form {
    fn of(m: &Model) -> Form {
        let t = m.model_type();
        Form {
            error: match t.error {
                ErrorComponent::Additive => 'A',
                ErrorComponent::Multiplicative => 'M',
            },
            trend: match t.trend {
                TrendComponent::None => 'N',
                TrendComponent::Additive => 'A',
                TrendComponent::Multiplicative => 'M',
            },
            damped: m.damped(),
        }
    }

    /// "A,N,N", "M,Ad,N": error, trend (d when damped), season (always N here).
    pub fn name(&self) -> String {
        let d = if self.damped { "d" } else { "" };
        format!("{},{}{d},N", self.error, self.trend)
    }

    /// augurs' model of this form, unfitted (not `AutoETS::new(1, "ANN")`: see above).
    fn unfit(&self) -> Unfit {
        let component = |c: char| match c {
            'A' => TrendComponent::Additive,
            'M' => TrendComponent::Multiplicative,
            _ => TrendComponent::None,
        };
        Unfit::new(ModelType {
            error: if self.error == 'M' {
                ErrorComponent::Multiplicative
            } else {
                ErrorComponent::Additive
            },
            trend: component(self.trend),
            season: SeasonalComponent::None,
        })
        .damped(self.damped)
    }
}

/// What to fit: AutoETS's search over non-seasonal forms, or one form.
#[derive(Clone, Debug)]
pub enum Search {
    Auto,
    Form(Form),
}

impl Search {
    fn fit(&self, y: &[f64]) -> Result<(Fitted, Form), BoxError> {
        Ok(match self {
            Search::Auto => {
                let f = AutoETS::non_seasonal().fit(y)?;
                let form = Form::of(f.model());
                (Fitted::Auto(f), form)
            }
            Search::Form(form) => (Fitted::Form(form.unfit().fit(y)?), *form),
        })
    }
}

/// A fitted ETS model, from either search.
#[derive(Debug)]
enum Fitted {
    Auto(FittedAutoETS),
    Form(Model),
}

/// A trend model for MSTL that fits AutoETS and remembers the form it chose.
#[derive(Debug)]
struct Remembering {
    search: Search,
    chosen: Arc<Mutex<Option<Form>>>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl TrendModel for Remembering {
    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("AutoETS")
    }

    fn fit(&self, y: &[f64]) -> Result<Box<dyn FittedTrendModel + Sync + Send>, BoxError> {
        let (fitted, form) = self.search.fit(y)?;
        *self.chosen.lock().expect("not poisoned") = Some(form);
        Ok(Box::new(fitted))
    }
}

impl FittedTrendModel for Fitted {
    fn predict_inplace(
        &self,
        horizon: usize,
        level: Option<f64>,
        forecast: &mut augurs_core::Forecast,
    ) -> Result<(), BoxError> {
        match self {
            Fitted::Auto(f) => f.predict_inplace(horizon, level, forecast)?,
            Fitted::Form(f) => f.predict_inplace(horizon, level, forecast)?,
        }
        Ok(())
    }

    fn predict_in_sample_inplace(
        &self,
        level: Option<f64>,
        forecast: &mut augurs_core::Forecast,
    ) -> Result<(), BoxError> {
        match self {
            Fitted::Auto(f) => f.predict_in_sample_inplace(level, forecast)?,
            Fitted::Form(f) => f.predict_in_sample_inplace(level, forecast)?,
        }
        Ok(())
    }

    fn training_data_size(&self) -> Option<usize> {
        Some(match self {
            Fitted::Auto(f) => f.training_data_size(),
            Fitted::Form(f) => f.training_data_size(),
        })
    }
}

/// Fits `search` to `y` (through MSTL with period `season` when `season` > 1) and forecasts
/// `horizon` steps; returns the forecasts and the form fitted.
pub fn fit_forecast(
    search: Search,
    y: &[f64],
    horizon: usize,
    season: usize,
) -> Result<(Vec<f64>, Form), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let mut out = augurs_core::Forecast::with_capacity(horizon);
    if season > 1 {
        let chosen = Arc::new(Mutex::new(None));
        let trend = Remembering {
            search,
            chosen: chosen.clone(),
        };
        let fitted = MSTLModel::new(vec![season], trend)
            .fit(y)
            .map_err(|e| text(&e))?;
        fitted
            .predict_inplace(horizon, None, &mut out)
            .map_err(|e| text(&e))?;
        let form = chosen.lock().expect("not poisoned").expect("fitted");
        Ok((out.point, form))
    } else {
        let (fitted, form) = search.fit(y).map_err(|e| text(&e))?;
        fitted
            .predict_inplace(horizon, None, &mut out)
            .map_err(|e| text(&e))?;
        Ok((out.point, form))
    }
}

/// The shortest period `detect_season` looks for, and the cycles of it a series must hold.
const MIN_PERIOD: usize = 4;
const MIN_CYCLES: usize = 3;

/// `season = "auto"` on `y`, the training stretch alone, and the season its dates imply
/// (`Calendar::season`): that season where the changes of `y` repeat at it (their
/// autocorrelation at that lag above the 95 % bound of white noise, 1.96 / sqrt(n), as darts'
/// `check_seasonality` tests), else the strongest period augurs' periodogram detector
/// (`augurs-seasons`, Welch's method) finds in the changes, moved to the neighbouring lag
/// (one either side) whose autocorrelation is highest: the periodogram's periods come from
/// FFT bins, so they can miss by one (on sunspots' 217 training years it finds 10 where the
/// autocorrelation peaks at 11). 0 where neither finds one; for a series too short to detect
/// one, the number of steps it would need.
pub fn detect_season(y: &[f64], calendar: Option<usize>) -> Result<usize, usize> {
    use augurs_seasons::Detector as _;
    let needed = MIN_PERIOD * MIN_CYCLES * 2;
    if y.len() < needed {
        return Err(needed);
    }
    // On the changes: a trend's power at the longest periods would drown the season.
    let changes: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let bound = 1.96 / (changes.len() as f64).sqrt();
    if let Some(p) = calendar.filter(|&p| 2 * p < changes.len()) {
        if autocorrelation(&changes, p) > bound {
            return Ok(p);
        }
    }
    let detector = augurs_seasons::PeriodogramDetector::builder()
        .min_period(MIN_PERIOD as u32)
        .build();
    let Some(&p) = detector.detect(&changes).first() else {
        return Ok(0);
    };
    let p = p as usize;
    let best = (p.saturating_sub(1).max(MIN_PERIOD)..=p + 1)
        .filter(|&lag| 2 * lag < changes.len())
        .map(|lag| (autocorrelation(&changes, lag), lag))
        .fold((f64::NEG_INFINITY, p), |a, b| if b.0 > a.0 { b } else { a });
    Ok(best.1)
}

/// The sample autocorrelation of `x` at `lag` (the biased estimator, as statsmodels' `acf`).
fn autocorrelation(x: &[f64], lag: usize) -> f64 {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    if var == 0.0 || lag >= n {
        return 0.0;
    }
    let cov: f64 = (lag..n).map(|t| (x[t] - mean) * (x[t - lag] - mean)).sum();
    cov / var
}

/// The model's name in records: "A,N,N", or "MSTL(12)+A,N,N" with a season.
pub fn model_name(form: Form, season: usize) -> String {
    if season > 1 {
        format!("MSTL({season})+{}", form.name())
    } else {
        form.name()
    }
}

/// The ETS forecasts of the windows ending at `origins`: the form chosen on `y[..fit_end]`,
/// refitted on `y[..=t]` at each origin t and forecast `horizon` steps.
pub fn roll(
    y: &[f64],
    fit_end: usize,
    origins: &[usize],
    horizon: usize,
    season: usize,
) -> Result<EtsForecast, String> {
    let (_, form) = fit_forecast(Search::Auto, &y[..fit_end], 1, season)?;
    let mut values = Vec::with_capacity(origins.len() * horizon);
    for &t in origins {
        let (point, _) = fit_forecast(Search::Form(form), &y[..=t], horizon, season)?;
        values.extend(point);
    }
    Ok(EtsForecast {
        model: model_name(form, season),
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A level of 10 with uniform noise in [-1, 1): the form is plainly A,N,N.
    fn level_with_noise(n: usize) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        (0..n).map(|_| 10.0 + rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn a_noisy_level_is_a_n_n_and_forecasts_simple_exponential_smoothing() {
        let y = level_with_noise(120);
        let (point, form) = fit_forecast(Search::Auto, &y, 3, 0).unwrap();
        assert_eq!(form.name(), "A,N,N");
        // The augurs bug worked round: a one-form AutoETS spec with no trend finds nothing.
        assert!(AutoETS::new(1, "ANN").unwrap().fit(&y).is_err());
        // Refitting the form (as the roll does) gives AutoETS's own fit and forecast.
        let (again, _) = fit_forecast(Search::Form(form), &y, 3, 0).unwrap();
        assert_eq!(again, point);
        // SES by hand: the fitted values are the levels l_{t-1}; alpha comes from one update,
        // l_t = l_{t-1} + alpha (y_t - l_{t-1}), and the forecast is the last level, flat.
        let fitted = form.unfit().fit(&y).unwrap();
        let f = fitted.predict_in_sample(None).unwrap().point;
        let alpha = (f[1] - f[0]) / (y[0] - f[0]);
        assert!((0.0..=1.0).contains(&alpha), "alpha {alpha}");
        let mut level = f[0];
        for (t, &v) in y.iter().enumerate() {
            assert!((level - f[t]).abs() < 1e-9 * level.abs(), "step {t}");
            level += alpha * (v - level);
        }
        for p in &point {
            assert!((p - level).abs() < 1e-9 * level, "{p} vs SES {level}");
        }
    }

    #[test]
    fn the_roll_reads_only_the_past_and_names_the_model() {
        let mut y = level_with_noise(80);
        let a = roll(&y, 60, &[64, 70], 2, 0).unwrap();
        // A change after the last origin's window (t = 70) cannot change any forecast.
        y[75] = 1e6;
        let b = roll(&y, 60, &[64, 70], 2, 0).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.values.len(), 4);
        assert_eq!(a.model, "A,N,N");
    }

    #[test]
    fn the_period_of_a_generated_seasonal_series_is_detected() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let y: Vec<f64> = (0..240)
            .map(|t| {
                let phase = t as f64 * std::f64::consts::TAU / 12.0;
                20.0 + 0.05 * t as f64 + 4.0 * phase.sin() + rng.random_range(-0.5..0.5)
            })
            .collect();
        assert_eq!(detect_season(&y, None), Ok(12));
        assert_eq!(detect_season(&y, Some(12)), Ok(12));
        assert_eq!(detect_season(&y[..20], None), Err(24));
        // A calendar's season the series does not repeat at is not taken.
        let noise: Vec<f64> = (0..240).map(|_| rng.random_range(-1.0..1.0)).collect();
        let walk: Vec<f64> = noise
            .iter()
            .scan(0.0, |s, e| {
                *s += e;
                Some(*s)
            })
            .collect();
        assert_ne!(detect_season(&walk, Some(12)), Ok(12));
        // A period between two FFT bins is moved to the lag that repeats best.
        let eleven: Vec<f64> = (0..217)
            .map(|t| {
                50.0 * (t as f64 * std::f64::consts::TAU / 11.0).sin() + rng.random_range(-5.0..5.0)
            })
            .collect();
        assert_eq!(detect_season(&eleven, None), Ok(11));
    }

    #[test]
    fn a_season_goes_through_mstl() {
        let y: Vec<f64> = (0..96)
            .map(|t| 50.0 + 0.2 * t as f64 + 5.0 * (t as f64 * std::f64::consts::TAU / 12.0).sin())
            .collect();
        let r = roll(&y, 72, &[80], 12, 12).unwrap();
        assert!(r.model.starts_with("MSTL(12)+"), "{}", r.model);
        let truth = &y[81..93];
        let mae = r
            .values
            .iter()
            .zip(truth)
            .map(|(p, t)| (p - t).abs())
            .sum::<f64>()
            / 12.0;
        assert!(mae < 1.0, "MAE {mae} on a smooth seasonal series");
    }
}
