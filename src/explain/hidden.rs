//! `explain RUN... --hidden INDEX...`: the hidden state of trained runs, drawn. For chosen test
//! examples of each run: the input, the last recurrent layer's h_t (and c_t for an LSTM) as
//! units x timesteps, and the model's prediction after each step (`model::States`), runs side
//! by side, with their share of saturated values. This file checks the request, loads the runs
//! and gathers what is drawn (`hidden_data`); `hidden_figure` draws it (SVG and PNG, the report's look).
use std::io::Read;
use std::path::PathBuf;

use super::hidden_data::{Example, Grid, Panel};
use super::run::Trained;
use super::*;
use crate::style::render_to;

/// The figure's file stem inside a run's folder, when no `--out` is given.
pub const DEFAULT_NAME: &str = "hidden";
/// At most this many examples per figure.
pub const MAX_EXAMPLES: usize = 8;

/// What `explain --hidden` was asked.
pub struct Request<'a> {
    pub runs: &'a [PathBuf],
    /// Test examples, as given (checked against each run's test set).
    pub examples: &'a [i64],
    pub out: Option<&'a Path>,
    pub force: bool,
    pub data_dir: Option<&'a Path>,
}

/// The files written.
pub struct Written {
    pub svg: PathBuf,
    pub png: PathBuf,
    pub runs: usize,
    pub examples: usize,
}

/// Draws the request's figure; returns where it went.
pub fn hidden(req: &Request) -> Result<Written> {
    let (svg, png) = output_paths(req)?;
    let mut panels = Vec::with_capacity(req.runs.len());
    for run in req.runs {
        panels.push(panel(run, req.examples, req.data_dir)?);
    }
    let figure = super::hidden_figure::HiddenFigure::new(&panels);
    render_to(&figure, &svg, &png)?;
    Ok(Written {
        svg,
        png,
        runs: panels.len(),
        examples: req.examples.len(),
    })
}

/// Loads a run and follows each example through it.
fn panel(run_dir: &Path, examples: &[i64], data_dir: Option<&Path>) -> Result<Panel> {
    let run = Trained::load(run_dir, data_dir)?;
    let test = &run.data.test;
    if test.is_empty() {
        return Err(UserError::store(
            run_dir,
            "the run's data has no test set: --hidden draws test examples",
        )
        .into());
    }
    if run.model.arch.layers < 1 {
        return Err(UserError::store(run_dir, "the model has no recurrent layer to draw").into());
    }
    let n = test.len();
    let mut drawn = Vec::with_capacity(examples.len());
    for &i in examples {
        if i < 0 || i as usize >= n {
            return Err(UserError::Arg {
                flag: "--hidden".into(),
                value: i.to_string(),
                expected: format!(
                    "a test example's index from 0 to {} ({n} test examples in {})",
                    n - 1,
                    run_dir.display()
                ),
            }
            .into());
        }
        drawn.push(example(&run.model, &run.data, i as usize));
    }
    Ok(Panel {
        run: run_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        arch: run.model.arch,
        test_acc: run
            .result
            .as_ref()
            .filter(|_| run.data.task.is_classify())
            .map(|r| r.test_acc),
        class_names: run.data.class_names.clone(),
        examples: drawn,
    })
}

/// Test example `i` through `model`: its real steps only.
pub fn example(model: &SeqClassifier, data: &Dataset, i: usize) -> Example {
    let test = &data.test;
    let len = test.lengths.int64_value(&[i as i64]);
    let x = test.x.get(i as i64);
    let states = model.states(&x.narrow(0, 0, len));
    let classify = data.task.is_classify();
    let outputs = match classify {
        true => states.outputs.softmax(-1, Kind::Float),
        false => states.outputs,
    };
    let image = data.image_shape.map(|(rows, cols)| Grid {
        rows: rows as usize,
        cols: cols as usize,
        values: Vec::<f32>::try_from(&x.reshape([-1]).narrow(0, 0, rows * cols))
            .unwrap_or_default(),
    });
    Example {
        index: i,
        input: Grid::steps(&x.narrow(0, 0, len)),
        image,
        h: Grid::steps(&states.h),
        c: states.c.as_ref().map(Grid::steps),
        outputs: Grid::steps(&outputs),
        truth: classify.then(|| test.y.int64_value(&[i as i64]) as usize),
    }
}

/// Where the SVG and the PNG go, checked before anything is loaded: `--out FILE.svg` (and
/// FILE.png beside it) under `check_output`'s rules, else `hidden.svg` and `hidden.png` in
/// the one run's folder, replaced only when they are figures.
fn output_paths(req: &Request) -> Result<(PathBuf, PathBuf)> {
    if req.examples.len() > MAX_EXAMPLES {
        return Err(UserError::Arg {
            flag: "--hidden".into(),
            value: format!("({} indices)", req.examples.len()),
            expected: format!("at most {MAX_EXAMPLES} test examples in one figure"),
        }
        .into());
    }
    let mut inputs = Vec::new();
    for run in req.runs {
        let cfg = (store::RunDir { path: run.clone() }).config()?;
        inputs.extend(store::output::dataset_files(&cfg.dataset));
    }
    let Some(out) = req.out else {
        let [run] = req.runs else {
            return Err(UserError::Arg {
                flag: "--out".into(),
                value: "(not given)".into(),
                expected: format!(
                    "a path FILE.svg for the figure of {} runs side by side",
                    req.runs.len()
                ),
            }
            .into());
        };
        let svg = run.join(format!("{DEFAULT_NAME}.svg"));
        let png = run.join(format!("{DEFAULT_NAME}.png"));
        ours_or_absent(&svg, is_svg)?;
        ours_or_absent(&png, is_png)?;
        return Ok((svg, png));
    };
    if out.extension().is_none_or(|e| e != "svg") {
        return Err(UserError::Arg {
            flag: "--out".into(),
            value: out.display().to_string(),
            expected: "a path ending in .svg (the PNG is written beside it, .png)".into(),
        }
        .into());
    }
    let png = out.with_extension("png");
    let first = req.runs.first().map(PathBuf::as_path);
    let check = |path: &Path, ours: fn(&[u8]) -> bool, what: &str| {
        store::output::check_output("--out", path, first, &inputs, ours, what, req.force)
    };
    check(out, is_svg, "an SVG figure")?;
    check(&png, is_png, "a PNG figure")?;
    Ok((out.to_path_buf(), png))
}

