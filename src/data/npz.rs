/*!
NumPy `.npz` archives of labelled series, as a Python user has them (`npz:TRAIN.npz,TEST.npz`):
each archive holds `X`, the series in aeon's layout (n_cases, n_channels, n_timepoints), or
(n_cases, n_timepoints) for one channel, and `y`, one label per case (integers, floats for
regression, or strings), as `np.savez("train.npz", X=X, y=y)` writes them. Read with the
`npyz` crate, which refuses pickled object arrays (nothing is ever unpickled).

Series of unequal length are padded with NaN at their end, as aeon and sktime pad them: a
case's length is its last timepoint with a value in any channel, and a NaN before it is an
error naming the case, channel and timepoint. An archive without `y` has no labels (new data for
`predict` only). Sizes are checked against the header before anything is read, so a crafted
header cannot ask for more memory than the machine has.
*/
use std::path::Path;

use npyz::npz::NpzArchive;
use npyz::{NpyFile, Order, TypeChar};

use super::series::{Case, SeriesFile};
use crate::error::UserError;

/// The most values an archive's `X` may declare (16 Gi 32-bit floats would be 64 GiB).
const MAX_VALUES: u64 = 1 << 32;

/// Reads an archive's cases; `labels_optional` allows one without `y` (new data for `predict`).
pub fn read(path: &Path, labels_optional: bool) -> Result<SeriesFile, UserError> {
    let bad = |m: String| UserError::data(path, m);
    let mut zip = NpzArchive::open(path).map_err(|e| {
        bad(format!(
            "not a NumPy .npz archive ({e}): expected np.savez(FILE, X=X, y=y)"
        ))
    })?;
    let x = array(&mut zip, "X", path)?
        .ok_or_else(|| bad("holds no array X: expected np.savez(FILE, X=X, y=y)".into()))?;
    let (n, features, steps, values) = x;
    let labels = match array_labels(&mut zip, path)? {
        Some(labels) if labels.len() != n => {
            return Err(bad(format!(
                "y holds {} labels for the {n} cases of X: expected one label per case",
                labels.len()
            )))
        }
        Some(labels) => Some(labels),
        None if labels_optional => None,
        None => {
            return Err(bad(
                "holds no array y: expected the labels, np.savez(FILE, X=X, y=y)".into(),
            ))
        }
    };
    let mut cases = Vec::with_capacity(n);
    for i in 0..n {
        let case = &values[i * features * steps..(i + 1) * features * steps];
        let len = case_length(case, features, steps).map_err(|(c, t)| {
            bad(format!(
                "X[{i}, {c}, {t}] is NaN before the series' last value: expected values, with NaN \
                 only as padding after a shorter series' end"
            ))
        })?;
        if len == 0 {
            return Err(bad(format!(
                "X[{i}] holds no value: expected a series of at least one timepoint"
            )));
        }
        // Timestep-major, as every reader gives its cases.
        let mut v = Vec::with_capacity(len * features);
        for t in 0..len {
            v.extend((0..features).map(|c| case[c * steps + t] as f32));
        }
        cases.push(Case {
            group: String::new(),
            values: v,
            len,
            label: labels.as_ref().map_or_else(String::new, |l| l[i].clone()),
            line: i + 1,
        });
    }
    Ok(SeriesFile {
        path: path.to_path_buf(),
        features,
        cases,
        labelled: labels.is_some(),
        targets: false,
    })
}

/// The length of one case (`features` channels of `steps` values, channel-major): up to its
/// last timepoint with a value; Err((channel, timepoint)) of a NaN before that.
fn case_length(case: &[f64], features: usize, steps: usize) -> Result<usize, (usize, usize)> {
    let filled = |t: usize| (0..features).any(|c| !case[c * steps + t].is_nan());
    let len = (0..steps).rev().find(|&t| filled(t)).map_or(0, |t| t + 1);
    for t in 0..len {
        if let Some(c) = (0..features).find(|&c| case[c * steps + t].is_nan()) {
            return Err((c, t));
        }
    }
    Ok(len)
}

/// The array `X` as (cases, channels, timepoints, values in C order), or None if absent.
type Cube = (usize, usize, usize, Vec<f64>);

fn array<R: std::io::Read + std::io::Seek>(
    zip: &mut NpzArchive<R>,
    name: &str,
    path: &Path,
) -> Result<Option<Cube>, UserError> {
    let bad = |m: String| UserError::data(path, format!("{name}: {m}"));
    let Some(npy) = zip
        .by_name(name)
        .map_err(|e| bad(format!("cannot read ({e})")))?
    else {
        return Ok(None);
    };
    let shape: Vec<u64> = npy.shape().to_vec();
    let (n, c, t) = match shape.as_slice() {
        [n, t] => (*n, 1, *t),
        [n, c, t] => (*n, *c, *t),
        _ => {
            return Err(bad(format!(
                "shape {shape:?}: expected (n_cases, n_channels, n_timepoints) or (n_cases, \
                 n_timepoints)"
            )))
        }
    };
    let total = n.checked_mul(c).and_then(|v| v.checked_mul(t));
    if total.is_none_or(|v| v > MAX_VALUES) || n == 0 || c == 0 || t == 0 {
        return Err(bad(format!(
            "shape {shape:?}: expected at least one case, channel and timepoint, and at most \
             {MAX_VALUES} values"
        )));
    }
    if npy.order() == Order::Fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(bad(
            "stored in Fortran order: expected C order (np.ascontiguousarray(X))".into(),
        ));
    }
    let values = numbers(npy).map_err(bad)?;
    Ok(Some((n as usize, c as usize, t as usize, values)))
}

