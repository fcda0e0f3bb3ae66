//! A file mapped into memory, read-only: the git index is read on every
//! pre-commit run, and mapping it costs one system call where reading it
//! into fresh heap memory costs a page fault per page plus a copy.

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::path::Path;

/// The whole content of a file, mapped (or read, where mapping is not
/// available or the file is empty).
pub enum Mapped {
    #[cfg(unix)]
    Map {
        ptr: *mut libc::c_void,
        len: usize,
    },
    Owned(Vec<u8>),
}

impl Mapped {
    pub fn open(path: &Path) -> io::Result<Mapped> {
        let file = File::open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            let len = file.metadata()?.len();
            if len > 0 && len <= usize::MAX as u64 {
                let len = len as usize;
                // SAFETY: a fresh private read-only mapping of a file we
                // opened; the pointer is checked before use and unmapped in
                // Drop. Git replaces the index by renaming a new file over
                // it, so the mapped file is never written while mapped.
                let ptr = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        len,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_POPULATE,
                        file.as_raw_fd(),
                        0,
                    )
                };
                if ptr != libc::MAP_FAILED {
                    return Ok(Mapped::Map { ptr, len });
                }
            }
        }
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut &file, &mut bytes)?;
        Ok(Mapped::Owned(bytes))
    }
}

impl Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            #[cfg(unix)]
            // SAFETY: `ptr` maps `len` readable bytes until Drop.
            Mapped::Map { ptr, len } => unsafe {
                std::slice::from_raw_parts(*ptr as *const u8, *len)
            },
            Mapped::Owned(bytes) => bytes,
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Mapped::Map { ptr, len } = self {
            // SAFETY: unmapping the mapping made in `open`, once.
            unsafe {
                libc::munmap(*ptr, *len);
            }
        }
    }
}
