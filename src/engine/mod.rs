//! The claims engine: the registry of claims and their readings ([`claims`]), the seeded
//! runner every random search and law check draws from ([`runner`]), the search for
//! counterexamples and its minimality checks ([`search`]), the proptest strategies the
//! searches and tests sample ([`strategies`]), and what a verdict looks like to a reader:
//! text, Markdown, JSON and LaTeX ([`report`]) and figures (`plot`, feature `plot`).

pub mod claims;
#[cfg(feature = "plot")]
pub mod plot;
pub mod report;
pub mod runner;
pub mod search;
pub mod strategies;
