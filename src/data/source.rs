//! A dataset as loaded from disk (`Source`, once per process, shared by every run that reads
//! it), and its split for one run's config (`Source::split`): validation, sizes, scaling,
//! patches, numeric targets and forecast windows.
use super::neighbours::{self, NearestNeighbour};
use super::*;

/// The SHA-256 (hex) of a series set's training file (`ts:`, `csv:`; None for other data).
pub fn train_file_sha256(spec: &Spec) -> Result<Option<String>, UserError> {
    let Some((path, _)) = spec.files() else {
        return Ok(None);
    };
    let bytes =
        std::fs::read(&path).map_err(|e| UserError::data(&path, format!("cannot read: {e}")))?;
    Ok(Some(crate::store::sha256_hex(&bytes)))
}

/// Fashion-MNIST's class names, by label.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// A whole dataset as loaded from disk, before the run's split sizes are applied. Loaded once
/// per process and shared by every run that uses it.
pub struct Source {
    pub name: String,
    spec: Spec,
    task: Task,
    train: Split,
    test: Split,
    seq_len: i64,
    features: i64,
    class_names: Vec<String>,
    /// Forecasting: the one series (`train` and `test` are then empty; the windows of a run
    /// depend on its keys).
    series: Option<forecast::Table>,
    /// The 1-NN baselines computed so far, by the number of test series they scored.
    neighbours: std::sync::Mutex<std::collections::HashMap<usize, NearestNeighbour>>,
    /// Series sets (`ts:`, `csv:`): the SHA-256 of the training file as read, which a run
    /// records so that `predict` refuses the file once it has changed.
    train_sha256: Option<String>,
}

impl Source {
    /// A named data set (mnist, fashion-mnist), read from a data folder rather than files the
    /// dataset names.
    pub fn is_named(&self) -> bool {
        self.spec.is_named()
    }

    /// Runs with the same key share one loaded source: the dataset, and for CSV how it is read.
    pub fn key(cfg: &RunConfig) -> String {
        match Spec::parse(&cfg.dataset) {
            Ok(Spec::Csv { .. }) => format!(
                "{}|{:?}|{}|{}|{}|{:?}",
                cfg.dataset,
                cfg.csv_layout,
                cfg.label_column,
                cfg.id_column,
                cfg.time_column,
                cfg.task
            ),
            Ok(Spec::Series(_)) => {
                format!("{}|{}|{}", cfg.dataset, cfg.columns, cfg.target_column)
            }
            _ => format!("{}|{:?}", cfg.dataset, cfg.task),
        }
    }

    /// Series classification: the test accuracies of the 1-NN classifiers (ED and DTW) on the
    /// first `test_len` test series against the whole training file, on the values as read
    /// (`data::neighbours`); computed once per test size and kept. None for images (their
    /// baselines are not what rowseq measures them against) and numeric tasks.
    pub fn nearest_neighbour(&self, test_len: usize) -> Option<NearestNeighbour> {
        if self.spec.is_images() || self.task != Task::Classify || self.series.is_some() {
            return None;
        }
        let mut done = self.neighbours.lock().expect("not poisoned");
        let nn = done
            .entry(test_len)
            .or_insert_with(|| neighbours::accuracy(&self.train, &self.test.narrow(0, test_len)));
        Some(*nn)
    }

    /// The whole dataset at a glance.
    pub fn summary(&self) -> Summary {
        if let Some(table) = &self.series {
            return Summary {
                dataset: self.name.clone(),
                train_examples: 1,
                test_examples: 0,
                min_length: table.steps as i64,
                max_length: table.steps as i64,
                features: table.features() as i64,
                class_names: Vec::new(),
                images: false,
                task: Task::Forecast,
                columns: table.names.clone(),
                target: Some(table.names[table.target].clone()),
            };
        }
        let lengths = Tensor::cat(&[&self.train.lengths, &self.test.lengths], 0);
        Summary {
            dataset: self.name.clone(),
            train_examples: self.train.len(),
            test_examples: self.test.len(),
            min_length: lengths.min().int64_value(&[]),
            max_length: self.seq_len,
            features: self.features,
            class_names: self.class_names.clone(),
            images: self.spec.is_images(),
            task: self.task,
            columns: Vec::new(),
            target: None,
        }
    }

    /// Loads the dataset `cfg` names; `data_dir` replaces `data/<name>` for named datasets.
    pub fn load(cfg: &RunConfig, data_dir: Option<&Path>) -> Result<Source, UserError> {
        Self::load_with_test(cfg, data_dir, None)
    }

