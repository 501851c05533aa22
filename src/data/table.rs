//! Tabular data a user hands rtas: CSV with a header, and NumPy `.npy` arrays.
//!
//! Every reader returns either data that satisfies [`Table`]'s invariants (`x.len() == rows * cols`, every
//! value finite, labels one per row) or an error naming the file and, for CSV, the row and column.

use crate::error::{Error, Result};
use std::path::Path;

/// Numeric features, one row per record, and an optional label column.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Records.
    pub rows: usize,
    /// Features per record.
    pub cols: usize,
    /// Feature names (CSV header; `x0, x1, ...` for NPY).
    pub names: Vec<String>,
    /// Row-major features.
    pub x: Vec<f64>,
    /// One label per row, when a label column or file was given.
    pub labels: Option<Vec<f64>>,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Data { path: path.to_path_buf(), reason: reason.into() }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
}

impl Table {
    /// Checks the invariants (for readers and for fuzzing).
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.x.len() != self.rows * self.cols {
            return Err(format!("{} values for {} x {}", self.x.len(), self.rows, self.cols));
        }
        if self.names.len() != self.cols {
            return Err(format!("{} names for {} columns", self.names.len(), self.cols));
        }
        if self.x.iter().any(|v| !v.is_finite()) {
            return Err("a value is not finite".into());
        }
        if let Some(l) = &self.labels
            && (l.len() != self.rows || l.iter().any(|v| !v.is_finite()))
        {
            return Err("labels do not match the rows".into());
        }
        Ok(())
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.cols..(i + 1) * self.cols]
    }
}

/// Splits one CSV line into fields: commas separate, a field may be wrapped in double quotes (with `""`
/// for a quote inside). Returns `None` for an unterminated quote.
fn fields(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            (false, '"') if at_start && cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            }
            (_, c) => cur.push(c),
        }
        at_start = false;
    }
    if quoted {
        return None;
    }
    out.push(cur);
    Some(out)
}

/// Reads a CSV file with a header row. `label` names the label column (taken out of the features); every
/// other column must be numeric in every row. Empty lines are skipped; a missing or non-numeric cell, a
/// row with another number of cells, or a non-finite value is an error naming its row (1-based, the
/// header being row 1) and column.
pub fn read_csv(path: &Path, label: Option<&str>) -> Result<Table> {
    let bytes = read(path)?;
    parse_csv(&bytes, label, path)
}

/// [`read_csv`] on bytes already read (`path` names them in errors).
pub fn parse_csv(bytes: &[u8], label: Option<&str>, path: &Path) -> Result<Table> {
    let text = std::str::from_utf8(bytes).map_err(|e| bad(path, format!("not UTF-8 text ({e})")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, head) = lines.next().ok_or_else(|| bad(path, "empty file: a header row is needed"))?;
    let header: Vec<String> = fields(head)
        .ok_or_else(|| bad(path, "row 1: unterminated quote"))?
        .into_iter()
        .map(|h| h.trim().to_string())
        .collect();
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            return Err(bad(path, format!("row 1, column {}: empty column name", i + 1)));
        }
        if header[..i].contains(h) {
            return Err(bad(path, format!("row 1: column '{h}' appears twice")));
        }
    }
    let label_at = match label {
        Some(l) => Some(
            header
                .iter()
                .position(|h| h == l)
                .ok_or_else(|| bad(path, format!("no column '{l}' for --label (columns: {})", header.join(", "))))?,
        ),
        None => None,
    };
    let names: Vec<String> =
        header.iter().enumerate().filter(|(i, _)| Some(*i) != label_at).map(|(_, h)| h.clone()).collect();
    if names.is_empty() {
        return Err(bad(path, "no feature column besides the label"));
    }
    let cols = names.len();
    let mut x = Vec::new();
    let mut labels = label_at.map(|_| Vec::new());
    let mut rows = 0;
    for (n, line) in lines {
        let row = n + 1;
        let cells = fields(line).ok_or_else(|| bad(path, format!("row {row}: unterminated quote")))?;
        if cells.len() != header.len() {
            return Err(bad(path, format!("row {row}: {} cells, the header has {}", cells.len(), header.len())));
        }
        for (c, cell) in cells.iter().enumerate() {
            let t = cell.trim();
            let col = &header[c];
            if t.is_empty() {
                return Err(bad(path, format!("row {row}, column '{col}': missing value")));
            }
            let v: f64 =
                t.parse().map_err(|_| bad(path, format!("row {row}, column '{col}': '{t}' is not a number")))?;
            if !v.is_finite() {
                return Err(bad(path, format!("row {row}, column '{col}': '{t}' is not finite")));
            }
            if Some(c) == label_at {
                if let Some(l) = labels.as_mut() {
                    l.push(v);
                }
            } else {
                x.push(v);
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(bad(path, "no data rows after the header"));
    }
    Ok(Table { rows, cols, names, x, labels })
}

/// A parsed `.npy` array: its shape and values as f64 (every supported dtype converts exactly, except
/// 64-bit integers beyond 2^53, which are refused).
#[derive(Debug, Clone, PartialEq)]
pub struct Npy {
    /// Shape, C order.
    pub shape: Vec<usize>,
    /// Values in C order.
    pub data: Vec<f64>,
}

/// The largest array accepted, in elements (2^31: 16 GiB of f64).
const NPY_MAX_ELEMS: u64 = 1 << 31;

fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let k = header.find(&format!("'{key}'"))?;
    let rest = &header[k + key.len() + 2..];
    let colon = rest.find(':')?;
    Some(rest[colon + 1..].trim_start())
}

