/*!
UEA/UCR `.ts` files (the sktime/aeon format): a header, `@data`, then one case per line.

```text
# comments (or %)
@problemName GunPoint
@timeStamps false          true is not supported (values must be plain numbers)
@missing false
@univariate true           or false with @dimensions D
@equalLength true          with @seriesLength N, or false for cases of different lengths
@classLabel true 1 2       the labels a case may have (classification)
@targetLabel true          or: each case ends in a real number (regression, task = "regress")
@data
-0.64,-0.64,...,-0.63:1                        one dimension, label after the last ':'
1.8,1.9,...:0.06,0.01,...:1                    D dimensions separated by ':'
```
Tags are case-insensitive. The dimensions of one case must have the same length; cases may
differ in length. Missing values (`?`), `NaN` and infinities are errors: impute or drop them
first. Every error names the file and line.
*/
use std::path::Path;

use super::series::{parse_value, read_text, Case, SeriesFile};
use crate::error::UserError;

/// The header tags a file may have.
const TAGS: &[&str] = &[
    "@problemname",
    "@timestamps",
    "@missing",
    "@univariate",
    "@dimensions",
    "@dimension",
    "@equallength",
    "@serieslength",
    "@classlabel",
    "@targetlabel",
    "@data",
];

/// Reads and checks one labelled `.ts` file.
pub fn read(path: &Path) -> Result<SeriesFile, UserError> {
    let text = read_text(path)?;
    parse(&text, path, false)
}

/// Reads and checks one `.ts` file of new series for `predict`: labelled as `read` wants, or
/// `@classLabel false` with cases of values only.
pub fn read_new(path: &Path) -> Result<SeriesFile, UserError> {
    let text = read_text(path)?;
    parse(&text, path, true)
}

/// Parses a `.ts` file; `unlabelled_ok`: `@classLabel false` (no labels) is allowed.
pub fn parse(text: &str, path: &Path, unlabelled_ok: bool) -> Result<SeriesFile, UserError> {
    if text.trim().is_empty() {
        return Err(UserError::data(
            path,
            "empty file: expected a .ts header (@problemName ... @data) and cases",
        ));
    }
    let mut header = Header::new(unlabelled_ok);
    let mut data_line = None;
    let mut cases: Vec<Case> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        if data_line.is_none() {
            if header.read(&HeaderLine::new(line, n, path))? {
                data_line = Some(n);
            }
            continue;
        }
        let case = parse_case(line, n, header.declared(), header.dims, path)?;
        header.check_case(&case, cases.first(), n, path)?;
        cases.push(case);
    }
    let Some(data_at) = data_line else {
        return Err(UserError::data(
            path,
            "no @data line: expected a .ts header ending in @data, then one case per line",
        ));
    };
    if cases.is_empty() {
        return Err(UserError::data_at(
            path,
            data_at,
            "@data is followed by no case: expected one case per line",
        ));
    }
    Ok(SeriesFile {
        path: path.to_path_buf(),
        features: cases[0].values.len() / cases[0].len,
        cases,
        labelled: header.labelled,
        targets: header.targets,
    })
}

/// One header line: its tag (lower case), the words after it, and where it is.
struct HeaderLine<'a> {
    text: &'a str,
    n: usize,
    path: &'a Path,
    tag: String,
    rest: Vec<&'a str>,
}

impl<'a> HeaderLine<'a> {
    fn new(text: &'a str, n: usize, path: &'a Path) -> HeaderLine<'a> {
        let mut words = text.split_whitespace();
        let tag = words.next().unwrap_or_default().to_ascii_lowercase();
        HeaderLine {
            text,
            n,
            path,
            tag,
            rest: words.collect(),
        }
    }

    /// The error `message` at this line.
    fn error(&self, message: impl Into<String>) -> UserError {
        UserError::data_at(self.path, self.n, message)
    }

    /// The tag's `true` or `false`.
    fn flag(&self) -> Result<bool, UserError> {
        match self.rest.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            _ => Err(self.error(format!(
                "{:?}: expected {} true or false",
                self.text, self.tag
            ))),
        }
    }

    /// The tag's positive integer.
    fn number(&self) -> Result<usize, UserError> {
        match self.rest.first().and_then(|w| w.parse::<usize>().ok()) {
            Some(v) if v > 0 => Ok(v),
            _ => Err(self.error(format!(
                "{:?}: expected {} and a positive integer",
                self.text, self.tag
            ))),
        }
    }
}

