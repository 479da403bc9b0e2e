/*!
Adam whose state rowseq owns, so that a checkpoint can hold it. tch's `nn::Adam` wraps
libtorch's C++ `torch::optim::Adam` and exposes none of its moments; this optimizer keeps the
first and second moments and the step count itself and applies each update with the same
libtorch tensor operations as the C++ class (`csrc/adam.cpp`, called once per parameter), so
weights come out bit-identical to `nn::Adam::default()` (betas 0.9/0.999, eps 1e-8, no weight
decay): a unit test checks this on the real model. The tensor-op sequence matters: libtorch's
`add_(grad, alpha)` is a fused multiply-add, which tch's generated API cannot express.

`clip_grad_norm` reproduces tch's `Optimizer::clip_grad_norm` (same variable order, same ops).

On the CPU the variables, their gradients and both moments are each laid out end to end in one
flat buffer (`Flat`; the VarStore's tensors become views of it), so that zeroing the gradients,
scaling them and the Adam update are one call each for the whole model instead of one per
variable: at 8 units they cost more than the step's arithmetic. The operations are elementwise,
so every element gets the same bits either way (the tests against `nn::Adam` check it); only
the norms for clipping are still taken variable by variable, as tch sums them.
*/
use anyhow::{anyhow, Result};
use tch::{nn, Tensor};

use crate::ffi::{self, AdamStep};

pub const BETA1: f64 = 0.9;
pub const BETA2: f64 = 0.999;
pub const EPS: f64 = 1e-8;

/// Adam over the trainable variables of a VarStore, in the store's order.
pub struct Adam {
    pub lr: f64,
    /// Updates applied so far.
    pub step: i64,
    /// (name, variable) pairs; names are the VarStore's.
    params: Vec<(String, Tensor)>,
    pub exp_avg: Vec<Tensor>,
    pub exp_avg_sq: Vec<Tensor>,
    /// On the CPU: the same tensors as views of four flat buffers.
    flat: Option<Flat>,
}

/// The variables, their gradients and Adam's moments, each in one buffer [N] in update order;
/// `Adam::params`, their `grad()`, `exp_avg` and `exp_avg_sq` are views of them.
struct Flat {
    params: Tensor,
    grads: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

impl Adam {
    pub fn new(vs: &nn::VarStore, lr: f64) -> Adam {
        let by_name = vs.variables();
        // The trainable order of the VarStore, which tch's optimizer also follows.
        let trainable = vs.trainable_variables();
        let params: Vec<(String, Tensor)> = trainable
            .iter()
            .map(|t| {
                let name = by_name
                    .iter()
                    .find(|(_, v)| v.data_ptr() == t.data_ptr())
                    .map(|(n, _)| n.clone())
                    .expect("every trainable variable is named");
                (name, t.shallow_clone())
            })
            .collect();
        let (exp_avg, exp_avg_sq, flat) = match Self::flatten(&params) {
            Some((flat, views)) => (views.0, views.1, Some(flat)),
            None => (
                params.iter().map(|(_, p)| p.zeros_like()).collect(),
                params.iter().map(|(_, p)| p.zeros_like()).collect(),
                None,
            ),
        };
        Adam {
            lr,
            step: 0,
            params,
            exp_avg,
            exp_avg_sq,
            flat,
        }
    }

