//! The cutover binary: everything is in the library's command line
//! (`cutover::cli`).

fn main() {
    // `exit`, not a return: nothing left running in the background (a
    // terminal reader, a file watcher) can hold the process.
    std::process::exit(cutover::cli::main());
}
