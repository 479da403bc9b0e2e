/*!
The integration tests, one binary with a module per area (as ripgrep's are): each runs the real
`rowseq` binary on small real or generated data. `common` holds what they share: the binary,
run folders, metrics without wall-clock fields, and the hold points that let a test act on a
run known to be exactly somewhere, however fast the machine.
*/
mod common;

mod asha;
mod augment;
mod bad_input;
mod bench;
mod capacity;
mod cells;
mod choice;
mod cli;
mod data;
mod ensemble;
mod explain;
mod keep;
mod kernel;
mod model_parts;
mod npz;
mod panel;
mod paper;
mod report;
mod resume;
mod tasks;
mod tensorboard;
