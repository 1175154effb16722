//! Reading and writing the files the commands name, with bounds: only regular files are read
//! (a FIFO would block, `/dev/zero` never ends, a directory is a mistake), never more bytes than
//! the command can use, and every failure is one line naming the file.

use crate::Result;
use std::io::Read;
use std::path::Path;

/// The largest model (or prebuilt plan) file `reflex` reads: 16 MiB. Models for
/// microcontrollers are a few hundred kilobytes; anything this large is not one (and is refused
/// before it is read).
pub const MAX_MODEL_BYTES: u64 = 16 * 1024 * 1024;

/// What kind of file `path` is, when it is not a regular file.
fn not_regular(path: &Path, meta: &std::fs::Metadata) -> String {
    let t = meta.file_type();
    #[cfg(unix)]
    let kind = {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            "a FIFO"
        } else if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        }
    };
    #[cfg(not(unix))]
    let kind = if t.is_dir() { "a directory" } else { "not a regular file" };
    format!("{}: {kind}, not a regular file: refused", path.display())
}

/// Reads regular file `path` of `min..=max` bytes (`what` names it in errors). The size is
/// checked from the metadata before the file is opened, and the read itself stops one byte past
/// `max` whatever the metadata said.
fn read_bounded(path: &Path, min: u64, max: u64, what: &str) -> Result<Vec<u8>> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta).into());
    }
    let size_error = |len: u64| {
        if min == max {
            format!("{name}: {len} bytes, {what} needs exactly {max}")
        } else {
            format!("{name}: {len} bytes, larger than the {max} bytes a {what} may have")
        }
    };
    if meta.len() < min || meta.len() > max {
        return Err(size_error(meta.len()).into());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| format!("{name}: {e}"))?;
    let len = bytes.len() as u64;
    if len < min || len > max {
        return Err(size_error(len).into());
    }
    Ok(bytes)
}

/// Reads a model or plan file (at most [`MAX_MODEL_BYTES`]).
pub fn read_model(path: &Path) -> Result<Vec<u8>> {
    read_bounded(path, 0, MAX_MODEL_BYTES, "model or plan file")
}

/// Reads a tensor file that must hold exactly `bytes` bytes (`what` names the tensor).
pub fn read_tensor(path: &Path, bytes: usize, what: &str) -> Result<Vec<u8>> {
    let n = bytes as u64;
    read_bounded(path, n, n, what)
}

/// Writes `bytes` to `path` (created or truncated).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// The largest arena `reflex` allocates: 1 GiB. A microcontroller's arena is kilobytes; a model
/// that asks for more than this is refused with a message rather than exhausting the host's
/// memory.
pub const MAX_ARENA_BYTES: usize = 1 << 30;

/// A zeroed arena of `bytes` bytes for `path`'s model, or a one-line error if it is larger than
/// [`MAX_ARENA_BYTES`] or cannot be allocated.
pub fn arena(path: &Path, bytes: usize) -> Result<Vec<u8>> {
    let name = path.display();
    if bytes > MAX_ARENA_BYTES {
        return Err(format!(
            "{name}: needs an arena of {bytes} bytes, more than the {MAX_ARENA_BYTES} reflex allocates"
        )
        .into());
    }
    let mut arena = Vec::new();
    arena
        .try_reserve_exact(bytes)
        .map_err(|e| format!("{name}: cannot allocate an arena of {bytes} bytes: {e}"))?;
    arena.resize(bytes, 0);
    Ok(arena)
}
