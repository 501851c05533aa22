//! The protocol-buffer wire format, read for the few ONNX messages a model needs (tensors, attributes,
//! nodes, value infos): every length checked against the bytes that remain, so a lying length cannot make
//! it allocate or read past the end.

use super::*;

/// Elements a single tensor may have (2^31; a VGG-16's largest weight has 1.0e8).
pub(super) const MAX_ELEMS: usize = 1 << 31;

pub(super) fn bad(what: impl std::fmt::Display) -> Error {
    invalid(format!("not a valid ONNX model: {what}"))
}

/// A protocol-buffer field's value.
pub(super) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

pub(super) struct Reader<'a> {
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }

    pub(super) fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.pos).ok_or_else(|| bad("a number runs past the end"))?;
            self.pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("a number is longer than 10 bytes"))
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| bad("a field runs past the end"))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field: (number, value), or `None` at the end.
    pub(super) fn field(&mut self) -> Result<Option<(u64, Value<'a>)>> {
        if self.pos >= self.b.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, key & 7);
        let v = match wire {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| bad("fixed64"))?)),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| bad("a length is too large"))?;
                Value::Bytes(self.take(n)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| bad("fixed32"))?)),
            w => return Err(bad(format!("field {num} has wire type {w}"))),
        };
        Ok(Some((num, v)))
    }
}

pub(super) fn text(v: &Value<'_>) -> Result<String> {
    match v {
        Value::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| bad("a name is not UTF-8")),
        _ => Err(bad("a name is not a string")),
    }
}

pub(super) fn varint_of(v: &Value<'_>) -> Result<u64> {
    match v {
        Value::Varint(x) => Ok(*x),
        _ => Err(bad("an integer field has another type")),
    }
}

/// Repeated int64: packed (bytes of varints) or one per field.
pub(super) fn push_ints(v: &Value<'_>, out: &mut Vec<i64>) -> Result<()> {
    match v {
        Value::Varint(x) => out.push(*x as i64),
        Value::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.pos < b.len() {
                out.push(r.varint()? as i64);
            }
        }
        _ => return Err(bad("a list of integers has another type")),
    }
    Ok(())
}

#[derive(Debug, Default)]
pub(super) struct Tensor {
    pub(super) name: String,
    pub(super) dims: Vec<usize>,
    pub(super) data: Vec<f64>,
    pub(super) ints: Vec<i64>,
    /// An integer type (the values are in `ints`).
    pub(super) int: bool,
}

pub(super) fn tensor(b: &[u8]) -> Result<Tensor> {
    let mut t = Tensor::default();
    let (mut dims, mut dtype, mut raw, mut floats, mut doubles) = (Vec::new(), 0u64, None, Vec::new(), Vec::new());
    let mut int32s = Vec::new();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match num {
            1 => push_ints(&v, &mut dims)?,
            2 => dtype = varint_of(&v)?,
            4 => match v {
                Value::Fixed32(x) => floats.push(f64::from(f32::from_bits(x))),
                Value::Bytes(b) => {
                    floats.extend(b.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
                }
                _ => return Err(bad("float_data has another type")),
            },
            7 => push_ints(&v, &mut t.ints)?,
            8 => t.name = text(&v)?,
            9 => match v {
                Value::Bytes(b) => raw = Some(b),
                _ => return Err(bad("raw_data is not bytes")),
            },
            5 => push_ints(&v, &mut int32s)?,
            14 if varint_of(&v)? == 1 => {
                return Err(invalid(format!(
                    "tensor '{}' is stored in an external file; export with the weights inside the model \
                     (torch.onnx.export(..., external_data=False), or onnx.save(model, f, save_as_external_data=False))",
                    t.name
                )));
            }
            10 => match v {
                Value::Fixed64(x) => doubles.push(f64::from_bits(x)),
                Value::Bytes(b) => doubles.extend(
                    b.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
                ),
                _ => return Err(bad("double_data has another type")),
            },
            _ => {}
        }
    }
    t.dims = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad(format!("tensor '{}' has dimension {d}", t.name))))
        .collect::<Result<_>>()?;
    let n = t
        .dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMS)
        .ok_or_else(|| bad(format!("tensor '{}' of shape {:?} is too large", t.name, t.dims)))?;
    let width = match dtype {
        1 | 6 => 4,
        11 | 7 => 8,
        9 => 1,
        d => {
            return Err(invalid(format!(
                "tensor '{}' has ONNX data type {d}; rtas reads float (1), double (11), int64 (7), int32 (6) and \
                 bool (9)",
                t.name
            )));
        }
    };
    t.int = matches!(dtype, 6 | 7 | 9);
    if let Some(raw) = raw {
        if raw.len() != n * width {
            return Err(bad(format!("tensor '{}': {} bytes of data for shape {:?}", t.name, raw.len(), t.dims)));
        }
        match dtype {
            1 => {
                t.data = raw.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
            }
            11 => t.data = raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect(),
            6 => {
                t.ints = raw.chunks_exact(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
            }
            9 => t.ints = raw.iter().map(|&c| i64::from(c != 0)).collect(),
            _ => t.ints = raw.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect(),
        }
    } else if dtype == 11 {
        t.data = doubles;
    } else if matches!(dtype, 6 | 9) {
        t.ints = int32s;
    } else if dtype == 1 {
        t.data = floats;
    }
    let got = if t.int { t.ints.len() } else { t.data.len() };
    if got != n {
        return Err(bad(format!("tensor '{}': {got} values for shape {:?}", t.name, t.dims)));
    }
    if t.data.iter().any(|v| !v.is_finite()) {
        return Err(invalid(format!("tensor '{}' holds a value that is not finite", t.name)));
    }
    Ok(t)
}

