/*!
The Markdown texts of a run in TensorBoard's text dashboard: `run/config` (the run, its data
and its resolved config) and `run/environment` (versions, device and host).
*/
use crate::config::RunConfig;
use crate::records::Environment;
use crate::train::events::DataSummary;

/// Who a run is: its label, its id and the command line that ran it.
pub struct RunName {
    pub label: String,
    pub run_id: String,
    pub command: String,
}

/// The run, its data and its config as JSON.
pub fn config(run: &RunName, cfg: &RunConfig, params: i64, data: &DataSummary) -> String {
    let json = serde_json::to_string_pretty(cfg).expect("config serialises");
    format!(
        "**{}** (run id `{}`), {params} parameters; {} train / {} validation / {} test \
         examples of {}, {} timesteps x {} features; classes {}.\n\n```json\n{json}\n```\n\n\
         Command: `{}`",
        run.label,
        run.run_id,
        data.train,
        data.val,
        data.test,
        data.name,
        data.seq_len,
        data.features,
        data.class_names.join(", "),
        run.command
    )
}

/// The environment as a two-column table, with the host it ran on.
pub fn environment(e: &Environment) -> String {
    format!(
        "| | |\n|---|---|\n| rowseq | {} |\n| tch | {} |\n| libtorch | {} |\n\
         | device | {} |\n| CPU | {} |\n| threads | {} |\n| git commit | {} |\n| host | {} |",
        e.rowseq,
        e.tch,
        e.libtorch,
        e.device,
        e.processor.as_deref().unwrap_or("unknown"),
        e.threads,
        e.git_commit.as_deref().unwrap_or("unknown"),
        super::record::hostname().as_deref().unwrap_or("unknown")
    )
}
