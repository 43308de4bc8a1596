use proptest::strategy::{Strategy, ValueTree};
use transformer_laws::claims;
fn main() {
    let c = claims::find("attention-key-bias").unwrap();
    let j = &c.readings[0].judgements[1];
    let mut runner = transformer_laws::runner::runner(10, 3);
    for _ in 0..12 {
        let case = (j.check.strategy)()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        println!("{case}\n  -> {:?}", (j.check.test)(&case));
    }
}
