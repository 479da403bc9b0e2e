/*!
`rowseq report bench.json`: the figures and table of a `rowseq bench` JSON, into a folder named
like the file without `.json` (`bench/bench-X.json` -> `bench/bench-X/`):

```text
bench_time_vs_units.{svg,png}    ms per training batch, rowseq and PyTorch, and their ratio
bench_gflops_vs_units.{svg,png}  training GFLOP/s of both against the sgemm peak
bench.md                         the table, the settings and the machine
```
Like the sweep report, every file depends on the JSON only, so re-rendering gives the same bytes.
*/
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::figures::bench::{GflopsVsUnits, TimeVsUnits};
use crate::records::bench::{BenchRecord, Measured};
use crate::store::write_atomic;
use crate::style;

/// `bench/bench-X.json` -> `bench/bench-X`.
pub fn default_dir(json: &Path) -> PathBuf {
    json.with_extension("")
}

/// Reads the bench JSON at `json` and writes its figures and `bench.md` to `out`.
pub fn render_files(record: &BenchRecord, out: &Path) -> Result<Vec<PathBuf>> {
    crate::store::output::claim_report_folder(out, "bench.md", "# rowseq bench")?;
    let mut files = style::render(&TimeVsUnits(record), out)?;
    files.extend(style::render(&GflopsVsUnits(record), out)?);
    let md = out.join("bench.md");
    write_atomic(&md, markdown(record).as_bytes())?;
    files.push(md);
    Ok(files)
}

/// `render_files` of the JSON at `json`.
pub fn render(json: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    render_files(&crate::store::load_bench(json)?, out)
}

/// The table in Markdown, with settings and machine.
pub fn markdown(r: &BenchRecord) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# rowseq bench\n");
    write_settings(&mut s, r);
    write_table(&mut s, r);
    write_peak(&mut s, r);
    s.push_str("![ms per batch](bench_time_vs_units.png)\n\n");
    s.push_str("![GFLOP/s](bench_gflops_vs_units.png)\n\n");
    write_machine(&mut s, r);
    s
}

/// The paragraph saying what was timed: the training step and the evaluation, and how.
fn write_settings(s: &mut String, r: &BenchRecord) {
    let _ = writeln!(
        s,
        "Training step (forward, cross-entropy, backward, clipping at {}, Adam) at batch {} \
         on {} with {} threads, {} warm-up and {} timed steps (median of {} chunks); evaluation \
         without gradients at batch {} over {} test images (best of 2 passes).\n",
        r.settings.clip_grad_norm,
        r.settings.batch_size,
        r.env.run.device,
        r.env.run.threads,
        r.settings.warmup,
        r.settings.steps,
        r.settings.chunks,
        r.settings.eval_batch,
        r.settings.eval_samples,
    );
}

/// The Markdown table, one line per width; a dash where PyTorch was not measured.
fn write_table(s: &mut String, r: &BenchRecord) {
    let _ = writeln!(
        s,
        "| units | params | rowseq ms/batch | PyTorch ms/batch | ratio | rowseq samples/s | PyTorch samples/s \
         | rowseq eval samples/s | PyTorch eval samples/s | rowseq GFLOP/s (% peak) | PyTorch GFLOP/s (% peak) |"
    );
    let _ = writeln!(s, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let dash = || "–".to_string();
    for w in &r.widths {
        let p = w.pytorch.as_ref();
        let gf = |m: &Measured| format!("{:.2} ({:.1} %)", m.gflops, m.percent_of_peak);
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {} | {} | {:.0} | {} | {:.0} | {} | {} | {} |",
            w.num_units,
            crate::summary::thousands(w.params),
            w.rowseq.ms_per_batch,
            p.map_or_else(dash, |p| format!("{:.2}", p.ms_per_batch)),
            w.ratio.map_or_else(dash, |x| format!("{x:.2}")),
            w.rowseq.samples_per_s,
            p.map_or_else(dash, |p| format!("{:.0}", p.samples_per_s)),
            w.rowseq.eval_samples_per_s,
            p.map_or_else(dash, |p| format!("{:.0}", p.eval_samples_per_s)),
            gf(&w.rowseq),
            p.map_or_else(dash, gf),
        );
    }
}