    /// Loads the dataset `cfg` names, its test file replaced by `test` (a `.ts` file for `ts:`
    /// data, a CSV file read with the run's CSV keys for `csv:` data): new series read against
    /// the run's own training file (its classes, its normalisation), with or without labels
    /// (`@classLabel false`; a CSV without the label column). Image sets take no
    /// replacement file (`predict` names another image set instead).
    pub fn load_with_test(
        cfg: &RunConfig,
        data_dir: Option<&Path>,
        test: Option<&Path>,
    ) -> Result<Source, UserError> {
        let name = cfg.dataset.as_str();
        let spec = Spec::parse(name).map_err(|m| UserError::Config {
            origin: "dataset".into(),
            message: format!("{m}: expected {}", spec::EXPECTED),
        })?;
        if let Some(given) = data_dir.filter(|_| !spec.is_named()) {
            return Err(UserError::Arg {
                flag: "--data-dir".into(),
                value: given.display().to_string(),
                expected: format!(
                    "applies to mnist and fashion-mnist only; dataset {name:?} names its own files"
                ),
            });
        }
        let dir = match spec.is_named() {
            true => self::data_dir(name, data_dir)?,
            false => PathBuf::new(),
        };
        let source = |train, test, seq_len, features, class_names| Source {
            name: name.into(),
            spec: spec.clone(),
            task: cfg.task,
            train,
            test,
            seq_len,
            features,
            class_names,
            series: None,
            neighbours: Default::default(),
            train_sha256: None,
        };
        match &spec {
            Spec::Mnist => {
                let raw = idx::load(&dir)?;
                let to_split = |images: Vec<u8>, labels: Vec<u8>| {
                    let n = labels.len() as i64;
                    let mut x = Tensor::from_slice(&images)
                        .view([n, idx::ROWS as i64, idx::COLS as i64])
                        .to_kind(Kind::Float);
                    x /= 255.0; // in place: one float copy of the images, not two
                    let y = Tensor::from_slice(&labels).to_kind(Kind::Int64);
                    Split::full_length(x, y)
                };
                Ok(source(
                    to_split(raw.train_images, raw.train_labels),
                    to_split(raw.test_images, raw.test_labels),
                    idx::ROWS as i64,
                    idx::COLS as i64,
                    (0..10).map(|d| d.to_string()).collect(),
                ))
            }
            Spec::FashionMnist | Spec::Idx(_) => {
                let (dir, hint) = match &spec {
                    Spec::Idx(d) => (d.clone(), "expected an IDX image set"),
                    _ => (
                        dir,
                        "run scripts/setup.sh --data fashion-mnist to fetch Fashion-MNIST",
                    ),
                };
                let set = idx::load_images(&dir, hint)?;
                let paths = idx::locate_with(&dir, hint)?;
                let names: Vec<String> = if spec == Spec::FashionMnist {
                    FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
                } else {
                    series::class_names(
                        set.train_labels
                            .iter()
                            .map(|l| l.to_string())
                            .collect::<Vec<_>>()
                            .iter()
                            .map(String::as_str),
                    )
                };
                // Fashion-MNIST's labels are indices into its names; other sets name their
                // classes by the label values of the training file.
                let names_of = |l: u8| match spec {
                    Spec::FashionMnist => FASHION_CLASSES.get(l as usize).map(|n| n.to_string()),
                    _ => Some(l.to_string()),
                };
                let index = |labels: &[u8], path: &Path| -> Result<Vec<i64>, UserError> {
                    labels
                        .iter()
                        .enumerate()
                        .map(|(i, &l)| {
                            let pos = names_of(l).and_then(|n| names.iter().position(|m| *m == n));
                            pos.map(|p| p as i64).ok_or_else(|| {
                                UserError::data(
                                    path,
                                    format!(
                                        "label {l} at index {i} is not a class of the training labels: expected one of {}",
                                        names.join(", ")
                                    ),
                                )
                            })
                        })
                        .collect()
                };
                let (rows, cols) = (set.rows as i64, set.cols as i64);
                let to_split = |images: &[u8], y: Vec<i64>| {
                    let n = y.len() as i64;
                    let mut x = Tensor::from_slice(images)
                        .view([n, rows, cols])
                        .to_kind(Kind::Float);
                    x /= 255.0; // in place: one float copy of the images, not two
                    Split::full_length(x, Tensor::from_slice(&y))
                };
                let train_y = index(&set.train_labels, &paths[1])?;
                let test_y = index(&set.test_labels, &paths[3])?;
                Ok(source(
                    to_split(&set.train_images, train_y),
                    to_split(&set.test_images, test_y),
                    rows,
                    cols,
                    names,
                ))
            }
            Spec::Series(path) => {
                let table = forecast::read(test.unwrap_or(path), cfg)?;
                let empty = || Split {
                    x: Tensor::zeros([0, 1, 1], (Kind::Float, tch::Device::Cpu)),
                    y: Tensor::zeros([0, 1], (Kind::Float, tch::Device::Cpu)),
                    lengths: Tensor::zeros([0], (Kind::Int64, tch::Device::Cpu)),
                };
                let features = table.features() as i64;
                let mut s = source(empty(), empty(), table.steps as i64, features, Vec::new());
                s.series = Some(table);
                Ok(s)
            }
            Spec::Ts { .. } | Spec::Csv { .. } => {
                let (train, test) = match &spec {
                    // A test file given apart (new data for `predict`) may lack labels.
                    Spec::Ts { dir, name } => (
                        ts::read(&dir.join(format!("{name}_TRAIN.ts")))?,
                        match test {
                            Some(path) => ts::read_new(path)?,
                            None => ts::read(&dir.join(format!("{name}_TEST.ts")))?,
                        },
                    ),
                    Spec::Csv { train, test: own } => {
                        let opts = csv::Options::of(cfg);
                        let new = csv::Options {
                            unlabelled_ok: test.is_some(),
                            ..opts.clone()
                        };
                        (
                            csv::read(train, &opts)?,
                            csv::read(test.unwrap_or(own), &new)?,
                        )
                    }
                    _ => unreachable!("matched above"),
                };
                if let Spec::Ts { .. } = &spec {
                    let regress = cfg.task == Task::Regress;
                    if let Some(file) = [&train, &test]
                        .into_iter()
                        .find(|f| f.labelled && f.targets != regress)
                    {
                        return Err(UserError::data(
                            &file.path,
                            if regress {
                                "@classLabel: a classification problem; expected @targetLabel \
                                 true (a regression problem) with task = \"regress\""
                            } else {
                                "@targetLabel: a regression problem; expected a classification \
                                 problem (@classLabel true ...), or task = \"regress\""
                            },
                        ));
                    }
                }
                let t = series::to_tensors(&train, &test, cfg.task == Task::Regress)?;
                let mut s = source(t.train, t.test, t.seq_len, t.features, t.class_names);
                s.train_sha256 = train_file_sha256(&spec)?;
                Ok(s)
            }
        }
    }

