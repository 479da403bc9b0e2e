/*!
The machine a run executes on: device choice, thread count, the CPU LSTM's path (ROWSEQ_KERNEL),
and the versions recorded with every result.
*/
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};

use tch::Device;

use crate::error::UserError;
use crate::ffi::{self, GemmChoice};
use crate::records::{Environment, Memory};

/// The device asked for (`--device`; its words are `cli`'s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    /// CUDA if libtorch sees a GPU, else CPU.
    Auto,
    Cpu,
    Cuda,
}

/// Picks the device, or says why CUDA cannot be used. On CUDA, cuDNN is switched on (it is
/// libtorch's default; said here so that the LSTM runs on cuDNN's fused kernels whatever
/// changed the default), without its autotuner, which is for convolutions.
pub fn resolve_device(arg: DeviceChoice) -> Result<Device, UserError> {
    let device = match arg {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Auto => Device::cuda_if_available(),
        DeviceChoice::Cuda if tch::Cuda::is_available() => Device::Cuda(0),
        DeviceChoice::Cuda => {
            return Err(UserError::Device {
                device: "cuda".into(),
                message: "libtorch sees no CUDA GPU here; use --device cpu or auto".into(),
            })
        }
    };
    if device.is_cuda() {
        tch::Cuda::set_user_enabled_cudnn(true);
        tch::Cuda::cudnn_set_benchmark(false);
    }
    Ok(device)
}

/// Blocks below this many bytes come from malloc's heap, not from mmap (`tune_allocator`).
pub const MMAP_THRESHOLD: i32 = 64 << 20;
/// The heap gives memory back to the system only when this much is free at its top.
pub const TRIM_THRESHOLD: i32 = 256 << 20;

/// Keeps a training step's buffers in malloc's heap. A step allocates and frees the same
/// blocks every time (the batch, the LSTM's workspace, gradients: up to tens of MB at 256
/// units). With glibc's default, adaptive thresholds such blocks go back to the system after
/// every step (munmap, or a trim of the heap) and come back as fresh zeroed pages: profiled at
/// H = 256, page faults and munmap took about 18 % of the time. Fixed thresholds (64 MiB for
/// mmap, 256 MiB of free heap before a trim) stop that churn; blocks larger than 64 MiB (the
/// dataset as it loads, evaluation batches at large widths) are still mapped and returned.
/// Numbers are unchanged: where a buffer lives does not change what is computed. glibc's own
/// MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ environment variables, when set, win.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set = |name: &str| std::env::var_os(name).is_some();
        // SAFETY: mallopt only changes malloc's parameters; called before other threads start.
        unsafe {
            if !set("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
            if !set("MALLOC_TRIM_THRESHOLD_") {
                libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            }
        }
    }
}

/// Sets flush-to-zero and denormals-are-zero (MXCSR's FTZ and DAZ bits) for this thread, before
/// any other starts: threads inherit the floating-point environment of the thread that creates
/// them, so libtorch's and MKL's pools run with it too. A float32 value below 1.2e-38 (a
/// denormal) then counts as 0 instead of taking the CPU's slow path: inputs around 1e-39 made
/// an epoch 3.3x slower without it (README, "Denormals"). Results that never meet a denormal
/// are unchanged (the default MNIST sweep: every metric, bit for bit).
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reading and writing MXCSR only changes how this thread rounds tiny floats.
    #[allow(deprecated)]
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        const FTZ: u32 = 1 << 15;
        const DAZ: u32 = 1 << 6;
        _mm_setcsr(_mm_getcsr() | FTZ | DAZ);
    }
}

/// The most threads a run may ask for, per core: beyond a few per core they only contend (and
/// libgomp fails or crashes in the tens of thousands).
pub const MAX_THREADS_PER_CORE: usize = 4;

/// Sets libtorch's intra-op thread count (default: all cores; at most
/// `MAX_THREADS_PER_CORE` per core) and returns it.
pub fn set_threads(threads: Option<usize>) -> Result<usize, UserError> {
    let n = match threads {
        Some(n) => check_threads(n)?,
        None => cores(),
    };
    tch::set_num_threads(n as i32);
    Ok(n)
}

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// `n` if it is a thread count a run may use (1 to `MAX_THREADS_PER_CORE` per core).
pub fn check_threads(n: usize) -> Result<usize, UserError> {
    let max = MAX_THREADS_PER_CORE * cores();
    if (1..=max).contains(&n) {
        return Ok(n);
    }
    Err(UserError::Arg {
        flag: "--threads".into(),
        value: n.to_string(),
        expected: format!(
            "expected 1 to {max} threads ({MAX_THREADS_PER_CORE} per core; this machine has {} \
             cores)",
            cores()
        ),
    })
}

