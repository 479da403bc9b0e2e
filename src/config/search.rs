/*!
Sweeps that search (`method = "random"` or `"sobol"`): `trials` runs drawn from ranges
(`{ log_uniform = [a, b] }`, `{ uniform = [a, b] }`, `{ int_log = [a, b] }`, `{ int = [a, b] }`)
and lists (a categorical choice per trial). The draw is made whole by the file and
`search_seed`: ChaCha8 for random, Owen-scrambled Sobol' points (`sobol_burley`) for sobol, and
unit draws mapped to values with floats rounded to 4 significant digits, so that the same file
gives the same trials (and run ids) on any machine. Every drawn value is checked as a written
one is (`check_value`).
*/
use std::collections::BTreeMap;

use rand::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use super::keys::RUN_KEYS;
use super::{check_value, value_text};

/// The run key that a search crosses with every trial instead of drawing it.
const SEED: &str = "seed";

/// At most this many trials a sweep.
pub const MAX_TRIALS: i64 = 100_000;

/// How a sweep makes its runs from its keys.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Every combination of the lists (no ranges).
    #[default]
    Grid,
    /// `trials` independent draws (ChaCha8 seeded with `search_seed`).
    Random,
    /// `trials` points of a scrambled Sobol' sequence (seeded with `search_seed`).
    Sobol,
}

/// A range a run key is drawn from, as the sweep file writes it (`{ log_uniform = [a, b] }`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Range {
    /// A float, log-uniform in [a, b] (0 < a < b).
    LogUniform([f64; 2]),
    /// A float, uniform in [a, b].
    Uniform([f64; 2]),
    /// An integer, log-uniform in [a, b], both included (0 < a < b).
    IntLog([i64; 2]),
    /// An integer, uniform in [a, b], both included.
    Int([i64; 2]),
}

/// What a range is: the key, its form, and what is expected of the bounds.
pub const RANGE_EXPECTED: &str = "a value, a list, or a range: { log_uniform = [a, b] } or \
     { uniform = [a, b] } (floats), { int_log = [a, b] } or { int = [a, b] } (integers, both \
     included), with a < b and a > 0 for the log forms";

/// A search: its method, how many trials, the seed of the draw and the keys drawn from ranges.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Search {
    pub method: Method,
    /// Trials drawn (0: not given).
    #[serde(default)]
    pub trials: usize,
    /// Seed of the whole draw.
    #[serde(default)]
    pub search_seed: u64,
    /// Key -> range.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ranges: BTreeMap<String, Range>,
    /// Successive halving (`early_stop = "asha"`): the rungs at which runs are paused and
    /// the best go on; None: every run trains its whole budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<Asha>,
}

/// `early_stop = "asha"`: every run trains `grace_period` epochs (rung 0); then, rung by rung,
/// the best 1 / `reduction_factor` of the runs at a rung (by the validation score at its
/// epoch) go on to `reduction_factor` times as many epochs, up to the runs' `epochs`, and the
/// others stop there. Synchronous successive halving (Jamieson and Talwalkar 2016; ASHA, Li et
/// al. 2020, without its asynchrony): a rung is decided once every run at it has its score,
/// so that decisions depend on recorded metrics alone, never on which run finished first.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asha {
    pub grace_period: usize,
    pub reduction_factor: usize,
}

/// `grace_period` and `reduction_factor` when the sweep file leaves them out (Ray Tune's
/// reduction factor; one epoch of grace).
pub const GRACE_PERIOD: usize = 1;
pub const REDUCTION_FACTOR: usize = 3;

impl Default for Asha {
    fn default() -> Asha {
        Asha {
            grace_period: GRACE_PERIOD,
            reduction_factor: REDUCTION_FACTOR,
        }
    }
}

impl Asha {
    /// The rungs' epochs for runs of `epochs`: the grace period times each power of the
    /// reduction factor below `epochs`, then `epochs` itself (the last rung, where runs end).
    pub fn rungs(&self, epochs: usize) -> Vec<usize> {
        let mut rungs = Vec::new();
        let mut e = self.grace_period.max(1);
        while e < epochs {
            rungs.push(e);
            e = e.saturating_mul(self.reduction_factor.max(2));
        }
        rungs.push(epochs);
        rungs
    }

