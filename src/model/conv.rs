/*!
The convolutional branch beside the recurrent layers (`conv_filters`): LSTM-FCN's (Karim et
al. 2017), whose blocks are FCN's (Wang et al. 2017): three 1-D convolutions of N, 2N and N
filters with kernels 8, 5 and 3 (`arch::CONV_KERNELS`), stride 1 and "same" padding (k-1
zeros, the smaller half before), each followed by batch normalisation and ReLU, then the mean
over time. The head reads those N means beside the recurrent state.

It reads the timesteps the recurrent layers read ([B, T, F]: with a `patch`, P values of every
feature per step), so its cost per step is that of the steps the LSTM runs over.

Padding never changes a result, as for the recurrent layers: the network hands the branch the
steps up to the batch's longest sequence only, every block's input is zero past each
sequence's length (so a sequence padded in a batch is convolved as it is alone, with the
zeros of "same" padding), batch normalisation takes its statistics over the real steps only,
and the mean over time counts the real steps only. In evaluation, batch normalisation uses its
running statistics, updated as PyTorch's `nn.BatchNorm1d` updates them (momentum 0.1, the
unbiased variance), so the weights load into `nn.Conv1d(padding="same")` + `nn.BatchNorm1d`
(`scripts/load_in_pytorch.py`).

Variables, in PyTorch's names and drawing order: `conv.conv{i}.weight` [filters, inputs,
kernel] and `.bias` [filters], U(-1/sqrt(inputs·kernel), +) as `nn.Conv1d`'s; `conv.bn{i}.weight`
(ones) and `.bias` (zeros), trained; `conv.bn{i}.running_mean` (zeros) and `.running_var`
(ones), statistics saved with the weights but never trained.
*/

use tch::nn;
#[cfg(test)]
use tch::Kind;
use tch::Tensor;

use super::arch::Arch;

/// Batch normalisation's epsilon and running-statistics momentum (PyTorch's defaults).
pub const BN_EPS: f64 = 1e-5;
pub const BN_MOMENTUM: f64 = 0.1;

/// One block: a convolution, then batch normalisation and ReLU.
#[derive(Debug)]
struct Block {
    kernel: i64,
    weight: Tensor,
    bias: Tensor,
    scale: Tensor,
    shift: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
}

/// The branch: its blocks in order.
#[derive(Debug)]
pub struct ConvBranch {
    blocks: Vec<Block>,
}

impl ConvBranch {
    /// The branch of `arch` under `vs / "conv"`, or None when it has none (`conv = 0`).
    pub fn new(vs: &nn::Path, arch: &Arch) -> Option<ConvBranch> {
        let blocks = arch.conv_blocks();
        if blocks.is_empty() {
            return None;
        }
        let vs = vs / "conv";
        let blocks = blocks
            .iter()
            .enumerate()
            .map(|(i, &(inputs, filters, kernel))| {
                let k = 1.0 / ((inputs * kernel) as f64).sqrt();
                let u = nn::Init::Uniform { lo: -k, up: k };
                let conv = &vs / format!("conv{}", i + 1);
                let bn = &vs / format!("bn{}", i + 1);
                Block {
                    kernel,
                    weight: conv.var("weight", &[filters, inputs, kernel], u),
                    bias: conv.var("bias", &[filters], u),
                    scale: bn.var("weight", &[filters], nn::Init::Const(1.0)),
                    shift: bn.var("bias", &[filters], nn::Init::Const(0.0)),
                    running_mean: bn.zeros_no_train("running_mean", &[filters]),
                    running_var: bn.ones_no_train("running_var", &[filters]),
                }
            })
            .collect();
        Some(ConvBranch { blocks })
    }

    /// The branch on `x` [B, T, F] whose sequences have `mask` [B, 1, T] (true at real steps)
    /// and `lengths` [B, 1]: the mean over each sequence's real steps of the last block's
    /// outputs, [B, N]. `train` normalises with the batch's statistics (and updates the running
    /// ones); otherwise the running statistics normalise.
    pub fn forward(&self, x: &Tensor, mask: &Tensor, lengths: &Tensor, train: bool) -> Tensor {
        let kind = x.kind();
        let zero = Tensor::zeros([1], (kind, x.device()));
        // The real steps as 0/1 values, and their count: every block's statistics and the
        // final mean read them.
        let real = mask.to_kind(kind);
        let count = real.sum(kind);
        let mut h = x.transpose(1, 2);
        for block in &self.blocks {
            let input = h.where_self(mask, &zero);
            let before = (block.kernel - 1) / 2;
            let padded = input.constant_pad_nd([before, block.kernel - 1 - before]);
            let y = padded.conv1d(&block.weight, Some(&block.bias), [1], [0], [1], 1);
            h = block.normalise(&y, &real, &count, train).relu();
        }
        (h * &real).sum_dim_intlist(2, false, kind) / lengths.to_kind(kind)
    }
}

