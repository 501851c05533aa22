//! Constant folding: the value of every node whose inputs are known at import (initializers, `Constant`s,
//! and the input's shape, whose batch dimension is a symbol). Exporters compute a reshape's target this way
//! (`x.view(x.size(0), -1)` becomes Shape, Gather, Unsqueeze, Concat); folding it leaves the layers.

use super::proto::{Node, Tensor};

/// One value of a known tensor: a number, or the batch size (unknown until a batch arrives).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum V {
    /// A number (integers are held exactly up to 2^53).
    N(f64),
    /// The input's batch dimension.
    Batch,
}

/// A tensor known at import.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Const {
    pub(super) dims: Vec<usize>,
    pub(super) v: Vec<V>,
    /// Of an integer type (division truncates).
    pub(super) int: bool,
}

type R<T> = std::result::Result<T, String>;

impl Const {
    pub(super) fn of(t: &Tensor) -> Const {
        let v = if t.int {
            t.ints.iter().map(|&i| V::N(i as f64)).collect()
        } else {
            t.data.iter().map(|&x| V::N(x)).collect()
        };
        Const { dims: t.dims.clone(), v, int: t.int }
    }

    fn ints_of(dims: Vec<usize>, v: Vec<V>) -> Const {
        Const { dims, v, int: true }
    }

    /// Its values as integers (the batch as `None`).
    pub(super) fn ints(&self) -> R<Vec<Option<i64>>> {
        self.v
            .iter()
            .map(|x| match *x {
                V::N(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(Some(f as i64)),
                V::N(f) => Err(format!("{f} is not an integer")),
                V::Batch => Ok(None),
            })
            .collect()
    }

    /// Its values as integers, none of them the batch size.
    pub(super) fn fixed_ints(&self) -> R<Vec<i64>> {
        self.ints()?.into_iter().map(|x| x.ok_or_else(|| "the value depends on the batch size".to_string())).collect()
    }

    /// Its values as numbers, none of them the batch size.
    pub(super) fn numbers(&self) -> R<Vec<f64>> {
        self.v
            .iter()
            .map(|x| match *x {
                V::N(f) => Ok(f),
                V::Batch => Err("the value depends on the batch size".to_string()),
            })
            .collect()
    }
}

fn attr_ints(n: &Node, name: &str) -> Option<Vec<i64>> {
    n.attrs.iter().find(|a| a.name == name).map(|a| a.ints.clone())
}

fn attr_int(n: &Node, name: &str) -> Option<i64> {
    n.attrs.iter().find(|a| a.name == name).and_then(|a| a.i)
}

fn axis(a: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    let k = if a < 0 { a + r } else { a };
    if (0..r).contains(&k) { Ok(k as usize) } else { Err(format!("axis {a} of a rank-{rank} value")) }
}

/// An input given as a node input (opset 13+) or an attribute (earlier opsets).
fn ints_from(n: &Node, args: &[Option<&Const>], i: usize, attr: &str) -> R<Option<Vec<i64>>> {
    match args.get(i).copied().flatten() {
        Some(c) => c.fixed_ints().map(Some),
        None => Ok(attr_ints(n, attr)),
    }
}

fn arg<'a>(args: &[Option<&'a Const>], i: usize) -> R<&'a Const> {
    args.get(i).copied().flatten().ok_or_else(|| format!("input {} is missing", i + 1))
}

/// Broadcast of two shapes (NumPy's rule).
fn broadcast(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let x = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
            let y = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
            match (x, y) {
                _ if x == y => Ok(x),
                (1, _) => Ok(y),
                (_, 1) => Ok(x),
                _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
            }
        })
        .collect()
}

/// The flat index in `shape` (broadcast from `out`) of position `flat` of `out`.
fn source(flat: usize, out: &[usize], shape: &[usize]) -> usize {
    let (mut rem, mut idx, mut stride) = (flat, 0, 1);
    let off = out.len() - shape.len();
    for d in (0..out.len()).rev() {
        let i = rem % out[d];
        rem /= out[d];
        if d >= off {
            let s = shape[d - off];
            if s != 1 {
                idx += i * stride;
            }
            stride *= s;
        }
    }
    idx
}

