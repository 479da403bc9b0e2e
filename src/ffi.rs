/*!
rowseq's C ABI to its C++ sources (`csrc/`), behind safe wrappers that return `Result`: the
fused CPU LSTM (`csrc/lstm.cpp`, used by `model::cpu_lstm`; its matmul kernel for the tests and
the bench, and the switch between that kernel and BLAS that `env::Kernel` sets),
the fused training pass of a one-layer LSTM and its head (`csrc/step.cpp`, used by
`train::fused`), and the Adam update written with libtorch's own tensor operations, and the
setter of a parameter's gradient that its flat layout needs (`csrc/adam.cpp`, used by
`train::adam`).
Every entry point catches every C++ exception and reports it through an error buffer, read
here in one place; both sides check the shapes the kernels index by.
*/
use std::os::raw::c_char;

use tch::Tensor;

unsafe extern "C" {
    fn rowseq_lstm(
        x: *const torch_sys::C_tensor,
        w_ih: *const torch_sys::C_tensor,
        w_hh: *const torch_sys::C_tensor,
        b_ih: *const torch_sys::C_tensor,
        b_hh: *const torch_sys::C_tensor,
        y: *mut *mut torch_sys::C_tensor,
        c_last: *mut *mut torch_sys::C_tensor,
        err: *mut c_char,
        err_len: usize,
    ) -> i32;

    fn rowseq_lstm_step(
        x: *const torch_sys::C_tensor,
        lengths: *const torch_sys::C_tensor,
        y: *const torch_sys::C_tensor,
        w_ih: *const torch_sys::C_tensor,
        w_hh: *const torch_sys::C_tensor,
        b_ih: *const torch_sys::C_tensor,
        b_hh: *const torch_sys::C_tensor,
        head_w: *const torch_sys::C_tensor,
        head_b: *const torch_sys::C_tensor,
        logits: *mut *mut torch_sys::C_tensor,
        loss: *mut *mut torch_sys::C_tensor,
        err: *mut c_char,
        err_len: usize,
    ) -> i32;

    fn rowseq_own_matmul(
        a: *const torch_sys::C_tensor,
        b: *const torch_sys::C_tensor,
        transposed: bool,
        split_row: i64,
        split_col: i64,
        split_k: i64,
        c: *mut *mut torch_sys::C_tensor,
        err: *mut c_char,
        err_len: usize,
    ) -> i32;

    fn rowseq_set_gemm_choice(choice: i32, err: *mut c_char, err_len: usize) -> i32;

    fn rowseq_own_gemm_runs() -> bool;

    #[cfg(test)]
    fn rowseq_own_kernel_available() -> bool;

    fn rowseq_adam_update(
        p: *mut torch_sys::C_tensor,
        grad: *const torch_sys::C_tensor,
        exp_avg: *mut torch_sys::C_tensor,
        exp_avg_sq: *mut torch_sys::C_tensor,
        step: i64,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        err: *mut c_char,
        err_len: usize,
    ) -> i32;

    fn rowseq_set_grad(
        p: *mut torch_sys::C_tensor,
        grad: *const torch_sys::C_tensor,
        err: *mut c_char,
        err_len: usize,
    ) -> i32;
}

/// The buffer a C++ entry point writes its exception's message into.
struct ErrorBuffer([c_char; 512]);

impl ErrorBuffer {
    fn new() -> ErrorBuffer {
        ErrorBuffer([0; 512])
    }

    /// Ok for return code 0, else the message the C++ side wrote.
    fn check(&self, rc: i32) -> Result<(), String> {
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: the buffer starts zeroed and the C++ side writes at most len - 1 bytes and a
        // terminating zero (`rowseq_set_message`), so it always holds a C string.
        let msg = unsafe { std::ffi::CStr::from_ptr(self.0.as_ptr()) };
        Err(msg.to_string_lossy().into_owned())
    }
}

