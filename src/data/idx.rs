//! The IDX file format (LeCun's MNIST format), raw or gzip-compressed, with full header validation.
//!
//! Layout: two zero bytes, a type byte, a byte with the number of dimensions d, then d big-endian u32 sizes,
//! then the data in row-major order. rtas reads the unsigned-byte type (0x08), which is what MNIST and its
//! relatives use; other types are refused with a clear message rather than misread.

use crate::error::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest data section accepted (16 GiB); a header asking for more is treated as corrupt.
const MAX_DATA_BYTES: u64 = 1 << 34;

/// A validated unsigned-byte IDX array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// Sizes of each dimension, outermost first (e.g. `[10000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The elements, row-major; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

impl Idx {
    /// Number of items along the first dimension.
    pub fn count(&self) -> usize {
        self.dims[0]
    }

    /// Elements per item (the product of the other dimensions; 1 for a 1-D file).
    pub fn item_len(&self) -> usize {
        self.dims[1..].iter().product()
    }

    /// Item `i` (an image, a label) as a slice.
    pub fn item(&self, i: usize) -> Option<&[u8]> {
        let len = self.item_len();
        (i < self.count()).then(|| &self.data[i * len..(i + 1) * len])
    }
}

fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown",
    }
}

/// Reads and validates an IDX file; gzip is detected by its magic bytes, whatever the file's name.
pub fn read(path: &Path) -> Result<Idx> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    parse(&bytes, path)
}

/// Parses IDX bytes (raw or gzip); `path` only names the source in error messages.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Idx> {
    let bad = |reason: String| Error::Idx { path: PathBuf::from(path), reason };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        parse_stream(MultiGzDecoder::new(bytes), true, &bad)
    } else {
        parse_stream(bytes, false, &bad)
    }
}

fn parse_stream<R: Read>(mut r: R, gzip: bool, bad: &dyn Fn(String) -> Error) -> Result<Idx> {
    let io = |e: std::io::Error| {
        if gzip { bad(format!("corrupt gzip stream ({e})")) } else { bad(format!("read failed ({e})")) }
    };
    let mut magic = [0u8; 4];
    if !read_full(&mut r, &mut magic).map_err(io)? {
        return Err(bad("file is shorter than the 4-byte IDX magic number".into()));
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(bad(format!(
            "magic number 0x{:02x}{:02x}{:02x}{:02x} does not start with two zero bytes (not an IDX file)",
            magic[0], magic[1], magic[2], magic[3]
        )));
    }
    if magic[2] != 0x08 {
        return Err(bad(format!(
            "element type 0x{:02x} ({}) is not supported; rtas reads unsigned-byte (0x08) IDX files",
            magic[2],
            type_name(magic[2])
        )));
    }
    let ndims = magic[3] as usize;
    if ndims == 0 {
        return Err(bad("header declares 0 dimensions".into()));
    }
    let mut header = vec![0u8; 4 * ndims];
    if !read_full(&mut r, &mut header).map_err(io)? {
        return Err(bad(format!("file ends inside the header ({ndims} dimension sizes expected)")));
    }
    let mut dims = Vec::with_capacity(ndims);
    let mut total: u64 = 1;
    for (i, chunk) in header.chunks_exact(4).enumerate() {
        let d = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        if d == 0 {
            return Err(bad(format!("dimension {} has size 0", i + 1)));
        }
        total = total.saturating_mul(u64::from(d));
        dims.push(d as usize);
    }
    if total > MAX_DATA_BYTES {
        return Err(bad(format!("header declares {total} elements, more than the {MAX_DATA_BYTES} accepted")));
    }
    // Read at most one byte more than promised: enough to notice trailing data without trusting the header
    // for an allocation.
    let mut data = Vec::with_capacity(total.min(1 << 26) as usize);
    r.take(total + 1).read_to_end(&mut data).map_err(io)?;
    let got = data.len() as u64;
    if got < total {
        return Err(bad(format!("truncated: header {:?} promises {total} data bytes, the file holds {got}", dims)));
    }
    if got > total {
        return Err(bad(format!("trailing bytes after the {total} data bytes that header {:?} declares", dims)));
    }
    Ok(Idx { dims, data })
}

/// Fills `buf`; `Ok(false)` if the stream ended first.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Encodes an unsigned-byte IDX file (for tests and for writing derived data sets).
pub fn encode(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn p() -> &'static Path {
        Path::new("test.idx")
    }

    fn err(bytes: &[u8]) -> String {
        parse(bytes, p()).unwrap_err().to_string()
    }

    #[test]
    fn round_trip_raw_and_gzip() {
        let raw = encode(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let idx = parse(&raw, p()).unwrap();
        assert_eq!(idx.dims, vec![2, 2, 3]);
        assert_eq!(idx.item(1).unwrap(), &[7, 8, 9, 10, 11, 12]);
        assert_eq!(idx.item(2), None);
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&raw).unwrap();
        assert_eq!(parse(&gz.finish().unwrap(), p()).unwrap(), idx);
    }

    #[test]
    fn every_header_defect_is_named() {
        assert!(err(&[0, 0]).contains("shorter than the 4-byte"));
        assert!(err(&[1, 0, 8, 1, 0, 0, 0, 1, 5]).contains("two zero bytes"));
        assert!(err(&[0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]).contains("f32"));
        assert!(err(&[0, 0, 8, 0]).contains("0 dimensions"));
        assert!(err(&[0, 0, 8, 2, 0, 0, 0, 1]).contains("inside the header"));
        assert!(err(&[0, 0, 8, 1, 0, 0, 0, 0]).contains("size 0"));
        assert!(err(&encode(&[3], &[1, 2])).contains("truncated"));
        assert!(err(&encode(&[1], &[1, 2])).contains("trailing"));
        assert!(err(&[0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 9]).contains("more than"));
        assert!(err(&[0x1f, 0x8b, 8, 0, 1, 2, 3]).contains("gzip"));
    }
}
