//! The committed figures are what the CLI draws now: regenerating them changes nothing.
//! (Regenerate with `cargo run --release -- plot ID` for each id in `plot::FIGURES`.)

use std::fs;
use std::path::Path;
use std::process::Command;
use transformer_laws::plot::{FIGURES, figure};
use transformer_laws::search::SearchConfig;

#[test]
fn committed_figures_are_up_to_date() {
    for id in FIGURES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("figures/{id}.svg"));
        let committed =
            fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
        let now = figure(id, SearchConfig::default()).unwrap();
        assert!(
            now == committed,
            "{} is stale: regenerate it with `cargo run --release -- plot {id}`",
            path.display()
        );
        assert!(
            now.starts_with("<svg") && now.trim_end().ends_with("</svg>"),
            "{id}: not an SVG document"
        );
    }
}

#[test]
fn plot_writes_the_file_named_by_o() {
    let dir = std::env::temp_dir().join(format!("tl-plot-{}", std::process::id()));
    let out = dir.join("fig.svg");
    let status = Command::new(env!("CARGO_BIN_EXE_transformer-laws"))
        .args(["plot", "softmax-temperature", "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        figure("softmax-temperature", SearchConfig::default()).unwrap()
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn plot_without_a_figure_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_transformer-laws"))
        .args(["plot", "mips-reduction", "-o", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no figure for 'mips-reduction'") && err.contains("argmax-dot-vs-nearest"),
        "{err}"
    );
}