/// The values a tensor of shape `dims` holds, if at most 2^24 (what folding at import may build).
fn count(dims: &[usize]) -> R<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= 1 << 24)
        .ok_or_else(|| format!("a constant of shape {dims:?} is too large to fold"))
}

fn binary(op: &str, a: &Const, b: &Const) -> R<Const> {
    let dims = broadcast(&a.dims, &b.dims)?;
    let n = count(&dims)?;
    let int = a.int && b.int;
    let mut v = Vec::with_capacity(n);
    for k in 0..n {
        let (x, y) = (a.v[source(k, &dims, &a.dims)], b.v[source(k, &dims, &b.dims)]);
        v.push(match (x, y) {
            (V::N(x), V::N(y)) => V::N(match op {
                "Add" => x + y,
                "Sub" => x - y,
                "Mul" => x * y,
                _ if int && y == 0.0 => return Err("an integer division by zero".into()),
                _ if int => (x / y).trunc(),
                _ => x / y,
            }),
            // The batch size passes through only unchanged (times or over one, plus zero).
            (V::Batch, V::N(y))
                if (op == "Mul" || op == "Div") && y == 1.0 || (op == "Add" || op == "Sub") && y == 0.0 =>
            {
                V::Batch
            }
            (V::N(x), V::Batch) if op == "Mul" && x == 1.0 || op == "Add" && x == 0.0 => V::Batch,
            _ => {
                return Err(format!("{op} of the batch size: rtas needs a reshape's shape to keep the batch as it is"));
            }
        });
    }
    Ok(Const { dims, v, int })
}

