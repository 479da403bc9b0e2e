/*!
Observers of training events: the progress display, TensorBoard event files, and the tests'
pause points (`hold`). Each is a `train::Sink`; the sweep runner hands a list of them to the
training loop. None of them changes or stops training: what is durable (metrics, checkpoint)
and when a run stops are the loop's `train::Policies`.
*/
pub mod hold;
pub mod progress;
pub mod tensorboard;

pub use progress::Progress;
pub use tensorboard::TensorBoard;
