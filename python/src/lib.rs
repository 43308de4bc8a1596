//! `transformer_laws._native`: the Rust side of the Python package. Most of the public API,
//! its docstrings and the argument conversion (`numpy.asarray`, byte order) live in
//! `transformer_laws/*.py`; this module takes numpy arrays of float32 or float64 (read where
//! they lie when C-ordered and aligned, else copied), works along the last axis over any
//! leading batch dimensions, and raises `TypeError`/`ValueError` with the crate's messages for
//! bad input. No panic crosses into Python: inputs are checked before the kernels
//! run, and a panic that still happens becomes a `RuntimeError`.
//!
//! `softmax`, `log_softmax`, `layer_norm` and `rms_norm` are public as they are here, with
//! their docstrings: given arrays of one float dtype they call the kernel at once (a Python
//! wrapper's frame and checks took 0.34 µs of a 1.49 µs call, layer_norm of one 768-entry row
//! with γ and β); anything else goes to the package's Python path (`transformer_laws._softmax`,
//! …), which converts it or names the problem.

use nalgebra::DMatrix;
use numpy::{
    Element, PyArray, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::cell::RefCell;
use transformer_laws::laws::{self, Config, HarnessReport, Kind, Outcome, Policy};
use transformer_laws::search::{self, SearchConfig};
use transformer_laws::strategies::FloatStrategies;
use transformer_laws::{Real, claims, loss, norms, report, softmax, unembed};

/// Shape and entries (in C order) of a float array of type `T`: borrowed from the array
/// (read-only, for as long as the rows are used) when it is C-contiguous and aligned, else
/// read from a copy (a transposed or strided view, a misaligned one).
struct Rows<'py, T: Element> {
    shape: Vec<usize>,
    array: PyReadonlyArrayDyn<'py, T>,
    copy: Option<Vec<T>>,
}

impl<T: Element + Copy> Rows<'_, T> {
    fn data(&self) -> &[T] {
        match &self.copy {
            Some(v) => v,
            None => self
                .array
                .as_slice()
                .expect("checked: the array is C-contiguous and aligned"),
        }
    }
    fn width(&self) -> usize {
        *self.shape.last().expect("checked: at least one dimension")
    }
    fn batch(&self) -> Vec<usize> {
        self.shape[..self.shape.len() - 1].to_vec()
    }
    fn rows(&self) -> impl Iterator<Item = &[T]> {
        let w = self.width();
        let count = self.batch().iter().product::<usize>();
        let data = self.data();
        (0..count).map(move |i| &data[i * w..(i + 1) * w])
    }
}

fn dtype_name(a: &Bound<'_, PyUntypedArray>) -> String {
    a.dtype()
        .str()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The numpy array `name`, which must have dtype `T` (float32 or float64).
fn rows<'py, T: Element + Copy>(name: &str, a: &Bound<'py, PyAny>) -> PyResult<Rows<'py, T>> {
    let arr = a.cast::<PyArrayDyn<T>>().map_err(|_| {
        let got = a
            .cast::<PyUntypedArray>()
            .map(|u| dtype_name(u))
            .unwrap_or_else(|_| {
                a.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            });
        PyTypeError::new_err(format!(
            "{name} must be a float32 or float64 array (the same dtype as x), got {got}"
        ))
    })?;
    let array = aligned(name, arr.clone())?.readonly();
    let shape = array.shape().to_vec();
    if shape.is_empty() {
        return Err(PyValueError::new_err(format!(
            "{name} must have at least one dimension (the last one is the row), got a scalar"
        )));
    }
    // A C-ordered array is read in place; other layouts are walked element by element once.
    let copy = if array.is_c_contiguous() {
        None
    } else {
        Some(array.as_array().iter().copied().collect())
    };
    Ok(Rows { shape, array, copy })
}

