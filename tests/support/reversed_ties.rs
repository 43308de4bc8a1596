//! Every displayed refutation and witness re-judged with ties broken the other way
//! ([`claims::with_ties_reversed`]): a found case that rests on a tie is not found again.

use transformer_laws::claims::{self, Area, Outcome};
use transformer_laws::search::{SearchConfig, judge};

/// Judge every judgement of the claims of `area` (the claim tests' cases and seed); assert
/// that each found case is found again by its test with ties reversed. Returns how many found
/// cases were re-judged.
pub fn refound_with_ties_reversed(area: Area) -> usize {
    let cfg = SearchConfig {
        cases: crate::support::CASES,
        seed: crate::support::SEED,
    };
    let mut n = 0;
    for c in claims::registry().into_iter().filter(|c| c.area == area) {
        for r in &c.readings {
            for j in &r.judgements {
                let Some(f) = judge(j, cfg).found().cloned() else {
                    continue;
                };
                let again = claims::with_ties_reversed(|| (j.check.test)(&f.case));
                assert!(
                    matches!(again, Outcome::Found(_)),
                    "{} ({}) in {}: {} is not found with ties reversed: {again:?}",
                    c.id,
                    r.key,
                    j.domain,
                    f.case
                );
                n += 1;
            }
        }
    }
    n
}