#[derive(Debug, Default)]
pub(super) struct Attr {
    pub(super) name: String,
    pub(super) i: Option<i64>,
    pub(super) f: Option<f32>,
    pub(super) s: Option<String>,
    pub(super) ints: Vec<i64>,
    pub(super) floats: Vec<f64>,
    pub(super) t: Option<Tensor>,
}

#[derive(Debug, Default)]
pub(super) struct Node {
    pub(super) inputs: Vec<String>,
    pub(super) outputs: Vec<String>,
    pub(super) name: String,
    pub(super) op: String,
    pub(super) attrs: Vec<Attr>,
}

pub(super) fn attr(b: &[u8]) -> Result<Attr> {
    let mut a = Attr::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match (num, v) {
            (1, v) => a.name = text(&v)?,
            (2, Value::Fixed32(x)) => a.f = Some(f32::from_bits(x)),
            (3, Value::Varint(x)) => a.i = Some(x as i64),
            (4, v) => a.s = Some(text(&v)?),
            (5, Value::Bytes(b)) => a.t = Some(tensor(b)?),
            (7, Value::Fixed32(x)) => a.floats.push(f64::from(f32::from_bits(x))),
            (7, Value::Bytes(b)) => {
                a.floats.extend(b.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
            }
            (8, v) => push_ints(&v, &mut a.ints)?,
            _ => {}
        }
    }
    Ok(a)
}

pub(super) fn node(b: &[u8]) -> Result<Node> {
    let mut n = Node::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match num {
            1 => n.inputs.push(text(&v)?),
            2 => n.outputs.push(text(&v)?),
            3 => n.name = text(&v)?,
            4 => n.op = text(&v)?,
            5 => match v {
                Value::Bytes(b) => n.attrs.push(attr(b)?),
                _ => return Err(bad("an attribute is not a message")),
            },
            _ => {}
        }
    }
    Ok(n)
}

/// A graph input: its name and dimensions (`None` for a symbolic one such as the batch).
pub(super) fn value_info(b: &[u8]) -> Result<(String, Vec<Option<i64>>)> {
    let (mut name, mut dims) = (String::new(), Vec::new());
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match (num, v) {
            (1, v) => name = text(&v)?,
            (2, Value::Bytes(ty)) => {
                // TypeProto.tensor_type (1) -> TypeProto.Tensor.shape (2) -> TensorShapeProto.dim (1).
                let mut rt = Reader::new(ty);
                while let Some((1, Value::Bytes(tt))) = rt.field()? {
                    let mut rs = Reader::new(tt);
                    while let Some((n2, v2)) = rs.field()? {
                        if let (2, Value::Bytes(shape)) = (n2, v2) {
                            let mut rd = Reader::new(shape);
                            while let Some((n3, v3)) = rd.field()? {
                                if let (1, Value::Bytes(dim)) = (n3, v3) {
                                    let mut value = None;
                                    let mut rv = Reader::new(dim);
                                    while let Some((n4, v4)) = rv.field()? {
                                        if let (1, Value::Varint(x)) = (n4, v4) {
                                            value = Some(x as i64);
                                        }
                                    }
                                    dims.push(value);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok((name, dims))
}
