/*!
The protocol buffers TensorBoard reads, written by hand as `prost` messages: just the fields we
write. Field numbers and types follow TensorBoard 2.x (`tensorboard/compat/proto/event.proto`,
`summary.proto`, `tensor.proto`, `plugins/hparams/api.proto` and `plugin_data.proto`); the unit
tests pin a few encodings, and `tests/tensorboard.rs` checks them against the real TensorBoard.

Constructors at the bottom build the summary values we use: scalars, histograms, PNG images,
text, and the hparams plugin's experiment and session records.
*/
use std::collections::HashMap;

use prost::Message;

/// `tensorboard.Event`: one record of an event file.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(oneof = "What", tags = "3, 5")]
    pub what: Option<What>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// The first record of every file: `brain.Event:2`.
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorboard.Summary`.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<Value>,
}

/// `tensorboard.Summary.Value`.
#[derive(Clone, PartialEq, Message)]
pub struct Value {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
    #[prost(oneof = "Kind", tags = "2, 4, 5, 8")]
    pub kind: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Kind {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    #[prost(message, tag = "4")]
    Image(Image),
    #[prost(message, tag = "5")]
    Histo(HistogramProto),
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `tensorboard.Summary.Image`: an encoded (PNG) image.
#[derive(Clone, PartialEq, Message)]
pub struct Image {
    #[prost(int32, tag = "1")]
    pub height: i32,
    #[prost(int32, tag = "2")]
    pub width: i32,
    /// 1 grayscale, 3 RGB, 4 RGBA.
    #[prost(int32, tag = "3")]
    pub colorspace: i32,
    #[prost(bytes = "vec", tag = "4")]
    pub encoded_image_string: Vec<u8>,
}

/// `tensorboard.HistogramProto`: bucket i spans (bucket_limit[i-1], bucket_limit[i]], the
/// first from `min`.
#[derive(Clone, PartialEq, Message)]
pub struct HistogramProto {
    #[prost(double, tag = "1")]
    pub min: f64,
    #[prost(double, tag = "2")]
    pub max: f64,
    #[prost(double, tag = "3")]
    pub num: f64,
    #[prost(double, tag = "4")]
    pub sum: f64,
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// `tensorboard.SummaryMetadata`.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    #[prost(string, tag = "2")]
    pub display_name: String,
    #[prost(string, tag = "3")]
    pub summary_description: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct PluginData {
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensorboard.TensorProto`, for strings (the text plugin) and the hparams plugin's empty
/// float tensor.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    /// 1 DT_FLOAT, 7 DT_STRING.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Dim {
    #[prost(int64, tag = "1")]
    pub size: i64,
}

const DT_FLOAT: i32 = 1;
const DT_STRING: i32 = 7;

// ---- The hparams plugin (`tensorboard.hparams`). ----