/// The header as read so far: what the cases after `@data` are checked against.
struct Header {
    /// `@classLabel false` (no labels) is allowed: new series for `predict`.
    unlabelled_ok: bool,
    /// The declared class labels (empty for targets or no labels); None before either tag.
    labels: Option<Vec<String>>,
    labelled: bool,
    targets: bool,
    dims: Option<usize>,
    univariate: Option<bool>,
    series_length: Option<usize>,
    equal_length: bool,
}

impl Header {
    fn new(unlabelled_ok: bool) -> Header {
        Header {
            unlabelled_ok,
            labels: None,
            labelled: true,
            targets: false,
            dims: None,
            univariate: None,
            series_length: None,
            equal_length: false,
        }
    }

    /// Reads one header line; true at `@data`, which ends the header.
    fn read(&mut self, line: &HeaderLine) -> Result<bool, UserError> {
        match line.tag.as_str() {
            "@problemname" | "@missing" => {}
            "@timestamps" => {
                if line.flag()? {
                    return Err(line.error(
                        "@timeStamps true is not supported: expected plain values (@timeStamps false)",
                    ));
                }
            }
            "@univariate" => self.univariate = Some(line.flag()?),
            "@dimensions" | "@dimension" => self.dims = Some(line.number()?),
            "@equallength" => self.equal_length = line.flag()?,
            "@serieslength" => self.series_length = Some(line.number()?),
            "@classlabel" => self.class_label(line)?,
            "@targetlabel" => self.target_label(line)?,
            "@data" => {
                self.data(line)?;
                return Ok(true);
            }
            tag if tag.starts_with('@') => {
                return Err(line.error(format!(
                    "unknown header tag {tag:?}: expected one of {}",
                    TAGS.join(", ")
                )))
            }
            _ => {
                return Err(line.error(format!(
                    "{:?} before @data: expected header lines (@problemName ... @data)",
                    shorten(line.text)
                )))
            }
        }
        Ok(false)
    }

    /// `@classLabel true LABEL ...`, or `false` where no labels are allowed.
    fn class_label(&mut self, line: &HeaderLine) -> Result<(), UserError> {
        if !line.flag()? && self.unlabelled_ok {
            self.labels = Some(Vec::new());
            self.labelled = false;
            return Ok(());
        }
        if !line.flag()? {
            return Err(line.error(
                "@classLabel false: expected a classification problem (@classLabel true and its labels)",
            ));
        }
        if line.rest.len() < 2 {
            return Err(line.error(
                "@classLabel true lists no labels: expected @classLabel true LABEL LABEL ...",
            ));
        }
        self.labels = Some(line.rest[1..].iter().map(|s| s.to_string()).collect());
        Ok(())
    }

    /// `@targetLabel true` (regression), or `false` where no labels are allowed.
    fn target_label(&mut self, line: &HeaderLine) -> Result<(), UserError> {
        self.labels = Some(Vec::new());
        self.targets = true;
        if !line.flag()? {
            if !self.unlabelled_ok {
                return Err(line.error(
                    "@targetLabel false: expected a regression problem (@targetLabel true, a number after each case)",
                ));
            }
            self.labelled = false;
        }
        Ok(())
    }

    /// `@data`: the header must have said what ends a case, and agree on its dimensions.
    fn data(&mut self, line: &HeaderLine) -> Result<(), UserError> {
        if self.labels.is_none() {
            return Err(line.error("@data before @classLabel: expected @classLabel true LABEL ... (or @targetLabel true) in the header"));
        }
        if self.univariate == Some(true) && self.dims.is_some_and(|d| d != 1) {
            return Err(
                line.error("@univariate true with @dimensions > 1: expected one of them to change")
            );
        }
        if self.univariate == Some(true) {
            self.dims = Some(1);
        }
        Ok(())
    }