/// Parses `.npy` bytes (format versions 1, 2 and 3; little- or big-endian f8, f4, i8, i4, i2, i1, u8, u4,
/// u2, u1, b1; C or Fortran order).
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<Npy> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad(path, "not a NumPy .npy file (bad magic)"));
    }
    let major = bytes[6];
    let (hlen, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad(path, "truncated header"));
            }
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(bad(path, format!("unsupported .npy version {v}"))),
    };
    let end = start.checked_add(hlen).filter(|&e| e <= bytes.len()).ok_or_else(|| bad(path, "truncated header"))?;
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| bad(path, "header is not text"))?;
    let descr = header_value(header, "descr").ok_or_else(|| bad(path, "header has no 'descr'"))?;
    let descr = descr.strip_prefix('\'').and_then(|d| d.split('\'').next()).ok_or_else(|| bad(path, "bad 'descr'"))?;
    let fortran = header_value(header, "fortran_order").ok_or_else(|| bad(path, "header has no 'fortran_order'"))?;
    let fortran = if fortran.starts_with("True") {
        true
    } else if fortran.starts_with("False") {
        false
    } else {
        return Err(bad(path, "bad 'fortran_order'"));
    };
    let shape_txt = header_value(header, "shape").ok_or_else(|| bad(path, "header has no 'shape'"))?;
    let shape_txt =
        shape_txt.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or_else(|| bad(path, "bad 'shape'"))?;
    let mut shape = Vec::new();
    for part in shape_txt.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        shape.push(
            part.trim_end_matches('L').parse::<usize>().map_err(|_| bad(path, format!("bad dimension '{part}'")))?,
        );
    }
    let count = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64)).filter(|&c| c <= NPY_MAX_ELEMS);
    let count = count.ok_or_else(|| bad(path, format!("shape {shape:?} is too large")))? as usize;
    let (order, kind, size) = {
        let mut ch = descr.chars();
        let order = ch.next().ok_or_else(|| bad(path, "empty 'descr'"))?;
        let kind = ch.next().ok_or_else(|| bad(path, "bad 'descr'"))?;
        let size: usize = ch.as_str().parse().map_err(|_| bad(path, format!("unsupported dtype '{descr}'")))?;
        (order, kind, size)
    };
    let big = match order {
        '<' | '|' | '=' => false,
        '>' => true,
        _ => return Err(bad(path, format!("unsupported dtype '{descr}'"))),
    };
    if !matches!((kind, size), ('f', 4 | 8) | ('i', 1 | 2 | 4 | 8) | ('u', 1 | 2 | 4 | 8) | ('b', 1)) {
        return Err(bad(path, format!("unsupported dtype '{descr}' (float, int, uint or bool)")));
    }
    let body = &bytes[end..];
    let need = count.checked_mul(size).ok_or_else(|| bad(path, "shape too large"))?;
    if body.len() != need {
        return Err(bad(path, format!("{} data bytes, shape {shape:?} of '{descr}' needs {need}", body.len())));
    }
    let mut data = Vec::with_capacity(count);
    for chunk in body.chunks_exact(size) {
        let mut b = [0u8; 8];
        if big {
            for (i, &x) in chunk.iter().rev().enumerate() {
                b[i] = x;
            }
        } else {
            b[..size].copy_from_slice(chunk);
        }
        let v = match (kind, size) {
            ('f', 8) => f64::from_le_bytes(b),
            ('f', 4) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            ('u', _) | ('b', _) => {
                let u = u64::from_le_bytes(b);
                if u > 1 << 53 {
                    return Err(bad(path, format!("integer {u} does not fit a double exactly")));
                }
                u as f64
            }
            _ => {
                // Sign-extend.
                let shift = 64 - 8 * size as u32;
                let i = (i64::from_le_bytes(b) << shift) >> shift;
                if i.unsigned_abs() > 1 << 53 {
                    return Err(bad(path, format!("integer {i} does not fit a double exactly")));
                }
                i as f64
            }
        };
        data.push(v);
    }
    if fortran && shape.len() > 1 {
        // Column-major to row-major.
        let strides_f: Vec<usize> = shape
            .iter()
            .scan(1usize, |acc, &d| {
                let s = *acc;
                *acc *= d;
                Some(s)
            })
            .collect();
        let mut out = vec![0.0; count];
        let mut idx = vec![0usize; shape.len()];
        for o in out.iter_mut() {
            let f: usize = idx.iter().zip(&strides_f).map(|(i, s)| i * s).sum();
            *o = data[f];
            for k in (0..shape.len()).rev() {
                idx[k] += 1;
                if idx[k] < shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        data = out;
    }
    Ok(Npy { shape, data })
}

/// Reads features from a 2-D `.npy` (rows x columns, or 3-D and more, flattened per row) and, optionally,
/// labels from a 1-D `.npy` with one value per row.
pub fn read_npy(features: &Path, labels: Option<&Path>) -> Result<Table> {
    let f = parse_npy(&read(features)?, features)?;
    if f.shape.len() < 2 {
        return Err(bad(features, format!("features need 2 or more dimensions (rows first), got shape {:?}", f.shape)));
    }
    let rows = f.shape[0];
    let cols: usize = f.shape[1..].iter().product();
    if rows == 0 || cols == 0 {
        return Err(bad(features, format!("empty array of shape {:?}", f.shape)));
    }
    if let Some(v) = f.data.iter().position(|v| !v.is_finite()) {
        return Err(bad(features, format!("row {}, column {}: not finite", v / cols, v % cols)));
    }
    let labels = match labels {
        Some(p) => {
            let l = parse_npy(&read(p)?, p)?;
            if l.shape.len() != 1 || l.shape[0] != rows {
                return Err(bad(p, format!("labels need shape ({rows},), got {:?}", l.shape)));
            }
            if let Some(i) = l.data.iter().position(|v| !v.is_finite()) {
                return Err(bad(p, format!("label {i} is not finite")));
            }
            Some(l.data)
        }
        None => None,
    };
    Ok(Table { rows, cols, names: (0..cols).map(|i| format!("x{i}")).collect(), x: f.data, labels })
}

/// Reads a table by its extension: `.csv` (with `label` the label column) or `.npy` (with `label` a `.npy`
/// of labels, one per row).
/// The bundled loans table (`data/tabular/loans.csv`, compiled in), label column `default`.
pub fn bundled_loans() -> Result<Table> {
    parse_csv(include_bytes!("../../data/tabular/loans.csv"), Some("default"), Path::new("data/tabular/loans.csv"))
}

/// Reads a CSV or NPY table (by extension).
pub fn read_table(path: &Path, label: Option<&str>) -> Result<Table> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => read_csv(path, label),
        Some("npy") => read_npy(path, label.map(Path::new)),
        _ => Err(bad(path, "unknown format (expected .csv or .npy)")),
    }
}