/// The LSTM layer of `csrc/lstm.cpp` over `x` [B, T, I] with `weights` [w_ih [4H, I],
/// w_hh [4H, H], b_ih [4H], b_hh [4H]]: its outputs y [B, T, H] and last cell state [B, H].
pub fn lstm(x: &Tensor, weights: &[Tensor; 4]) -> Result<(Tensor, Tensor), String> {
    let err = &mut ErrorBuffer::new();
    let (mut y, mut c) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: the five inputs are live tensors, only read; the C++ side checks their shapes
    // before indexing, and on success hands over two new at::Tensor objects.
    let rc = unsafe {
        rowseq_lstm(
            x.as_ptr(),
            weights[0].as_ptr(),
            weights[1].as_ptr(),
            weights[2].as_ptr(),
            weights[3].as_ptr(),
            &mut y,
            &mut c,
            err.0.as_mut_ptr(),
            err.0.len(),
        )
    };
    err.check(rc)?;
    // SAFETY: on success both pointers are fresh at::Tensor objects that nothing else owns;
    // tch's Tensor takes them over (and frees them).
    Ok(unsafe { (Tensor::from_ptr(y), Tensor::from_ptr(c)) })
}

/// The fused training pass of `csrc/step.cpp` for a one-layer LSTM and its head: forward over
/// `x` [B, T, I] (float32) with `lengths` [B], the loss against `y` ([B] class indices or [B, K]
/// targets) and backward, which overwrites the gradient of each of the six parameters
/// (`lstm` [w_ih, w_hh, b_ih, b_hh], `head_w`, `head_b`; each must have one of its shape).
/// Returns the logits [B, C] and the loss.
pub fn lstm_step(
    x: &Tensor,
    lengths: &Tensor,
    y: &Tensor,
    lstm: &[Tensor; 4],
    head_w: &Tensor,
    head_b: &Tensor,
) -> Result<(Tensor, Tensor), String> {
    let err = &mut ErrorBuffer::new();
    let (mut logits, mut loss) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: the nine inputs are live tensors; the C++ side checks every shape and type
    // before indexing, writes only into the six parameters' gradients, and on success hands
    // over two new at::Tensor objects.
    let rc = unsafe {
        rowseq_lstm_step(
            x.as_ptr(),
            lengths.as_ptr(),
            y.as_ptr(),
            lstm[0].as_ptr(),
            lstm[1].as_ptr(),
            lstm[2].as_ptr(),
            lstm[3].as_ptr(),
            head_w.as_ptr(),
            head_b.as_ptr(),
            &mut logits,
            &mut loss,
            err.0.as_mut_ptr(),
            err.0.len(),
        )
    };
    err.check(rc)?;
    // SAFETY: on success both pointers are fresh at::Tensor objects that nothing else owns.
    Ok(unsafe { (Tensor::from_ptr(logits), Tensor::from_ptr(loss)) })
}

/// For the tests and the bench's peak: `a` [m, k] times `b` [k, n] (float32) through the LSTM's
/// own matmul kernel (`csrc/gemm.cpp`), or with `transposed` a^T b for `a` [k, m] (its
/// weight-gradient form), in one call, or in four on the blocks of the product cut at row
/// `split_row` and column `split_col` (both nonzero); with `transposed` and `split_k` nonzero,
/// each block in two calls over k cut there, the second resuming the chains the first left
/// (the LSTM's step-by-step weight gradient); None on a CPU it does not run on.
pub fn own_matmul(
    a: &Tensor,
    b: &Tensor,
    transposed: bool,
    split_row: i64,
    split_col: i64,
    split_k: i64,
) -> Result<Option<Tensor>, String> {
    let err = &mut ErrorBuffer::new();
    let mut c = std::ptr::null_mut();
    // SAFETY: both inputs are live tensors, only read; the C++ side checks their shapes,
    // types and strides before indexing, and on success hands over a new at::Tensor or null.
    let rc = unsafe {
        rowseq_own_matmul(
            a.as_ptr(),
            b.as_ptr(),
            transposed,
            split_row,
            split_col,
            split_k,
            &mut c,
            err.0.as_mut_ptr(),
            err.0.len(),
        )
    };
    err.check(rc)?;
    // SAFETY: non-null, c is a fresh at::Tensor that nothing else owns; tch takes it over.
    Ok((!c.is_null()).then(|| unsafe { Tensor::from_ptr(c) }))
}

/// How rowseq's LSTM picks the matmul of its float32 per-step products (`csrc/lstm.cpp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmChoice {
    /// Its own kernel at one thread on an AVX-512 CPU, BLAS otherwise (the default).
    Automatic = 0,
    /// Its own kernel at any thread count; an error on a CPU without it.
    OwnKernel = 1,
    /// BLAS always.
    Blas = 2,
}