/// The memory the system can give a new process now, in bytes (MemAvailable of
/// /proc/meminfo); None where there is no /proc.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line["MemAvailable:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// This process's resident set size now and at its peak (VmRSS and VmHWM of
/// /proc/self/status); None where there is no /proc.
pub fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mib = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kib: f64 = line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    };
    Some(Memory {
        rss_mib: mib("VmRSS:")?,
        peak_rss_mib: mib("VmHWM:")?,
    })
}

/// The CPU's model name (from /proc/cpuinfo), "unknown" where there is none.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The environment variable that forces the CPU LSTM's path.
pub const KERNEL_VAR: &str = "ROWSEQ_KERNEL";

/// Which path an LSTM on the CPU takes (ROWSEQ_KERNEL). GRU and RNN layers, and every layer on
/// CUDA, always run libtorch's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Unset: rowseq's own LSTM (`model::cpu_lstm`, the fused training pass), its per-step
    /// products through its own matmul kernel on an AVX-512 CPU at exactly one thread, else
    /// through BLAS. Inside the kernel, the shape picks the rest (weight gradient summed step
    /// by step at 128 <= H < 256, A packed from a row stride of 1,024 floats, 16- or 8-float
    /// gate passes); none of that depends on anything but the shape.
    Automatic,
    /// `reference`: libtorch's LSTM (`at::lstm`, oneDNN and MKL) through autograd, as on CUDA
    /// and for the other cells.
    Reference,
    /// `own`: rowseq's own LSTM with its own matmul kernel at any thread count. Refused (exit
    /// 2) on a CPU without AVX-512 or off x86-64, where the kernel does not exist.
    Own,
}

/// The process's choice, set once by `select_kernel` (Automatic until then, as in tests).
static KERNEL: AtomicU8 = AtomicU8::new(0);

impl Kernel {
    /// The choice a value of ROWSEQ_KERNEL names; unset or empty is the automatic choice.
    pub fn parse(value: Option<&str>) -> Result<Kernel, UserError> {
        match value {
            None | Some("") => Ok(Kernel::Automatic),
            Some("reference") => Ok(Kernel::Reference),
            Some("own") => Ok(Kernel::Own),
            Some(other) => Err(UserError::Config {
                origin: format!("{KERNEL_VAR}={other}"),
                message: "expected reference (libtorch's LSTM) or own (rowseq's kernel), or \
                          unset for the automatic choice"
                    .into(),
            }),
        }
    }

    fn code(self) -> u8 {
        self as u8
    }
}

/// Reads ROWSEQ_KERNEL and makes its choice the process's, before anything runs: a value it
/// does not know, or `own` on a CPU without the kernel, is a user error (exit 2).
pub fn select_kernel() -> Result<Kernel, UserError> {
    let value = std::env::var_os(KERNEL_VAR).map(|v| v.to_string_lossy().into_owned());
    let kernel = Kernel::parse(value.as_deref())?;
    let gemm = match kernel {
        Kernel::Automatic => GemmChoice::Automatic,
        Kernel::Reference => GemmChoice::Blas,
        Kernel::Own => GemmChoice::OwnKernel,
    };
    ffi::set_gemm_choice(gemm).map_err(|message| UserError::Config {
        origin: format!("{KERNEL_VAR}=own"),
        message: format!("{message}; unset {KERNEL_VAR} or set it to reference"),
    })?;
    KERNEL.store(kernel.code(), Ordering::Relaxed);
    Ok(kernel)
}

/// The process's choice (`select_kernel`).
pub fn kernel() -> Kernel {
    match KERNEL.load(Ordering::Relaxed) {
        1 => Kernel::Reference,
        2 => Kernel::Own,
        _ => Kernel::Automatic,
    }
}

