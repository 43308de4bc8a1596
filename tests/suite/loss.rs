//! Properties of cross-entropy and its gradient (module `loss`), f32 and f64. The gradient's
//! signs and sum and the loss's shift invariance are the claims `ce-correct-logit-up` and
//! `ce-rewards-scale`'s laws, tested in `claims_cross_entropy` over the same random rows.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use transformer_laws::loss::*;
use transformer_laws::softmax::{log_softmax, softmax};
use transformer_laws::strategies::{FloatStrategies, logits};

fn row_and_target<T: FloatStrategies>() -> impl Strategy<Value = (Vec<T>, usize)> {
    logits::<T>(1..=24).prop_flat_map(|z| {
        let n = z.len();
        (Just(z), 0..n)
    })
}

/// The loss is −log_softmax(z)_y (the same kernel: bit for bit) and is ≥ 0; the gradient is
/// softmax − one-hot off the target entry (bit for bit).
fn agrees_with_softmax<T: FloatStrategies>(z: Vec<T>, y: usize) -> Result<(), TestCaseError> {
    let (l, g) = cross_entropy_with_grad(&z, y);
    prop_assert!(l >= T::zero());
    prop_assert_eq!(
        l.to_bits_u64(),
        (T::zero() - log_softmax(&z)[y]).to_bits_u64()
    );
    let p = softmax(&z);
    for j in (0..z.len()).filter(|&j| j != y) {
        prop_assert_eq!(g[j], p[j]);
    }
    Ok(())
}

proptest! {
    #[test]
    fn agrees_with_softmax_f32((z, y) in row_and_target::<f32>()) { agrees_with_softmax(z, y)?; }
    #[test]
    fn agrees_with_softmax_f64((z, y) in row_and_target::<f64>()) { agrees_with_softmax(z, y)?; }
}