/// Sets `choice` for every thread from now on.
pub fn set_gemm_choice(choice: GemmChoice) -> Result<(), String> {
    let err = &mut ErrorBuffer::new();
    // SAFETY: the C++ side only checks the value and stores it in an atomic.
    let rc = unsafe { rowseq_set_gemm_choice(choice as i32, err.0.as_mut_ptr(), err.0.len()) };
    err.check(rc)
}

/// Whether rowseq's LSTM runs its float32 per-step products through its own kernel now, on
/// this thread at its thread count.
pub fn own_gemm_runs() -> bool {
    // SAFETY: reads an atomic, the CPU's features and this thread's thread count.
    unsafe { rowseq_own_gemm_runs() }
}

/// Whether this CPU runs rowseq's own matmul kernel at all (AVX-512 on x86-64); for tests
/// that need it (`env::own_kernel_or_skip`).
#[cfg(test)]
pub fn own_kernel_available() -> bool {
    // SAFETY: reads the CPU's features, detected once.
    unsafe { rowseq_own_kernel_available() }
}

/// Adam's hyper-parameters for one update.
pub struct AdamStep {
    /// The step count after this update (1-based).
    pub step: i64,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

/// One Adam update of `p` (in place) from `grad`, with its moments `m` and `v` (in place), as
/// `csrc/adam.cpp` writes it. The caller holds no-grad mode.
pub fn adam_update(
    p: &mut Tensor,
    grad: &Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    s: &AdamStep,
) -> Result<(), String> {
    let err = &mut ErrorBuffer::new();
    // SAFETY: all four are live tensors owned by the optimizer or the VarStore; the C++ side
    // checks that their shapes agree, then only runs in-place tensor operations on them.
    let rc = unsafe {
        rowseq_adam_update(
            p.as_mut_ptr(),
            grad.as_ptr(),
            m.as_mut_ptr(),
            v.as_mut_ptr(),
            s.step,
            s.lr,
            s.beta1,
            s.beta2,
            s.eps,
            err.0.as_mut_ptr(),
            err.0.len(),
        )
    };
    err.check(rc)
}

/// Makes `grad` the gradient of `p` (`csrc/adam.cpp`), into which backward then accumulates
/// in place; they must agree in shape, type and device.
pub fn set_grad(p: &mut Tensor, grad: &Tensor) -> Result<(), String> {
    let err = &mut ErrorBuffer::new();
    // SAFETY: both are live tensors; the C++ side checks that they agree, then only sets p's
    // gradient to (a handle on) grad.
    let rc = unsafe {
        rowseq_set_grad(
            p.as_mut_ptr(),
            grad.as_ptr(),
            err.0.as_mut_ptr(),
            err.0.len(),
        )
    };
    err.check(rc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// A wrong shape is an error from the C++ side's checks, never a read past a buffer.
    #[test]
    fn wrong_shapes_are_errors_naming_what_was_expected() {
        let t = |s: &[i64]| Tensor::zeros(s, (Kind::Float, Device::Cpu));
        let x = t(&[2, 3, 5]);
        let good = [t(&[16, 5]), t(&[16, 4]), t(&[16]), t(&[16])];
        assert!(lstm(&x, &good).is_ok());
        let short_bias = [t(&[16, 5]), t(&[16, 4]), t(&[15]), t(&[16])];
        let e = lstm(&x, &short_bias).unwrap_err();
        assert!(e.contains("LSTM bias: expected [16]"), "{e}");
        let wrong_input = [t(&[16, 6]), t(&[16, 4]), t(&[16]), t(&[16])];
        let e = lstm(&x, &wrong_input).unwrap_err();
        assert!(e.contains("LSTM w_ih: expected [16, 5]"), "{e}");
        let e = lstm(&t(&[2, 3]), &good).unwrap_err();
        assert!(e.contains("LSTM input: expected [B, T, I]"), "{e}");

        let s = AdamStep {
            step: 1,
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let (mut p, mut m, mut v) = (t(&[3]), t(&[3]), t(&[4]));
        let e = tch::no_grad(|| adam_update(&mut p, &t(&[3]), &mut m, &mut v, &s)).unwrap_err();
        assert!(e.contains("differ in shape"), "{e}");
        let e = set_grad(&mut p, &t(&[4])).unwrap_err();
        assert!(
            e.contains("a gradient of [4] for a parameter of [3]"),
            "{e}"
        );
        assert!(set_grad(&mut p, &t(&[3])).is_ok() && p.grad().size() == [3]);
    }
}