    /// What ends each case, as the header declared it.
    fn declared(&self) -> Declared<'_> {
        let declared = self.labels.as_ref().expect("checked at @data");
        match (self.labelled, self.targets) {
            (false, _) => Declared::Nothing,
            (true, true) => Declared::Number,
            (true, false) => Declared::Classes(&declared[..]),
        }
    }

    /// A case at line `n` has the dimensions of the `first`, and the declared length.
    fn check_case(
        &self,
        case: &Case,
        first: Option<&Case>,
        n: usize,
        path: &Path,
    ) -> Result<(), UserError> {
        let at = |m: String| UserError::data_at(path, n, m);
        let f = case.values.len() / case.len;
        if let Some(d) = first.map(|c| c.values.len() / c.len).filter(|&d| d != f) {
            return Err(at(format!("{f} dimensions: expected {d} like the cases before (dimensions are separated by ':')")));
        }
        match self.series_length {
            Some(want) if self.equal_length && case.len != want => Err(at(format!(
                "series of length {}: expected {want} (@equalLength true, @seriesLength {want})",
                case.len
            ))),
            _ => Ok(()),
        }
    }
}

/// What ends a case: a declared class label, a target number (read and checked as one by
/// `series::to_tensors`, which names the line), or nothing.
enum Declared<'a> {
    Classes(&'a [String]),
    Number,
    Nothing,
}

