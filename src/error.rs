/*!
Mistakes a user can fix, as opposed to bugs.

Every `UserError` is one line that names the file, key or value at fault and says what is
expected; `main` prints it as `error: ...` and exits with code 2. Anything else that goes wrong
(an I/O failure mid-run, say) travels as `anyhow::Error` with the path as context and exits 1.
*/
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A config file or `--set` override that does not parse or validate.
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },

    /// A command-line value that is out of range (clap checks the types).
    #[error("{flag} {value}: {expected}")]
    Arg {
        flag: String,
        value: String,
        expected: String,
    },

    /// A data file that is missing, corrupt or inconsistent.
    #[error("{}: {message}", path.display())]
    Data { path: PathBuf, message: String },

    /// A results directory that is not what the command expects.
    #[error("{}: {message}", path.display())]
    Store { path: PathBuf, message: String },

    /// The requested device cannot be used.
    #[error("--device {device}: {message}")]
    Device { device: String, message: String },
}

impl UserError {
    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        UserError::Data {
            path: path.into(),
            message: message.into(),
        }
    }
    /// A data file's problem at a 1-based line: `file:line: message`.
    pub fn data_at(path: &std::path::Path, line: usize, message: impl Into<String>) -> Self {
        UserError::Data {
            path: PathBuf::from(format!("{}:{line}", path.display())),
            message: message.into(),
        }
    }
    pub fn store(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        UserError::Store {
            path: path.into(),
            message: message.into(),
        }
    }
}