    /// The flat layout of `params`, and the moments' per-variable views; None off the CPU
    /// (cuDNN keeps its own layout of the recurrent weights), for variables of several
    /// types, or for none. Each variable's values move into its part of one buffer (set_data:
    /// every handle on it sees the move) and its gradient becomes its part of another, zeroed.
    #[allow(clippy::type_complexity)]
    fn flatten(params: &[(String, Tensor)]) -> Option<(Flat, (Vec<Tensor>, Vec<Tensor>))> {
        let first = &params.first()?.1;
        let alike = |p: &Tensor| p.device() == tch::Device::Cpu && p.kind() == first.kind();
        if !params.iter().all(|(_, p)| alike(p)) {
            return None;
        }
        // Each variable's part of a flat buffer, in update order.
        let views = |buffer: &Tensor| -> Vec<Tensor> {
            let mut offset = 0;
            params
                .iter()
                .map(|(_, p)| {
                    let n = p.numel() as i64;
                    let v = buffer.narrow(0, offset, n).view(p.size().as_slice());
                    offset += n;
                    v
                })
                .collect()
        };
        let pieces: Vec<Tensor> = params
            .iter()
            .map(|(_, p)| p.detach().reshape([-1]))
            .collect();
        let values = tch::no_grad(|| Tensor::cat(&pieces, 0));
        let grads = values.zeros_like();
        for ((_, p), (value, grad)) in params.iter().zip(views(&values).iter().zip(views(&grads))) {
            let mut p = p.shallow_clone();
            p.set_data(value);
            ffi::set_grad(&mut p, &grad)
                .unwrap_or_else(|e| panic!("laying out the parameters failed: {e}"));
        }
        let (exp_avg, exp_avg_sq) = (values.zeros_like(), values.zeros_like());
        let moments = (views(&exp_avg), views(&exp_avg_sq));
        let flat = Flat {
            params: values,
            grads,
            exp_avg,
            exp_avg_sq,
        };
        Some((flat, moments))
    }

    /// Whether the variables, their gradients and the moments are laid out in flat buffers
    /// (on the CPU): then every variable has a gradient.
    pub fn is_flat(&self) -> bool {
        self.flat.is_some()
    }

    /// How many variables it updates.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// (name, variable) in update order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.params.iter().map(|(n, p)| (n.as_str(), p))
    }

