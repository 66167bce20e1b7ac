//! Explaining a permission problem: which file, whose it is, its mode, who
//! cutover runs as, and the one command that fixes it.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// True for "permission denied" and "operation not permitted".
pub fn is_denied(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied || matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM))
}

/// The name of user `uid`, or its number.
pub fn user_name(uid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe_zeroed_passwd();
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf outlives the result.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if rc == 0 && !out.is_null() && !pwd.pw_name.is_null() {
        // SAFETY: pw_name points into buf, NUL-terminated by getpwuid_r.
        return unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy().into_owned();
    }
    uid.to_string()
}

/// The name of group `gid`, or its number.
pub fn group_name(gid: u32) -> String {
    let mut buf = vec![0u8; 16384];
    let mut grp: libc::group = unsafe_zeroed_group();
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf outlives the result.
    let rc = unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if rc == 0 && !out.is_null() && !grp.gr_name.is_null() {
        // SAFETY: gr_name points into buf, NUL-terminated by getgrgid_r.
        return unsafe { CStr::from_ptr(grp.gr_name) }.to_string_lossy().into_owned();
    }
    gid.to_string()
}

fn unsafe_zeroed_passwd() -> libc::passwd {
    // SAFETY: passwd is plain old data; all-zero is a valid (empty) value.
    unsafe { std::mem::zeroed() }
}

fn unsafe_zeroed_group() -> libc::group {
    // SAFETY: group is plain old data; all-zero is a valid (empty) value.
    unsafe { std::mem::zeroed() }
}

/// The effective uid and every group of this process.
pub fn me() -> (u32, Vec<u32>) {
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    // SAFETY: no preconditions.
    let mut groups = vec![unsafe { libc::getegid() }];
    // SAFETY: a count of 0 asks for the number of groups only.
    let n = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    if n > 0 {
        let mut list = vec![0 as libc::gid_t; usize::try_from(n).unwrap_or(0)];
        // SAFETY: list has room for n entries.
        let got = unsafe { libc::getgroups(n, list.as_mut_ptr()) };
        list.truncate(usize::try_from(got).unwrap_or(0));
        for g in list {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    (uid, groups)
}

/// "bob (groups bob, cutover)".
pub fn me_described() -> String {
    let (uid, groups) = me();
    let names: Vec<String> = groups.iter().map(|g| group_name(*g)).collect();
    format!("{} (groups: {})", user_name(uid), names.join(", "))
}

/// Whether this process may create and rename files in `dir`.
pub fn may_write_dir(dir: &Path) -> bool {
    may(dir, libc::W_OK | libc::X_OK)
}

/// Whether this process may access `path` in `mode` (`libc::R_OK` ...).
fn may(path: &Path, mode: libc::c_int) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c is a valid NUL-terminated string.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), mode, libc::AT_EACCESS) == 0 }
}

/// A path quoted for a POSIX shell when it needs it.
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn describe(path: &Path, m: &std::fs::Metadata) -> String {
    let kind = if m.is_dir() { "folder" } else { "file" };
    format!(
        "{kind} {} is owned by {}, group {}, mode {:04o}",
        crate::sanitize::line(&path.display().to_string()),
        user_name(m.uid()),
        group_name(m.gid()),
        m.mode() & 0o7777
    )
}