/// `arr`, or numpy's copy of it (C-ordered, aligned) when its entries are misaligned (a view into
/// a byte buffer at an odd offset): the kernels read the entries where they lie, and ndarray's
/// views need them aligned. A copy that is still misaligned (a custom allocator) is a TypeError.
fn aligned<'py, T: Element>(
    name: &str,
    arr: Bound<'py, PyArrayDyn<T>>,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    if arr.is_aligned() {
        return Ok(arr);
    }
    arr.call_method0("copy")?
        .cast_into::<PyArrayDyn<T>>()
        .ok()
        .filter(|a| a.is_aligned())
        .ok_or_else(|| PyTypeError::new_err(format!("{name}: a copy of it is not aligned")))
}

fn array<'py, T: Element>(py: Python<'py>, data: Vec<T>, shape: Vec<usize>) -> PyResult<Py<PyAny>> {
    // The vector becomes the array's memory, in its shape. A one-dimensional result takes
    // `from_vec`, which skips ndarray's shape checks (about 0.1 µs a call).
    if let [_] = shape[..] {
        return Ok(PyArray::from_vec(py, data).into_any().unbind());
    }
    let a = numpy::ndarray::Array::from_shape_vec(numpy::ndarray::IxDyn(&shape), data)
        .map_err(|e| PyRuntimeError::new_err(format!("internal error: {e}")))?;
    Ok(PyArray::from_owned_array(py, a).into_any().unbind())
}

/// Which float type `x` has.
enum Dt {
    F32,
    F64,
}

fn dtype_of(x: &Bound<'_, PyAny>) -> PyResult<Dt> {
    if x.cast::<PyArrayDyn<f32>>().is_ok() {
        Ok(Dt::F32)
    } else if x.cast::<PyArrayDyn<f64>>().is_ok() {
        Ok(Dt::F64)
    } else {
        let got = x
            .cast::<PyUntypedArray>()
            .map(|u| dtype_name(u))
            .unwrap_or_else(|_| "not an array".into());
        Err(PyTypeError::new_err(format!(
            "x must be a float32 or float64 array, got {got}"
        )))
    }
}

/// Run a kernel, turning a panic (there should be none: inputs are checked first) into a
/// `RuntimeError` instead of letting it cross into Python.
fn kernel<R>(f: impl FnOnce() -> R) -> PyResult<R> {
    laws::guarded(f).map_err(|msg| PyRuntimeError::new_err(format!("internal error: {msg}")))
}

fn same_len(name: &str, got: usize, what: &str, want: usize) -> PyResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "{name} has {got} entries but {what} has {want}"
        )))
    }
}

fn eps_value<T: Real>(eps: Option<f64>, default: T) -> PyResult<T> {
    let e = eps.map_or(default, T::narrow);
    if e >= T::zero() && e.is_finite() {
        Ok(e)
    } else {
        Err(PyValueError::new_err(format!(
            "eps must be a finite number >= 0, got {}",
            e.shortest_repr()
        )))
    }
}

fn vector_op<T: Real + Element>(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    f: impl Fn(&[T]) -> Vec<T>,
) -> PyResult<Py<PyAny>> {
    let r = rows::<T>("x", x)?;
    let out = kernel(|| {
        if r.batch().iter().product::<usize>() == 1 {
            // One row: the kernel's vector is the result.
            f(r.data())
        } else {
            let mut out = Vec::with_capacity(r.data().len());
            r.rows().for_each(|row| out.extend(f(row)));
            out
        }
    })?;
    array(py, out, r.shape)
}

fn scalar_op<T: Real + Element>(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    f: impl Fn(&[T]) -> T,
) -> PyResult<Py<PyAny>> {
    let r = rows::<T>("x", x)?;
    let out: Vec<T> = kernel(|| r.rows().map(&f).collect())?;
    array(py, out, r.batch())
}

/// `$body` with the type `$t` bound to the float type of `x` (`f32` or `f64`).
macro_rules! by_dtype {
    ($x:expr, |$t:ident| $body:expr) => {
        match dtype_of($x)? {
            Dt::F32 => {
                type $t = f32;
                $body
            }
            Dt::F64 => {
                type $t = f64;
                $body
            }
        }
    };
}