impl Block {
    /// Batch normalisation of `y` [B, N, T] over its real steps (`real` [B, 1, T], 1 at a real
    /// step and 0 past a sequence's length; `count` of them in all).
    fn normalise(&self, y: &Tensor, real: &Tensor, count: &Tensor, train: bool) -> Tensor {
        let n = y.size()[1];
        let (mean, var) = if train {
            let mean = (y * real).sum_dim_intlist([0, 2].as_slice(), true, y.kind()) / count;
            let centred = (y - &mean) * real;
            let var =
                (&centred * &centred).sum_dim_intlist([0, 2].as_slice(), true, y.kind()) / count;
            tch::no_grad(|| {
                let m = BN_MOMENTUM;
                let unbiased = &var * count / (count - 1.0).clamp_min(1.0);
                let mut rm = self.running_mean.shallow_clone();
                let mut rv = self.running_var.shallow_clone();
                rm.copy_(&(&rm * (1.0 - m) + mean.detach().view([n]) * m));
                rv.copy_(&(&rv * (1.0 - m) + unbiased.detach().view([n]) * m));
            });
            (mean, var)
        } else {
            (
                self.running_mean.view([1, n, 1]),
                self.running_var.view([1, n, 1]),
            )
        };
        (y - mean) / (var + BN_EPS).sqrt() * self.scale.view([1, n, 1]) + self.shift.view([1, n, 1])
    }
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    #[test]
    fn evaluation_matches_conv1d_and_batch_norm_written_out() {
        // One sequence of full length in evaluation: "same" convolutions (3 zeros before and
        // 4 after for kernel 8) and the running statistics, against libtorch's own
        // `batch_norm` and a convolution padded by hand.
        tch::manual_seed(4);
        let a = Arch {
            conv: 3,
            ..Arch::lstm(2, 4, 2)
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let branch = ConvBranch::new(&vs.root(), &a).unwrap();
        tch::no_grad(|| {
            for b in &branch.blocks {
                let _ = b.running_mean.shallow_clone().uniform_(-0.5, 0.5);
                let _ = b.running_var.shallow_clone().uniform_(0.5, 2.0);
                let _ = b.scale.shallow_clone().uniform_(0.5, 1.5);
            }
        });
        let x = Tensor::randn([1, 9, 2], (Kind::Float, Device::Cpu));
        let mask = Tensor::ones([1, 1, 9], (Kind::Bool, Device::Cpu));
        let lengths = Tensor::from_slice(&[9i64]).view([1, 1]);
        let ours = tch::no_grad(|| branch.forward(&x, &mask, &lengths, false));
        let mut h = x.transpose(1, 2);
        for b in &branch.blocks {
            let (before, after, c) = ((b.kernel - 1) / 2, b.kernel / 2, h.size()[1]);
            let p = Tensor::cat(
                &[
                    Tensor::zeros([1, c, before], (Kind::Float, Device::Cpu)),
                    h,
                    Tensor::zeros([1, c, after], (Kind::Float, Device::Cpu)),
                ],
                2,
            );
            let y = p.conv1d(&b.weight, Some(&b.bias), [1], [0], [1], 1);
            h = y
                .batch_norm(
                    Some(&b.scale),
                    Some(&b.shift),
                    Some(&b.running_mean),
                    Some(&b.running_var),
                    false,
                    BN_MOMENTUM,
                    BN_EPS,
                    false,
                )
                .relu();
        }
        let theirs = h.mean_dim([2].as_slice(), false, Kind::Float);
        assert_eq!(ours.size(), vec![1, 3]);
        assert!(ours.allclose(&theirs, 1e-5, 1e-6, false), "{ours} {theirs}");
    }

    #[test]
    fn training_statistics_match_batch_norm_and_update_like_pytorch() {
        // Full-length sequences in training: the batch's statistics, and running statistics
        // moved as libtorch's own training-mode `batch_norm` moves them.
        tch::manual_seed(6);
        let a = Arch {
            conv: 2,
            ..Arch::lstm(3, 4, 2)
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let branch = ConvBranch::new(&vs.root(), &a).unwrap();
        let b = &branch.blocks[0];
        let y = Tensor::randn([5, 2, 7], (Kind::Float, Device::Cpu));
        let real = Tensor::ones([5, 1, 7], (Kind::Float, Device::Cpu));
        let count = real.sum(Kind::Float);
        let (rm, rv) = (b.running_mean.copy(), b.running_var.copy());
        let ours = b.normalise(&y, &real, &count, true);
        let theirs = y.batch_norm(
            Some(&b.scale),
            Some(&b.shift),
            Some(&rm),
            Some(&rv),
            true,
            BN_MOMENTUM,
            BN_EPS,
            false,
        );
        assert!(ours.allclose(&theirs, 1e-5, 1e-5, false));
        assert!(b.running_mean.allclose(&rm, 1e-6, 1e-6, false));
        assert!(b.running_var.allclose(&rv, 1e-6, 1e-6, false));
    }
}
