/*!
Validated configurations: one training run (`RunConfig`) and a sweep over a grid of them
(`SweepConfig`). The config layer imports nothing of data, model, train or the store; they
read it.

- `keys`: every run key, declared once (type, default, doc, check), in the one table that
  `cli` also makes the `--flag`s from (this layer knows no command line);
- `values`: the typed values of those keys (counts, noise, tasks, cells, ...);
- `dataset`: what the `dataset` key names;
- `run`: series and task defaults, checks across keys, labels;
- `resolved`: the config that trains, no "auto" left (`Resolved`, made by `data::auto::resolve`);
- `sweep`: sweep files, `--set` overrides and `sweep.json` records;
- `search`: sweeps that draw their runs (`method = "random"` or `"sobol"`) from ranges;
- `reference`: the book's config reference, made from the key table.
*/
pub mod dataset;
mod keys;
pub mod reference;
mod resolved;
mod run;
mod search;
mod sweep;
mod values;

pub(crate) use keys::for_each_run_key;
pub use keys::{key, keys_of, RunConfig, Scope, RUN_KEYS};
pub use resolved::Resolved;
pub use search::{Asha, Range, Search};
pub use sweep::SweepConfig;
pub use values::*;

/// Checks one value for one key; the message reads `key = value: expected ...`.
pub fn check_value(key: &str, v: &toml::Value) -> Result<(), String> {
    RunConfig::default().set(key, v)
}

/// A value as an error shows it: TOML's syntax, but large and tiny floats with an exponent
/// (TOML writes 1e300 out in 301 digits).
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(x) if x.is_finite() && *x != 0.0 && !(1e-5..1e16).contains(&x.abs()) => {
            format!("{x:e}")
        }
        other => other.to_string(),
    }
}

fn json_to_toml(v: &serde_json::Value) -> toml::Value {
    match v {
        serde_json::Value::String(s) => toml::Value::String(s.clone()),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
            toml::Value::Integer(n.as_i64().unwrap_or(i64::MAX))
        }
        serde_json::Value::Number(n) => toml::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
        other => toml::Value::String(other.to_string()),
    }
}

/// A sweep folder name: letters, digits, '-', '_' and '.', not starting with '.' (so never
/// "." or "..", nor a hidden folder beside rowseq's own `.lock` files).
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests;