/// A compiled entry: `kernel` when `arrays` (the absent ones aside) are numpy arrays of one
/// float dtype, float32 or float64 in native byte order (the kernel reads them as they are,
/// and copies a strided or misaligned one itself); else the package's Python path
/// `transformer_laws.<python>` with `args`, which converts them (lists, integers, big-endian
/// arrays) or raises the error that names the problem, then calls the strict kernel.
fn entry<'py>(
    py: Python<'py>,
    arrays: &[Option<&Bound<'py, PyAny>>],
    kernel: impl FnOnce() -> PyResult<Py<PyAny>>,
    python: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Py<PyAny>> {
    fn all<T: Element>(arrays: &[Option<&Bound<'_, PyAny>>]) -> bool {
        arrays
            .iter()
            .flatten()
            .all(|a| a.cast::<PyArrayDyn<T>>().is_ok())
    }
    if all::<f32>(arrays) || all::<f64>(arrays) {
        kernel()
    } else {
        Ok(py
            .import("transformer_laws")?
            .getattr(python)?
            .call1(args)?
            .unbind())
    }
}

/// Softmax along the last axis: ``exp(x − max) / Σ exp(x − max)``.
///
/// Parameters
/// ----------
/// x : array_like of float32 or float64, shape (..., n)
///
/// Returns
/// -------
/// numpy.ndarray, same shape and dtype as ``x``.
///
/// Notes
/// -----
/// Special values (this crate's policy): NaN anywhere → all NaN; ``c`` entries +∞ → 1/c on
/// them, 0 elsewhere; all −∞ → all NaN; −∞ beside a finite maximum → exactly 0.
#[pyfunction]
#[pyo3(name = "softmax")]
fn softmax_entry(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    entry(py, &[Some(x)], || softmax_(py, x), "_softmax", (x,))
}

/// Log-softmax along the last axis, ``(x − m) − log1p(Σ_{j≠k} exp(xⱼ − m))``.
///
/// The log1p split keeps a dominant logit's log-probability: ``log_softmax([0, −20])[0]`` is
/// −2.06e−9 in float32, not 0.
///
/// Same argument and result as :func:`softmax`.
#[pyfunction]
#[pyo3(name = "log_softmax")]
fn log_softmax_entry(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    entry(py, &[Some(x)], || log_softmax_(py, x), "_log_softmax", (x,))
}

/// LayerNorm along the last axis: ``γ ⊙ (x − μ)/√(σ² + ε) + β`` (biased variance).
///
/// Parameters
/// ----------
/// x : array_like of float32 or float64, shape (..., n)
/// eps : float, default 1e-5 (``torch.nn.functional.layer_norm``'s), must be ≥ 0
/// gamma, beta : array_like of shape (n,), same dtype as ``x``, optional
///
/// Returns
/// -------
/// numpy.ndarray, same shape and dtype as ``x``.
///
/// Notes
/// -----
/// A constant row gives exactly β, also with ε = 0 (the ε → 0⁺ limit; PyTorch gives NaN).
#[pyfunction]
#[pyo3(signature = (x, eps=1e-5, gamma=None, beta=None))]
#[pyo3(name = "layer_norm")]
fn layer_norm_entry(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    eps: f64,
    gamma: Option<&Bound<'_, PyAny>>,
    beta: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let kernel = || layer_norm_(py, x, eps, gamma, beta);
    let args = (x, eps, gamma, beta);
    entry(py, &[Some(x), gamma, beta], kernel, "_layer_norm", args)
}

/// RMSNorm along the last axis: ``γ ⊙ x/√(mean(x²) + ε)``.
///
/// Parameters
/// ----------
/// x : array_like of float32 or float64, shape (..., n)
/// eps : float, optional; default the dtype's machine epsilon (``torch.nn.functional.rms_norm``'s)
/// gamma : array_like of shape (n,), same dtype as ``x``, optional
///
/// Returns
/// -------
/// numpy.ndarray, same shape and dtype as ``x``. Rows whose squares overflow are scaled
/// exactly, so ``rms_norm([3e19, 4e19])`` in float32 is ``[0.8485, 1.1314]``, not 0.
#[pyfunction]
#[pyo3(signature = (x, eps=None, gamma=None))]
#[pyo3(name = "rms_norm")]
fn rms_norm_entry(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    eps: Option<f64>,
    gamma: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let kernel = || rms_norm_(py, x, eps, gamma);
    entry(py, &[Some(x), gamma], kernel, "_rms_norm", (x, eps, gamma))
}

#[pyfunction]
fn softmax_(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    by_dtype!(x, |T| vector_op(py, x, softmax::softmax::<T>))
}
#[pyfunction]
fn log_softmax_(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    by_dtype!(x, |T| vector_op(py, x, softmax::log_softmax::<T>))
}
#[pyfunction]
fn logsumexp_(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    by_dtype!(x, |T| scalar_op(py, x, softmax::logsumexp::<T>))
}

fn param<'py, T: Element + Copy>(
    name: &str,
    p: Option<&Bound<'py, PyAny>>,
    n: usize,
) -> PyResult<Option<Rows<'py, T>>> {
    let Some(p) = p else { return Ok(None) };
    let r = rows::<T>(name, p)?;
    if r.shape.len() != 1 {
        return Err(PyValueError::new_err(format!(
            "{name} must be one-dimensional, got shape {:?}",
            r.shape
        )));
    }
    same_len(name, r.data().len(), "each row of x", n)?;
    Ok(Some(r))
}

