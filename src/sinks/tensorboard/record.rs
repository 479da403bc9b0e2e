/*!
TensorBoard event files: TFRecord framing of `Event` protos. Each record is

```text
u64 length (little-endian) | u32 masked crc32c(length) | data | u32 masked crc32c(data)
```

A file is named `events.out.tfevents.<unix seconds>.<host>.<pid>.<n>` with `n` counting the
files this process opened (the experiment's ends in `.hparams-experiment`), and is created with `create_new`, so two writers never share or
overwrite a file (TensorBoard's own writers name files by the second only). Records go through
a buffer; `flush` after each epoch makes them visible to a running TensorBoard.
*/
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use prost::Message;

use super::proto::{Event, Summary, Value, What};
use crate::store::tensorboard::EVENT_FILE_PREFIX;

static FILES_OPENED: AtomicUsize = AtomicUsize::new(0);

/// An open event file.
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventWriter {
    /// Creates a new event file in `dir` (created if missing) and writes its version record.
    pub fn create(dir: &Path) -> Result<Self> {
        Self::create_suffixed(dir, "")
    }

    /// As `create`, the file's name ending in `suffix` (which marks what it holds, as
    /// `EXPERIMENT_SUFFIX` does; TensorBoard reads any name with `tfevents` in it).
    pub fn create_suffixed(dir: &Path, suffix: &str) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create TensorBoard folder '{}'", dir.display()))?;
        let now = unix_seconds();
        let host = file_host();
        let pid = std::process::id();
        let path = loop {
            let n = FILES_OPENED.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(
                "{EVENT_FILE_PREFIX}{}.{host}.{pid}.{n}{suffix}",
                now as u64
            ));
            if !path.exists() {
                break path;
            }
        };
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("could not create event file '{}'", path.display()))?;
        let mut writer = EventWriter {
            path,
            out: BufWriter::new(file),
        };
        writer.write(&Event {
            wall_time: now,
            step: 0,
            what: Some(What::FileVersion("brain.Event:2".into())),
        })?;
        Ok(writer)
    }

    /// Writes summary values at `step`, stamped with the current time.
    pub fn summary(&mut self, step: i64, value: Vec<Value>) -> Result<()> {
        self.write(&Event {
            wall_time: unix_seconds(),
            step,
            what: Some(What::Summary(Summary { value })),
        })
    }

    pub fn write(&mut self, event: &Event) -> Result<()> {
        let data = event.encode_to_vec();
        self.out
            .write_all(&frame(&data))
            .with_context(|| format!("could not write event file '{}'", self.path.display()))
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out
            .flush()
            .with_context(|| format!("could not write event file '{}'", self.path.display()))
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// One TFRecord: header, data, checksums.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// TFRecord's checksum: CRC-32C, rotated and offset so that CRCs of CRCs stay distinct.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// CRC-32C (Castagnoli), bitwise with a table built at compile time.
pub fn crc32c(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0x82f6_3b78 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in data {
        crc = TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

pub fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The name of the host this runs on (`/proc/sys/kernel/hostname`, else `$HOSTNAME`), if
/// either says.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
}

/// The host name for file names (TensorBoard's convention), reduced to safe characters.
fn file_host() -> String {
    let raw = hostname().unwrap_or_else(|| "localhost".into());
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if clean.is_empty() {
        "localhost".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn frames_carry_length_and_checksums() {
        let f = frame(b"abc");
        assert_eq!(f.len(), 3 + 16);
        assert_eq!(&f[..8], &3u64.to_le_bytes());
        assert_eq!(&f[8..12], &masked_crc(&3u64.to_le_bytes()).to_le_bytes());
        assert_eq!(&f[12..15], b"abc");
        assert_eq!(&f[15..], &masked_crc(b"abc").to_le_bytes());
    }

    #[test]
    fn two_writers_in_one_folder_get_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = EventWriter::create(dir.path()).unwrap();
        let b = EventWriter::create(dir.path()).unwrap();
        assert_ne!(a.path, b.path);
        drop((a, b));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