fn is_svg(head: &[u8]) -> bool {
    head.trim_ascii_start().starts_with(b"<svg")
}

fn is_png(head: &[u8]) -> bool {
    head.starts_with(b"\x89PNG\r\n\x1a\n")
}

/// A default output in a run's folder may replace only a figure of the same kind (a regular
/// file, not a link).
fn ours_or_absent(path: &Path, ours: fn(&[u8]) -> bool) -> Result<()> {
    let refuse = || {
        UserError::store(
            path,
            "exists and is not a figure rowseq wrote: move it away, or give --out FILE.svg",
        )
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(UserError::store(path, format!("cannot read: {e}")).into()),
        Ok(meta) if !meta.is_file() => Err(refuse().into()),
        Ok(_) => {
            let mut head = Vec::new();
            let read = std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head));
            match read.is_ok() && ours(&head) {
                true => Ok(()),
                false => Err(refuse().into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Split;

    /// A tiny classification set of `n` random sequences of `t` steps x `f` values.
    fn dataset(n: i64, t: i64, f: i64, classes: usize) -> Dataset {
        let split = |n| {
            Split::full_length(
                Tensor::randn([n, t, f], (Kind::Float, Device::Cpu)),
                Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(classes as i64),
            )
        };
        Dataset {
            name: "generated".into(),
            train: split(4),
            val: split(4),
            test: split(n),
            seq_len: t,
            features: f,
            class_names: (0..classes).map(|c| c.to_string()).collect(),
            images: false,
            image_shape: None,
            patch: None,
            normalization: None,
            step_change: None,
            task: Task::Classify,
            target: None,
            forecast: None,
            neighbours: None,
            train_sha256: None,
        }
    }

    #[test]
    fn the_heatmap_is_h_units_by_t_steps_of_the_models_own_states() {
        tch::manual_seed(1);
        let (t, f, h, classes) = (11, 4, 7, 3);
        let data = dataset(5, t, f, classes);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = SeqClassifier::new(&vs.root(), &Arch::lstm(f, h, classes as i64));
        let e = example(&model, &data, 2);
        assert_eq!((e.h.rows, e.h.cols), (h as usize, t as usize));
        let c = e.c.as_ref().unwrap();
        assert_eq!((c.rows, c.cols), (h as usize, t as usize));
        assert_eq!((e.input.rows, e.input.cols), (f as usize, t as usize));
        assert_eq!((e.outputs.rows, e.outputs.cols), (classes, t as usize));
        // libtorch's nn LSTM over the same input with the model's weights: an independent
        // forward pass, step by step.
        let v = vs.variables();
        let w: Vec<&Tensor> = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
            .iter()
            .map(|n| &v[&format!("lstm.{n}")])
            .collect();
        let x = data.test.x.get(2);
        let mut state = (
            Tensor::zeros([1, h], (Kind::Float, Device::Cpu)),
            Tensor::zeros([1, h], (Kind::Float, Device::Cpu)),
        );
        for step in 0..t {
            let (hs, cs) = x.narrow(0, step, 1).lstm_cell(
                &[&state.0, &state.1],
                w[0],
                w[1],
                Some(w[2]),
                Some(w[3]),
            );
            let (hv, cv) = (
                Vec::<f32>::try_from(&hs.view([-1])).unwrap(),
                Vec::<f32>::try_from(&cs.view([-1])).unwrap(),
            );
            for u in 0..h as usize {
                assert!(
                    (e.h.at(u, step as usize) - hv[u]).abs() < 1e-5,
                    "h[{u}, {step}]"
                );
                assert!(
                    (c.at(u, step as usize) - cv[u]).abs() < 1e-5,
                    "c[{u}, {step}]"
                );
            }
            state = (hs, cs);
        }
        // The prediction after the last step is the model's prediction for the example.
        let logits = model.forward(&data.test.x, &data.test.lengths, false);
        let p = logits.softmax(-1, Kind::Float).get(2);
        let p = Vec::<f32>::try_from(&p).unwrap();
        for (k, want) in p.iter().enumerate() {
            assert!((e.outputs.at(k, t as usize - 1) - want).abs() < 1e-5);
        }
        let predicted = logits.argmax(-1, false).int64_value(&[2]) as usize;
        assert_eq!(e.predicted_at(t as usize - 1), predicted);
        assert_eq!(e.truth, Some(2));
        assert!(e.settled_from() >= 1 && e.settled_from() <= t as usize);
    }
}