#[pyfunction]
#[pyo3(signature = (x, eps, gamma=None, beta=None))]
fn layer_norm_(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    eps: f64,
    gamma: Option<&Bound<'_, PyAny>>,
    beta: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    by_dtype!(x, |T| {
        let eps = eps_value::<T>(Some(eps), 0.0)?;
        let r = rows::<T>("x", x)?;
        let n = r.width();
        let g = param::<T>("gamma", gamma, n)?;
        let b = param::<T>("beta", beta, n)?;
        let (g, b) = (g.as_ref().map(Rows::data), b.as_ref().map(Rows::data));
        let y = kernel(|| norms::layer_norm_rows(r.data(), n, eps, g, b))?;
        array(py, y, r.shape)
    })
}

#[pyfunction]
#[pyo3(signature = (x, eps=None, gamma=None))]
fn rms_norm_(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    eps: Option<f64>,
    gamma: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    by_dtype!(x, |T| {
        let eps = eps_value::<T>(eps, T::EPSILON)?;
        let r = rows::<T>("x", x)?;
        let n = r.width();
        let g = param::<T>("gamma", gamma, n)?;
        let g = g.as_ref().map(Rows::data);
        let y = kernel(|| norms::rms_norm_rows(r.data(), n, eps, g))?;
        array(py, y, r.shape)
    })
}

fn cross_entropy_t<T: Real + Element>(
    py: Python<'_>,
    logits: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let z = rows::<T>("logits", logits)?;
    let t = target
        .cast::<PyArrayDyn<i64>>()
        .map_err(|_| PyTypeError::new_err("target must be an integer array (class indices)"))?;
    let t = t.readonly();
    let tv = t.as_array();
    if tv.shape() != z.batch().as_slice() {
        return Err(PyValueError::new_err(format!(
            "target has shape {:?} but logits has batch shape {:?} (one target per row)",
            tv.shape(),
            z.batch()
        )));
    }
    let n = z.width();
    let targets: Vec<usize> = tv
        .iter()
        .map(|&y| {
            usize::try_from(y).ok().filter(|&y| y < n).ok_or_else(|| {
                PyValueError::new_err(format!("target {y} is out of range for {n} logits"))
            })
        })
        .collect::<PyResult<_>>()?;
    let mut losses = Vec::with_capacity(targets.len());
    let mut grads = Vec::with_capacity(z.data().len());
    kernel(|| {
        for (row, &y) in z.rows().zip(&targets) {
            let (l, g) = loss::cross_entropy_with_grad(row, y);
            losses.push(l);
            grads.extend(g);
        }
    })?;
    Ok((
        array(py, losses, z.batch())?,
        array(py, grads, z.shape.clone())?,
    ))
}

