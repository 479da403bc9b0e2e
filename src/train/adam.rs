/*!
Adam whose state rowseq owns, so that a checkpoint can hold it. tch's `nn::Adam` wraps
libtorch's C++ `torch::optim::Adam` and exposes none of its moments; this optimizer keeps the
first and second moments and the step count itself and applies each update with the same
libtorch tensor operations as the C++ class (`csrc/adam.cpp`, called once per parameter), so
weights come out bit-identical to `nn::Adam::default()` (betas 0.9/0.999, eps 1e-8, no weight
decay): a unit test checks this on the real model. The tensor-op sequence matters: libtorch's
`add_(grad, alpha)` is a fused multiply-add, which tch's generated API cannot express.

`clip_grad_norm` reproduces tch's `Optimizer::clip_grad_norm` (same variable order, same ops).
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
        let exp_avg = params.iter().map(|(_, p)| p.zeros_like()).collect();
        let exp_avg_sq = params.iter().map(|(_, p)| p.zeros_like()).collect();
        Adam {
            lr,
            step: 0,
            params,
            exp_avg,
            exp_avg_sq,
        }
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

    /// Drops the gradients (libtorch's `zero_grad()` sets them to none).
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
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
