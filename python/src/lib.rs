//! `rtas._engine`: the Python package's native part. It runs rtas's own commands in this process
//! (`rtas::cli::run_json`, the same code as `rtas ARGS --json`), on a worker thread with the GIL released,
//! polling for Ctrl-C; NumPy arrays stand for `--data-file`. The Python modules beside it (`python/rtas/`)
//! give every command a typed signature and wrap the JSON in result objects.

use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use rtas::cli::{Failure, FailureKind, InMemory, Ran};
use rtas::data::table::Table;
use rtas::net::message::Payload;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

pyo3::create_exception!(
    _engine,
    EngineError,
    PyException,
    "A failed command: args are (kind, message); rtas/_errors.py turns it into ValueError or an RtasError."
);

/// How often the waiting thread looks for Ctrl-C.
const POLL: Duration = Duration::from_millis(50);
/// How long an interrupted run may take to reach its next check and stop before the call returns anyway.
const STOP_WAIT: Duration = Duration::from_secs(30);
/// The worker's stack: the CLI's main thread has 8 MiB; deep model walks get the same margin and more.
const STACK: usize = 64 << 20;

fn kind(k: FailureKind) -> &'static str {
    match k {
        FailureKind::Usage => "usage",
        FailureKind::Data => "data",
        FailureKind::Numerical => "numerical",
        FailureKind::Protocol => "protocol",
        FailureKind::Cancelled => "cancelled",
    }
}

fn engine_error(f: Failure) -> PyErr {
    EngineError::new_err((kind(f.kind), f.message))
}

/// Runs `job` on a worker thread with the GIL released; Ctrl-C (any pending signal whose handler raises)
/// asks the run to stop (`rtas::cancel`), waits up to [`STOP_WAIT`] for it, and raises the handler's error.
fn run_detached(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    job: impl FnOnce() -> Result<Ran, Failure> + Send + 'static,
) -> PyResult<Ran> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("rtas".into())
        .stack_size(STACK)
        .spawn(move || {
            let _ = tx.send(job());
        })
        .map_err(|e| EngineError::new_err(("protocol", format!("cannot start the run's thread: {e}"))))?;
    // The receiver only crosses into the GIL-free closures by reference, which needs it Sync.
    let rx = std::sync::Mutex::new(rx);
    let wait = |d: Duration| rx.lock().map_err(|_| RecvTimeoutError::Disconnected).and_then(|r| r.recv_timeout(d));
    let mut shown = None;
    loop {
        if let Some(report) = &progress {
            let now = rtas::cli::progress();
            if now.is_some() && now != shown {
                if let Some((pos, len, msg)) = now.clone() {
                    report.call1(py, (pos, len, msg))?;
                }
                shown = now;
            }
        }
        match py.detach(|| wait(POLL)) {
            Ok(Ok(ran)) => return Ok(ran),
            Ok(Err(f)) => return Err(engine_error(f)),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(signal) = py.check_signals() {
                    rtas::cancel::request();
                    let _ = py.detach(|| wait(STOP_WAIT));
                    return Err(signal);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(EngineError::new_err(("protocol", "the run ended without a result (a panic inside rtas)")));
            }
        }
    }
}

/// A payload as Python reads it: ring elements (Z_2^64) and floats as NumPy arrays of their shape, a seed
/// as 16 bytes.
fn payload<'py>(py: Python<'py>, p: Payload) -> PyResult<Bound<'py, PyAny>> {
    Ok(match p {
        Payload::Ring(a) => a.into_pyarray(py).into_any(),
        Payload::Float(a) => a.into_pyarray(py).into_any(),
        Payload::Seed(s) => PyBytes::new(py, &s).into_any(),
        Payload::Shape(s) => PyList::new(py, s)?.into_any(),
    })
}