/// For a test that needs rowseq's own matmul kernel: whether this CPU runs it; where it does
/// not, the test is reported skipped, `skipped: TEST (REASON)`, written straight to stderr past
/// the test harness's capture, so that the test output shows it and `.ci/run` counts it.
#[cfg(test)]
pub fn own_kernel_or_skip(test: &str) -> bool {
    use std::io::Write;
    if ffi::own_kernel_available() {
        return true;
    }
    let line = format!("skipped: {test} (rowseq's own kernel needs AVX-512 on x86-64)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    false
}

/// The path a model's recurrent layers take, as a run records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPath {
    /// rowseq's own LSTM with its own matmul kernel.
    Own,
    /// rowseq's own LSTM with BLAS's matmuls.
    OwnBlas,
    /// libtorch's layers.
    Reference,
}

impl KernelPath {
    /// The path of an LSTM (`lstm`) or another cell on `device`, now, on this thread at its
    /// thread count: what `model::cpu_lstm` and `csrc/lstm.cpp` will choose.
    pub fn now(device: Device, lstm: bool) -> KernelPath {
        if !lstm || device != Device::Cpu || kernel() == Kernel::Reference {
            KernelPath::Reference
        } else if ffi::own_gemm_runs() {
            KernelPath::Own
        } else {
            KernelPath::OwnBlas
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Own => "own",
            KernelPath::OwnBlas => "own-blas",
            KernelPath::Reference => "reference",
        }
    }
}

/// Versions, device and commit, and the path an LSTM takes on this thread
/// (`run_environment`): a bench's record.
pub fn environment(device: Device, threads: usize) -> Environment {
    run_environment(device, threads, true)
}

/// Versions, device, commit and the path of a model with an LSTM (`lstm`) or without, on this
/// thread at its thread count, recorded in every result.
pub fn run_environment(device: Device, threads: usize, lstm: bool) -> Environment {
    Environment {
        kernel: Some(KernelPath::now(device, lstm).name().into()),
        rowseq: env!("CARGO_PKG_VERSION").into(),
        tch: env!("ROWSEQ_TCH_VERSION").into(),
        libtorch: env!("ROWSEQ_LIBTORCH_VERSION").into(),
        device: device_name(device),
        threads,
        git_commit: git_commit(),
        processor: Some(processor()),
    }
}

/// The CPU's model name with the widest vector instructions it offers, what MKL and libtorch
/// pick their kernels by (MKL by the vendor too): "AMD EPYC 7B13 (avx2)", "Intel(R) Xeon(R)
/// Processor (avx512)".
pub fn processor() -> String {
    format!("{} ({})", cpu_model(), vector_isa())
}

fn vector_isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "avx512";
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return "avx2";
        }
        "sse2"
    }
    #[cfg(not(target_arch = "x86_64"))]
    std::env::consts::ARCH
}

/// The commit of the source checkout the binary was built from, `-dirty` if it has
/// uncommitted changes; None outside a git checkout.
fn git_commit() -> Option<String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("git")
        .args(["-C", dir, "rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dirty = Command::new("git")
        .args(["-C", dir, "status", "--porcelain", "--untracked-files=no"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    if dirty {
        commit.push_str("-dirty");
    }
    Some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rowseq_kernel_names_reference_or_own_and_unset_is_automatic() {
        assert_eq!(Kernel::parse(None).unwrap(), Kernel::Automatic);
        assert_eq!(Kernel::parse(Some("")).unwrap(), Kernel::Automatic);
        assert_eq!(Kernel::parse(Some("reference")).unwrap(), Kernel::Reference);
        assert_eq!(Kernel::parse(Some("own")).unwrap(), Kernel::Own);
        let e = Kernel::parse(Some("OWN")).unwrap_err().to_string();
        assert!(
            e.starts_with("ROWSEQ_KERNEL=OWN: expected reference"),
            "{e}"
        );
    }

    #[test]
    fn gpus_and_other_cells_run_libtorchs_path() {
        assert_eq!(
            KernelPath::now(Device::Cuda(0), true),
            KernelPath::Reference
        );
        assert_eq!(KernelPath::now(Device::Cpu, false), KernelPath::Reference);
        // Tests never force a path: an LSTM on the CPU runs rowseq's.
        assert_ne!(KernelPath::now(Device::Cpu, true), KernelPath::Reference);
    }
}