    /// The runs that go on from a rung, by index into `scores` (each run's validation score
    /// at the rung, higher better; NaN or None for a run without one, which never goes on
    /// while another has one): the best `n / reduction_factor` (at least one), ties to the
    /// earlier run of the plan. In plan order.
    pub fn promoted(&self, scores: &[Option<f64>]) -> Vec<usize> {
        let n = scores.len();
        let keep = (n / self.reduction_factor.max(2)).max(1).min(n);
        let score = |i: usize| scores[i].filter(|s| !s.is_nan());
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| match (score(a), score(b)) {
            (Some(x), Some(y)) => y.total_cmp(&x).then(a.cmp(&b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(&b),
        });
        let mut kept: Vec<usize> = order
            .into_iter()
            .take(keep)
            .filter(|&i| score(i).is_some())
            .collect();
        kept.sort_unstable();
        kept
    }

    /// The sweep file's lines for it.
    pub fn text(&self) -> String {
        format!(
            "early_stop = \"asha\", grace_period = {}, reduction_factor = {}",
            self.grace_period, self.reduction_factor
        )
    }
}

impl Range {
    /// The range as the sweep file writes it: `{ int_log = [8, 512] }`.
    pub fn text(&self) -> String {
        let (form, a, b) = match self {
            Range::LogUniform([a, b]) => ("log_uniform", float_text(*a), float_text(*b)),
            Range::Uniform([a, b]) => ("uniform", float_text(*a), float_text(*b)),
            Range::IntLog([a, b]) => ("int_log", a.to_string(), b.to_string()),
            Range::Int([a, b]) => ("int", a.to_string(), b.to_string()),
        };
        format!("{{ {form} = [{a}, {b}] }}")
    }

    /// The value that unit draw `u` (in [0, 1)) gives.
    pub fn value(&self, u: f64) -> toml::Value {
        let u = u.clamp(0.0, 1.0);
        match *self {
            Range::Uniform([a, b]) => toml::Value::Float(round4(a + u * (b - a)).clamp(a, b)),
            Range::LogUniform([a, b]) => {
                let x = (a.ln() + u * (b.ln() - a.ln())).exp();
                toml::Value::Float(round4(x).clamp(a, b))
            }
            Range::Int([a, b]) => {
                let n = (b - a + 1) as f64;
                toml::Value::Integer((a + (u * n).floor() as i64).clamp(a, b))
            }
            Range::IntLog([a, b]) => {
                let (lo, hi) = ((a as f64).ln(), ((b + 1) as f64).ln());
                let x = (lo + u * (hi - lo)).exp().floor() as i64;
                toml::Value::Integer(x.clamp(a, b))
            }
        }
    }

