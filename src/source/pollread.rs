//! Reading a pipe (stdin, a FIFO) without blocking a stop request: each read first waits
//! for data at most [`TICK`], checking the stop flags between waits. A stream that stays
//! open but stops sending then ends within a fraction of a second of Ctrl-C, a closed
//! window or a reader that went away, instead of holding the capture thread in `read`.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The message of the error a read returns once a stop flag is raised.
pub const STOPPED: &str = "stopped";

/// Longest wait for data before the stop flags are checked again.
pub const TICK: Duration = Duration::from_millis(50);

/// Stop flags a reader watches; shared, so a flag can be added after the reader was
/// made (the stream's own, once the runtime starts).
#[derive(Debug, Clone, Default)]
pub struct StopFlags(Arc<Mutex<Vec<Arc<AtomicBool>>>>);

impl StopFlags {
    /// Watches `flag` too.
    pub fn add(&self, flag: Arc<AtomicBool>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(flag);
        }
    }

    /// True when any flag is raised.
    pub fn raised(&self) -> bool {
        self.0
            .lock()
            .is_ok_and(|v| v.iter().any(|f| f.load(Ordering::Relaxed)))
    }
}

/// A pipe read with stop checks (see the module documentation).
#[derive(Debug)]
pub struct PollReader {
    /// The file, or `None` for stdin (read through its descriptor, past std's buffer).
    file: Option<std::fs::File>,
    stops: StopFlags,
}

impl PollReader {
    /// Standard input.
    pub fn stdin(stops: StopFlags) -> Self {
        Self { file: None, stops }
    }

    /// A FIFO or other non-regular file, opened without waiting for a writer.
    pub fn open(path: &std::path::Path, stops: StopFlags) -> io::Result<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)?;
            // reads block again (after poll said there is data); only the open must not
            set_blocking(&file)?;
            Ok(Self {
                file: Some(file),
                stops,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {
                file: Some(std::fs::File::open(path)?),
                stops,
            })
        }
    }
}

#[cfg(unix)]
fn set_blocking(file: &std::fs::File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this process owns (the file is alive).
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; only O_NONBLOCK is cleared.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Read for PollReader {
    #[cfg(unix)]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::io::AsRawFd;
        let fd = self.file.as_ref().map_or(0, |f| f.as_raw_fd());
        loop {
            if self.stops.raised() {
                return Err(io::Error::other(STOPPED));
            }
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, TICK.as_millis() as i32) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            // data, end of stream (POLLHUP) or an error: read says which
            if n > 0 && pfd.revents != 0 {
                // SAFETY: reads at most buf.len() bytes into buf, from a live descriptor.
                let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if got < 0 {
                    let e = io::Error::last_os_error();
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                    ) {
                        continue;
                    }
                    return Err(e);
                }
                return Ok(got as usize);
            }
        }
    }

    #[cfg(not(unix))]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stops.raised() {
            return Err(io::Error::other(STOPPED));
        }
        match self.file.as_mut() {
            Some(f) => f.read(buf),
            None => io::stdin().read(buf),
        }
    }
}
