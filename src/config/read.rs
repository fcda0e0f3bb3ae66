//! Reading a configuration file named on the command line: only a regular
//! file of sane size. `--config /dev/zero` or a FIFO would otherwise read
//! forever (or block until a writer appears).

use std::io::Read;
use std::path::Path;

use super::ConfigError;

/// Larger than any real `.alembot.yml` by far; a file this big is a
/// mistake (or hostile), not a configuration.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads `path` (shown as `shown` in messages) as UTF-8 text.
pub fn read_config_file(path: &Path, shown: &str) -> Result<String, ConfigError> {
    let err = |message: String| ConfigError::Read {
        path: shown.to_string(),
        message,
    };
    // Look before opening: opening a FIFO for reading blocks until a
    // writer opens it.
    let meta =
        std::fs::metadata(path).map_err(|e| err(format!("{e} (check the --config argument)")))?;
    if !meta.is_file() {
        return Err(err(format!(
            "it is {}, not a regular file (pass the path of a YAML file to --config)",
            kind_of(&meta)
        )));
    }
    let file =
        open_nonblocking(path).map_err(|e| err(format!("{e} (check the --config argument)")))?;
    // The path may have been swapped between the two looks: check what was
    // opened, and never read more than the limit whatever its size says.
    let opened = file
        .metadata()
        .map_err(|e| err(format!("{e} (check the --config argument)")))?;
    if !opened.is_file() {
        return Err(err(format!(
            "it is {}, not a regular file (pass the path of a YAML file to --config)",
            kind_of(&opened)
        )));
    }
    let too_big = || {
        err(format!(
            "it is larger than {} KiB, too large for a configuration file (pass the path of .alembot.yml to --config)",
            MAX_CONFIG_BYTES / 1024
        ))
    };
    if opened.len() > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "it is not UTF-8 text (at byte {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(path: &Path) -> String {
        read_config_file(path, "X").unwrap_err().to_string()
    }

    #[test]
    fn a_device_is_refused_without_reading() {
        let m = message(Path::new("/dev/zero"));
        assert!(m.contains("a device, not a regular file"), "{m}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("cfg.yml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) on a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let m = message(&fifo);
        assert!(m.contains("a FIFO (named pipe), not a regular file"), "{m}");
    }

    #[test]
    fn an_oversize_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yml");
        std::fs::write(&big, vec![b'#'; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        let m = message(&big);
        assert!(m.contains("too large for a configuration file"), "{m}");
        let ok = dir.path().join("ok.yml");
        std::fs::write(&ok, "timeout: 5\n").unwrap();
        assert_eq!(read_config_file(&ok, "X").unwrap(), "timeout: 5\n");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = message(dir.path());
        assert!(m.contains("a directory, not a regular file"), "{m}");
    }
}