#[pyfunction]
fn cross_entropy_(
    py: Python<'_>,
    logits: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    match dtype_of(logits).map_err(|_| {
        PyTypeError::new_err(format!(
            "logits must be a float32 or float64 array, got {}",
            logits
                .cast::<PyUntypedArray>()
                .map(|u| dtype_name(u))
                .unwrap_or_else(|_| "not an array".into())
        ))
    })? {
        Dt::F32 => cross_entropy_t::<f32>(py, logits, target),
        Dt::F64 => cross_entropy_t::<f64>(py, logits, target),
    }
}

fn ranking_t<T: Real + Element>(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    tokens: &Bound<'_, PyAny>,
    op: &str,
) -> PyResult<Py<PyAny>> {
    let r = rows::<T>("x", x)?;
    let w = rows::<T>("tokens", tokens)?;
    if w.shape.len() != 2 {
        return Err(PyValueError::new_err(format!(
            "tokens must be two-dimensional (one token per row), got shape {:?}",
            w.shape
        )));
    }
    if w.shape[0] == 0 {
        return Err(PyValueError::new_err(
            "tokens is empty: there is no token to pick",
        ));
    }
    same_len("x", r.width(), "each token", w.shape[1])?;
    // Tokens one per row in C order are the columns of the d × V matrix, column-major: the
    // rankings read them where they lie; tokens of no entries go through the matrix.
    let d = w.shape[1];
    let m = (d == 0).then(|| DMatrix::from_column_slice(d, w.shape[0], w.data()));
    let out: Vec<i64> = kernel(|| {
        r.rows()
            .map(|row| {
                let i = match (op, &m) {
                    ("argmax_dot", None) => unembed::argmax_dot_tokens(w.data(), d, row),
                    ("nearest_euclidean", None) => {
                        unembed::nearest_euclidean_tokens(w.data(), d, row)
                    }
                    (_, None) => unembed::nearest_cosine_tokens(w.data(), d, row),
                    ("argmax_dot", Some(m)) => unembed::argmax_dot(m, row),
                    ("nearest_euclidean", Some(m)) => unembed::nearest_euclidean(m, row),
                    (_, Some(m)) => unembed::nearest_cosine(m, row),
                };
                i.map_or(-1, |i| i as i64)
            })
            .collect()
    })?;
    array(py, out, r.batch())
}

#[pyfunction]
fn ranking_(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    tokens: &Bound<'_, PyAny>,
    op: &str,
) -> PyResult<Py<PyAny>> {
    by_dtype!(x, |T| ranking_t::<T>(py, x, tokens, op))
}

// ---- claims -------------------------------------------------------------------------------

fn lookup(id: &str) -> PyResult<claims::Claim> {
    claims::find(id).ok_or_else(|| {
        let ids: Vec<&str> = claims::registry().iter().map(|c| c.id).collect();
        let near = ids
            .iter()
            .filter(|c| c.contains(id) || id.contains(**c))
            .copied()
            .next()
            .map(|c| format!(" (did you mean '{c}'?)"))
            .unwrap_or_default();
        PyValueError::new_err(format!(
            "unknown claim id '{id}'{near}; claims.list() gives them all"
        ))
    })
}

#[pyfunction]
fn claims_list() -> Vec<String> {
    claims::registry()
        .iter()
        .map(|c| c.id.to_string())
        .collect()
}

fn search_config(cases: Option<u32>, seed: Option<u64>) -> SearchConfig {
    let d = SearchConfig::default();
    SearchConfig {
        cases: cases.unwrap_or(d.cases),
        seed: seed.unwrap_or(d.seed),
    }
}

#[pyfunction]
#[pyo3(signature = (id, cases=None, seed=None))]
fn claims_show(
    py: Python<'_>,
    id: &str,
    cases: Option<u32>,
    seed: Option<u64>,
) -> PyResult<String> {
    let c = lookup(id)?;
    let cfg = search_config(cases, seed);
    let _ = py;
    kernel(|| report::json(&search::evaluate(&c, cfg), cfg))
}

