//! The config layer's unit tests: parsing, checks, defaults and run ids.
use super::*;
use crate::error::UserError;

fn parse(text: &str) -> Result<SweepConfig, UserError> {
    SweepConfig::parse(text, "t.toml", "t")
}

#[test]
fn grid_is_the_product_of_lists() {
    let s = parse("num_units = [8, 16, 32]\nseed = [0, 1]\nepochs = 2\n").unwrap();
    let runs = s.runs();
    assert_eq!(runs.len(), 6);
    assert_eq!(
        runs.iter()
            .map(|r| (r.seed, r.num_units))
            .collect::<Vec<_>>(),
        vec![(0, 8), (0, 16), (0, 32), (1, 8), (1, 16), (1, 32)]
    );
    assert!(runs.iter().all(|r| r.epochs == Count::Fixed(2)));
    assert_eq!(s.swept_keys(), vec!["seed", "num_units"]);
    assert_eq!(s.name, "t");
}

#[test]
fn unknown_key_names_file_and_line() {
    let e = parse("num_units = 8\n\nnum_unit = 4\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("t.toml:3: unknown key `num_unit`"), "{e}");
    assert!(!e.contains('\n'));
}

#[test]
fn bad_values_are_rejected_with_line_and_expectation() {
    for (text, want) in [
        (
            "num_units = 0",
            "t.toml:1: num_units = 0: expected a whole number of hidden units",
        ),
        (
            "\nlr = -0.1",
            "t.toml:2: lr = -0.1: expected a learning rate > 0",
        ),
        ("lr = 0", "t.toml:1: lr = 0: expected a learning rate > 0"),
        (
            "epochs = 0",
            "t.toml:1: epochs = 0: expected a whole number of epochs",
        ),
        (
            "num_units = []",
            "t.toml:1: num_units = []: expected at least one value",
        ),
        (
            "num_units = [8, \"x\"]",
            "t.toml:1: num_units = \"x\": expected a whole number",
        ),
        (
            "schedule = \"step\"",
            "t.toml:1: schedule = \"step\": expected \"cosine\" or \"constant\"",
        ),
        (
            "name = \"../x\"",
            "t.toml:1: name = \"../x\": expected a folder name",
        ),
        (
            "eval_test = \"sometimes\"",
            "t.toml:1: eval_test = \"sometimes\": expected \"every_epoch\"",
        ),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.starts_with(want), "{text:?} gave {e:?}");
    }
}

#[test]
fn a_patch_equal_to_the_datas_own_step_is_the_run_without_the_key() {
    let id = |text: &str| crate::store::run_id(&parse(text).unwrap().runs()[0]);
    // paper/units/fb6d1948c8c4: MNIST, 8 units, read a row (28 pixels) a step.
    let base = "num_units = 8\nepochs = 12";
    assert_eq!(id(base), "fb6d1948c8c4");
    assert_eq!(id(&format!("{base}\npatch = 28")), "fb6d1948c8c4");
    assert_ne!(id(&format!("{base}\npatch = 112")), "fb6d1948c8c4");
    assert_eq!(
        id(&format!("{base}\npatch = \"auto\"")),
        id(&format!("{base}\npatch = \"auto\""))
    );
    let ts = "dataset = \"ts:data/GunPoint/GunPoint\"";
    // Series default to "auto"; one value a step is the run without the key, as before.
    assert_eq!(id(ts), id(&format!("{ts}\npatch = \"auto\"")));
    assert_ne!(id(ts), id(&format!("{ts}\npatch = 1")));
    let one = parse(&format!("{ts}\npatch = 1")).unwrap().runs()[0].clone();
    assert_eq!(one.patch, Patch::Natural);
    // Labels show the value, the data's own step too.
    let s = parse("patch = [28, 112]").unwrap();
    let labels: Vec<String> = s.runs().iter().map(|r| r.label(&s.swept_keys())).collect();
    assert_eq!(
        labels,
        ["units=128,patch=28,seed=0", "units=128,patch=112,seed=0"]
    );
    let json = serde_json::to_string(&s.runs()[1]).unwrap();
    assert!(json.contains("\"patch\":112"), "{json}");
    let back: RunConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back.patch, Patch::Values(112));
}

