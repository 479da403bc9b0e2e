//! Build script: makes the rowseq binary find libtorch at run time without LD_LIBRARY_PATH.
//!
//! torch-sys links libtorch but sets no rpath, so we add one to the lib folder it used
//! (`DEP_TCH_LIBTORCH_LIB`). rustc links with `--as-needed`, which would drop libtorch_cuda
//! (nothing references it by symbol) and leave `Cuda::is_available()` false on a GPU machine:
//! when the libtorch has CUDA we link it explicitly with `--no-as-needed`.
//! The libtorch version (from the pip package's version.py) is baked in for result metadata.
//! `csrc/adam.cpp` (the Adam update in libtorch's own tensor operations, see `train::adam`),
//! `csrc/lstm.cpp` (rowseq's CPU LSTM, see `model`) and `csrc/step.cpp` (a training step's
//! passes in one call, see `train::fused`) are compiled against the libtorch headers, with
//! `csrc/gemm.cpp` (the LSTM's own AVX-512 matmul kernel, no libtorch in it).
use std::path::Path;

fn main() {
    println!("cargo:rustc-env=ROWSEQ_TCH_VERSION={}", tch_version());
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    // torch-sys reports the libtorch folder it links; without it csrc/ cannot be compiled and
    // the link would fail later, far from the cause.
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        panic!(
            "torch-sys did not report its libtorch folder (DEP_TCH_LIBTORCH_LIB), so rowseq's \
             C++ sources cannot be compiled against it: run scripts/setup.sh, which links \
             .libtorch, or set LIBTORCH to a libtorch 2.13.0"
        );
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    compile_csrc(Path::new(&lib));
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
    let version_py = Path::new(&lib).join("..").join("version.py");
    println!("cargo:rerun-if-changed={}", version_py.display());
    let version = std::fs::read_to_string(&version_py)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("__version__ = "))
                .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=ROWSEQ_LIBTORCH_VERSION={version}");
}

/// The tch version in Cargo.lock.
fn tch_version() -> String {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"tch\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = ")) {
                return v.trim_matches('"').to_string();
            }
        }
    }
    "unknown".to_string()
}

/// Compiles the C++ sources against the headers of the libtorch that torch-sys links, always
/// optimised (the LSTM's fused loops are hot even in a debug build). The headers and the C++
/// ABI follow torch-sys's own rules (it reports only the lib folder): `LIBTORCH_INCLUDE`, else
/// the libtorch folder, and `LIBTORCH_CXX11_ABI`, else 1. libtorch's headers are system
/// headers, so that `-Wall` speaks of rowseq's code only.
fn compile_csrc(lib: &Path) {
    println!("cargo:rerun-if-changed=csrc/adam.cpp");
    println!("cargo:rerun-if-changed=csrc/lstm.cpp");
    println!("cargo:rerun-if-changed=csrc/lstm_train.h");
    println!("cargo:rerun-if-changed=csrc/step.cpp");
    println!("cargo:rerun-if-changed=csrc/ffi_error.h");
    println!("cargo:rerun-if-changed=csrc/lstm_rows.h");
    println!("cargo:rerun-if-changed=csrc/lstm_rows.cpp");
    println!("cargo:rerun-if-changed=csrc/gemm.h");
    println!("cargo:rerun-if-changed=csrc/gemm.cpp");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    println!("cargo:rerun-if-env-changed=LIBTORCH_INCLUDE");
    let root = std::env::var_os("LIBTORCH_INCLUDE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| lib.join(".."));
    let include = root.join("include");
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_string());
    let mut build = cc::Build::new();
    for dir in [include.clone(), include.join("torch/csrc/api/include")] {
        build.flag("-isystem").flag(dir.display().to_string());
    }
    build
        .cpp(true)
        .file("csrc/adam.cpp")
        .file("csrc/lstm.cpp")
        .file("csrc/step.cpp")
        .file("csrc/gemm.cpp")
        .opt_level(3)
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        // cc's default warnings (-Wall -Wextra), for rowseq's sources only.
        .warnings(true)
        .compile("rowseq_csrc");
    // The LSTM's fused per-step passes (no libtorch in them), twice: preferring 16-float
    // vectors on AVX-512, and 8-float ones for rows that 16 floats do not divide
    // (csrc/lstm_rows.h). Linked after rowseq_csrc, which calls them.
    for (namespace, width) in [("rowseq_rows_wide", 512), ("rowseq_rows_narrow", 256)] {
        cc::Build::new()
            .cpp(true)
            .file("csrc/lstm_rows.cpp")
            .opt_level(3)
            .flag("-std=c++17")
            // Lets GCC turn the selects in sigmoid and tanh into vector blends (rowseq never
            // reads floating-point exception flags).
            .flag("-fno-trapping-math")
            .flag_if_supported(format!("-mprefer-vector-width={width}"))
            .define("ROWSEQ_ROWS_NS", namespace)
            .warnings(true)
            .compile(namespace);
    }
}