    /// Parses `{ form = [a, b] }` for key `k` and checks that its bounds make values of `k`.
    pub fn parse(k: &str, table: &toml::Table) -> Result<Range, String> {
        let entries: Vec<String> = table
            .iter()
            .map(|(f, v)| format!("{f} = {}", value_text(v)))
            .collect();
        let shown = match entries.is_empty() {
            true => "{}".to_string(),
            false => format!("{{ {} }}", entries.join(", ")),
        };
        let bad = |why: &str| format!("{k} = {shown}: {why}");
        let (form, bounds) = match table.iter().next() {
            Some((f, toml::Value::Array(b))) if table.len() == 1 && b.len() == 2 => (f, b),
            _ => return Err(bad(&format!("expected {RANGE_EXPECTED}"))),
        };
        let float = |v: &toml::Value| match v {
            toml::Value::Float(x) if x.is_finite() => Some(*x),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        let range = match form.as_str() {
            "log_uniform" | "uniform" => {
                let (Some(a), Some(b)) = (float(&bounds[0]), float(&bounds[1])) else {
                    return Err(bad(&format!(
                        "expected two finite numbers as bounds; {RANGE_EXPECTED}"
                    )));
                };
                match form.as_str() {
                    "log_uniform" => Range::LogUniform([a, b]),
                    _ => Range::Uniform([a, b]),
                }
            }
            "int_log" | "int" => {
                let (Some(a), Some(b)) = (bounds[0].as_integer(), bounds[1].as_integer()) else {
                    return Err(bad(&format!(
                        "expected two whole numbers as bounds; {RANGE_EXPECTED}"
                    )));
                };
                match form.as_str() {
                    "int_log" => Range::IntLog([a, b]),
                    _ => Range::Int([a, b]),
                }
            }
            _ => {
                return Err(bad(&format!(
                    "unknown range `{form}`: expected {RANGE_EXPECTED}"
                )))
            }
        };
        range
            .check(k)
            .map_err(|why| format!("{k} = {}: {why}", range.text()))?;
        Ok(range)
    }

    /// Checks the bounds (a < b, a > 0 for the log forms) and that each makes a value of `k`.
    pub fn check(&self, k: &str) -> Result<(), String> {
        const LIMIT: f64 = (1u64 << 53) as f64;
        let (a, b, log) = match *self {
            Range::LogUniform([a, b]) => (a, b, true),
            Range::Uniform([a, b]) => (a, b, false),
            Range::IntLog([a, b]) => (a as f64, b as f64, true),
            Range::Int([a, b]) => (a as f64, b as f64, false),
        };
        if !(a.is_finite() && b.is_finite()) || a.abs() > LIMIT || b.abs() > LIMIT {
            return Err(format!(
                "expected finite bounds of at most {LIMIT:e} in size"
            ));
        }
        if a >= b {
            return Err("expected bounds [a, b] with a < b".into());
        }
        if log && a <= 0.0 {
            return Err("a log range cannot reach 0 or below: expected 0 < a < b".into());
        }
        for v in [self.value(0.0), self.value(1.0)] {
            check_value(k, &v).map_err(|m| format!("it can draw {m}"))?;
        }
        Ok(())
    }
}

impl Search {
    /// The keys drawn per trial, in `RUN_KEYS` order: every range, and every list of more than
    /// one value in `grid` (a categorical choice), except `seed`: seeds are replicates, not a
    /// choice, and every trial runs with each listed seed.
    pub fn varied(&self, grid: &BTreeMap<String, Vec<toml::Value>>) -> Vec<String> {
        RUN_KEYS
            .iter()
            .filter(|k| **k != SEED)
            .filter(|k| self.ranges.contains_key(**k) || grid.get(**k).is_some_and(|v| v.len() > 1))
            .map(|k| k.to_string())
            .collect()
    }

    /// A search that is only `method = "grid"`: the same as none.
    pub fn is_plain_grid(&self) -> bool {
        *self
            == Search {
                method: Method::Grid,
                ..Search::default()
            }
    }

    /// Whether it draws its trials (random, sobol) rather than taking the grid's runs.
    pub fn draws(&self) -> bool {
        self.method != Method::Grid
    }