/// The labels `y` as text, or None if the archive has none.
fn array_labels<R: std::io::Read + std::io::Seek>(
    zip: &mut NpzArchive<R>,
    path: &Path,
) -> Result<Option<Vec<String>>, UserError> {
    let bad = |m: String| UserError::data(path, format!("y: {m}"));
    let Some(npy) = zip
        .by_name("y")
        .map_err(|e| bad(format!("cannot read ({e})")))?
    else {
        return Ok(None);
    };
    if npy.shape().len() != 1 {
        return Err(bad(format!(
            "shape {:?}: expected one label per case, (n_cases,)",
            npy.shape()
        )));
    }
    let text = match npy.dtype() {
        npyz::DType::Plain(ts)
            if matches!(ts.type_char(), TypeChar::UnicodeStr | TypeChar::ByteStr) =>
        {
            npy.into_vec::<String>()
                .map_err(|e| bad(format!("cannot read ({e})")))?
        }
        npyz::DType::Plain(ts) if matches!(ts.type_char(), TypeChar::Float) => numbers(npy)
            .map_err(bad)?
            .into_iter()
            .map(|v| v.to_string())
            .collect(),
        _ => integers(npy)
            .map_err(bad)?
            .into_iter()
            .map(|v| v.to_string())
            .collect(),
    };
    Ok(Some(
        text.into_iter().map(|s| s.trim().to_string()).collect(),
    ))
}

/// An array of floats or integers as f64 values.
fn numbers<R: std::io::Read>(npy: NpyFile<R>) -> Result<Vec<f64>, String> {
    let read = |e: std::io::Error| format!("cannot read its values ({e})");
    match plain(&npy)? {
        (TypeChar::Float, 4) => Ok(npy
            .into_vec::<f32>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect()),
        (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(read),
        (TypeChar::Int | TypeChar::Uint | TypeChar::Bool, _) => {
            Ok(integers(npy)?.into_iter().map(|v| v as f64).collect())
        }
        (_, _) => Err(format!(
            "dtype {}: expected numbers (float or integer)",
            npy.dtype().descr()
        )),
    }
}

/// An array of integers (or booleans) as i64 values.
fn integers<R: std::io::Read>(npy: NpyFile<R>) -> Result<Vec<i64>, String> {
    match plain(&npy)? {
        (TypeChar::Int, 1) => widened::<i8, R>(npy),
        (TypeChar::Int, 2) => widened::<i16, R>(npy),
        (TypeChar::Int, 4) => widened::<i32, R>(npy),
        (TypeChar::Int, 8) => widened::<i64, R>(npy),
        (TypeChar::Uint, 1) => widened::<u8, R>(npy),
        (TypeChar::Uint, 2) => widened::<u16, R>(npy),
        (TypeChar::Uint, 4) => widened::<u32, R>(npy),
        (TypeChar::Bool, 1) => widened::<bool, R>(npy),
        (_, _) => Err(format!(
            "dtype {}: expected integers, floats or strings",
            npy.dtype().descr()
        )),
    }
}

/// The values of an array of `T` (the dtype's own type), as i64.
fn widened<T: npyz::Deserialize + Into<i64>, R: std::io::Read>(
    npy: NpyFile<R>,
) -> Result<Vec<i64>, String> {
    let values = npy
        .into_vec::<T>()
        .map_err(|e| format!("cannot read its values ({e})"))?;
    Ok(values.into_iter().map(Into::into).collect())
}

/// The type character and byte size of a plain (not structured) dtype.
fn plain<R: std::io::Read>(npy: &NpyFile<R>) -> Result<(TypeChar, u64), String> {
    match npy.dtype() {
        npyz::DType::Plain(ts) => Ok((ts.type_char(), ts.size_field())),
        other => Err(format!(
            "dtype {}: expected a plain array of numbers",
            other.descr()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_nan_is_padding_and_inner_nan_is_refused() {
        // Two channels of 4 timepoints, channel-major: the last step is padding.
        let nan = f64::NAN;
        let case = [1.0, 2.0, 3.0, nan, 4.0, 5.0, 6.0, nan];
        assert_eq!(case_length(&case, 2, 4), Ok(3));
        // A NaN in channel 1 at timepoint 1, before the end.
        let case = [1.0, 2.0, 3.0, nan, 4.0, nan, 6.0, nan];
        assert_eq!(case_length(&case, 2, 4), Err((1, 1)));
        assert_eq!(case_length(&[nan, nan], 1, 2), Ok(0));
        assert_eq!(case_length(&[1.0, 2.0], 1, 2), Ok(2));
    }
}