/// NumPy `.npy` bytes of a row-major f64 array (for fixtures and tools).
pub fn encode_npy(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_txt}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("t.csv")
    }

    #[test]
    fn csv_reads_features_and_the_label_column() {
        let t = parse_csv(b"a,y,\"b c\"\n1,0,2.5\n\n-3e2,1,4\n", Some("y"), p()).unwrap();
        assert_eq!((t.rows, t.cols), (2, 2));
        assert_eq!(t.names, ["a", "b c"]);
        assert_eq!(t.x, [1.0, 2.5, -300.0, 4.0]);
        assert_eq!(t.labels, Some(vec![0.0, 1.0]));
        t.check().unwrap();
    }

    #[test]
    fn csv_errors_name_the_row_and_column() {
        let e = |b: &[u8], l: Option<&str>| parse_csv(b, l, p()).unwrap_err().to_string();
        assert!(e(b"a,b\n1,\n", None).contains("row 2, column 'b': missing value"));
        assert!(e(b"a,b\n1,2\n3,x\n", None).contains("row 3, column 'b': 'x' is not a number"));
        assert!(e(b"a,b\n1,2,3\n", None).contains("row 2: 3 cells"));
        assert!(e(b"a,b\n1,NaN\n", None).contains("not finite"));
        assert!(e(b"a,b\n1,2\n", Some("y")).contains("no column 'y'"));
        assert!(e(b"", None).contains("empty file"));
        assert!(e(b"a,b\n", None).contains("no data rows"));
        assert!(e(b"a,a\n1,2\n", None).contains("appears twice"));
        assert!(e(b"y\n1\n", Some("y")).contains("no feature column"));
        assert!(e(b"a,\"b\n1,2\n", None).contains("unterminated quote"));
    }

    #[test]
    fn npy_round_trips_and_refuses_what_does_not_fit() {
        let data: Vec<f64> = (0..6).map(|v| v as f64 * 0.5).collect();
        let b = encode_npy(&[2, 3], &data);
        let n = parse_npy(&b, p()).unwrap();
        assert_eq!(n.shape, [2, 3]);
        assert_eq!(n.data, data);
        // Fortran order is transposed to C order.
        let mut f = b.clone();
        let h = String::from_utf8_lossy(&f[10..]).find("False").unwrap() + 10;
        f[h..h + 5].copy_from_slice(b"True ");
        let n = parse_npy(&f, p()).unwrap();
        assert_eq!(n.data, [0.0, 1.0, 2.0, 0.5, 1.5, 2.5]);
        // A shape that disagrees with the data, a huge shape, a bad magic.
        let mut short = b.clone();
        short.pop();
        assert!(parse_npy(&short, p()).unwrap_err().to_string().contains("data bytes"));
        let huge = String::from_utf8_lossy(&b).replace("(2, 3)", "(99999999999, 99999)");
        assert!(parse_npy(huge.as_bytes(), p()).is_err());
        assert!(parse_npy(b"\x93NUMPZ\x01\x00", p()).is_err());
    }

    #[test]
    fn a_hundred_thousand_rows_of_fifty_columns_load_fast() {
        let mut s = (0..50).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        s.push('\n');
        for r in 0..100_000 {
            let row: Vec<String> = (0..50).map(|c| format!("{:.6}", ((r * 50 + c) % 997) as f64 / 997.0)).collect();
            s.push_str(&row.join(","));
            s.push('\n');
        }
        let t0 = std::time::Instant::now();
        let t = parse_csv(s.as_bytes(), Some("c49"), p()).unwrap();
        let secs = t0.elapsed().as_secs_f64();
        eprintln!("100,000 x 50 CSV parsed in {secs:.3} s");
        assert_eq!((t.rows, t.cols), (100_000, 49));
        // The target is 1 s on this machine (release build); a debug build is allowed 10x.
        let limit = if cfg!(debug_assertions) { 10.0 } else { 2.0 };
        assert!(secs < limit, "{secs} s");
    }
}