/// Every role's view as Python dicts: role -> {received: [{from, label, phase, kind, value}], inputs:
/// {name: value}, seeds: [(shared with, 16 bytes)]}.
fn views<'py>(py: Python<'py>, views: rtas::cli::Views) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (role, view) in views {
        let v = PyDict::new(py);
        let received = PyList::empty(py);
        for e in view.received {
            let d = PyDict::new(py);
            d.set_item("from", e.from.to_string())?;
            d.set_item("label", e.label.to_string())?;
            d.set_item("phase", e.phase.to_string())?;
            d.set_item("kind", format!("{:?}", e.kind))?;
            d.set_item("value", payload(py, e.payload)?)?;
            received.append(d)?;
        }
        v.set_item("received", received)?;
        let inputs = PyDict::new(py);
        for (name, p) in view.inputs {
            inputs.set_item(name, payload(py, p)?)?;
        }
        v.set_item("inputs", inputs)?;
        let seeds = PyList::empty(py);
        for (with, seed) in view.seeds {
            seeds.append((with.to_string(), PyBytes::new(py, &seed)))?;
        }
        v.set_item("seeds", seeds)?;
        out.set_item(role.to_string(), v)?;
    }
    Ok(out)
}

/// What a call returns: (the JSON object, the table the CLI prints without --json, the views or None).
type Returned<'py> = (String, Option<String>, Option<Bound<'py, PyDict>>);

fn returned(py: Python<'_>, ran: Ran) -> PyResult<Returned<'_>> {
    let v = ran.views.map(|v| views(py, v)).transpose()?;
    Ok((ran.json, ran.text, v))
}

/// Runs `rtas ARGS --json` in this process: (the JSON object, the table the CLI prints without --json,
/// every role's view when `views` and the command is a secure `simulate`). `progress(position, length,
/// message)` is called from this thread whenever the command's progress bar moves.
#[pyfunction]
#[pyo3(signature = (args, views=false, progress=None))]
fn run(py: Python<'_>, args: Vec<String>, views: bool, progress: Option<Py<PyAny>>) -> PyResult<Returned<'_>> {
    let ran = run_detached(py, progress, move || rtas::cli::run_json(&args, None, views))?;
    returned(py, ran)
}

/// A table from NumPy arrays: features (rows x columns) and, where given, one label per row. One copy into
/// rtas's row-major layout (a view is read in place when C-contiguous; the copy is what the worker thread
/// owns).
fn table(x: &PyReadonlyArray2<'_, f64>, y: Option<&PyReadonlyArray1<'_, f64>>, what: &str) -> PyResult<Table> {
    let (rows, cols) = (x.shape()[0], x.shape()[1]);
    if let Some(y) = y
        && y.len() != rows
    {
        return Err(EngineError::new_err(("usage", format!("{what}: {rows} rows of features but {} labels", y.len()))));
    }
    let values: Vec<f64> = match x.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => x.as_array().iter().copied().collect(),
    };
    let labels = y.map(|y| match y.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => y.as_array().iter().copied().collect(),
    });
    Ok(Table { rows, cols, names: (0..cols).map(|j| format!("x{j}")).collect(), x: values, labels })
}

/// Runs `rtas ARGS --json` on arrays in place of the command's rows (`--data-file`, or `--images-file` for
/// pixel-permutation): `simulate` and the attacks that read a user's rows. `x` (with labels `y` where the
/// command trains) is one table, cut 80/20 where the command trains as `--data-file` is; with `x_test,
/// y_test` the train and test sets as given.
#[pyfunction]
#[pyo3(signature = (args, x, y=None, x_test=None, y_test=None, views=false, progress=None))]
#[allow(clippy::too_many_arguments)] // Python's keyword arguments, one parameter each.
fn run_arrays<'py>(
    py: Python<'py>,
    args: Vec<String>,
    x: PyReadonlyArray2<'py, f64>,
    y: Option<PyReadonlyArray1<'py, f64>>,
    x_test: Option<PyReadonlyArray2<'py, f64>>,
    y_test: Option<PyReadonlyArray1<'py, f64>>,
    views: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Returned<'py>> {
    let train = table(&x, y.as_ref(), "data")?;
    let data = match (x_test, y_test) {
        (None, None) => InMemory::Table(train),
        (Some(xt), Some(yt)) => InMemory::Split(train, table(&xt, Some(&yt), "test")?),
        _ => return Err(EngineError::new_err(("usage", "x_test and y_test go together"))),
    };
    let ran = run_detached(py, progress, move || rtas::cli::run_json(&args, Some(data), views))?;
    returned(py, ran)
}

/// The native part of the `rtas` package.
#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(run_arrays, m)?)?;
    m.add("EngineError", m.py().get_type::<EngineError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
