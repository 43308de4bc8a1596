#!/usr/bin/env bash
# Mutation testing of the numeric modules with cargo-mutants, and the score.
#
#   scripts/mutants.sh                 # every numeric module (hours on 2 cores)
#   scripts/mutants.sh src/kernels/loss.rs     # one module
#
# Each module is mutated in place in a scratch clone (so your working tree is never touched and
# the build stays incremental), and tested with the test targets that exercise it (not the CLI
# or figure tests, which only slow each mutant down). Results: mutants.out/<module>/ (caught.txt,
# missed.txt, timeout.txt, unviable.txt). Score = (caught + timeout) / (caught + timeout + missed);
# unviable mutants (that do not compile) are not counted. TESTING.md lists every survivor.
set -euo pipefail

root="${MUTANTS_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}"
command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants

# The library's unit tests and the integration suite, filtered to the modules that exercise
# the mutated file (by module path: `softmax::` runs tests/suite/softmax.rs and the unit tests
# under src/kernels/softmax.rs); the CLI and figure tests only slow each mutant down.
common=(--lib --test suite --)
tests_for() {
    case "$1" in
        # The accuracy tests (against the big-float oracle) only where rounding is the subject.
        src/kernels/geometry.rs) echo "special_values:: geometry:: claims_geometry:: unembed:: accuracy::" ;;
        src/kernels/softmax.rs) echo "special_values:: softmax:: laws:: claims_softmax:: loss:: accuracy:: kernels::" ;;
        src/kernels/norms.rs) echo "special_values:: norms:: laws:: claims_layernorm:: claims_transformer:: accuracy:: kernels::" ;;
        src/kernels/loss.rs) echo "special_values:: loss:: laws:: claims_cross_entropy:: accuracy::" ;;
        src/kernels/unembed.rs) echo "special_values:: unembed:: claims_geometry::" ;;
        src/transformer/*) echo "special_values:: transformer:: claims_transformer::" ;;
        *) echo "" ;;
    esac
}

modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
    modules=(src/kernels/geometry.rs src/kernels/softmax.rs src/kernels/norms.rs src/kernels/loss.rs src/kernels/unembed.rs
        src/transformer/mod.rs src/transformer/process.rs)
fi

scratch="${MUTANTS_SCRATCH:-${TMPDIR:-/tmp}/transformer-laws-mutants}"
if [ -d "$scratch/.git" ]; then
    # Reuse the scratch clone and its build (incremental), at the current commit.
    git -C "$scratch" fetch --quiet "$root" HEAD
    git -C "$scratch" reset --quiet --hard FETCH_HEAD
    git -C "$scratch" clean --quiet -fd
else
    git clone --quiet "$root" "$scratch"
fi
mkdir -p "$root/mutants.out"
cd "$scratch"
cargo build --quiet --tests

for m in "${modules[@]}"; do
    name="$(echo "$m" | sed 's#^src/##; s#/#-#g; s#\.rs$##')"
    # shellcheck disable=SC2046
    cargo mutants --in-place --no-shuffle --timeout 120 --file "$m" \
        --output "$root/mutants.out/$name" -- "${common[@]}" $(tests_for "$m") || true
done

# The score of every module run so far (this run's and earlier ones in mutants.out/).
total_caught=0 total_missed=0
for d in "$root"/mutants.out/*/mutants.out; do
    m="$(basename "$(dirname "$d")")"
    c=$(( $(wc -l < "$d/caught.txt") + $(wc -l < "$d/timeout.txt") ))
    x=$(wc -l < "$d/missed.txt")
    u=$(wc -l < "$d/unviable.txt")
    total_caught=$((total_caught + c)); total_missed=$((total_missed + x))
    printf '%-28s caught %4d  missed %3d  unviable %3d  score %s%%\n' "$m" "$c" "$x" "$u" \
        "$(awk "BEGIN { printf \"%.1f\", ($c + $x) ? 100 * $c / ($c + $x) : 100 }")"
done
printf 'all numeric modules: %d caught, %d missed: %s%%\n' "$total_caught" "$total_missed" \
    "$(awk "BEGIN { printf \"%.1f\", 100 * $total_caught / ($total_caught + $total_missed) }")"