#[test]
fn a_folder_name_from_the_file_name_follows_the_name_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my sweep.toml");
    std::fs::write(&path, "epochs = 1").unwrap();
    let mut s = SweepConfig::load(&path).unwrap();
    let e = s.check_name().unwrap_err().to_string();
    assert!(
        e.contains("my sweep.toml: the file name gives the sweep folder name \"my sweep\""),
        "{e}"
    );
    // A name given by --set (or in the file) is the folder's name.
    s.set("name=\"mine\"").unwrap();
    s.check_name().unwrap();
    let dots = dir.path().join("...toml");
    std::fs::write(&dots, "name = \"ok\"").unwrap();
    SweepConfig::load(&dots).unwrap().check_name().unwrap();
}

#[test]
fn invalid_toml_is_one_line_with_line_number() {
    let e = parse("num_units = [8,\nseed = ").unwrap_err().to_string();
    assert!(e.starts_with("t.toml:"), "{e}");
    assert!(e.contains("invalid TOML"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn a_bare_word_in_set_is_the_text_it_names() {
    let mut s = parse("num_units = [8]").unwrap();
    // The shell took the quotes of --set cell="gru": the word is the text.
    s.set("cell=gru").unwrap();
    let mut quoted = parse("num_units = [8]").unwrap();
    quoted.set("cell=\"gru\"").unwrap();
    assert_eq!(s.runs(), quoted.runs());
    // A key that takes no text says what it expects, of the word as typed.
    let e = s.set("lr=abc").unwrap_err().to_string();
    assert!(e.starts_with("--set lr=abc: lr = abc: expected"), "{e}");
    let e = s.set("cell=lstn").unwrap_err().to_string();
    assert!(
        e.starts_with("--set cell=lstn: cell = lstn: expected"),
        "{e}"
    );
    // What is not a word stays TOML's own message.
    for bad in [
        "num_units=[8,",
        "lr=.001",
        "lr=1.0.0",
        "num_units=8 16",
        "a b=1",
    ] {
        let e = s.set(bad).unwrap_err().to_string();
        assert!(e.starts_with(&format!("--set {bad}: ")), "{e}");
        assert!(e.contains("invalid TOML"), "{bad}: {e}");
    }
}

#[test]
fn set_overrides_and_adds_axes() {
    let mut s = parse("num_units = [8, 16]\nepochs = 5").unwrap();
    s.set("epochs=1").unwrap();
    s.set("seed=[3,4]").unwrap();
    s.set("name=\"x\"").unwrap();
    assert_eq!(s.runs().len(), 4);
    assert!(s.runs().iter().all(|r| r.epochs == Count::Fixed(1)));
    assert_eq!(s.name, "x");
    let e = s.set("lr=0").unwrap_err().to_string();
    assert!(e.starts_with("--set lr=0: lr = 0: expected"), "{e}");
    assert!(s.set("lr").is_err());
}

#[test]
fn validate_names_the_flag() {
    let cfg = RunConfig {
        num_units: 0,
        ..RunConfig::default()
    };
    let e = cfg.validate().unwrap_err().to_string();
    assert_eq!(
        e,
        "--num-units 0: expected a whole number of hidden units from 1 to 65536"
    );
    assert!(RunConfig::default().validate().is_ok());
}

#[test]
fn labels_are_readable() {
    let cfg = RunConfig {
        num_units: 64,
        seed: 2,
        lr: 0.01,
        ..RunConfig::default()
    };
    assert_eq!(
        cfg.label(&["seed".into(), "num_units".into()]),
        "units=64,seed=2"
    );
    assert_eq!(cfg.label(&["lr".into()]), "units=64,lr=0.01,seed=2");
    // Paths stay out of labels (they name TensorBoard folders).
    let cfg = RunConfig {
        dataset: "ts:data/GunPoint/GunPoint".into(),
        csv_layout: CsvLayout::Long,
        ..cfg
    };
    assert_eq!(
        cfg.label(&["dataset".into(), "csv_layout".into()]),
        "units=64,dataset=GunPoint,csv_layout=long,seed=2"
    );
}

#[test]
fn csv_keys_keep_old_run_ids_at_their_defaults() {
    // New keys are left out of the JSON at their defaults, so existing ids hold.
    let json = serde_json::to_string(&RunConfig::default()).unwrap();
    for k in keys_of(Scope::Csv) {
        assert!(!json.contains(k), "{json}");
    }
    let s =
        parse("dataset = \"csv:a.csv,b.csv\"\ncsv_layout = \"long\"\ntime_column = \"t\"").unwrap();
    let run = &s.runs()[0];
    assert_eq!(
        (run.csv_layout, run.time_column.as_str()),
        (CsvLayout::Long, "t")
    );
    let json = serde_json::to_string(run).unwrap();
    assert!(
        json.contains("\"csv_layout\":\"long\",\"time_column\":\"t\""),
        "{json}"
    );
    let back: RunConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, run);
    for (text, want) in [
        ("csv_layout = \"tall\"", "expected \"wide\""),
        ("label_column = \" \"", "expected a column name"),
        ("dataset = \"ts:\"", "expected \"mnist\", \"fashion-mnist\""),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
}

#[test]
fn cells_layers_directions_and_dropout_are_keys_like_any_other() {
    let s = parse(
        "cell = [\"lstm\", \"gru\", \"rnn\"]\nnum_units = [8, 16]\nlayers = 2\n\
             dropout = 0.25\nbidirectional = true\n",
    )
    .unwrap();
    let runs = s.runs();
    assert_eq!(runs.len(), 6);
    assert_eq!(
        runs.iter()
            .map(|r| (r.cell, r.num_units))
            .collect::<Vec<_>>(),
        vec![
            (Cell::Lstm, 8),
            (Cell::Lstm, 16),
            (Cell::Gru, 8),
            (Cell::Gru, 16),
            (Cell::Rnn, 8),
            (Cell::Rnn, 16)
        ]
    );
    assert!(runs
        .iter()
        .all(|r| r.layers == 2 && r.bidirectional && r.dropout == 0.25));
    assert_eq!(s.swept_keys(), vec!["cell", "num_units"]);
    assert_eq!(runs[2].label(&s.swept_keys()), "units=8,cell=gru,seed=0");
    let all: Vec<String> = ["layers", "bidirectional", "dropout"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        runs[0].label(&all),
        "units=8,layers=2,bidirectional=true,dropout=0.25,seed=0"
    );
    // Defaults read as values too, though the canonical JSON leaves them out.
    let d = RunConfig::default();
    assert_eq!(
        d.label(&["cell".into(), "dropout".into()]),
        "units=128,cell=lstm,dropout=0.0,seed=0"
    );
    assert!(d.validate().is_ok());
}

#[test]
fn noise_is_off_for_images_and_numeric_tasks_and_auto_for_series_classification() {
    let series = |task: &str| {
        let mut cfg = RunConfig::default();
        cfg.set("dataset", &toml::Value::String("ts:d/X".into()))
            .unwrap();
        cfg.set("task", &toml::Value::String(task.into())).unwrap();
        cfg.with_series_defaults(|_| false).noise
    };
    assert_eq!(series("classify"), Noise::Auto);
    assert_eq!(series("regress"), Noise::Off);
    assert_eq!(
        RunConfig::default().with_series_defaults(|_| false).noise,
        Noise::Off
    );
    // Off is left out of the JSON (MNIST's ids stay); a value or "auto" is part of the id.
    let json = serde_json::to_string(&RunConfig::default()).unwrap();
    assert!(!json.contains("noise"), "{json}");
    for (noise, text) in [
        (Noise::Std(0.25), r#""noise":0.25"#),
        (Noise::Auto, r#""noise":"auto""#),
    ] {
        let cfg = RunConfig {
            noise,
            ..RunConfig::default()
        };
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(json.contains(text), "{json}");
        assert_eq!(serde_json::from_str::<RunConfig>(&json).unwrap(), cfg);
        assert_ne!(
            crate::store::run_id(&cfg),
            crate::store::run_id(&RunConfig::default())
        );
    }
    let set = |v: toml::Value| {
        let mut c = RunConfig::default();
        c.set("noise", &v).map(|_| c.noise)
    };
    assert_eq!(set(0.into()), Ok(Noise::Off));
    assert_eq!(set("auto".into()), Ok(Noise::Auto));
    assert_eq!(set(0.3.into()), Ok(Noise::Std(0.3)));
    let bad: [toml::Value; 5] = [
        (-0.1).into(),
        f64::NAN.into(),
        f64::INFINITY.into(),
        11.into(),
        "x".into(),
    ];
    for bad in bad {
        assert!(set(bad.clone()).is_err(), "{bad}");
    }
    let e = parse("noise = -1").unwrap_err().to_string();
    assert!(
        e.starts_with("t.toml:1: noise = -1: expected a standard deviation from 0 to 10"),
        "{e}"
    );
}

#[test]
fn new_keys_leave_old_run_ids_alone() {
    // paper/units/fb6d1948c8c4/config.json, written before cells existed.
    let old = r#"{"dataset":"mnist","num_units":8,"seed":0,"epochs":12,"lr":0.003,
            "batch_size":128,"schedule":"cosine","clip_grad_norm":1.0,"val_size":5000,
            "train_size":0,"test_size":0}"#;
    let cfg: RunConfig = serde_json::from_str(old).unwrap();
    assert_eq!(cfg.cell, Cell::Lstm);
    assert_eq!(
        (cfg.layers, cfg.bidirectional, cfg.dropout),
        (1, false, 0.0)
    );
    assert_eq!(crate::store::run_id(&cfg), "fb6d1948c8c4");
    let json = serde_json::to_string(&RunConfig::default()).unwrap();
    for key in ["cell", "layers", "bidirectional", "dropout"] {
        assert!(!json.contains(key), "{json}");
    }
    // Any other value is part of the id.
    let gru = RunConfig {
        cell: Cell::Gru,
        ..cfg.clone()
    };
    let json = serde_json::to_string(&gru).unwrap();
    assert!(json.contains(r#""cell":"gru""#), "{json}");
    assert_ne!(crate::store::run_id(&gru), "fb6d1948c8c4");
    let deep = RunConfig {
        layers: 3,
        bidirectional: true,
        dropout: 0.1,
        ..cfg
    };
    let back: RunConfig = serde_json::from_str(&serde_json::to_string(&deep).unwrap()).unwrap();
    assert_eq!(back, deep);
}

#[test]
fn bad_cells_layers_and_dropout_are_one_line_errors() {
    for (text, want) in [
        (
            "cell = \"transformer\"",
            "t.toml:1: cell = \"transformer\": expected \"lstm\", \"gru\" or \"rnn\"",
        ),
        (
            "layers = 0",
            "t.toml:1: layers = 0: expected a whole number of stacked layers",
        ),
        (
            "layers = 2\ndropout = 1.0",
            "t.toml:2: dropout = 1.0: expected a dropout probability p with 0 <= p < 1",
        ),
        (
            "layers = 2\ndropout = -0.1",
            "t.toml:2: dropout = -0.1: expected a dropout probability",
        ),
        (
            "bidirectional = \"yes\"",
            "t.toml:1: bidirectional = \"yes\": expected true or false",
        ),
        (
            "num_units = 8\ndropout = 0.2",
            "t.toml:2: dropout = 0.2 with layers = 1: expected layers >= 2",
        ),
        (
            "dropout = 0.2\nlayers = [1, 2]",
            "t.toml:1: dropout = 0.2 with layers = 1: expected layers >= 2",
        ),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.starts_with(want), "{text:?} gave {e:?}");
        assert!(!e.contains('\n'), "{e}");
    }
    assert!(parse("layers = 2\ndropout = 0.2").is_ok());
    assert!(parse("layers = [1, 2]\ndropout = [0, 0.5]").is_err());
    assert!(parse("layers = [1, 2]\ndropout = 0").is_ok());
}

#[test]
fn overrides_check_the_combined_grid() {
    let mut s = parse("layers = 2\ndropout = 0.3").unwrap();
    // A --set of dropout alone is judged with the file's layers.
    s.set("dropout=0.1").unwrap();
    let e = s.set("layers=1").unwrap_err().to_string();
    assert!(
        e.starts_with("--set layers=1: dropout = 0.1 with layers = 1: expected"),
        "{e}"
    );
    let mut s = parse("num_units = 8").unwrap();
    assert!(s.set("dropout=0.5").is_err());
    s.set("layers=3").unwrap();
    s.set("dropout=0.5").unwrap();
    s.set("cell=\"rnn\"").unwrap();
    assert!(s
        .runs()
        .iter()
        .all(|r| r.cell == Cell::Rnn && r.layers == 3));
}

#[test]
fn validate_names_the_dropout_flag() {
    let cfg = RunConfig {
        dropout: 0.2,
        ..RunConfig::default()
    };
    let e = cfg.validate().unwrap_err().to_string();
    assert!(
        e.starts_with("--dropout 0.2: expected 0 with --layers 1"),
        "{e}"
    );
    assert!(RunConfig {
        layers: 2,
        ..cfg.clone()
    }
    .validate()
    .is_ok());
    let e = RunConfig {
        dropout: 1.5,
        layers: 2,
        ..cfg
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "--dropout 1.5: expected a dropout probability p with 0 <= p < 1"
    );
}

#[test]
fn a_config_record_refuses_unknown_keys_and_fills_the_rest_with_defaults() {
    let cfg: RunConfig = serde_json::from_str(r#"{"num_units": 8}"#).unwrap();
    assert_eq!(
        cfg,
        RunConfig {
            num_units: 8,
            ..RunConfig::default()
        }
    );
    let e = serde_json::from_str::<RunConfig>(r#"{"num_unit": 8}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `num_unit`"), "{e}");
    // The JSON keeps the first records' key order (the run id hashes it), whatever the
    // declaration order.
    assert_eq!(
        serde_json::to_string(&RunConfig::default()).unwrap(),
        r#"{"dataset":"mnist","num_units":128,"seed":0,"epochs":12,"lr":0.003,"batch_size":128,"schedule":"cosine","clip_grad_norm":1.0,"val_size":5000,"train_size":0,"test_size":0}"#
    );
    // Every key's JSON reads back to the same config.
    let all = RunConfig {
        cell: Cell::Gru,
        layers: 2,
        dropout: 0.1,
        noise: Noise::Auto,
        patch: Patch::Values(4),
        label_column: "y".into(),
        window: Count::Fixed(3),
        ..RunConfig::default()
    };
    let back: RunConfig = serde_json::from_str(&serde_json::to_string(&all).unwrap()).unwrap();
    assert_eq!(back, all);
}

#[test]
fn interval_levels_parse_or_refuse() {
    assert_eq!(interval_levels("80,95"), Some(vec![80.0, 95.0]));
    assert_eq!(
        interval_levels(" 95 , 50,80 "),
        Some(vec![50.0, 80.0, 95.0])
    );
    assert_eq!(interval_levels(""), Some(vec![]));
    for bad in ["100", "0", "80,80", "eighty", "80,", "-5", "NaN"] {
        assert_eq!(interval_levels(bad), None, "{bad}");
    }
}

#[test]
fn series_classification_refits_unless_validation_chooses_its_epochs() {
    let series = |text: &str| {
        parse(&format!("dataset = \"ts:d/X\"\n{text}"))
            .unwrap()
            .runs()[0]
            .refit
    };
    assert!(series(""));
    assert!(!series("task = \"regress\""));
    assert!(!series("refit = false"));
    // Validation that picks or stops the epochs leaves nothing for a refit to repeat.
    assert!(!series("keep = \"best_val\""));
    assert!(!series("patience = 5"));
    // Images keep training once (MNIST's ids stay).
    assert!(!parse("num_units = 8").unwrap().runs()[0].refit);
    let json = serde_json::to_string(&RunConfig::default()).unwrap();
    assert!(!json.contains("refit"), "{json}");
    for (text, want) in [
        (
            "dataset = \"ts:d/X\"\ntask = \"regress\"\nrefit = true",
            "t.toml:3: refit = true: applies to task = \"classify\", not task = \"regress\"",
        ),
        (
            "refit = true\nkeep = \"best_val\"",
            "t.toml:2: keep = \"best_val\": expected its default with refit = true",
        ),
        ("refit = 1", "t.toml:1: refit = 1: expected true or false"),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.starts_with(want), "{text:?} gave {e:?}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn scaling_is_a_series_classification_key_off_by_default() {
    let run = &parse("dataset = \"ts:d/X\"").unwrap().runs()[0];
    assert_eq!(run.scale_noise, 0.0);
    let json = serde_json::to_string(&RunConfig::default()).unwrap();
    assert!(!json.contains("scale_noise"), "{json}");
    for (text, want) in [
        (
            "dataset = \"ts:d/X\"\ntask = \"regress\"\nscale_noise = 0.1",
            "t.toml:3: scale_noise = 0.1: applies to task = \"classify\", not task = \"regress\"",
        ),
        (
            "scale_noise = 0.1",
            "t.toml:1: scale_noise = 0.1: expected series data (ts:, csv: or npz:)",
        ),
        (
            "scale_noise = 0.6",
            "t.toml:1: scale_noise = 0.6: expected a standard deviation between 0 (none) and 0.5",
        ),
        (
            "scale_noise = -0.1",
            "t.toml:1: scale_noise = -0.1: expected a standard deviation between 0 (none) and 0.5",
        ),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.starts_with(want), "{text:?} gave {e:?}");
        assert!(!e.contains('\n'), "{e}");
    }
}
