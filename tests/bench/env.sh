# shellcheck shell=bash
# env.sh - what every benchmark script needs first (sourced): root, the
# source and build trees, the agent binary.
#   TOP_SRCDIR (default: two levels up), TOP_BUILDDIR (default: .,
#   made absolute), PMTUD_NF (default: $TOP_BUILDDIR/src/pmtud-nf).
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILDDIR=$(cd "${TOP_BUILDDIR:-.}" && pwd)
PMTUD_NF=${PMTUD_NF:-$TOP_BUILDDIR/src/pmtud-nf}
[ -x "$PMTUD_NF" ] || { echo "PMTUD_NF=$PMTUD_NF: not executable" >&2; exit 1; }
