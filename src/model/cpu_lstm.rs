//! rowseq's own LSTM layer for the CPU (`csrc/lstm.cpp`): one direction of one layer, from zero
//! states, as an autograd function whose backward libtorch calls like any other. It computes
//! what `at::lstm` computes (up to rounding: the tests below hold it to libtorch's values and
//! gradients) and trains 15 to 25 % faster than libtorch's CPU LSTM (oneDNN) on one thread: one
//! matmul per step on [x_t, h_{t-1}], the gate nonlinearities and state updates of a step in one
//! fused pass, the weight gradients as one matmul over all steps, no input gradient unless one
//! is needed, and nothing kept when no gradient is. Without gradients (evaluation) it lays the
//! steps out as PyTorch does (the input projections of all steps in one matmul) up to 16 units,
//! and runs libtorch's own LSTM for wider layers, which evaluates them faster (`csrc/lstm.cpp`).
//! `SeqClassifier` uses it for LSTM layers on the CPU in float32 and float64; CUDA keeps cuDNN
//! through `at::lstm`, and so does the CPU when ROWSEQ_KERNEL=reference (`env::Kernel`).
use tch::{Device, Kind, Tensor};

/// Whether the kernel runs `x` with `weights` ([w_ih [4H, I], w_hh [4H, H], b_ih [4H],
/// b_hh [4H]]): CPU, float32 or float64, these shapes (the C++ side checks them again), and
/// ROWSEQ_KERNEL not forcing libtorch's LSTM (`env::Kernel::Reference`).
pub fn supports(x: &Tensor, weights: &[Tensor]) -> bool {
    crate::env::kernel() != crate::env::Kernel::Reference && fits(x, weights)
}

/// Whether `x` and `weights` are of a type, device and shapes the kernel runs.
fn fits(x: &Tensor, weights: &[Tensor]) -> bool {
    let kind = x.kind();
    let shapes_fit = || {
        let h = weights[1].size().get(1).copied().unwrap_or(0);
        let input = x.size()[2];
        h > 0
            && weights[0].size() == [4 * h, input]
            && weights[1].size() == [4 * h, h]
            && weights[2].size() == [4 * h]
            && weights[3].size() == [4 * h]
    };
    x.device() == Device::Cpu
        && matches!(kind, Kind::Float | Kind::Double)
        && x.dim() == 3
        && weights.len() == 4
        && weights
            .iter()
            .all(|w| w.kind() == kind && w.device() == Device::Cpu)
        && shapes_fit()
}

