//! An ensemble's predictions: its runs' predictions checked to be of one problem, then
//! averaged (class probabilities, numbers, forecasts and their interval bounds).
use std::path::PathBuf;

use super::member::{Member, Output};
use crate::error::UserError;

/// The members' predictions as one: a single run's as they are, an ensemble's averaged.
pub(super) fn mean(members: Vec<Member>, runs: &[PathBuf]) -> Result<Output, UserError> {
    let mut all = members.into_iter().zip(runs);
    let (first, _) = all.next().expect("at least one member");
    let mut acc = first.output;
    for (m, run) in all {
        if let Some(what) = difference(&acc, &m.output) {
            return Err(UserError::store(
                run,
                format!(
                    "{what} differ from those of {}: expected runs of one problem in an \
                     ensemble",
                    runs[0].display()
                ),
            ));
        }
        add(&mut acc, m.output);
    }
    let n = runs.len() as f64;
    if runs.len() > 1 {
        divide(&mut acc, n);
    }
    Ok(acc)
}

/// What differs between two runs' predictions that an ensemble cannot average (their task,
/// classes, target, sequences, series or horizon), or None for predictions of one problem.
fn difference(acc: &Output, other: &Output) -> Option<&'static str> {
    match (acc, other) {
        (
            Output::Classes {
                class_names, truth, ..
            },
            Output::Classes {
                class_names: c2,
                truth: t2,
                ..
            },
        ) => (class_names != c2 || truth != t2).then_some("its classes or sequences"),
        (
            Output::Numbers { target, truth, .. },
            Output::Numbers {
                target: g2,
                truth: t2,
                ..
            },
        ) => {
            let same_truth = truth.len() == t2.len()
                && truth
                    .iter()
                    .zip(t2)
                    .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            (target != g2 || !same_truth).then_some("its target or sequences")
        }
        (
            Output::Forecast {
                target,
                series,
                values,
                ..
            },
            Output::Forecast {
                target: g2,
                series: s2,
                values: v2,
                ..
            },
        ) => (target != g2 || series != s2 || values.len() != v2.len())
            .then_some("its target, series or horizon"),
        _ => Some("its task"),
    }
}

/// Adds `other`'s predictions to `acc`'s (predictions of one problem: `difference` found none),
/// and drops the recorded scores, which no longer apply.
fn add(acc: &mut Output, other: Output) {
    match (acc, other) {
        (
            Output::Classes {
                probabilities,
                recorded,
                ..
            },
            Output::Classes {
                probabilities: p2, ..
            },
        ) => {
            for (row, other) in probabilities.iter_mut().zip(&p2) {
                for (p, q) in row.iter_mut().zip(other) {
                    *p += q;
                }
            }
            *recorded = None;
        }
        (
            Output::Numbers {
                predicted,
                recorded,
                ..
            },
            Output::Numbers { predicted: p2, .. },
        ) => {
            predicted.iter_mut().zip(&p2).for_each(|(p, q)| *p += q);
            *recorded = None;
        }
        (
            Output::Forecast {
                values, intervals, ..
            },
            Output::Forecast {
                values: v2,
                intervals: i2,
                ..
            },
        ) => {
            values.iter_mut().zip(&v2).for_each(|(p, q)| *p += q);
            add_intervals(intervals, &i2);
        }
        _ => unreachable!("`difference` refuses runs of different tasks"),
    }
}

/// Adds the interval bounds of `other` to those of `acc`, where they share the levels;
/// otherwise the ensemble has no intervals.
fn add_intervals(acc: &mut Vec<(f64, Vec<[f64; 2]>)>, other: &[(f64, Vec<[f64; 2]>)]) {
    // The ensemble's bounds are its runs' mean, where they share the levels.
    let same_levels = acc.len() == other.len() && acc.iter().zip(other).all(|(a, b)| a.0 == b.0);
    if same_levels {
        for (a, b) in acc.iter_mut().zip(other) {
            a.1.iter_mut().zip(&b.1).for_each(|(p, q)| {
                p[0] += q[0];
                p[1] += q[1];
            });
        }
    } else {
        acc.clear();
    }
}

/// Divides the summed predictions of `n` runs by `n`; an ensemble's class is the argmax of its
/// mean probabilities.
fn divide(acc: &mut Output, n: f64) {
    match acc {
        Output::Classes {
            probabilities,
            predicted,
            ..
        } => {
            for row in probabilities.iter_mut() {
                row.iter_mut().for_each(|p| *p /= n);
            }
            *predicted = probabilities
                .iter()
                .map(|row| crate::metrics::argmax(row) as i64)
                .collect();
        }
        Output::Numbers { predicted, .. } => predicted.iter_mut().for_each(|p| *p /= n),
        Output::Forecast {
            values, intervals, ..
        } => {
            values.iter_mut().for_each(|p| *p /= n);
            for (_, bounds) in intervals.iter_mut() {
                bounds.iter_mut().flatten().for_each(|b| *b /= n);
            }
        }
    }
}
