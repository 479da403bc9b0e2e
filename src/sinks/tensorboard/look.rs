/*!
What an epoch's `Look` at the model becomes in TensorBoard: histograms of every variable and
its last gradient, a histogram of the probe examples' final hidden states with the share of
saturated units, and, for image data, the grid of the probe images the model got wrong
(drawn by `image`).
*/
use anyhow::Result;

use super::image;
use super::proto::{self, Value};
use crate::model::SATURATED;
use crate::train::events::ProbeImages;
use crate::train::{Look, Probe};

/// At most this many misclassified digits per grid.
const MAX_TILES: usize = 32;
const GRID_COLUMNS: usize = 8;
const HISTOGRAM_BUCKETS: usize = 30;

/// Histograms of every variable and of its gradient from the last batch, by name.
pub fn variable_histograms(look: &Look) -> Vec<Value> {
    let mut values = Vec::with_capacity(2 * look.variables.len());
    for v in &look.variables {
        values.push(proto::histogram(
            &format!("weights/{}", v.name),
            &v.values,
            HISTOGRAM_BUCKETS,
        ));
        if let Some(grad) = &v.grad {
            values.push(proto::histogram(
                &format!("gradients/{}", v.name),
                grad,
                HISTOGRAM_BUCKETS,
            ));
        }
    }
    values
}

/// What the probe examples did: a histogram of what the head reads (h_T; both directions'
/// final states when bidirectional), the share of saturated units, and (image data only, with
/// the probe examples as `images`) the grid of misclassified images.
pub fn probed(probe: &Probe, images: Option<&ProbeImages>, epoch: usize) -> Result<Vec<Value>> {
    let h = &probe.last_hidden;
    let saturated = h.iter().filter(|v| v.abs() as f64 > SATURATED).count() as f64;
    let mut values = vec![
        proto::histogram("hidden/h_T", h, HISTOGRAM_BUCKETS),
        proto::scalar("hidden/saturated_share", saturated / h.len().max(1) as f64),
    ];
    if let Some(images) = images {
        values.push(mistakes(probe, images, epoch)?);
    }
    Ok(values)
}

/// The grid of the probe images that `probe` misclassified, with its description.
fn mistakes(probe: &Probe, images: &ProbeImages, epoch: usize) -> Result<Value> {
    let ((rows, cols), pixels, truth) = (images.shape, &images.inputs, &images.classes);
    let predicted = &probe.predicted;
    let per_example = pixels.len() / truth.len().max(1);
    let wrong: Vec<usize> = (0..truth.len())
        .filter(|&i| predicted[i] != truth[i])
        .collect();
    let tiles: Vec<image::Tile> = wrong
        .iter()
        .take(MAX_TILES)
        .map(|&i| image::Tile {
            // The first R·C values of a sequence are its image, whatever the patch.
            pixels: pixels[i * per_example..][..(rows * cols) as usize].to_vec(),
            rows: rows as usize,
            cols: cols as usize,
            truth: truth[i] as usize,
            predicted: predicted[i] as usize,
        })
        .collect();
    let grid = image::grid(&tiles, GRID_COLUMNS);
    let description = format!(
        "Epoch {epoch}: {} of the first {} test images misclassified; {} shown, the true label \
         in green (left), the prediction in red (right).",
        wrong.len(),
        truth.len(),
        tiles.len()
    );
    Ok(proto::image(
        "mistakes/test",
        grid.width as u32,
        grid.height as u32,
        grid.png()?,
        &description,
    ))
}