    /// The splits a run asks for: validation (from the end of train for images, stratified
    /// for series), then the size limits, then (series) the z-score of the training split.
    pub fn split(&self, cfg: &RunConfig) -> Result<Dataset, UserError> {
        if let Some(table) = &self.series {
            return self.split_forecast(table, cfg);
        }
        if !matches!(self.spec, Spec::Csv { .. }) {
            let changed = cfg.changed_keys();
            if let Some(k) = keys_of(Scope::Csv).find(|k| changed.contains(k)) {
                return Err(UserError::Config {
                    origin: k.to_string(),
                    message: format!(
                        "{k} = {}: applies to csv: datasets only, not {:?}",
                        cfg.value(k),
                        self.name
                    ),
                });
            }
        }
        let n_train = self.train.len();
        let too_big = |key: &str, v: usize, max: usize| UserError::Config {
            origin: key.to_string(),
            message: format!("{key} = {v}: expected at most {max} for {}", self.name),
        };
        let images = self.spec.is_images();
        let labels = || Vec::<i64>::try_from(&self.train.y).expect("int64 labels");
        // Series: stratified indices (train, validation); images: the last `val_size`.
        let (val_size, series_split) = match (cfg.val_size, images) {
            (Count::Fixed(v), _) if v >= n_train => {
                return Err(too_big("val_size", v, n_train - 1));
            }
            (Count::Fixed(v), true) => (v, None),
            (Count::Auto, true) => (auto::val_images(n_train), None),
            (_, false) if cfg.task == Task::Regress && n_train < 2 => {
                return Err(UserError::Config {
                    origin: "val_size".into(),
                    message: format!(
                        "the training file of {} has {n_train} series: expected at least 2 (one \
                         for validation)",
                        self.name
                    ),
                });
            }
            // Regression: a fixed random choice (the same for every seed).
            (v, false) if cfg.task == Task::Regress => {
                let v = v.fixed().unwrap_or_else(|| auto::val_images(n_train));
                (v, Some(series::random_split(n_train, v)))
            }
            (Count::Fixed(v), false) => {
                let split = series::stratified(&labels(), &self.class_names, v).map_err(|m| {
                    UserError::Config {
                        origin: "val_size".into(),
                        message: format!("val_size = {v} {m}"),
                    }
                })?;
                (v, Some(split))
            }
            (Count::Auto, false) => {
                let split = series::stratified_auto(&labels(), &self.class_names);
                (split.1.len(), Some(split))
            }
        };
        let available = n_train - val_size;
        if cfg.train_size > available {
            return Err(too_big("train_size", cfg.train_size, available));
        }
        if cfg.test_size > self.test.len() {
            return Err(too_big("test_size", cfg.test_size, self.test.len()));
        }
        let train_len = if cfg.train_size == 0 {
            available
        } else {
            cfg.train_size
        };
        let test_len = if cfg.test_size == 0 {
            self.test.len()
        } else {
            cfg.test_size
        };
        let reading = patch::reading(cfg.patch, self.seq_len, self.features, images);
        let dataset = |train: Split, val: Split, test: Split| Dataset {
            name: self.name.clone(),
            train: patch::apply(&train, reading, images),
            val: patch::apply(&val, reading, images),
            test: patch::apply(&test, reading, images),
            seq_len: reading.timesteps,
            features: reading.features,
            class_names: self.class_names.clone(),
            images,
            image_shape: images.then_some((self.seq_len, self.features)),
            patch: (reading != patch::reading(Patch::Natural, self.seq_len, self.features, images))
                .then_some(reading.values),
            normalization: None,
            step_change: None,
            task: cfg.task,
            target: None,
            forecast: None,
            neighbours: None,
            train_sha256: self.train_sha256.clone(),
        };
        if self.spec.is_images() {
            if cfg.normalize != Normalize::Feature {
                return Err(UserError::Config {
                    origin: "normalize".into(),
                    message: format!(
                        "normalize = {:?}: applies to ts: and csv: series only; images are \
                         scaled byte / 255",
                        cfg.value_text("normalize")
                    ),
                });
            }
            return Ok(dataset(
                self.train.narrow(0, train_len),
                self.train.narrow(available, val_size),
                self.test.narrow(0, test_len),
            ));
        }
        let (train_idx, val_idx) = series_split.expect("a series split");
        let train = self
            .train
            .select(&Tensor::from_slice(&train_idx[..train_len]));
        let val = self.train.select(&Tensor::from_slice(&val_idx));
        let test = self.test.narrow(0, test_len);
        let (train, val, test, stats) = match cfg.normalize {
            Normalize::Feature => {
                let (mean, std) = series::feature_stats(&train);
                let stats = Normalization {
                    kind: Normalize::Feature,
                    mean: Vec::<f64>::try_from(&mean.flatten(0, -1)).expect("f64 stats"),
                    std: Vec::<f64>::try_from(&std.flatten(0, -1)).expect("f64 stats"),
                    target_mean: None,
                    target_std: None,
                    columns: Vec::new(),
                };
                (
                    series::normalise(&train, &mean, &std),
                    series::normalise(&val, &mean, &std),
                    series::normalise(&test, &mean, &std),
                    stats,
                )
            }
            Normalize::Series => (
                series::per_series(&train),
                series::per_series(&val),
                series::per_series(&test),
                Normalization::of(Normalize::Series),
            ),
            Normalize::None => (train, val, test, Normalization::of(Normalize::None)),
            Normalize::Last => {
                return Err(UserError::Config {
                    origin: "normalize".into(),
                    message: "normalize = \"last\": applies to task = \"forecast\" only".into(),
                })
            }
        };
        let mut stats = stats;
        let (train, val, test, target) = match cfg.task {
            Task::Regress => {
                let values = Vec::<f64>::try_from(train.y.flatten(0, -1).to_kind(Kind::Double))
                    .expect("f64 targets");
                let (mean, std) = mean_std(&values);
                let target = Target {
                    name: match &self.spec {
                        Spec::Csv { .. } => cfg.label_column.clone(),
                        _ => "target".into(),
                    },
                    mean,
                    std,
                };
                stats.target_mean = Some(mean);
                stats.target_std = Some(std);
                let scale = |s: Split| Split {
                    y: (&s.y - mean) / std,
                    ..s
                };
                (scale(train), scale(val), scale(test), Some(target))
            }
            _ => (train, val, test, None),
        };
        let change = series::step_change(&train);
        let mut data = dataset(train, val, test);
        data.normalization = Some(stats);
        data.step_change = Some(change);
        data.target = target;
        Ok(data)
    }

