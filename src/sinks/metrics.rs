/*!
Writes `metrics.jsonl` after every epoch (atomically: the whole file is small), so a run
stopped mid-way keeps every finished epoch.
*/
use crate::store::RunDir;
use crate::train::{Event, Sink};

pub struct MetricsFile<'a> {
    pub dir: &'a RunDir,
}

impl Sink for MetricsFile<'_> {
    fn event(&mut self, event: &Event) -> anyhow::Result<()> {
        if let Event::Epoch { metrics, .. } = event {
            self.dir.write_metrics(metrics)?;
        }
        Ok(())
    }
}
