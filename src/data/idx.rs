/*!
IDX image sets (MNIST, Fashion-MNIST, any `idx:DIR`), raw or gzip-compressed, read by one
reader that checks every file: present, the right magic number, a length that matches its
header, and as many labels as images; MNIST's own files (`load`) also 28x28 images, the count
MNIST has, and digit labels. Gzip files (and torchvision's `MNIST/raw/` layout) are accepted
and unpacked in memory, never beyond the size the header declares.
*/
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::UserError;

pub const IMAGE_MAGIC: u32 = 0x0000_0803;
pub const LABEL_MAGIC: u32 = 0x0000_0801;
pub const ROWS: usize = 28;
pub const COLS: usize = 28;
pub const TRAIN_LEN: usize = 60_000;
pub const TEST_LEN: usize = 10_000;

/// The four standard file names, in the order train images, train labels, test images, test labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Raw MNIST bytes as the `mnist` crate returns them: images row-major, one byte per pixel.
pub struct RawMnist {
    pub train_images: Vec<u8>,
    pub train_labels: Vec<u8>,
    pub test_images: Vec<u8>,
    pub test_labels: Vec<u8>,
}

/// Finds, checks and reads the four MNIST files under `dir`: IDX files of MNIST's own shape
/// (28x28 images, 60,000 and 10,000 of them) with digit labels.
pub fn load(dir: &Path) -> Result<RawMnist, UserError> {
    let paths = locate(dir)?;
    let set = read_four(&paths, true)?;
    for (labels, path) in [
        (&set.train_labels, &paths[1]),
        (&set.test_labels, &paths[3]),
    ] {
        if let Some(pos) = labels.iter().position(|&l| l > 9) {
            return Err(UserError::data(
                path,
                format!("label {} at index {pos}: expected a digit 0-9", labels[pos]),
            ));
        }
    }
    Ok(RawMnist {
        train_images: set.train_images,
        train_labels: set.train_labels,
        test_images: set.test_images,
        test_labels: set.test_labels,
    })
}

/// The four files under `dir` (or `dir/MNIST/raw`, `dir/raw`), each raw or `.gz`.
pub fn locate(dir: &Path) -> Result<[PathBuf; 4], UserError> {
    locate_with(dir, "run scripts/setup.sh to fetch MNIST")
}

/// `locate`, with `hint` saying how to get the files.
pub fn locate_with(dir: &Path, hint: &str) -> Result<[PathBuf; 4], UserError> {
    if !dir.is_dir() {
        return Err(UserError::data(
            dir,
            format!("no such data folder; {hint}, or pass --data-dir with the four IDX files"),
        ));
    }
    let roots = [
        dir.to_path_buf(),
        dir.join("MNIST").join("raw"),
        dir.join("raw"),
    ];
    let find = |name: &str| {
        roots.iter().find_map(|root| {
            [root.join(name), root.join(format!("{name}.gz"))]
                .into_iter()
                .find(|p| p.is_file())
        })
    };
    let mut found = Vec::new();
    for name in FILES {
        match find(name) {
            Some(p) => found.push(p),
            None => {
                return Err(UserError::data(
                    dir.join(name),
                    format!("missing: expected {name} or {name}.gz ({hint})"),
                ))
            }
        }
    }
    Ok(found.try_into().expect("four files"))
}

/// An IDX image set of any size: train and test images (row-major bytes) with their labels.
pub struct ImageSet {
    pub rows: usize,
    pub cols: usize,
    pub train_images: Vec<u8>,
    pub train_labels: Vec<u8>,
    pub test_images: Vec<u8>,
    pub test_labels: Vec<u8>,
}

/// Reads the four IDX files under `dir` (the MNIST names, raw or `.gz`) of any image size and
/// count, checking headers, lengths, and that images and labels agree.
pub fn load_images(dir: &Path, hint: &str) -> Result<ImageSet, UserError> {
    read_four(&locate_with(dir, hint)?, false)
}

/// The four files, each read and checked (`read_file`; with `mnist`, of MNIST's own shape),
/// then checked together: test images as large as the training ones, a label per image.
fn read_four(paths: &[PathBuf; 4], mnist: bool) -> Result<ImageSet, UserError> {
    let mut parts = Vec::with_capacity(4);
    for (i, path) in paths.iter().enumerate() {
        let count = mnist.then_some(if i < 2 { TRAIN_LEN } else { TEST_LEN });
        parts.push(read_file(path, i % 2 == 0, count)?);
    }
    let (rows, cols) = (parts[0].1, parts[0].2);
    if (parts[2].1, parts[2].2) != (rows, cols) {
        return Err(UserError::data(
            &paths[2],
            format!(
                "images are {}x{}: expected {rows}x{cols} like the training images",
                parts[2].1, parts[2].2
            ),
        ));
    }
    for (images, labels) in [(0, 1), (2, 3)] {
        let n_images = parts[images].0.len() / (rows * cols).max(1);
        let n_labels = parts[labels].0.len();
        if n_images != n_labels {
            return Err(UserError::data(
                &paths[labels],
                format!(
                    "{n_labels} labels: expected {n_images}, one per image of {}",
                    paths[images].display()
                ),
            ));
        }
        if n_labels == 0 {
            return Err(UserError::data(
                &paths[labels],
                "no labels: expected at least one example",
            ));
        }
    }
    let mut it = parts.into_iter().map(|p| p.0);
    let mut next = || it.next().expect("four parts");
    Ok(ImageSet {
        rows,
        cols,
        train_images: next(),
        train_labels: next(),
        test_images: next(),
        test_labels: next(),
    })
}