    /// A forecasting run's windows: the series cut in time (`forecast::stretches`), scaled
    /// with the training stretch's statistics, then patched like any series.
    fn split_forecast(
        &self,
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
        let windows =
            |o: &[usize]| forecast::windows(table, o, cut.window, h, (&mean, &std), relative);
        let (train, val, test) = (windows(&train_o), windows(&val_o), windows(&test_o));
        let (w, f) = (cut.window as i64, table.features() as i64);
        let reading = patch::reading(cfg.patch, w, f, false);
        let y = table.target_values();
        let j = table.target;
        let scale = forecast::mase_scale(&y, cut.train, cfg.season);
        if scale <= 0.0 {
            return Err(UserError::data(
                &self.name,
                format!(
                    "the target {:?} does not change over the {} training steps: expected a \
                     series that varies (MASE divides by its in-sample change)",
                    table.names[j], cut.train
                ),
            ));
        }
        let target = Target {
            name: table.names[j].clone(),
            mean: mean[j],
            std: std[j],
        };
        let forecast = Forecast {
            stretches: cut,
            horizon: h,
            relative,
            scale,
            truth: forecast::truth(&y, &test_o, h),
            naive: forecast::naive(&y, &test_o, h),
            snaive: forecast::seasonal_naive(&y, &test_o, h, cfg.season),
            test_origins: test_o,
        };
        Ok(Dataset {
            name: self.name.clone(),
            train: patch::apply(&train, reading, false),
            val: patch::apply(&val, reading, false),
            test: patch::apply(&test, reading, false),
            seq_len: reading.timesteps,
            features: reading.features,
            class_names: Vec::new(),
            images: false,
            image_shape: None,
            patch: (reading != patch::reading(Patch::Natural, w, f, false))
                .then_some(reading.values),
            normalization: Some(Normalization {
                kind: cfg.normalize,
                mean,
                std,
                target_mean: Some(target.mean),
                target_std: Some(target.std),
                columns: table.names.clone(),
            }),
            step_change: None,
            task: Task::Forecast,
            target: Some(target),
            forecast: Some(forecast),
            neighbours: None,
            train_sha256: self.train_sha256.clone(),
        })
    }
}