    /// Checks the search's own keys: every range, a range needs random or sobol, and they
    /// need `trials`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some(r) = self.ranges.get(SEED) {
            return Err((
                SEED.into(),
                format!(
                    "seed = {}: expected a value or a list; every trial runs with each listed \
                     seed (search_seed makes the draw)",
                    r.text()
                ),
            ));
        }
        for (k, r) in &self.ranges {
            r.check(k)
                .map_err(|why| (k.clone(), format!("{k} = {}: {why}", r.text())))?;
        }
        match self.method {
            Method::Grid => {
                if let Some((k, r)) = self.ranges.iter().next() {
                    return Err((
                        k.clone(),
                        format!(
                            "{k} = {}: a range needs method = \"random\" or \"sobol\"; under \
                             method = \"grid\" expected a value or a list",
                            r.text()
                        ),
                    ));
                }
                if self.trials > 0 || self.search_seed > 0 {
                    let k = if self.trials > 0 { "trials" } else { "search_seed" };
                    return Err((
                        k.into(),
                        format!("{k} is for method = \"random\" or \"sobol\": expected a method = line with one of them"),
                    ));
                }
            }
            _ if self.trials == 0 => {
                return Err((
                    "method".into(),
                    format!(
                        "method = \"{}\": expected trials = N, the number of trials to draw (1 to {MAX_TRIALS})",
                        self.method_name()
                    ),
                ))
            }
            _ if self.trials as i64 > MAX_TRIALS => {
                return Err((
                    "trials".into(),
                    format!("trials = {}: expected 1 to {MAX_TRIALS}", self.trials),
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// One line for `status`: the method, trials, seed and ranges, as the sweep file writes
    /// them.
    pub fn summary(&self) -> String {
        let ranges: Vec<String> = RUN_KEYS
            .iter()
            .filter_map(|k| self.ranges.get(*k).map(|r| format!("{k} = {}", r.text())))
            .collect();
        let asha = self
            .early_stop
            .map_or_else(String::new, |a| format!("; {}", a.text()));
        if !self.draws() {
            return format!("a grid{asha}");
        }
        format!(
            "a {} search of {} trials (search_seed = {}){}{}{asha}",
            self.method_name(),
            self.trials,
            self.search_seed,
            if ranges.is_empty() { "" } else { ": " },
            ranges.join(", ")
        )
    }

    /// The method as the sweep file writes it.
    pub fn method_name(&self) -> &'static str {
        match self.method {
            Method::Grid => "grid",
            Method::Random => "random",
            Method::Sobol => "sobol",
        }
    }

    /// The trials: for each, the drawn value of every varied key. A drawn value that its key
    /// refuses is an error naming the key (`(key, message)`).
    pub fn draw(
        &self,
        grid: &BTreeMap<String, Vec<toml::Value>>,
    ) -> Result<Vec<BTreeMap<String, toml::Value>>, (String, String)> {
        let varied = self.varied(grid);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.search_seed);
        let seed32 = (self.search_seed ^ (self.search_seed >> 32)) as u32;
        let mut trials = Vec::with_capacity(self.trials);
        for t in 0..self.trials {
            let mut trial = BTreeMap::new();
            for (d, k) in varied.iter().enumerate() {
                let u = match self.method {
                    Method::Sobol => sobol_burley::sample(t as u32, d as u32, seed32) as f64,
                    _ => (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64,
                };
                let v = match (self.ranges.get(k), grid.get(k)) {
                    (Some(r), _) => r.value(u),
                    (None, Some(list)) => {
                        list[((u * list.len() as f64) as usize).min(list.len() - 1)].clone()
                    }
                    (None, None) => unreachable!("a varied key has a range or a list"),
                };
                check_value(k, &v)
                    .map_err(|m| (k.clone(), format!("{m} (drawn in trial {})", t + 1)))?;
                trial.insert(k.clone(), v);
            }
            trials.push(trial);
        }
        Ok(trials)
    }
}

/// The method that the `method` key gives.
pub fn method_value(value: &toml::Value) -> Result<Method, String> {
    match value.as_str() {
        Some("grid") => Ok(Method::Grid),
        Some("random") => Ok(Method::Random),
        Some("sobol") => Ok(Method::Sobol),
        _ => Err(format!(
            "method = {}: expected \"grid\" (every combination of the lists), \"random\" or \
             \"sobol\" (trials drawn from ranges and lists)",
            value_text(value)
        )),
    }
}

/// The whole number from `lo` to `hi` that key `k` gives.
pub fn count_value(k: &str, value: &toml::Value, lo: i64, hi: i64) -> Result<u64, String> {
    match value.as_integer() {
        Some(n) if (lo..=hi).contains(&n) => Ok(n as u64),
        _ => Err(format!(
            "{k} = {}: expected a whole number from {lo} to {hi}",
            value_text(value)
        )),
    }
}

/// `x` rounded to 4 significant digits through its decimal text, so that a last-bit
/// difference of `exp` or `ln` between machines cannot change a drawn value.
fn round4(x: f64) -> f64 {
    format!("{x:.3e}").parse().unwrap_or(x)
}

/// A bound as the sweep file would write it.
fn float_text(x: f64) -> String {
    value_text(&toml::Value::Float(x))
}

#[cfg(test)]
mod tests {
    use super::super::{Count, SweepConfig};

    fn parse(text: &str) -> Result<SweepConfig, String> {
        SweepConfig::parse(text, "s.toml", "s").map_err(|e| e.to_string())
    }

    const SEARCH: &str = "method = \"random\"\ntrials = 12\nsearch_seed = 7\n\
        lr = { log_uniform = [1e-4, 1e-2] }\nnum_units = { int_log = [8, 512] }\n\
        noise = { uniform = [0, 0.5] }\ncell = [\"lstm\", \"gru\"]\nepochs = 2\n";

    #[test]
    fn the_same_file_and_seed_draw_the_same_trials_and_another_seed_others() {
        let a = parse(SEARCH).unwrap().runs();
        assert_eq!(a.len(), 12);
        assert_eq!(a, parse(SEARCH).unwrap().runs());
        let b = parse(&SEARCH.replace("search_seed = 7", "search_seed = 8")).unwrap();
        assert_ne!(a, b.runs());
        // Every draw lies in its range, floats at 4 significant digits, and both cells occur.
        for r in &a {
            assert!((1e-4..=1e-2).contains(&r.lr), "{}", r.lr);
            assert_eq!(format!("{:.3e}", r.lr).parse::<f64>().unwrap(), r.lr);
            assert!((8..=512).contains(&r.num_units), "{}", r.num_units);
            assert_eq!(r.epochs, Count::Fixed(2));
        }
        let cells: std::collections::BTreeSet<String> =
            a.iter().map(|r| format!("{:?}", r.cell)).collect();
        assert_eq!(cells.len(), 2, "{cells:?}");
        let mut swept = parse(SEARCH).unwrap().swept_keys();
        swept.sort();
        assert_eq!(swept, ["cell", "lr", "noise", "num_units"]);
    }

    #[test]
    fn more_trials_keep_the_first_ones_for_random_and_sobol() {
        for method in ["random", "sobol"] {
            let text = SEARCH.replace("\"random\"", &format!("\"{method}\""));
            let few = parse(&text).unwrap().runs();
            let many = parse(&text.replace("trials = 12", "trials = 20"))
                .unwrap()
                .runs();
            assert_eq!(few[..], many[..12], "{method}");
        }
    }

    #[test]
    fn sobol_covers_an_integer_range_once_per_value() {
        // 16 points of a (scrambled) Sobol' sequence fall one in each sixteenth of [0, 1):
        // an int range of 16 values is drawn as a permutation. Random draws repeat values.
        let text = "method = \"sobol\"\ntrials = 16\nnum_units = { int = [1, 16] }\n";
        let mut units: Vec<i64> = parse(text)
            .unwrap()
            .runs()
            .iter()
            .map(|r| r.num_units)
            .collect();
        units.sort();
        assert_eq!(units, (1..=16).collect::<Vec<_>>());
        let random = parse(&text.replace("sobol", "random")).unwrap().runs();
        let mut units: Vec<i64> = random.iter().map(|r| r.num_units).collect();
        units.dedup();
        units.sort();
        units.dedup();
        assert!(units.len() < 16, "{units:?}");
    }

    #[test]
    fn seeds_are_crossed_with_every_trial_not_drawn() {
        let text =
            "method = \"random\"\ntrials = 3\nseed = [0, 1]\nlr = { log_uniform = [1e-4, 1e-2] }\n";
        let s = parse(text).unwrap();
        let runs = s.runs();
        assert_eq!(runs.len(), 6);
        for pair in runs.chunks(2) {
            assert_eq!((pair[0].seed, pair[1].seed), (0, 1));
            assert_eq!(pair[0].lr, pair[1].lr);
        }
        assert_eq!(s.swept_keys(), vec!["seed", "lr"]);
        let e = parse("method = \"random\"\ntrials = 3\nseed = { int = [0, 9] }\n").unwrap_err();
        assert!(
            e.starts_with("s.toml:3: seed = { int = [0, 9] }: expected a value or a list"),
            "{e}"
        );
    }

    #[test]
    fn bad_ranges_and_search_keys_name_the_key_and_what_is_expected() {
        for (text, want) in [
            ("lr = {}", "lr = {}: expected a value, a list, or a range"),
            (
                "lr = { log_uniform = [1e-2, 1e-4] }",
                "expected bounds [a, b] with a < b",
            ),
            (
                "lr = { log_uniform = [1e-3, 1e-3] }",
                "expected bounds [a, b] with a < b",
            ),
            (
                "noise = { log_uniform = [0, 0.5] }",
                "a log range cannot reach 0 or below",
            ),
            (
                "lr = { log_uniform = [-1, 1] }",
                "a log range cannot reach 0 or below",
            ),
            ("lr = { normal = [0, 1] }", "unknown range `normal`"),
            (
                "lr = { uniform = [0.1] }",
                "expected a value, a list, or a range",
            ),
            (
                "num_units = { int = [1.5, 8] }",
                "expected two whole numbers as bounds",
            ),
            ("num_units = { int = [0, 8] }", "it can draw num_units = 0"),
        ] {
            let text = format!("method = \"random\"\ntrials = 4\n{text}\n");
            let e = parse(&text).unwrap_err();
            assert!(e.starts_with("s.toml:3: "), "{e}");
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        for (text, want) in [
            (
                "lr = { uniform = [0.001, 0.01] }",
                "a range needs method = \"random\" or \"sobol\"",
            ),
            ("method = \"random\"", "expected trials = N"),
            (
                "method = \"bayes\"",
                "method = \"bayes\": expected \"grid\"",
            ),
            (
                "method = \"random\"\ntrials = 0",
                "trials = 0: expected a whole number from 1",
            ),
            (
                "trials = 5",
                "trials is for method = \"random\" or \"sobol\"",
            ),
            (
                "search_seed = -1",
                "search_seed = -1: expected a whole number from 0",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with("s.toml"), "{e}");
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn a_grid_records_no_search_and_set_switches_between_them() {
        let grid = parse("num_units = [8, 16]\n").unwrap();
        assert!(grid.search.is_none());
        assert!(!serde_json::to_string(&grid).unwrap().contains("search"));
        let grid_method = parse("method = \"grid\"\nnum_units = [8, 16]\n").unwrap();
        assert_eq!(grid_method.runs(), grid.runs());
        assert!(grid_method.search.is_none());

        let mut s = parse(SEARCH).unwrap();
        let first = s.runs();
        s.set("search_seed=0").unwrap();
        assert_ne!(s.runs(), first);
        s.set("search_seed=7").unwrap();
        assert_eq!(s.runs(), first);
        s.set("lr={ uniform = [0.001, 0.002] }").unwrap();
        assert!(s.runs().iter().all(|r| (0.001..=0.002).contains(&r.lr)));
        s.set("lr=0.003").unwrap();
        assert!(s.runs().iter().all(|r| r.lr == 0.003));
        let e = s.set("method=\"grid\"").unwrap_err().to_string();
        assert!(e.contains("a range needs method"), "{e}");
        assert_eq!(
            s.search.as_ref().unwrap().summary(),
            "a random search of 12 trials (search_seed = 7): num_units = { int_log = [8, 512] }, \
             noise = { uniform = [0.0, 0.5] }"
        );
        // The record reads back to the same trials.
        let json = serde_json::to_string(&s).unwrap();
        let back: SweepConfig = serde_json::from_str(&json).unwrap();
        let checked = SweepConfig::checked(
            &back.name,
            back.select,
            &back.grid,
            back.search.as_ref(),
            "r",
        )
        .unwrap();
        assert_eq!(checked.runs(), s.runs());
    }

    /// `early_stop = "asha"` on a grid or a search, set by file or `--set` in either order,
    /// recorded and read back; its keys without it, or a plain sweep's record, are unchanged.
    #[test]
    fn successive_halving_is_set_recorded_and_read_back() {
        let grid = parse("num_units = [8, 16]\nepochs = 9\nearly_stop = \"asha\"\n").unwrap();
        let asha = grid.search.as_ref().and_then(|s| s.early_stop).unwrap();
        assert_eq!((asha.grace_period, asha.reduction_factor), (1, 3));
        assert_eq!(grid.runs().len(), 2, "a grid keeps its runs");
        assert_eq!(
            grid.search.as_ref().unwrap().summary(),
            format!("a grid; {}", asha.text())
        );
        let mut s = parse(SEARCH).unwrap();
        let e = s.set("grace_period=2").unwrap_err().to_string();
        assert!(e.contains("applies to early_stop = \"asha\""), "{e}");
        s.set_all(&["early_stop=\"asha\"".into(), "reduction_factor=2".into()])
            .unwrap();
        s.set("grace_period=1").unwrap();
        let asha = s.search.as_ref().and_then(|s| s.early_stop).unwrap();
        assert_eq!((asha.grace_period, asha.reduction_factor), (1, 2));
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"early_stop\""), "{json}");
        let back: SweepConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.search, s.search);
        s.set("early_stop=\"none\"").unwrap();
        assert_eq!(s.search.as_ref().and_then(|s| s.early_stop), None);
        // A plain grid records no search at all, as before.
        let plain = parse("num_units = [8, 16]\n").unwrap();
        assert!(!serde_json::to_string(&plain).unwrap().contains("search"));
    }
}