    /// The `i`-th variable (a handle on the VarStore's tensor).
    pub fn param(&self, i: usize) -> Tensor {
        self.params[i].1.shallow_clone()
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Zeroes the gradients in place, as tch's `zero_grad()` does.
    pub fn zero_grad(&mut self) {
        match &mut self.flat {
            Some(flat) => {
                let _ = flat.grads.zero_();
            }
            None => {
                for (_, p) in &mut self.params {
                    p.zero_grad();
                }
            }
        }
    }

    /// Scales the gradients so that their global L2 norm is at most `max`.
    pub fn clip_grad_norm(&self, max: f64) {
        tch::no_grad(|| {
            let norms: Vec<Tensor> = self
                .params
                .iter()
                .map(|(_, p)| p.grad())
                .filter(|g| g.defined())
                .map(|g| g.norm())
                .collect();
            let total_norm = f64::try_from(Tensor::stack(&norms, 0).norm()).unwrap();
            let clip_coef = max / (total_norm + 1e-6);
            if clip_coef < 1.0 {
                if let Some(flat) = &self.flat {
                    let _ = flat.grads.shallow_clone().g_mul_scalar_(clip_coef);
                    return;
                }
                for (_, p) in &self.params {
                    let mut grad = p.grad();
                    if grad.defined() {
                        let _ = grad.g_mul_scalar_(clip_coef);
                    }
                }
            }
        })
    }

    /// One update of every variable that has a gradient.
    pub fn step(&mut self) -> Result<()> {
        self.step += 1;
        let step = AdamStep {
            step: self.step,
            lr: self.lr,
            beta1: BETA1,
            beta2: BETA2,
            eps: EPS,
        };
        tch::no_grad(|| {
            if let Some(f) = &mut self.flat {
                let (p, g, m, v) = (&mut f.params, &f.grads, &mut f.exp_avg, &mut f.exp_avg_sq);
                return ffi::adam_update(p, g, m, v, &step)
                    .map_err(|e| anyhow!("Adam update failed: {e}"));
            }
            for ((_, p), (m, v)) in self
                .params
                .iter_mut()
                .zip(self.exp_avg.iter_mut().zip(self.exp_avg_sq.iter_mut()))
            {
                let grad = p.grad();
                if !grad.defined() {
                    continue;
                }
                ffi::adam_update(p, &grad, m, v, &step)
                    .map_err(|e| anyhow!("Adam update failed: {e}"))?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::OptimizerConfig;
    use tch::{Device, Kind};

    use crate::model::{full_lengths, Arch, SeqClassifier};

    /// Trains two copies of the real model from the same init, one with tch's `nn::Adam`,
    /// one with ours, on the same batches (with clipping and a changing lr, as in a run).
    fn compare(clip: f64) {
        let make = || {
            let vs = nn::VarStore::new(Device::Cpu);
            let m = SeqClassifier::new(&vs.root(), &Arch::lstm(28, 16, 10));
            (vs, m)
        };
        let (vs_a, model_a) = make();
        let (mut vs_b, model_b) = make();
        let (mut vs_init, _) = make();
        // Same initial weights without relying on the (process-global) RNG.
        vs_b.copy(&vs_a).unwrap();
        vs_init.copy(&vs_a).unwrap();
        let mut theirs = nn::Adam::default().build(&vs_a, 0.01).unwrap();
        let mut ours = Adam::new(&vs_b, 0.01);
        for step in 0..12 {
            let x = Tensor::randn([32, 28, 28], (Kind::Float, Device::Cpu));
            let y = Tensor::randint(10, [32], (Kind::Int64, Device::Cpu));
            let lr = 0.01 / (1.0 + step as f64);
            theirs.set_lr(lr);
            ours.set_lr(lr);
            let lengths = full_lengths(32, 28, Device::Cpu);
            let loss = model_a
                .forward(&x, &lengths, true)
                .cross_entropy_for_logits(&y);
            theirs.zero_grad();
            loss.backward();
            if clip > 0.0 {
                theirs.clip_grad_norm(clip);
            }
            theirs.step();
            let loss = model_b
                .forward(&x, &lengths, true)
                .cross_entropy_for_logits(&y);
            ours.zero_grad();
            loss.backward();
            if clip > 0.0 {
                ours.clip_grad_norm(clip);
            }
            ours.step().unwrap();
        }
        let a = vs_a.variables();
        let b = vs_b.variables();
        assert_eq!(a.len(), b.len());
        for (name, ta) in &a {
            let tb = &b[name];
            assert!(
                ta.equal(tb),
                "{name} differs: max |a - b| = {}",
                (ta - tb).abs().max().double_value(&[])
            );
            assert!(
                !ta.equal(&vs_init.variables()[name]),
                "{name} did not train"
            );
        }
        assert_eq!(ours.step, 12);
        // The flat layout held throughout: every variable, its gradient and its moments are
        // still views of the four buffers (backward accumulated in place, nothing replaced).
        let flat = ours.flat.as_ref().expect("flat on the CPU");
        let mut offset = 0usize;
        for (i, (name, p)) in ours.params().enumerate() {
            let at = |buffer: &Tensor| buffer.data_ptr() as usize + 4 * offset;
            assert_eq!(p.data_ptr() as usize, at(&flat.params), "{name}");
            assert_eq!(
                p.grad().data_ptr() as usize,
                at(&flat.grads),
                "{name} gradient"
            );
            assert_eq!(
                ours.exp_avg[i].data_ptr() as usize,
                at(&flat.exp_avg),
                "{name}"
            );
            assert_eq!(
                ours.exp_avg_sq[i].data_ptr() as usize,
                at(&flat.exp_avg_sq),
                "{name}"
            );
            assert_eq!(
                p.data_ptr(),
                vs_b.variables()[name].data_ptr(),
                "{name} in the store"
            );
            offset += p.numel();
        }
        assert_eq!(offset as i64, flat.params.numel() as i64);
    }

    #[test]
    fn bit_identical_to_tch_adam() {
        compare(0.0);
    }

    #[test]
    fn bit_identical_to_tch_adam_with_clipping() {
        compare(0.5);
    }
}