/// The outputs y [B, T, H] of an LSTM layer over `x` [B, T, I] from zero states, and its cell
/// state after step T, [B, H]. Like tch's own methods, it panics if libtorch throws (out of
/// memory, or shapes that `supports` and the model never produce).
pub fn lstm(x: &Tensor, weights: &[Tensor]) -> (Tensor, Tensor) {
    let weights: &[Tensor; 4] = weights.try_into().expect("four LSTM weights");
    crate::ffi::lstm(x, weights).unwrap_or_else(|e| panic!("rowseq's CPU LSTM failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random LSTM weights for `input` features and `hidden` units, U(-1/sqrt(H), 1/sqrt(H)).
    fn weights(input: i64, hidden: i64, kind: Kind) -> Vec<Tensor> {
        let k = 1.0 / (hidden as f64).sqrt();
        let u = |s: &[i64]| {
            (Tensor::rand(s, (kind, Device::Cpu)) * 2.0 * k - k).set_requires_grad(true)
        };
        vec![
            u(&[4 * hidden, input]),
            u(&[4 * hidden, hidden]),
            u(&[4 * hidden]),
            u(&[4 * hidden]),
        ]
    }

    /// An LSTM layer: x and [w_ih, w_hh, b_ih, b_hh] to y and c_T.
    type Layer = dyn Fn(&Tensor, &[Tensor]) -> (Tensor, Tensor);

    /// y, c_T and the gradients of x and of the four weights for a loss that weighs every
    /// output and the final cell state, computed by `run`.
    fn values_and_grads(x: &Tensor, w: &[Tensor], run: &Layer) -> Vec<Tensor> {
        let x = x.detach().set_requires_grad(true);
        for v in w {
            let mut g = v.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        let (y, c) = run(&x, w);
        let ry = Tensor::linspace(-1.0, 1.0, y.numel() as i64, (y.kind(), Device::Cpu));
        let rc = Tensor::linspace(2.0, -1.0, c.numel() as i64, (c.kind(), Device::Cpu));
        let loss = (&y * ry.view_as(&y)).sum(y.kind()) + (&c * rc.view_as(&c)).sum(c.kind());
        loss.backward();
        let mut out = vec![y.detach(), c.detach(), x.grad()];
        out.extend(w.iter().map(|v| v.grad().copy()));
        out
    }

    fn libtorch(x: &Tensor, w: &[Tensor]) -> (Tensor, Tensor) {
        let z = Tensor::zeros([1, x.size()[0], w[1].size()[1]], (x.kind(), Device::Cpu));
        let w: Vec<&Tensor> = w.iter().collect();
        let (y, _, c) = x.lstm(&[&z, &z], &w, true, 1, 0.0, true, false, true);
        (y, c.get(0))
    }

    const NAMES: [&str; 7] = ["y", "c_T", "dx", "dw_ih", "dw_hh", "db_ih", "db_hh"];

    #[test]
    fn values_and_gradients_are_libtorchs() {
        tch::manual_seed(7);
        // At one thread an AVX-512 CPU runs the per-step products and, with 320 rows (two of
        // the kernel's k blocks), the weight gradient through rowseq's own kernel; at two,
        // BLAS runs them. set_num_threads sets this test thread's count (OpenMP's is per
        // thread) and the start value of test threads that begin meanwhile, whose tests pass
        // on either path; the count is put back at the end.
        let threads_before = tch::get_num_threads();
        for (threads, kind, tol) in [
            (1, Kind::Float, 2e-5),
            (2, Kind::Float, 2e-5),
            (2, Kind::Double, 1e-12),
        ] {
            tch::set_num_threads(threads);
            let shapes = [
                (1, 1, 1, 1),
                (3, 7, 5, 4),
                (4, 9, 6, 8),
                (8, 28, 28, 16),
                (2, 5, 3, 64),
                (16, 20, 7, 32),
                // 128 and 160 units: the weight and bias gradients summed step by step.
                (4, 6, 5, 128),
                (3, 4, 2, 160),
            ];
            for (b, t, i, h) in shapes {
                let w = weights(i, h, kind);
                let x = Tensor::randn([b, t, i], (kind, Device::Cpu));
                assert!(supports(&x, &w));
                let ours = values_and_grads(&x, &w, &lstm);
                let theirs = values_and_grads(&x, &w, &libtorch);
                // Evaluation (no gradients) takes its own path through the kernel.
                let (y, c) = tch::no_grad(|| lstm(&x, &w));
                let evaluated = [("y (evaluation)", y), ("c_T (evaluation)", c)];
                let pairs = NAMES.iter().copied().zip(&ours);
                let pairs = pairs.chain(evaluated.iter().map(|(n, t)| (*n, t)));
                for ((name, a), e) in pairs.zip(theirs.iter().chain(&theirs[..2])) {
                    assert_eq!(a.size(), e.size(), "{name}");
                    let scale = e.abs().max().double_value(&[]).max(1.0);
                    let diff = (a - e).abs().max().double_value(&[]);
                    assert!(
                        diff <= tol * scale,
                        "{kind:?}, {threads} threads, B={b} T={t} I={i} H={h}: {name} differs by {diff}"
                    );
                }
            }
        }
        tch::set_num_threads(threads_before);
    }

    #[test]
    fn without_gradients_it_keeps_nothing_and_computes_the_same() {
        tch::manual_seed(8);
        // 16 units: rowseq's own evaluation path (wider layers evaluate through libtorch's).
        let w = weights(6, 16, Kind::Float);
        let x = Tensor::randn([4, 9, 6], (Kind::Float, Device::Cpu));
        let (y, c) = lstm(&x, &w);
        let (y0, c0) = tch::no_grad(|| lstm(&x, &w));
        assert!(y.requires_grad() && !y0.requires_grad());
        // Evaluation sums each gate in another order (the input projection apart): the same
        // values up to rounding.
        assert!(y.allclose(&y0, 1e-5, 1e-6, false) && c.allclose(&c0, 1e-5, 1e-6, false));
        // A time-major input (a layer above reads the one below so) gives the same bits as
        // the same values stored batch-major.
        let time_major = x.transpose(0, 1).contiguous().transpose(0, 1);
        let (y1, c1) = tch::no_grad(|| lstm(&time_major, &w));
        assert!(y1.equal(&y0) && c1.equal(&c0));
    }

    #[test]
    fn own_matmul_is_one_fused_multiply_add_chain_per_element_whatever_the_split() {
        // Wrong shapes are errors on every CPU (checked before the kernel's presence).
        for transposed in [false, true] {
            assert!(crate::ffi::own_matmul(
                &Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)),
                &Tensor::zeros([4, 2], (Kind::Float, Device::Cpu)),
                transposed,
                0,
                0,
                0
            )
            .is_err());
        }
        let name = "model::cpu_lstm::tests::own_matmul_is_one_fused_multiply_add_chain_per_element_whatever_the_split";
        if !crate::env::own_kernel_or_skip(name) {
            return;
        }
        tch::manual_seed(9);
        // The per-step products of 8 and 256 units (128 rows), the weight gradient's
        // transposed form (k = T·B rows, in blocks that must resume each chain exactly; A read
        // in place or, from a row stride of 1,024, packed first), and tails: rows that 6 does
        // not divide, columns that 16 or 64 do not, k that the blocks do not, a row stride
        // longer than a row.
        for (transposed, m, k, n) in [
            (false, 1, 1, 1),
            (false, 128, 36, 32),
            (false, 128, 32, 8),
            (false, 13, 7, 80),
            (false, 5, 100, 20),
            (false, 7, 3, 130),
            (false, 128, 284, 1024),
            (true, 1, 1, 1),
            (true, 32, 3584, 36),
            (true, 13, 600, 70),
            (true, 128, 257, 60),
            (true, 7, 255, 130),
            // A's row stride from 1,024 floats (256 units and up): A packed, k in blocks of 128.
            (true, 1031, 300, 70),
            // 128 units' weight gradient, two steps of 128 rows (cut at 128 below).
            (true, 512, 256, 156),
        ] {
            // a [m, k], or stored transposed [k, m]; either with a longer row stride.
            let (rows, cols) = if transposed { (k, m) } else { (m, k) };
            let a = Tensor::randn([rows, cols + 3], (Kind::Float, Device::Cpu)).narrow(1, 0, cols);
            let b = Tensor::randn([k, n], (Kind::Float, Device::Cpu));
            let c = crate::ffi::own_matmul(&a, &b, transposed, 0, 0, 0)
                .unwrap()
                .expect("the kernel runs on this CPU");
            let av = Vec::<f32>::try_from(a.contiguous().view([-1])).unwrap();
            let bv = Vec::<f32>::try_from(b.view([-1])).unwrap();
            let cv = Vec::<f32>::try_from(c.view([-1])).unwrap();
            let (m, k, n) = (m as usize, k as usize, n as usize);
            let at = |i: usize, p: usize| {
                if transposed {
                    av[p * m + i]
                } else {
                    av[i * k + p]
                }
            };
            for i in 0..m {
                for j in 0..n {
                    let chain = (0..k).fold(0f32, |acc, p| at(i, p).mul_add(bv[p * n + j], acc));
                    assert_eq!(
                        cv[i * n + j].to_bits(),
                        chain.to_bits(),
                        "transposed={transposed} m={m} k={k} n={n}: element ({i}, {j})"
                    );
                }
            }
            let (m, k, n) = (m as i64, k as i64, n as i64);
            // Cuts of the rows and columns, and (the transposed form) of k: the second call
            // over k resumes the chains the first left, as the LSTM's steps do.
            let mut cuts = vec![(m / 2, n / 2, 0), (m - 1, 0, 0), (0, n - 1, 0)];
            if transposed {
                cuts.extend([(0, 0, k / 2), (0, 0, 128 % k), (m / 2, n / 3, k / 3)]);
            }
            for (r, j, p) in cuts {
                if r == 0 && j == 0 && p == 0 {
                    continue;
                }
                let cut = crate::ffi::own_matmul(&a, &b, transposed, r, j, p)
                    .unwrap()
                    .unwrap();
                assert!(
                    cut.equal(&c),
                    "transposed={transposed} m={m} k={k} n={n}: cut at ({r}, {j}, k {p})"
                );
            }
        }
    }

    #[test]
    fn nan_goes_through() {
        // A diverged run must show up as NaN, not be clamped into finite numbers.
        let w = weights(3, 8, Kind::Float);
        let x = Tensor::ones([2, 4, 3], (Kind::Float, Device::Cpu));
        let _ = x.get(1).get(0).get(0).fill_(f64::NAN);
        let (y, _) = tch::no_grad(|| lstm(&x, &w));
        assert!(y.get(1).isnan().all().int64_value(&[]) == 1);
        assert!(y.get(0).isfinite().all().int64_value(&[]) == 1);
        let huge = Tensor::full([1, 3, 3], 1e30, (Kind::Float, Device::Cpu));
        let (y, c) = tch::no_grad(|| lstm(&huge, &w));
        assert!(
            y.isfinite().all().int64_value(&[]) == 1,
            "saturated gates stay finite"
        );
        assert!(c.abs().max().double_value(&[]) <= 3.0 + 1e-6);
    }
}
