//! What the `transformer-laws` binary runs beyond rendering a report: the JSON Lines
//! interface of `compute` ([`compute`], also usable as a library) and the `model` subcommands
//! on Hugging Face checkpoints (`model`, feature `cli`).

pub mod compute;
#[cfg(feature = "cli")]
pub mod model;