#[pyfunction]
#[pyo3(signature = (ids=None, cases=None, seed=None))]
fn claims_check(
    py: Python<'_>,
    ids: Option<Vec<String>>,
    cases: Option<u32>,
    seed: Option<u64>,
) -> PyResult<String> {
    let list: Vec<claims::Claim> = match ids {
        None => claims::registry(),
        Some(ids) => ids.iter().map(|id| lookup(id)).collect::<PyResult<_>>()?,
    };
    let cfg = search_config(cases, seed);
    let _ = py;
    kernel(|| {
        let results: Vec<_> = list.iter().map(|c| search::evaluate(c, cfg)).collect();
        report::check_json(&results, cfg)
    })
}

// ---- the law harness ----------------------------------------------------------------------

thread_local! {
    /// A KeyboardInterrupt raised inside the user's function: the check stops calling it and
    /// re-raises the interrupt at the end.
    static INTERRUPTED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Call the user's function; a Python exception becomes a panic, which the harness turns into
/// the failure of the law it was running.
fn call_user<R>(f: impl FnOnce(Python<'_>) -> PyResult<R>) -> R {
    if INTERRUPTED.with(|i| i.borrow().is_some()) {
        std::panic::panic_any("interrupted".to_string());
    }
    let r = Python::attach(|py| {
        f(py).map_err(|e| {
            if e.is_instance_of::<PyKeyboardInterrupt>(py) {
                INTERRUPTED.with(|i| *i.borrow_mut() = Some(e.clone_ref(py)));
            }
            let name = e
                .get_type(py)
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "exception".into());
            format!("raised {name}: {}", e.value(py))
        })
    });
    match r {
        Ok(v) => v,
        Err(msg) => std::panic::panic_any(msg),
    }
}

fn to_vec<T: Real + Element>(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Vec<T>> {
    let np = py.import("numpy")?;
    let dt = if T::NAME == "f32" {
        "float32"
    } else {
        "float64"
    };
    let a = np.getattr("asarray")?.call1((v, dt))?;
    let a = aligned("the result", a.cast_into::<PyArrayDyn<T>>()?)?.readonly();
    Ok(a.as_array().iter().copied().collect())
}

fn to_scalar<T: Real>(v: &Bound<'_, PyAny>) -> PyResult<T> {
    Ok(T::narrow(v.extract::<f64>()?))
}

fn row_array<'py, T: Real + Element>(py: Python<'py>, z: &[T]) -> Bound<'py, PyAny> {
    PyArray::from_slice(py, z).into_any()
}

fn run_check<T: FloatStrategies + Element>(
    op: &str,
    f: Py<PyAny>,
    cfg: &Config,
) -> PyResult<HarnessReport> {
    Ok(match op {
        "softmax" | "log_softmax" => {
            let g = move |z: &[T]| {
                call_user(|py| to_vec::<T>(py, &f.bind(py).call1((row_array(py, z),))?))
            };
            if op == "softmax" {
                laws::softmax::check_with(g, cfg)
            } else {
                laws::log_softmax::check_with(g, cfg)
            }
        }
        "logsumexp" => laws::logsumexp::check_with(
            move |z: &[T]| call_user(|py| to_scalar::<T>(&f.bind(py).call1((row_array(py, z),))?)),
            cfg,
        ),
        "layer_norm" | "rms_norm" => {
            let g = move |x: &[T], eps: T| {
                call_user(|py| to_vec::<T>(py, &f.bind(py).call1((row_array(py, x), eps.widen()))?))
            };
            if op == "layer_norm" {
                laws::layer_norm::check_with(g, cfg)
            } else {
                laws::rms_norm::check_with(g, cfg)
            }
        }
        "cross_entropy" => laws::cross_entropy::check_with(
            move |z: &[T], y: usize| {
                call_user(|py| to_scalar::<T>(&f.bind(py).call1((row_array(py, z), y))?))
            },
            cfg,
        ),
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown op '{op}' (expected softmax, log_softmax, logsumexp, layer_norm, rms_norm or cross_entropy)"
            )));
        }
    })
}

