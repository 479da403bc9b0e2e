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

/// `text` made safe to print on one terminal line: every control character (a newline, a
/// carriage return, ESC and the rest) is written as its Rust escape (`\n`, `\u{1b}`), so a name,
/// path or value can neither break a message into several lines nor drive the terminal.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(inert("a\nb"), "a\\nb");
        assert_eq!(inert("x\u{1b}[31my"), "x\\u{1b}[31my");
        assert_eq!(inert("tab\there\r"), "tab\\there\\r");
        assert_eq!(inert("naïve \"quoted\" path/é"), "naïve \"quoted\" path/é");
        assert_eq!(inert("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
    }
}
