//! The law harness: it catches the three deliberately naive implementations in `examples/` —
//! each by the law aimed at its flaw — and passes this crate's own kernels.

#[path = "../examples/naive_layer_norm.rs"]
mod naive_layer_norm;
#[path = "../examples/naive_log_softmax.rs"]
mod naive_log_softmax;
#[path = "../examples/naive_softmax.rs"]
mod naive_softmax;

use transformer_laws::laws::{self, Config, Outcome};
use transformer_laws::{loss, norms, softmax};

#[test]
fn catches_softmax_without_the_max_shift() {
    let r = laws::softmax::check(naive_softmax::naive_softmax);
    assert!(r.failed_laws().contains(&"no overflow"), "{r}");
    // The laws that do not involve large logits (or ±∞) pass: it is a correct softmax on
    // small inputs.
    for ok in ["sums to one", "order", "shift invariance"] {
        assert!(!r.failed_laws().contains(&ok), "{ok} should pass: {r}");
    }
    let text = r.to_string();
    assert!(
        text.contains("FAILED  no overflow") && text.contains("input:"),
        "{text}"
    );
}

#[test]
fn catches_log_of_softmax() {
    let r = laws::log_softmax::check(naive_log_softmax::naive_log_softmax);
    assert!(r.failed_laws().contains(&"dominant logit"), "{r}");
    let failed = r
        .results
        .iter()
        .find(|l| l.name == "dominant logit")
        .unwrap();
    match &failed.outcome {
        Outcome::Failed { input, detail } => {
            assert_eq!(input, "[0.0, -20.0]", "the first trap catches it");
            assert!(detail.contains("expected -2.0611537e-9"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn catches_one_pass_variance() {
    let r = laws::layer_norm::check(naive_layer_norm::naive_layer_norm);
    assert!(r.failed_laws().contains(&"large mean"), "{r}");
    assert!(!r.failed_laws().contains(&"mean zero"), "{r}");
}

fn reference_passes<T: transformer_laws::strategies::FloatStrategies>() {
    laws::softmax::check(softmax::softmax::<T>).assert_passed();
    laws::log_softmax::check(softmax::log_softmax::<T>).assert_passed();
    laws::logsumexp::check(softmax::logsumexp::<T>).assert_passed();
    laws::layer_norm::check(|x: &[T], e: T| norms::layer_norm(x, e, None, None)).assert_passed();
    laws::rms_norm::check(|x: &[T], e: T| norms::rms_norm(x, e, None)).assert_passed();
    laws::cross_entropy::check(loss::cross_entropy::<T>).assert_passed();
}

#[test]
fn the_reference_passes_every_law_f32() {
    reference_passes::<f32>();
}

#[test]
fn the_reference_passes_every_law_f64() {
    reference_passes::<f64>();
}

#[test]
fn laws_can_be_skipped_and_configured() {
    let cfg = Config {
        skip: vec!["no overflow", "agrees with the reference", "special values"],
        ..Config::default()
    };
    let r = laws::softmax::check_with(naive_softmax::naive_softmax, &cfg);
    assert!(r.passed(), "{r}");
    assert_eq!(
        r.results
            .iter()
            .filter(|l| l.outcome == Outcome::Skipped)
            .count(),
        3
    );
}