/// One data line: dimensions separated by ':', values by ',', the label or target last (none
/// in a file with `@classLabel false`).
fn parse_case(
    line: &str,
    n: usize,
    declared: Declared,
    dims: Option<usize>,
    path: &Path,
) -> Result<Case, UserError> {
    let at = |m: String| UserError::data_at(path, n, m);
    let parts: Vec<&str> = line.split(':').collect();
    let (label, dimensions) = match declared {
        Declared::Classes(_) | Declared::Number => {
            let (label, dimensions) = parts.split_last().expect("split gives one part");
            let label = label.trim();
            let what = match declared {
                Declared::Number => "no target: expected the values, ':' and a number",
                _ => "no class label: expected the values, ':' and a label",
            };
            if parts.len() < 2 || label.is_empty() {
                return Err(at(format!("{what} at the end of the line")));
            }
            if let Declared::Classes(declared) = declared {
                if !declared.iter().any(|l| l == label) {
                    return Err(at(format!(
                        "class label {label:?} is not declared in @classLabel: expected one of {}",
                        declared.join(" ")
                    )));
                }
            }
            (label, dimensions)
        }
        Declared::Nothing => ("", &parts[..]),
    };
    if let Some(d) = dims {
        if dimensions.len() != d {
            return Err(at(format!(
                "{} dimensions: expected {d} (@dimensions; dimensions are separated by ':')",
                dimensions.len()
            )));
        }
    }
    let mut columns: Vec<Vec<f32>> = Vec::with_capacity(dimensions.len());
    for (d, text) in dimensions.iter().enumerate() {
        let what = format!("dimension {}", d + 1);
        let values = text
            .split(',')
            .enumerate()
            .map(|(k, v)| parse_value(v, &format!("{what}, value {}", k + 1)))
            .collect::<Result<Vec<f32>, String>>()
            .map_err(&at)?;
        if let Some(first) = columns.first() {
            if values.len() != first.len() {
                return Err(at(format!(
                    "dimension {} has {} values: expected {} like dimension 1 (the dimensions of a case must have the same length)",
                    d + 1,
                    values.len(),
                    first.len()
                )));
            }
        }
        columns.push(values);
    }
    let len = columns[0].len();
    let mut values = Vec::with_capacity(len * columns.len());
    for t in 0..len {
        values.extend(columns.iter().map(|c| c[t]));
    }
    Ok(Case {
        group: String::new(),
        values,
        len,
        label: label.to_string(),
        line: n,
    })
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "# a comment\n@problemName T\n@timeStamps false\n@missing false\n\
        @univariate false\n@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n";

    fn parse_str(text: &str) -> Result<SeriesFile, String> {
        parse(text, Path::new("x.ts"), false).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_multivariate_unequal_length_cases() {
        let f = parse_str(&format!("{HEADER}1,2,3:4,5,6:a\n\n7:8:b\n")).unwrap();
        assert_eq!(f.features, 2);
        assert_eq!(f.cases.len(), 2);
        assert_eq!(f.cases[0].values, [1., 4., 2., 5., 3., 6.]);
        assert_eq!((f.cases[0].len, f.cases[0].line), (3, 10));
        assert_eq!(f.cases[1].label, "b");
        assert_eq!((f.cases[1].len, f.cases[1].line), (1, 12));
    }

    #[test]
    fn new_series_for_predict_may_have_no_labels() {
        let text = "@univariate false\n@dimensions 2\n@classLabel false\n@data\n1,2:3,4\n5:6\n";
        let f = parse(text, Path::new("x.ts"), true).unwrap();
        assert!(!f.labelled);
        assert_eq!(f.cases[0].values, [1., 3., 2., 4.]);
        assert_eq!((f.cases[1].len, f.cases[1].label.as_str()), (1, ""));
        // Training files need labels.
        let e = parse(text, Path::new("x.ts"), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("@classLabel false: expected a classification problem"),
            "{e}"
        );
        // A labelled file read as new data keeps its labels.
        let f = parse(&format!("{HEADER}1:2:a\n"), Path::new("x.ts"), true).unwrap();
        assert!(f.labelled);
    }

    #[test]
    fn univariate_with_uppercase_tags() {
        let text = "%c\n@PROBLEMNAME U\n@univariate True\n@equalLength TRUE\n@seriesLength 3\n\
            @classLabel true 1 2\n@data\n1.5,2,-3e-1:2\r\n0,0,0:1\n";
        let f = parse_str(text).unwrap();
        assert_eq!(f.features, 1);
        assert_eq!(f.cases[0].values, [1.5, 2.0, -0.3]);
        assert_eq!(f.cases[0].label, "2");
    }

    #[test]
    fn bad_files_name_the_line_and_what_is_expected() {
        for (text, want) in [
            ("", "x.ts: empty file"),
            ("\n  \n", "x.ts: empty file"),
            (
                &format!("{HEADER}1,2:3:a\n"),
                "x.ts:10: dimension 2 has 1 values: expected 2",
            ),
            (
                &format!("{HEADER}1,x:3,4:a\n"),
                "x.ts:10: \"x\" in dimension 1, value 2: expected a number",
            ),
            (
                &format!("{HEADER}1,?:3,4:a\n"),
                "x.ts:10: missing value \"?\"",
            ),
            (
                &format!("{HEADER}1,NaN:3,4:a\n"),
                "x.ts:10: NaN in dimension 1, value 2: expected a finite number",
            ),
            (
                &format!("{HEADER}1,2:3,inf:a\n"),
                "x.ts:10: inf in dimension 2, value 2: expected a finite",
            ),
            (&format!("{HEADER}1,2:3,4:\n"), "x.ts:10: no class label"),
            (
                &format!("{HEADER}1,2:3,4\n"),
                "x.ts:10: class label \"3,4\" is not declared",
            ),
            (
                &format!("{HEADER}1,2:3,4:c\n"),
                "x.ts:10: class label \"c\" is not declared in @classLabel: expected one of a b",
            ),
            (
                &format!("{HEADER}1,2:a\n"),
                "x.ts:10: 1 dimensions: expected 2",
            ),
            (HEADER, "x.ts:9: @data is followed by no case"),
            (
                "@problemName x\n@classLabel true a\n",
                "x.ts: no @data line",
            ),
            (
                "1,2,3:a\n",
                "x.ts:1: \"1,2,3:a\" before @data: expected header lines",
            ),
            (
                "@problemName x\n@data\n1:a\n",
                "x.ts:2: @data before @classLabel",
            ),
            (
                "@classLabel false\n@data\n",
                "x.ts:1: @classLabel false: expected a classification problem",
            ),
            (
                "@timeStamps true\n",
                "x.ts:1: @timeStamps true is not supported",
            ),
            ("@foo 1\n", "x.ts:1: unknown header tag \"@foo\""),
            (
                "@dimensions two\n",
                "x.ts:1: \"@dimensions two\": expected @dimensions and a positive integer",
            ),
            (
                "@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2,3:a\n1,2:a\n",
                "x.ts:6: series of length 2: expected 3",
            ),
            (
                "@univariate false\n@classLabel true a\n@data\n1,2:3,4:a\n1,2:a\n",
                "x.ts:5: 1 dimensions: expected 2 like the cases before",
            ),
        ] {
            let e = parse_str(text).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
