//! Build script: makes the rowseq binary find libtorch at run time without LD_LIBRARY_PATH.
//!
//! torch-sys links libtorch but sets no rpath, so we add one to the lib folder it used
//! (`DEP_TCH_LIBTORCH_LIB`). rustc links with `--as-needed`, which would drop libtorch_cuda
//! (nothing references it by symbol) and leave `Cuda::is_available()` false on a GPU machine:
//! when the libtorch has CUDA we link it explicitly with `--no-as-needed`.
//! The libtorch version (from the pip package's version.py) is baked in for result metadata.
//! `csrc/adam.cpp` (the Adam update in libtorch's own tensor operations, see `train::adam`) and
//! `csrc/lstm.cpp` (rowseq's CPU LSTM, see `model`) are compiled against the libtorch headers.
use std::path::Path;

fn main() {
    println!("cargo:rustc-env=ROWSEQ_TCH_VERSION={}", tch_version());
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        println!("cargo:rustc-env=ROWSEQ_LIBTORCH_VERSION=unknown");
        return;
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
/// optimised (the LSTM's fused loops are hot even in a debug build).
fn compile_csrc(lib: &Path) {
    println!("cargo:rerun-if-changed=csrc/adam.cpp");
    println!("cargo:rerun-if-changed=csrc/lstm.cpp");
    println!("cargo:rerun-if-changed=csrc/ffi_error.h");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let include = lib.join("..").join("include");
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_string());
    cc::Build::new()
        .cpp(true)
        .file("csrc/adam.cpp")
        .file("csrc/lstm.cpp")
        .opt_level(3)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        // Lets GCC turn the selects in csrc/lstm.cpp's sigmoid and tanh into vector blends
        // (rowseq never reads floating-point exception flags).
        .flag("-fno-trapping-math")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .warnings(false)
        .compile("rowseq_csrc");
}
