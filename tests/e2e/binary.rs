//! What the binary asks of the system when it starts.

use std::process::Command;

/// cutover needs only libc, libgcc_s (unwinding) and the loader: every
/// library more is one more for the loader to open, map, relocate and
/// search at every start (src/main.rs takes `pow` and `log2` from the libm
/// crate so that libm.so is not one of them).
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_binary_needs_only_libc_libgcc_s_and_the_loader() {
    let bin = env!("CARGO_BIN_EXE_cutover");
    let out = match Command::new("readelf").args(["-d", bin]).output() {
        Ok(out) => out,
        Err(e) => panic!("readelf (binutils) did not run: {e}"),
    };
    assert!(out.status.success(), "readelf -d {bin}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let needed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1))
        .map(|name| name.trim_end_matches(']'))
        .collect();
    assert!(needed.iter().any(|n| n.starts_with("libc.so")), "no NEEDED entry read: {text}");
    let more: Vec<&&str> = needed
        .iter()
        .filter(|n| !["libc.so", "libgcc_s.so", "ld-linux"].iter().any(|known| n.starts_with(known)))
        .collect();
    assert!(
        more.is_empty(),
        "the binary needs {more:?} beyond libc, libgcc_s and the loader; `nm -D --undefined-only` \
         names the symbols it takes from them"
    );
}
