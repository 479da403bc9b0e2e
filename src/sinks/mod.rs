/*!
Subscribers to training events: the metrics file (the source of truth for every epoch) and
the progress display. Each sink is a `train::Sink`; the sweep runner hands a list of them to
the training loop.
*/
pub mod metrics;
pub mod progress;

pub use metrics::MetricsFile;
pub use progress::Progress;
