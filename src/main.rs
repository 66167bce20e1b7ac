//! The cutover binary: everything is in the library's command line
//! (`cutover::cli`).

fn main() -> std::process::ExitCode {
    // The runtime is shut down without waiting for what still runs in the
    // background (a terminal reader, a file watcher): returning ends the
    // process whatever those threads do.
    cutover::cli::main()
}