/// The value of node `n` (not `Shape` of a computed value, which the caller knows), from its known inputs
/// (`None` for an input left empty). The error says why it cannot be folded.
pub(super) fn eval(n: &Node, args: &[Option<&Const>]) -> R<Const> {
    match n.op.as_str() {
        "Constant" => {
            let a = n.attrs.first().ok_or("a Constant without a value")?;
            match a.name.as_str() {
                "value" => a.t.as_ref().map(Const::of).ok_or_else(|| "a Constant whose value is not a tensor".into()),
                "value_float" => Ok(Const { dims: vec![], v: vec![V::N(f64::from(a.f.unwrap_or(0.0)))], int: false }),
                "value_floats" => {
                    Ok(Const { dims: vec![a.floats.len()], v: a.floats.iter().map(|&x| V::N(x)).collect(), int: false })
                }
                "value_int" => Ok(Const::ints_of(vec![], vec![V::N(a.i.unwrap_or(0) as f64)])),
                "value_ints" => {
                    Ok(Const::ints_of(vec![a.ints.len()], a.ints.iter().map(|&x| V::N(x as f64)).collect()))
                }
                other => Err(format!("a Constant given as '{other}'")),
            }
        }
        "Identity" => Ok(arg(args, 0)?.clone()),
        "Cast" => {
            let x = arg(args, 0)?;
            let to = attr_int(n, "to").ok_or("Cast without 'to'")?;
            let int = matches!(to, 2..=7 | 9 | 12 | 13);
            let v = x.v.iter().map(|&e| match e {
                V::N(f) if int => V::N(if to == 9 { f64::from(f != 0.0) } else { f.trunc() }),
                e => e,
            });
            Ok(Const { dims: x.dims.clone(), v: v.collect(), int })
        }
        "Add" | "Sub" | "Mul" | "Div" => binary(&n.op, arg(args, 0)?, arg(args, 1)?),
        "Neg" => binary("Mul", arg(args, 0)?, &Const { dims: vec![], v: vec![V::N(-1.0)], int: true }),
        "Gather" => {
            let (x, i) = (arg(args, 0)?, arg(args, 1)?);
            if x.dims.len() != 1 || axis(attr_int(n, "axis").unwrap_or(0), 1)? != 0 {
                return Err("a Gather other than from a vector".into());
            }
            let v = i
                .fixed_ints()?
                .iter()
                .map(|&k| {
                    let k = if k < 0 { k + x.v.len() as i64 } else { k };
                    usize::try_from(k)
                        .ok()
                        .and_then(|k| x.v.get(k).copied())
                        .ok_or(format!("index {k} of {}", x.v.len()))
                })
                .collect::<R<Vec<V>>>()?;
            Ok(Const { dims: i.dims.clone(), v, int: x.int })
        }
        "Unsqueeze" => {
            let x = arg(args, 0)?;
            let axes = ints_from(n, args, 1, "axes")?.ok_or("Unsqueeze without axes")?;
            let rank = x.dims.len() + axes.len();
            let mut at = axes.iter().map(|&a| axis(a, rank)).collect::<R<Vec<_>>>()?;
            at.sort_unstable();
            let mut dims = x.dims.clone();
            for a in at {
                dims.insert(a.min(dims.len()), 1);
            }
            Ok(Const { dims, ..x.clone() })
        }
        "Squeeze" => {
            let x = arg(args, 0)?;
            let dims = match ints_from(n, args, 1, "axes")? {
                None => x.dims.iter().copied().filter(|&d| d != 1).collect(),
                Some(axes) => {
                    let at = axes.iter().map(|&a| axis(a, x.dims.len())).collect::<R<Vec<_>>>()?;
                    x.dims.iter().enumerate().filter(|(i, _)| !at.contains(i)).map(|(_, &d)| d).collect()
                }
            };
            Ok(Const { dims, ..x.clone() })
        }
        "Concat" => {
            let parts: Vec<&Const> =
                args.iter().map(|a| a.ok_or_else(|| "an empty input".to_string())).collect::<R<_>>()?;
            if parts.iter().any(|p| p.dims.len() != 1) {
                return Err("a Concat of values other than vectors".into());
            }
            let v: Vec<V> = parts.iter().flat_map(|p| p.v.iter().copied()).collect();
            Ok(Const { dims: vec![v.len()], v, int: parts.iter().all(|p| p.int) })
        }
        "Slice" => {
            let x = arg(args, 0)?;
            if x.dims.len() != 1 {
                return Err("a Slice of a value other than a vector".into());
            }
            let starts = ints_from(n, args, 1, "starts")?.ok_or("Slice without starts")?;
            let ends = ints_from(n, args, 2, "ends")?.ok_or("Slice without ends")?;
            let steps = ints_from(n, args, 4, "steps")?.unwrap_or_else(|| vec![1]);
            if starts.len() != 1 || ends.len() != 1 || steps != [1] {
                return Err("a Slice with several axes or a step".into());
            }
            let len = x.v.len() as i64;
            let clamp = |e: i64| (if e < 0 { e + len } else { e }).clamp(0, len) as usize;
            let (s, e) = (clamp(starts[0]), clamp(ends[0]));
            let v = if s < e { x.v[s..e].to_vec() } else { Vec::new() };
            Ok(Const { dims: vec![v.len()], v, int: x.int })
        }
        "ConstantOfShape" => {
            let dims = arg(args, 0)?
                .fixed_ints()?
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d}")))
                .collect::<R<Vec<usize>>>()?;
            let count = count(&dims)?;
            let fill = n
                .attrs
                .iter()
                .find(|a| a.name == "value")
                .and_then(|a| a.t.as_ref())
                .map_or(Const { dims: vec![1], v: vec![V::N(0.0)], int: false }, Const::of);
            Ok(Const { dims, v: vec![fill.v.first().copied().unwrap_or(V::N(0.0)); count], int: fill.int })
        }
        "Reshape" => {
            let (x, s) = (arg(args, 0)?, arg(args, 1)?.fixed_ints()?);
            let known = s
                .iter()
                .filter(|&&d| d > 0)
                .try_fold(1usize, |a, &d| a.checked_mul(usize::try_from(d).ok()?))
                .ok_or("a reshape to too many values")?;
            let total = x.v.len();
            let dims = s
                .iter()
                .enumerate()
                .map(|(i, &d)| match d {
                    -1 => Ok(total / known.max(1)),
                    0 => x.dims.get(i).copied().ok_or_else(|| "a 0 past the input's rank".to_string()),
                    d if d > 0 => Ok(d as usize),
                    d => Err(format!("dimension {d}")),
                })
                .collect::<R<Vec<usize>>>()?;
            if count(&dims)? != total {
                return Err(format!("{total} values reshaped to {dims:?}"));
            }
            Ok(Const { dims, ..x.clone() })
        }
        op => Err(format!("operator '{op}' on known values is not folded")),
    }
}