/// Mean and population std of `values` (std 1 where it is 0, so that scaling never divides by
/// zero).
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}

/// The environment variable naming the folder that holds the named data sets (`<dataset>/`).
pub const DATA_VAR: &str = "ROWSEQ_DATA";

/// The default data folder of a named data set: `$ROWSEQ_DATA/<dataset>` if that is set, else
/// `data/<dataset>` in the working folder; never a folder of the checkout the binary was
/// built from (it may be gone, or another version, once the binary is installed).
pub fn default_dir(dataset: &str) -> PathBuf {
    match std::env::var_os(DATA_VAR).filter(|v| !v.is_empty()) {
        Some(root) => PathBuf::from(root).join(dataset),
        None => Path::new("data").join(dataset),
    }
}

/// The folder a named data set is read from: `given` (--data-dir), else `default_dir`, which
/// must exist; its error names the folder tried and where that came from.
pub fn data_dir(dataset: &str, given: Option<&Path>) -> Result<PathBuf, UserError> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    let dir = default_dir(dataset);
    if dir.is_dir() {
        return Ok(dir);
    }
    let from = match std::env::var_os(DATA_VAR).filter(|v| !v.is_empty()) {
        Some(root) => format!("{DATA_VAR}={}", root.to_string_lossy()),
        None => {
            let cwd = std::env::current_dir()
                .map(|c| c.display().to_string())
                .unwrap_or_else(|_| "?".into());
            format!("data/ in the working folder {cwd}, as {DATA_VAR} is not set")
        }
    };
    Err(UserError::data(
        &dir,
        format!(
            "no such data folder (the one folder tried, from {from}); set {DATA_VAR} to the \
             folder holding {dataset}/, pass --data-dir, or run scripts/setup.sh"
        ),
    ))
}
