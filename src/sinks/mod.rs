/*!
Subscribers to training events: the metrics file (the source of truth for every epoch), the
progress display and TensorBoard event files. Each sink is a `train::Sink`; the sweep runner hands a list of them to
the training loop.
*/
pub mod hold;
pub mod metrics;
pub mod progress;
pub mod tensorboard;

pub use metrics::MetricsFile;
pub use progress::Progress;
pub use tensorboard::TensorBoard;
