//! The numeric kernels on arbitrary bit patterns (NaN, ±∞, subnormals, MAX included), f32 and
//! f64: no panic on any input, and NaN in → the documented output (all NaN for the vector
//! functions, NaN for the scalar ones).
#![no_main]

use libfuzzer_sys::fuzz_target;
use transformer_laws::{Real, geometry, loss, norms, softmax};

fn exercise<T: Real>(x: &[T], eps: T) {
    let nan_in = x.iter().any(|v| v.is_nan());
    let all_nan = |v: &[T]| v.iter().all(|y| y.is_nan());
    let p = softmax::softmax(x);
    let lp = softmax::log_softmax(x);
    let lse = softmax::logsumexp(x);
    let h = softmax::entropy(x);
    assert_eq!((p.len(), lp.len()), (x.len(), x.len()));
    if nan_in {
        assert!(all_nan(&p) && all_nan(&lp) && lse.is_nan() && h.is_nan());
    } else if !x.is_empty() {
        // A distribution: entries in [0, 1] or all NaN (the documented +∞/−∞ mixtures).
        assert!(all_nan(&p) || p.iter().all(|&v| v >= T::zero() && v <= T::one()));
        assert!(!(lse.is_nan() && p.iter().all(|v| !v.is_nan())));
    }
    let t = T::narrow(0.5);
    let _ = softmax::softmax_with_temperature(x, t);
    let e = if eps.is_nan() || eps < T::zero() { T::zero() } else { eps };
    let ln = norms::layer_norm(x, e, None, None);
    let rms = norms::rms_norm(x, e, None);
    let c = norms::center(x);
    if x.iter().any(|v| !v.is_finite()) {
        assert!(all_nan(&ln) && all_nan(&rms) && all_nan(&c));
    } else {
        // Finite input: finite normalized output (the scaling prevents overflow). The centered
        // vector overflows only where the exact xᵢ − μ is beyond the largest finite value:
        // compare halves, with a running mean that cannot overflow.
        assert!(ln.iter().chain(&rms).all(|v| v.is_finite()));
        let mut half_mean = 0.0f64;
        for (k, xi) in x.iter().enumerate() {
            half_mean += (xi.widen() / 2.0 - half_mean) / (k + 1) as f64;
        }
        let half_max = T::max_value().widen() / 2.0;
        for (v, xi) in c.iter().zip(x) {
            let half_dev = (xi.widen() / 2.0 - half_mean).abs();
            assert!(v.is_finite() || half_dev >= half_max * (1.0 - 1e-6), "{xi:?} − μ");
        }
    }
    if !x.is_empty() {
        let y = x.len() - 1;
        let (l, g) = loss::cross_entropy_with_grad(x, y);
        if nan_in {
            assert!(l.is_nan() && all_nan(&g));
        }
    }
    let (a, b) = x.split_at(x.len() / 2);
    let b = &b[..a.len()];
    let d = geometry::dot(a, b);
    let n = geometry::norm(x);
    let _ = geometry::squared_distance(a, b);
    let _ = geometry::euclidean_distance(a, b);
    let _ = geometry::cosine_similarity(a, b);
    let _ = geometry::angle(a, b);
    if nan_in {
        assert!(n.is_nan());
        if a.iter().chain(b).any(|v| v.is_nan()) {
            assert!(d.is_nan());
        }
    }
}

/// The row of little-endian `N`-byte floats in `bytes`: the first is ε (its magnitude), the rest
/// the row.
fn exercise_bytes<T: Real, const N: usize>(bytes: &[u8], from_le_bytes: fn([u8; N]) -> T) {
    let v: Vec<T> = bytes
        .chunks_exact(N)
        .map(|c| from_le_bytes(c.try_into().unwrap()))
        .collect();
    if let Some((&eps, x)) = v.split_first() {
        exercise(x, eps.abs());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 0 {
        exercise_bytes(rest, f64::from_le_bytes);
    } else {
        exercise_bytes(rest, f32::from_le_bytes);
    }
});
