//! Output: one JSON object (`--json`) or a table for people.

use serde::Serialize;

std::thread_local! {
    /// The table beside the JSON, when an in-process caller asked for both ([`capture_tables`]).
    static TABLES: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// From now on this thread's [`render`] calls in JSON mode also keep the table they would have drawn.
pub fn capture_tables() {
    TABLES.with(|t| *t.borrow_mut() = Some(Vec::new()));
}

/// The tables kept since [`capture_tables`] (in order), ending the capture.
pub fn captured_tables() -> Vec<String> {
    TABLES.with(|t| t.borrow_mut().take()).unwrap_or_default()
}

/// JSON of `value` when `json`, else the table `table()` draws.
pub fn render<T: Serialize>(value: &T, json: bool, table: impl FnOnce(&T) -> String) -> crate::Result<String> {
    if json {
        TABLES.with(|t| {
            if let Some(kept) = t.borrow_mut().as_mut() {
                kept.push(table(value));
            }
        });
        serde_json::to_string_pretty(value).map_err(|e| crate::Error::Numerical(format!("JSON output: {e}")))
    } else {
        Ok(table(value))
    }
}

/// A left-aligned first column and right-aligned value columns.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row.
    pub fn new<S: ToString>(header: &[S]) -> Self {
        Self { rows: vec![header.iter().map(|s| s.to_string()).collect()] }
    }

    /// Adds a row.
    pub fn row<S: ToString>(&mut self, cells: &[S]) -> &mut Self {
        self.rows.push(cells.iter().map(|s| s.to_string()).collect());
        self
    }

    /// The table as text, columns separated by two spaces.
    pub fn render(&self) -> String {
        let ncols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..ncols)
            .map(|c| self.rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for (i, row) in self.rows.iter().enumerate() {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c == 0 {
                    line.push_str(&format!("{cell:<w$}", w = widths[0]));
                } else {
                    line.push_str(&format!("  {cell:>w$}", w = widths[c]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if i == 0 {
                out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * ncols.saturating_sub(1)));
                out.push('\n');
            }
        }
        out.pop();
        out
    }
}

/// A log10 value with 4 decimals.
/// The warning `op` and `simulate` print under the paper's float sharing (one text for both).
pub const FLOAT_SHARING_WARNING: &str =
    "WARNING: float sharing is insecure: each share is the secret plus Gaussian noise";

/// The warning `op` and `simulate` print when truncations failed (one text for both), or nothing.
pub fn truncation_warning(failures: u64, checked: u64) -> Option<String> {
    (failures > 0).then(|| {
        format!(
            "WARNING: {failures} of {checked} truncations failed (each off by 2^(64-2f)): fewer --frac-bits or smaller inputs"
        )
    })
}

pub fn log10(v: f64) -> String {
    format!("{v:.4}")
}

/// Any serializable report as readable text: scalars as `key: value`, lists of records as tables.
pub fn value_table<T: Serialize>(title: &str, value: &T) -> String {
    let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    let mut out = format!("{title}\n");
    write_value(&mut out, "", &v);
    out.trim_end().to_string()
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => {
                if f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e6) {
                    format!("{f:.4e}")
                } else {
                    format!("{f:.4}")
                }
            }
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write_value(out: &mut String, indent: &str, v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map {
                match val {
                    serde_json::Value::Object(_) => {
                        out.push_str(&format!("{indent}{k}:\n"));
                        write_value(out, &format!("{indent}  "), val);
                    }
                    serde_json::Value::Array(items) if items.iter().all(|i| i.is_object()) && !items.is_empty() => {
                        out.push_str(&format!("{indent}{k}:\n"));
                        write_value(out, indent, val);
                    }
                    _ => out.push_str(&format!("{indent}{k}: {}\n", scalar(val))),
                }
            }
        }
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_object()) && !items.is_empty() => {
            let keys: Vec<String> = items[0].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
            let mut t = Table::new(&keys);
            for it in items {
                let row: Vec<String> = keys.iter().map(|k| it.get(k).map_or(String::new(), scalar)).collect();
                t.row(&row);
            }
            for line in t.render().lines() {
                out.push_str(&format!("{indent}{line}\n"));
            }
        }
        other => out.push_str(&format!("{indent}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_truncation_warning_for_op_and_simulate() {
        assert_eq!(truncation_warning(0, 1000), None);
        let w = truncation_warning(3, 1000).unwrap_or_default();
        assert!(w.starts_with("WARNING: 3 of 1000 truncations failed"), "{w}");
        assert!(FLOAT_SHARING_WARNING.starts_with("WARNING: float sharing is insecure"));
    }
}