/// The explanation for "permission denied" on `path` (a file cutover reads,
/// writes or creates there): whose it is, its mode, who cutover runs as,
/// and the command that fixes it. Never suggests `--reset-state`: the
/// content is fine, only the access is not.
pub fn explain_denied(path: &Path) -> String {
    let (uid, groups) = me();
    let who = me_described();
    let abs: PathBuf = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    // The first folder on the way that this user cannot enter.
    let mut dirs: Vec<&Path> = abs.ancestors().skip(1).collect();
    dirs.reverse();
    for d in dirs {
        if !may(d, libc::X_OK) {
            return match std::fs::metadata(d) {
                Ok(m) => format!(
                    "permission denied: cutover runs as {who} and cannot enter the {}. Fix: {}",
                    describe(d, &m),
                    fix_for(d, &m, uid, &groups, true)
                ),
                Err(_) => format!("permission denied: cutover runs as {who} and cannot enter {}", d.display()),
            };
        }
    }
    match std::fs::symlink_metadata(&abs) {
        Ok(m) => {
            let need = if m.is_dir() { libc::R_OK | libc::W_OK | libc::X_OK } else { libc::R_OK | libc::W_OK };
            if may(&abs, need) || m.is_dir() {
                // The file itself is fine: the folder must be what refuses
                // (replacing a file needs write access to its folder).
                if let Some(parent) = abs.parent()
                    && !may(parent, libc::W_OK | libc::X_OK)
                    && let Ok(pm) = std::fs::metadata(parent)
                {
                    return format!(
                        "permission denied: cutover runs as {who} and cannot write in the {}. Fix: {}",
                        describe(parent, &pm),
                        fix_for(parent, &pm, uid, &groups, true)
                    );
                }
            }
            format!(
                "permission denied: cutover runs as {who}; the {}. Fix: {}",
                describe(&abs, &m),
                fix_for(&abs, &m, uid, &groups, m.is_dir())
            )
        }
        Err(_) => match abs.parent().map(|p| (p, std::fs::metadata(p))) {
            Some((parent, Ok(pm))) => format!(
                "permission denied: cutover runs as {who} and cannot create files in the {}. Fix: {}",
                describe(parent, &pm),
                fix_for(parent, &pm, uid, &groups, true)
            ),
            _ => format!("permission denied: cutover runs as {who}"),
        },
    }
}

/// The command that gives this user access, run by the owner (or root).
fn fix_for(path: &Path, m: &std::fs::Metadata, uid: u32, groups: &[u32], dir: bool) -> String {
    let p = sh_quote(&path.display().to_string());
    let owner = user_name(m.uid());
    let group = group_name(m.gid());
    let bits = if dir { "g+rwxs" } else { "g+rw" };
    // The group the shared folder hands out, if the file sits in one.
    let shared_group = path
        .parent()
        .and_then(|d| std::fs::metadata(d).ok())
        .filter(|dm| dm.mode() & 0o2020 == 0o2020)
        .map(|dm| dm.gid())
        .filter(|g| *g != m.gid() && groups.contains(g));
    let as_whom = if m.uid() == uid { String::new() } else { format!(" (as {owner} or root)") };
    if let Some(g) = shared_group {
        return format!("chgrp {} {p} && chmod {bits} {p}{as_whom}", group_name(g));
    }
    if groups.contains(&m.gid()) || m.uid() == uid {
        return format!("chmod {bits} {p}{as_whom}");
    }
    let me = user_name(uid);
    format!(
        "add {me} to group {group} (sudo usermod -aG {group} {me}, then log in again){}",
        if m.mode() & if dir { 0o070 } else { 0o060 } == if dir { 0o070 } else { 0o060 } {
            String::new()
        } else {
            format!(", and chmod {bits} {p}{as_whom}")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("/srv/cutover/acme.toml"), "/srv/cutover/acme.toml");
        assert_eq!(sh_quote("/a b/it's"), "'/a b/it'\\''s'");
    }

    #[test]
    fn names_of_this_process() {
        let (uid, groups) = me();
        assert!(!groups.is_empty());
        assert!(!user_name(uid).is_empty());
        assert!(me_described().contains("groups: "));
    }

    #[test]
    fn denied_names_file_owner_mode_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.toml");
        std::fs::write(&f, "x").unwrap();
        let text = explain_denied(&f);
        assert!(text.contains("s.toml"), "{text}");
        assert!(text.contains("mode 0"), "{text}");
        assert!(text.contains("Fix: "), "{text}");
        assert!(!text.contains("reset-state"), "{text}");
    }
}
