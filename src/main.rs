//! The cutover binary: everything is in the library's command line
//! (`cutover::cli`).

fn main() -> std::process::ExitCode {
    // The runtime is shut down without waiting for what still runs in the
    // background (a terminal reader, a file watcher): returning ends the
    // process whatever those threads do.
    cutover::cli::main()
}

/// The only two functions of the C maths library that the dependencies
/// call (`pow` in tokio's scheduler statistics, `log2` in num-bigint's
/// radix conversion), from the `libm` crate (musl's, in Rust), so that the
/// binary does not need `libm.so.6`: one library fewer for the loader to
/// open, map, relocate and search at every start (docs/benchmarks.md,
/// "One library fewer"). `tests/e2e/binary.rs` fails, naming the library,
/// if the binary needs one more than libc, libgcc_s and the loader.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod maths {
    #[unsafe(no_mangle)]
    extern "C" fn pow(x: f64, y: f64) -> f64 {
        libm::pow(x, y)
    }

    #[unsafe(no_mangle)]
    extern "C" fn log2(x: f64) -> f64 {
        libm::log2(x)
    }
}
