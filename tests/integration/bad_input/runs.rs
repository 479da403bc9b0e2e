/*!
The corpus's cases on finished runs: `predict` and `explain` on a copy of a fixture run, and what
they must never do to it (overwrite its files or the command's own inputs).
*/
use std::path::Path;

use super::fixtures::{copy_run, Kind};
use super::{special, Special};

fn classify(t: &Path) {
    copy_run(Kind::Classify, t);
}

pub const CASES: &[Special] = &[
    // predict --out never replaces a run's own files.
    special(
        classify,
        &[
            "predict",
            "{run}",
            "{t}/test.csv",
            "--out",
            "{run}/model.safetensors",
        ],
        "{run}/model.safetensors",
    ),
];