/// One IDX file of unsigned bytes, raw or `.gz`, checked (`read_idx`); with `mnist_count`,
/// also of MNIST's shape: 28x28 images and that many of them.
fn read_file(
    path: &Path,
    images: bool,
    mnist_count: Option<usize>,
) -> Result<(Vec<u8>, usize, usize), UserError> {
    let part = read_maybe_gz(path, images)?;
    let Some(count) = mnist_count else {
        return Ok(part);
    };
    let what = if images { "images" } else { "labels" };
    let n = if images {
        part.0.len() / (part.1 * part.2)
    } else {
        part.0.len()
    };
    if n != count {
        return Err(UserError::data(
            path,
            format!(
                "header says {n} {what}: expected {count} (MNIST {} set), as many as its {}",
                if count == TRAIN_LEN {
                    "training"
                } else {
                    "test"
                },
                if images { "labels" } else { "images" }
            ),
        ));
    }
    if images && (part.1, part.2) != (ROWS, COLS) {
        return Err(UserError::data(
            path,
            format!("images are {}x{}: expected {ROWS}x{COLS}", part.1, part.2),
        ));
    }
    Ok(part)
}

/// Opens `path`, through a gzip decoder for a `.gz` file, and reads it as IDX (`read_idx`).
fn read_maybe_gz(path: &Path, images: bool) -> Result<(Vec<u8>, usize, usize), UserError> {
    let f = File::open(path).map_err(|e| UserError::data(path, format!("cannot open: {e}")))?;
    if path.extension().is_some_and(|e| e == "gz") {
        read_idx(
            flate2::read::GzDecoder::new(f),
            path,
            images,
            "corrupt gzip",
        )
    } else {
        read_idx(f, path, images, "cannot read")
    }
}

