/*!
Where the named data sets (mnist, fashion-mnist) are read from: `--data-dir`, else
`$ROWSEQ_DATA/<dataset>`, else `data/<dataset>` in the working folder. The other data sets name
their own files.
*/
use std::path::{Path, PathBuf};

use crate::error::UserError;

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