fn report_dict<'py>(py: Python<'py>, r: &HarnessReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("operation", r.operation)?;
    d.set_item(
        "dtype",
        if r.dtype == "f32" {
            "float32"
        } else {
            "float64"
        },
    )?;
    d.set_item("policy", r.policy.accepting())?;
    d.set_item("passed", r.passed())?;
    d.set_item("text", r.to_string())?;
    let results = PyList::empty(py);
    for l in &r.results {
        let e = PyDict::new(py);
        e.set_item("kind", if l.kind == Kind::Law { "law" } else { "policy" })?;
        e.set_item("name", l.name)?;
        e.set_item("statement", &l.statement)?;
        match &l.outcome {
            Outcome::Passed(n) => {
                e.set_item("outcome", "passed")?;
                e.set_item("inputs", n)?;
            }
            Outcome::Accepted(who) => {
                e.set_item("outcome", "passed")?;
                let names: Vec<String> = who.iter().map(|w| w.to_string()).collect();
                e.set_item("answer_of", names)?;
            }
            Outcome::Skipped => e.set_item("outcome", "skipped")?,
            Outcome::Inconclusive(why) => {
                e.set_item("outcome", "inconclusive")?;
                e.set_item("detail", why)?;
            }
            Outcome::Failed(x) => {
                e.set_item("outcome", "failed")?;
                e.set_item("row", x.row.clone())?;
                e.set_item("target", x.target)?;
                e.set_item("expected", &x.expected)?;
                e.set_item("got", &x.got)?;
                e.set_item("detail", &x.detail)?;
            }
        }
        results.append(e)?;
    }
    d.set_item("results", results)?;
    Ok(d)
}

#[pyfunction]
#[pyo3(signature = (op, f, dtype="float32", policy=None, ulps=None, cases=None, seed=None))]
#[allow(clippy::too_many_arguments)]
fn laws_check<'py>(
    py: Python<'py>,
    op: &str,
    f: Py<PyAny>,
    dtype: &str,
    policy: Option<&str>,
    ulps: Option<u64>,
    cases: Option<u32>,
    seed: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = Config::default();
    let cfg = Config {
        cases: cases.unwrap_or(d.cases),
        seed: seed.unwrap_or(d.seed),
        ulps,
        policy: match policy {
            None => Policy::Any,
            Some(p) => p.parse().map_err(PyValueError::new_err)?,
        },
        skip: Vec::new(),
    };
    INTERRUPTED.with(|i| *i.borrow_mut() = None);
    let report = match dtype {
        "float32" | "f32" => run_check::<f32>(op, f, &cfg)?,
        "float64" | "f64" => run_check::<f64>(op, f, &cfg)?,
        _ => {
            return Err(PyValueError::new_err(format!(
                "dtype must be 'float32' or 'float64', got '{dtype}'"
            )));
        }
    };
    if let Some(e) = INTERRUPTED.with(|i| i.borrow_mut().take()) {
        return Err(e);
    }
    report_dict(py, &report)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(softmax_entry, m)?)?;
    m.add_function(wrap_pyfunction!(log_softmax_entry, m)?)?;
    m.add_function(wrap_pyfunction!(layer_norm_entry, m)?)?;
    m.add_function(wrap_pyfunction!(rms_norm_entry, m)?)?;
    m.add_function(wrap_pyfunction!(softmax_, m)?)?;
    m.add_function(wrap_pyfunction!(log_softmax_, m)?)?;
    m.add_function(wrap_pyfunction!(logsumexp_, m)?)?;
    m.add_function(wrap_pyfunction!(layer_norm_, m)?)?;
    m.add_function(wrap_pyfunction!(rms_norm_, m)?)?;
    m.add_function(wrap_pyfunction!(cross_entropy_, m)?)?;
    m.add_function(wrap_pyfunction!(ranking_, m)?)?;
    m.add_function(wrap_pyfunction!(claims_list, m)?)?;
    m.add_function(wrap_pyfunction!(claims_show, m)?)?;
    m.add_function(wrap_pyfunction!(claims_check, m)?)?;
    m.add_function(wrap_pyfunction!(laws_check, m)?)?;
    Ok(())
}