#[derive(Clone, PartialEq, Message)]
pub struct HParamsPluginData {
    #[prost(int32, tag = "1")]
    pub version: i32,
    #[prost(oneof = "HParamsData", tags = "2, 3, 4")]
    pub data: Option<HParamsData>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum HParamsData {
    #[prost(message, tag = "2")]
    Experiment(Experiment),
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

/// What the HParams dashboard shows: hyperparameters with their domains, and metrics.
#[derive(Clone, PartialEq, Message)]
pub struct Experiment {
    #[prost(string, tag = "6")]
    pub name: String,
    #[prost(string, tag = "1")]
    pub description: String,
    #[prost(double, tag = "3")]
    pub time_created_secs: f64,
    #[prost(message, repeated, tag = "4")]
    pub hparam_infos: Vec<HParamInfo>,
    #[prost(message, repeated, tag = "5")]
    pub metric_infos: Vec<MetricInfo>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HParamInfo {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub display_name: String,
    #[prost(string, tag = "3")]
    pub description: String,
    /// 1 string, 2 bool, 3 float64.
    #[prost(int32, tag = "4")]
    pub r#type: i32,
    #[prost(message, optional, tag = "5")]
    pub domain_discrete: Option<prost_types::ListValue>,
    /// Whether the value differs between sessions (the dashboard may hide constant ones).
    #[prost(bool, tag = "7")]
    pub differs: bool,
}

pub const DATA_TYPE_STRING: i32 = 1;
pub const DATA_TYPE_FLOAT64: i32 = 3;

#[derive(Clone, PartialEq, Message)]
pub struct MetricInfo {
    #[prost(message, optional, tag = "1")]
    pub name: Option<MetricName>,
    #[prost(string, tag = "3")]
    pub display_name: String,
    #[prost(string, tag = "4")]
    pub description: String,
    /// 0 unknown, 1 training, 2 validation.
    #[prost(int32, tag = "5")]
    pub dataset_type: i32,
}

/// A metric is the last value of the scalar `tag` in the session's run folder (`group` is a
/// sub-folder of it; empty for the folder itself).
#[derive(Clone, PartialEq, Message)]
pub struct MetricName {
    #[prost(string, tag = "1")]
    pub group: String,
    #[prost(string, tag = "2")]
    pub tag: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct SessionStartInfo {
    #[prost(map = "string, message", tag = "1")]
    pub hparams: HashMap<String, prost_types::Value>,
    #[prost(string, tag = "4")]
    pub group_name: String,
    #[prost(double, tag = "5")]
    pub start_time_secs: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct SessionEndInfo {
    /// `Status`: 1 success, 2 failure, 3 running.
    #[prost(int32, tag = "1")]
    pub status: i32,
    #[prost(double, tag = "2")]
    pub end_time_secs: f64,
}

/// How a session (one run) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success = 1,
    Failure = 2,
}

// ---- Constructors. ----

/// A scalar, read by the scalars dashboard.
pub fn scalar(tag: &str, value: f64) -> Value {
    Value {
        tag: tag.into(),
        metadata: None,
        kind: Some(Kind::SimpleValue(value as f32)),
    }
}

/// A histogram of `values` in `buckets` equal-width buckets from their min to their max.
/// Non-finite values are left out.
pub fn histogram(tag: &str, values: &[f32], buckets: usize) -> Value {
    let finite = values.iter().filter(|v| v.is_finite()).map(|&v| v as f64);
    let (mut min, mut max, mut num, mut sum, mut sum_squares) =
        (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0, 0.0);
    for v in finite.clone() {
        min = min.min(v);
        max = max.max(v);
        num += 1.0;
        sum += v;
        sum_squares += v * v;
    }
    if num == 0.0 {
        (min, max) = (0.0, 0.0);
    }
    let buckets = buckets.max(1);
    let width = (max - min) / buckets as f64;
    let mut counts = vec![0.0; buckets];
    for v in finite {
        let i = if width > 0.0 {
            (((v - min) / width) as usize).min(buckets - 1)
        } else {
            0
        };
        counts[i] += 1.0;
    }
    let bucket_limit = (1..=buckets)
        .map(|i| {
            if i == buckets {
                max
            } else {
                min + width * i as f64
            }
        })
        .collect();
    Value {
        tag: tag.into(),
        metadata: None,
        kind: Some(Kind::Histo(HistogramProto {
            min,
            max,
            num,
            sum,
            sum_squares,
            bucket_limit,
            bucket: counts,
        })),
    }
}

/// An RGB PNG image.
pub fn image(tag: &str, width: u32, height: u32, png: Vec<u8>, description: &str) -> Value {
    Value {
        tag: tag.into(),
        metadata: Some(SummaryMetadata {
            plugin_data: None,
            display_name: String::new(),
            summary_description: description.into(),
        }),
        kind: Some(Kind::Image(Image {
            height: height as i32,
            width: width as i32,
            colorspace: 3,
            encoded_image_string: png,
        })),
    }
}

/// Markdown text, read by the text dashboard.
pub fn text(tag: &str, markdown: &str) -> Value {
    Value {
        tag: tag.into(),
        metadata: Some(plugin_metadata("text", Vec::new())),
        kind: Some(Kind::Tensor(TensorProto {
            dtype: DT_STRING,
            tensor_shape: Some(TensorShapeProto { dim: Vec::new() }),
            string_val: vec![markdown.as_bytes().to_vec()],
        })),
    }
}

/// An hparams plugin record under its fixed tag, as TensorBoard's own `hparams.summary` writes
/// it (the metadata carries the data; the tensor is an empty float tensor).
pub fn hparams(data: HParamsData) -> Value {
    let tag = match &data {
        HParamsData::Experiment(_) => "_hparams_/experiment",
        HParamsData::SessionStartInfo(_) => "_hparams_/session_start_info",
        HParamsData::SessionEndInfo(_) => "_hparams_/session_end_info",
    };
    let content = HParamsPluginData {
        version: 0,
        data: Some(data),
    }
    .encode_to_vec();
    Value {
        tag: tag.into(),
        metadata: Some(plugin_metadata("hparams", content)),
        kind: Some(Kind::Tensor(TensorProto {
            dtype: DT_FLOAT,
            tensor_shape: Some(TensorShapeProto {
                dim: vec![Dim { size: 0 }],
            }),
            string_val: Vec::new(),
        })),
    }
}

fn plugin_metadata(plugin: &str, content: Vec<u8>) -> SummaryMetadata {
    SummaryMetadata {
        plugin_data: Some(PluginData {
            plugin_name: plugin.into(),
            content,
        }),
        display_name: String::new(),
        summary_description: String::new(),
    }
}

/// A number as a `google.protobuf.Value`.
pub fn number(x: f64) -> prost_types::Value {
    prost_types::Value {
        kind: Some(prost_types::value::Kind::NumberValue(x)),
    }
}

/// A string as a `google.protobuf.Value`.
pub fn string(s: &str) -> prost_types::Value {
    prost_types::Value {
        kind: Some(prost_types::value::Kind::StringValue(s.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_event_encodes_like_tensorflow() {
        // Event{wall_time: 1.0, step: 3, summary{value{tag: "a", simple_value: 0.5}}}, as
        // serialised by TensorFlow's Python protos.
        let event = Event {
            wall_time: 1.0,
            step: 3,
            what: Some(What::Summary(Summary {
                value: vec![scalar("a", 0.5)],
            })),
        };
        let want: Vec<u8> = vec![
            0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // wall_time
            0x10, 0x03, // step
            0x2a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, b'a', 0x15, 0, 0, 0, 0x3f, // summary
        ];
        assert_eq!(event.encode_to_vec(), want);
    }

    #[test]
    fn histogram_counts_every_finite_value_once() {
        let values: Vec<f32> = (0..100).map(|i| i as f32).chain([f32::NAN]).collect();
        let Some(Kind::Histo(h)) = histogram("h", &values, 10).kind else {
            panic!("not a histogram")
        };
        assert_eq!(h.num, 100.0);
        assert_eq!(h.bucket.iter().sum::<f64>(), 100.0);
        assert_eq!(h.bucket.len(), h.bucket_limit.len());
        assert_eq!(*h.bucket_limit.last().unwrap(), 99.0);
        assert_eq!((h.min, h.max), (0.0, 99.0));
        let Some(Kind::Histo(c)) = histogram("c", &[2.0; 5], 10).kind else {
            panic!()
        };
        assert_eq!(c.bucket[0], 5.0);
    }
}