/// The payload of an IDX file of unsigned bytes read from `r`, with its image size (0x0 for
/// labels). The header is read first and the payload through `take(declared + 1)`, so reading
/// stops at the first byte too many: a small file that decompresses to gigabytes is refused
/// after its declared size, not unpacked whole. `failed` says what a read error means.
fn read_idx(
    r: impl Read,
    path: &Path,
    images: bool,
    failed: &str,
) -> Result<(Vec<u8>, usize, usize), UserError> {
    let err = |m: String| UserError::data(path, m);
    let header_len: usize = if images { 16 } else { 8 };
    let mut r = r;
    let mut header = Vec::with_capacity(header_len);
    (&mut r)
        .take(header_len as u64)
        .read_to_end(&mut header)
        .map_err(|e| err(format!("{failed}: {e}")))?;
    if header.len() < header_len {
        return Err(err(format!(
            "truncated: {} bytes, shorter than the {header_len}-byte IDX header",
            header.len()
        )));
    }
    let word = |i: usize| u32::from_be_bytes(header[4 * i..4 * i + 4].try_into().unwrap()) as usize;
    let (magic, what) = if images {
        (IMAGE_MAGIC, "images")
    } else {
        (LABEL_MAGIC, "labels")
    };
    if word(0) as u32 != magic {
        return Err(err(format!(
            "bad magic number 0x{:08x}: expected 0x{magic:08x} (IDX {what}, unsigned bytes)",
            word(0)
        )));
    }
    let n = word(1);
    let (rows, cols) = if images { (word(2), word(3)) } else { (0, 0) };
    if images && (rows == 0 || cols == 0) {
        return Err(err(format!(
            "images are {rows}x{cols}: expected at least 1x1"
        )));
    }
    let declared = [n, rows.max(1), cols.max(1)]
        .into_iter()
        .try_fold(1usize, |a, b| a.checked_mul(b))
        .filter(|&d| d < u64::MAX as usize)
        .ok_or_else(|| {
            err(format!(
                "header declares {n} {what} of {rows}x{cols}: too large"
            ))
        })?;
    let want = header_len + declared;
    // No capacity from the header: it may declare far more than the file holds.
    let mut payload = Vec::new();
    r.take(declared as u64 + 1)
        .read_to_end(&mut payload)
        .map_err(|e| err(format!("{failed}: {e}")))?;
    if payload.len() > declared {
        return Err(err(format!(
            "oversized file: more than the {want} bytes expected for {n} {what}"
        )));
    }
    if payload.len() < declared {
        return Err(err(format!(
            "truncated file: {} bytes, expected {want} for {n} {what}",
            header_len + payload.len()
        )));
    }
    Ok((payload, rows, cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], payload: usize) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend(std::iter::repeat_n(0u8, payload));
        v
    }

    fn check_bytes(bytes: &[u8], images: bool, count: usize) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        read_file(&p, images, Some(count))
            .map(|_| ())
            .map_err(|e| e.to_string().replace(&p.display().to_string(), "f"))
    }

    #[test]
    fn good_headers_pass() {
        assert!(check_bytes(&idx(IMAGE_MAGIC, &[3, 28, 28], 3 * 784), true, 3).is_ok());
        assert!(check_bytes(&idx(LABEL_MAGIC, &[3], 3), false, 3).is_ok());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let cases = [
            (
                idx(LABEL_MAGIC, &[3, 28, 28], 3 * 784),
                true,
                "bad magic number 0x00000801",
            ),
            (
                idx(IMAGE_MAGIC, &[3, 28, 28], 3 * 784 - 1),
                true,
                "truncated file",
            ),
            (
                idx(IMAGE_MAGIC, &[3, 28, 28], 3 * 784 + 5),
                true,
                "oversized file",
            ),
            (
                idx(IMAGE_MAGIC, &[3, 32, 32], 3 * 1024),
                true,
                "images are 32x32",
            ),
            (
                idx(LABEL_MAGIC, &[4], 4),
                false,
                "header says 4 labels: expected 3",
            ),
            (vec![0, 0, 8], false, "truncated: 3 bytes"),
        ];
        for (bytes, images, want) in cases {
            let e = check_bytes(&bytes, images, 3).unwrap_err();
            assert!(e.starts_with("f: ") && e.contains(want), "{e}");
        }
    }

    #[test]
    fn missing_folder_and_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&dir.path().join("nope")).err().unwrap().to_string();
        assert!(e.contains("no such data folder"), "{e}");
        let e = load(dir.path()).err().unwrap().to_string();
        assert!(e.contains("train-images-idx3-ubyte: missing"), "{e}");
    }

    #[test]
    fn any_image_size_loads_and_counts_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        let write =
            |name: &str, bytes: Vec<u8>| std::fs::write(dir.path().join(name), bytes).unwrap();
        write(FILES[0], idx(IMAGE_MAGIC, &[3, 2, 5], 30));
        write(FILES[1], idx(LABEL_MAGIC, &[3], 3));
        write(FILES[2], idx(IMAGE_MAGIC, &[2, 2, 5], 20));
        write(FILES[3], idx(LABEL_MAGIC, &[2], 2));
        let set = load_images(dir.path(), "hint").unwrap();
        assert_eq!((set.rows, set.cols, set.train_labels.len()), (2, 5, 3));
        assert_eq!(set.test_images.len(), 20);
        write(FILES[3], idx(LABEL_MAGIC, &[1], 1));
        let e = load_images(dir.path(), "hint").err().unwrap().to_string();
        assert!(
            e.contains("t10k-labels-idx1-ubyte: 1 labels: expected 2"),
            "{e}"
        );
        write(FILES[2], idx(IMAGE_MAGIC, &[2, 5, 2], 20));
        let e = load_images(dir.path(), "hint").err().unwrap().to_string();
        assert!(e.contains("images are 5x2: expected 2x5"), "{e}");
        std::fs::remove_file(dir.path().join(FILES[0])).unwrap();
        let e = load_images(dir.path(), "get it so")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("(get it so)"), "{e}");
    }

    /// A reader of `head`, then zeros without end, counting what it served.
    struct Endless<'a> {
        head: Vec<u8>,
        served: &'a std::cell::Cell<usize>,
    }

    impl Read for Endless<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let at = self.served.get();
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.head.get(at + i).copied().unwrap_or(0);
            }
            self.served.set(at + buf.len());
            Ok(buf.len())
        }
    }

    #[test]
    fn reading_stops_at_the_first_byte_past_the_declared_size() {
        let served = std::cell::Cell::new(0);
        let head = idx(IMAGE_MAGIC, &[3, 28, 28], 0);
        let reader = Endless {
            head,
            served: &served,
        };
        let e = read_idx(reader, Path::new("f"), true, "cannot read")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("oversized file: more than the 2368 bytes"),
            "{e}"
        );
        assert_eq!(served.get(), 16 + 3 * 784 + 1);
    }

    #[test]
    fn a_gzip_that_unpacks_past_its_header_is_refused() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&idx(LABEL_MAGIC, &[3], 1 << 20)).unwrap();
        std::fs::write(&p, gz.finish().unwrap()).unwrap();
        let e = read_file(&p, false, None).err().unwrap().to_string();
        assert!(
            e.contains("oversized file: more than the 11 bytes expected for 3 labels"),
            "{e}"
        );
    }

    #[test]
    fn corrupt_gzip_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        for name in FILES {
            std::fs::write(dir.path().join(format!("{name}.gz")), b"not gzip").unwrap();
        }
        let e = load(dir.path()).err().unwrap().to_string();
        assert!(
            e.contains("train-images-idx3-ubyte.gz: corrupt gzip"),
            "{e}"
        );
    }
}