/// The sentence saying how GFLOP/s are counted and what the peak is.
fn write_peak(s: &mut String, r: &BenchRecord) {
    let peak = match r.sgemm.own_kernel_peak() {
        Some(own) => format!("the faster of two matmuls timed here, {own} GFLOP/s"),
        None => format!(
            "the best {n}x{n} float32 matmul here: {:.1} GFLOP/s",
            r.sgemm.gflops,
            n = r.sgemm.n
        ),
    };
    let _ = writeln!(
        s,
        "\nGFLOP/s count {} FLOPs per step (B batch, T = {} steps, I = {} inputs, H units); the \
         peak is {peak}.\n",
        r.settings.flops_formula, r.settings.seq_len, r.settings.features,
    );
}

/// The machine and versions, and the PyTorch reference's (or that there was none).
fn write_machine(s: &mut String, r: &BenchRecord) {
    let e = &r.env;
    let _ = writeln!(
        s,
        "Machine: {}; rowseq {} (commit {}), tch {}, libtorch {}{}.",
        e.cpu,
        e.run.rowseq,
        e.run.git_commit.as_deref().unwrap_or("unknown"),
        e.run.tch,
        e.run.libtorch,
        match e.cudnn {
            Some(true) => ", cuDNN",
            Some(false) => ", no cuDNN",
            None => "",
        }
    );
    match &r.reference {
        Some(t) => {
            let _ = writeln!(
                s,
                "Reference: scripts/bench_torch.py, PyTorch {} on Python {}, {} threads ({} inter-op).",
                t.torch, t.python, t.threads, t.interop_threads
            );
        }
        None => s.push_str("No PyTorch reference (--no-reference).\n"),
    }
}

/// The table printed at the end (and written by the report).
pub fn table(r: &BenchRecord) -> String {
    let mut s = String::new();
    let head = [
        "units",
        "params",
        "rowseq ms/b",
        "torch ms/b",
        "ratio",
        "rowseq smp/s",
        "torch smp/s",
        "rowseq eval/s",
        "torch eval/s",
        "rowseq GFLOP/s",
        "torch GFLOP/s",
    ];
    let widths = [5, 7, 11, 10, 5, 12, 11, 13, 12, 17, 17];
    let line = |cells: Vec<String>| -> String {
        let row: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        row.join("  ") + "\n"
    };
    s += &line(head.iter().map(|h| h.to_string()).collect());
    s += &"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1));
    s += "\n";
    let dash = || "-".to_string();
    for w in &r.widths {
        let p = w.pytorch.as_ref();
        let gf = |m: &Measured| format!("{:.2} ({:.1}%)", m.gflops, m.percent_of_peak);
        s += &line(vec![
            w.num_units.to_string(),
            w.params.to_string(),
            format!("{:.2}", w.rowseq.ms_per_batch),
            p.map_or_else(dash, |p| format!("{:.2}", p.ms_per_batch)),
            w.ratio.map_or_else(dash, |x| format!("{x:.2}")),
            format!("{:.0}", w.rowseq.samples_per_s),
            p.map_or_else(dash, |p| format!("{:.0}", p.samples_per_s)),
            format!("{:.0}", w.rowseq.eval_samples_per_s),
            p.map_or_else(dash, |p| format!("{:.0}", p.eval_samples_per_s)),
            gf(&w.rowseq),
            p.map_or_else(dash, gf),
        ]);
    }
    let peak = match r.sgemm.own_kernel_peak() {
        Some(own) => format!("peak: {own}"),
        None => format!(
            "sgemm peak {:.1} GFLOP/s ({n}x{n})",
            r.sgemm.gflops,
            n = r.sgemm.n
        ),
    };
    // The LSTM's path, in records that name it (older ones re-render as they were).
    let kernel = r.env.run.kernel.as_ref();
    s += &format!(
        "{peak}; batch {}, {} timed steps; {} with {} threads{}; {}\n",
        r.settings.batch_size,
        r.settings.steps,
        r.env.run.device,
        r.env.run.threads,
        kernel.map_or_else(String::new, |k| format!(", kernel {k}")),
        match &r.reference {
            Some(t) => format!("PyTorch {} (Python {})", t.torch, t.python),
            None => "no PyTorch reference".into(),
        },
    );
    s
}
