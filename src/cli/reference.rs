/*!
The book's reference pages, made from the code: the command-line reference from clap (every
subcommand's `--help`, as it prints), and the config reference from the key table
(`config::reference`). `rowseq reference cli|config` prints one (a hidden command;
`scripts/docs.sh` writes them into `docs/src/reference/`), and a test fails when a committed
page differs from what the code makes, so neither can drift.
*/
use clap::{CommandFactory, ValueEnum};

use super::Cli;

/// The pages `rowseq reference` prints.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Page {
    /// docs/src/reference/cli.md: every command's help.
    Cli,
    /// docs/src/reference/config.md: every config key.
    Config,
}

impl Page {
    /// The page's Markdown.
    pub fn markdown(self) -> String {
        match self {
            Page::Cli => cli_markdown(),
            Page::Config => crate::config::reference::markdown(),
        }
    }
}

/// Every visible command's long help, in the order `rowseq --help` lists them.
fn cli_markdown() -> String {
    let mut root = Cli::command();
    let mut out = String::from(
        "<!-- Generated from src/cli by src/cli/reference.rs: do not edit. scripts/docs.sh \
         rewrites it. -->\n# Command-line reference\n\n\
         What `rowseq --help` and `rowseq COMMAND --help` print. Every run key of the \
         [config reference](config.md) is also a flag of `train` (and `--set KEY=VALUE` of \
         `sweep`).\n\n## rowseq\n\n```text\n",
    );
    out += &root.render_long_help().to_string();
    out += "```\n";
    for sub in root.get_subcommands_mut().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_string();
        let help = sub
            .clone()
            .bin_name(format!("rowseq {name}"))
            .render_long_help();
        out += &format!("\n## rowseq {name}\n\n```text\n{help}```\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches_the_book(page: Page, file: &str) {
        let path = format!("{}/docs/src/reference/{file}", env!("CARGO_MANIFEST_DIR"));
        let book = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            book == page.markdown(),
            "{path} differs from what the code makes: run scripts/docs.sh and commit it"
        );
    }

    #[test]
    fn cli_reference_matches_the_book() {
        matches_the_book(Page::Cli, "cli.md");
    }

    #[test]
    fn config_reference_matches_the_book() {
        matches_the_book(Page::Config, "config.md");
    }

    #[test]
    fn cli_reference_has_every_command() {
        let md = Page::Cli.markdown();
        for c in [
            "sweep", "train", "status", "slurm", "explain", "report", "bench", "predict",
        ] {
            assert!(md.contains(&format!("## rowseq {c}\n")), "{c}");
        }
        assert!(
            !md.contains("## rowseq reference"),
            "the hidden command stays out"
        );
    }
}
