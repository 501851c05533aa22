//! The element-wise functions of the paper's models, exact, and their names. The helper applies them as
//! closures ([`super::elementwise`]); the FSS gates as splines ([`super::fss::gates`]).

/// The element-wise functions the models use, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// The logistic sigmoid.
    Sigmoid,
    /// Its derivative.
    SigmoidGrad,
    /// max(x, 0).
    Relu,
    /// 1 for x > 0.
    ReluGrad,
}

impl Activation {
    /// The exact function.
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Activation::Sigmoid => sigmoid(x),
            Activation::SigmoidGrad => sigmoid_grad(x),
            Activation::Relu => relu(x),
            Activation::ReluGrad => relu_grad(x),
        }
    }
}

/// The logistic sigmoid.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Its derivative, `s(x)(1 - s(x))`.
pub fn sigmoid_grad(x: f64) -> f64 {
    let s = sigmoid(x);
    s * (1.0 - s)
}

/// max(x, 0).
pub fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// 1 for x > 0, else 0.
pub fn relu_grad(x: f64) -> f64 {
    if x > 0.0 { 1.0 } else { 0.0 }
}

/// A softmax of one row in place (the plaintext model's and the helper's: one definition, the same bits).
pub fn softmax_row(mut row: ndarray::ArrayViewMut1<'_, f64>) {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    row.mapv_inplace(|v| (v - m).exp());
    let s: f64 = row.sum();
    row.mapv_inplace(|v| v / s);
}
