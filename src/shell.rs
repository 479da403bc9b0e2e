//! Quoting a word for a POSIX shell (bash), for the commands rowseq prints and writes: the
//! Slurm script, the command a sweep records, and the commands a report suggests.

/// Quotes a word for bash.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=,:+".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("/a/b.toml"), "/a/b.toml");
        assert_eq!(quote("name=\"x\""), r#"'name="x"'"#);
        assert_eq!(quote("num_units=[8, 16]"), "'num_units=[8, 16]'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
