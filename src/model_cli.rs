//! The work behind `transformer-laws model …`: load a checkpoint
//! ([`crate::transformer::checkpoint`]), run it, render the answer. The binary only parses
//! arguments and prints what these functions return.
//!
//! `model logits PATH --tokens 5,17,3 [--dtype f32|f64] [--config FILE]` prints one JSON line
//! per position, `{"position": p, "token": t, "logits": [...]}`, with non-finite logits as the
//! strings `"NaN"`, `"Infinity"`, `"-Infinity"` (as `compute` does). Every problem — a bad
//! `--tokens`, a token outside the vocabulary, a sequence longer than the model's positions, a
//! checkpoint that does not load — is one line naming the token, field or tensor.

use crate::Real;
use crate::compute::{Dtype, number};
use crate::transformer::checkpoint::{Checkpoint, load_checkpoint};
use std::io::IsTerminal;
use std::path::Path;

/// Files smaller than this load without a progress bar (it would only flash).
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// Parse `--tokens`: comma-separated non-negative integers, spaces allowed around them.
///
/// ```
/// use transformer_laws::model_cli::parse_tokens;
/// assert_eq!(parse_tokens("5, 17,3"), Ok(vec![5, 17, 3]));
/// assert!(parse_tokens("5,,3").unwrap_err().contains("item 2"));
/// ```
pub fn parse_tokens(s: &str) -> Result<Vec<usize>, String> {
    if s.trim().is_empty() {
        return Err("--tokens: no tokens given (expected e.g. 5,17,3)".into());
    }
    s.split(',')
        .enumerate()
        .map(|(i, t)| {
            t.trim().parse::<usize>().map_err(|_| {
                format!(
                    "--tokens: item {} is {:?}, not a token id (expected non-negative integers separated by commas, e.g. 5,17,3)",
                    i + 1,
                    t.trim()
                )
            })
        })
        .collect()
}

/// A progress callback for loading: an `indicatif` bar on stderr when both stdout and stderr
/// are terminals and the checkpoint is large; nothing otherwise.
fn progress() -> (impl FnMut(u64, u64), impl FnOnce()) {
    let shown = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    let bar = std::rc::Rc::new(std::cell::RefCell::new(None::<indicatif::ProgressBar>));
    let b = bar.clone();
    let update = move |done: u64, total: u64| {
        if !shown || total < PROGRESS_MIN_BYTES {
            return;
        }
        let mut slot = b.borrow_mut();
        let pb = slot.get_or_insert_with(|| {
            let pb = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "loading {bar:40} {bytes}/{total_bytes} ({eta})",
            ) {
                pb.set_style(style);
            }
            pb
        });
        pb.set_position(done);
    };
    let finish = move || {
        if let Some(pb) = bar.borrow_mut().take() {
            pb.finish_and_clear();
        }
    };
    (update, finish)
}

fn load<T: Real>(path: &Path, config: Option<&Path>) -> Result<Checkpoint<T>, String> {
    let (mut update, finish) = progress();
    let c = load_checkpoint::<T>(path, config, &mut update).map_err(|e| e.to_string());
    finish();
    c
}

fn render_logits<T: Real>(
    path: &Path,
    config: Option<&Path>,
    tokens: &[usize],
) -> Result<String, String> {
    let c = load::<T>(path, config)?;
    c.check_tokens(tokens)?;
    let logits = c.model.forward(tokens);
    let mut out = String::new();
    for (p, &t) in tokens.iter().enumerate() {
        let row: Vec<String> = logits.row(p).iter().map(|&v| number(v)).collect();
        out.push_str(&format!(
            "{{\"position\":{p},\"token\":{t},\"logits\":[{}]}}\n",
            row.join(",")
        ));
    }
    Ok(out)
}

/// `model logits`: the JSON Lines output, or the one-line error.
pub fn logits(
    path: &Path,
    config: Option<&Path>,
    tokens: &str,
    dtype: Dtype,
) -> Result<String, String> {
    let tokens = parse_tokens(tokens)?;
    match dtype {
        Dtype::F32 => render_logits::<f32>(path, config, &tokens),
        Dtype::F64 => render_logits::<f64>(path, config, &tokens),
    }
}
