#!/bin/bash
# test_manpages.sh - the man pages match the program and render cleanly.
#
# Proves: every long option of `pmtud-nf --help` has an entry in
# pmtud-nf(8)'s OPTIONS and every entry there is a real option, and each
# entry names the configuration key --help gives for it; every key of
# the `--check-config` dump has an entry in pmtud.json(5)'s KEYS and
# every entry is a real key; the default each entry states equals the
# dumped default (derived defaults excepted: "max(1, ...)", "per peer");
# the exit codes of --help are those of EXIT STATUS; groff renders both
# pages without a warning (-ww) and man(1) too. No root needed.
set -u

NAME=test_manpages
SRC=${TOP_SRCDIR:-.}
PMTUD_NF=${PMTUD_NF:-${TOP_BUILDDIR:-.}/src/pmtud-nf}
MAN8=$SRC/src/pmtud-nf.8
MAN5=$SRC/config/pmtud.json.5
for t in groff python3; do
	command -v "$t" >/dev/null || { echo "$NAME: $t missing, skipped"; exit 77; }
done
[ -x "$PMTUD_NF" ] || { echo "$NAME: $PMTUD_NF not built"; exit 1; }
# shellcheck source=tests/ether_if.sh
. "$SRC/tests/ether_if.sh"
export ETHER_IF
DIR=$(mktemp -d /tmp/$NAME.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
FAILED=0
N=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $*"; }

# ---- rendering ---------------------------------------------------------

for page in "$MAN8" "$MAN5"; do
	if groff -man -ww -z "$page" > "$DIR/groff" 2>&1 && ! [ -s "$DIR/groff" ]; then
		ok "groff -man -ww: $(basename "$page") renders without warnings"
	else
		not_ok "groff -man -ww: $(basename "$page"): $(head -c 600 "$DIR/groff")"
	fi
	if command -v man >/dev/null; then
		if MANWIDTH=80 man --warnings -l "$page" > /dev/null 2> "$DIR/man" &&
		   ! [ -s "$DIR/man" ]; then
			ok "man --warnings -l: $(basename "$page") without warnings"
		else
			not_ok "man --warnings -l: $(basename "$page"): $(head -c 600 "$DIR/man")"
		fi
	fi
done

# ---- content -----------------------------------------------------------

"$PMTUD_NF" --help > "$DIR/help" || { not_ok "--help exits 0"; echo "1..$N"; exit 1; }
echo '{}' > "$DIR/empty.json"
"$PMTUD_NF" -c "$DIR/empty.json" -i "$ETHER_IF" --check-config > "$DIR/dump.json" ||
	{ not_ok "--check-config -i $ETHER_IF exits 0"; echo "1..$N"; exit 1; }
# Plain text, one paragraph per line (no wrapping), for the defaults.
groff -man -Tascii -rLL=3000n -P-cbou "$MAN5" > "$DIR/man5.txt" 2>/dev/null

python3 - "$DIR/help" "$MAN8" "$DIR/dump.json" "$MAN5" "$DIR/man5.txt" "$N" <<'EOF'
import json, re, sys

help_file, man8, dump_file, man5, man5_txt = sys.argv[1:6]
n = int(sys.argv[6])	# tests already reported by the shell
failed = False

def result(good, desc):
    global n, failed
    n += 1
    failed |= not good
    print("%s %d - %s" % ("ok" if good else "not ok", n, desc))

def section(lines, name):
    out, on = [], False
    for l in lines:
        if l.startswith(".SH"):
            on = l.split(None, 1)[1].strip('"') == name
        elif on:
            out.append(l)
    return out

def unroff(s):
    return s.replace("\\-", "-").replace("\\(dq", '"')

# --help: "  -c, --config FILE   doc [key; default ...]"
help_opts = {}
for l in open(help_file):
    m = re.match(r"^ +(?:-\S, )?--([a-z][a-z-]*)\b.*?(?:\[([a-z_]+); (?:default|required))?", l)
    if m:
        help_opts[m.group(1)] = m.group(2)

# pmtud-nf(8) OPTIONS: the tag line after each .TP, and its paragraph.
lines = open(man8).read().splitlines()
opts = section(lines, "OPTIONS")
man_opts = {}
i = 0
while i < len(opts):
    if opts[i] == ".TP" and i + 1 < len(opts):
        body = []
        j = i + 2
        while j < len(opts) and opts[j] != ".TP":
            body.append(unroff(opts[j]))
            j += 1
        for o in re.findall(r"--([a-z][a-z-]*)", unroff(opts[i + 1])):
            man_opts[o] = " ".join(body)
        i = j
    else:
        i += 1

missing = sorted(set(help_opts) - set(man_opts))
extra = sorted(set(man_opts) - set(help_opts))
result(not missing, "every --help option is in pmtud-nf(8) OPTIONS%s"
       % (": missing " + ", ".join(missing) if missing else " (%d)" % len(help_opts)))
result(not extra, "every pmtud-nf(8) option exists in --help%s"
       % (": unknown " + ", ".join(extra) if extra else ""))
wrong = [o for o, k in help_opts.items()
         if k and o in man_opts and not re.search(r"\b%s\b" % k, man_opts[o])]
result(not wrong, "each option's entry names its key as --help does%s"
       % (": " + ", ".join(sorted(wrong)) if wrong else ""))

# Exit codes: --help's list equals EXIT STATUS's tags.
help_codes = sorted(re.findall(r"^  ([0-9])  ", open(help_file).read(), re.M))
st = section(lines, "EXIT STATUS")
man_codes = sorted(st[k + 1].split()[1] for k in range(len(st) - 1)
                   if st[k] == ".TP" and st[k + 1].startswith(".B "))
result(help_codes == man_codes and help_codes,
       "EXIT STATUS lists the codes of --help (%s)" % " ".join(help_codes))

# pmtud.json(5) KEYS: ".TP" then ".B key".
dump = json.load(open(dump_file))
m5 = section(open(man5).read().splitlines(), "KEYS")
man_keys = [m5[k + 1].split()[1] for k in range(len(m5) - 1)
            if m5[k] == ".TP" and re.match(r"^\.B [a-z_]+$", m5[k + 1])]
missing = sorted(set(dump) - set(man_keys))
extra = sorted(set(man_keys) - set(dump))
result(not missing, "every --check-config key is in pmtud.json(5) KEYS%s"
       % (": missing " + ", ".join(missing) if missing else " (%d)" % len(dump)))
result(not extra, "every pmtud.json(5) key exists in --check-config%s"
       % (": unknown " + ", ".join(extra) if extra else ""))
dups = sorted(k for k in set(man_keys) if man_keys.count(k) > 1)
result(not dups, "no key documented twice%s" % (": " + ", ".join(dups) if dups else ""))

# Defaults: the rendered entry says "default X" with X as dumped.
text = open(man5_txt).read().splitlines()
para, key = {}, None
for l in text:
    m = re.match(r"^ {7}([a-z_]+)(?: {2,}(.*))?$", l)
    if m and m.group(1) in dump:
        key = m.group(1)
        para[key] = m.group(2) or ""
    elif key and l.startswith("              "):
        para[key] += " " + l.strip()
    elif l and not l.startswith(" "):
        key = None
bad = []
for k, v in dump.items():
    if k == "iface" or k not in para:
        continue
    p = para[k]
    if re.search(r"default (max\(1,|10 per peer)", p):
        continue
    want = json.dumps(v)
    if not re.search(r"default %s(?![0-9]|\.[0-9])" % re.escape(want), p):
        bad.append("%s (want default %s)" % (k, want))
result(not bad, "every stated default equals the --check-config default%s"
       % (": " + "; ".join(bad) if bad else ""))
print("%d" % n, file=open(man5_txt + ".n", "w"))	# the new total
sys.exit(1 if failed else 0)
EOF
rc=$?
[ $rc = 0 ] || FAILED=1
N=$(cat "$DIR/man5.txt.n" 2>/dev/null || echo "$N")

# The EXAMPLE of pmtud.json(5) is a valid file (interfaces -> ETHER_IF).
sed -n '/^\.SH EXAMPLE/,/^\.SH/p' "$MAN5" | sed -n '/^\.nf/,/^\.fi/p' |
	sed '/^\./d; s/\\-/-/g' |
	python3 -c 'import json, os, sys; c = json.load(sys.stdin); c["iface"] = os.environ["ETHER_IF"]; print(json.dumps(c))' \
	> "$DIR/example.json" 2> "$DIR/example.err"
if "$PMTUD_NF" -c "$DIR/example.json" --check-config > /dev/null 2>> "$DIR/example.err"; then
	ok "the EXAMPLE in pmtud.json(5) passes --check-config"
else
	not_ok "the EXAMPLE in pmtud.json(5) passes --check-config: $(head -c 400 "$DIR/example.err")"
fi
echo "1..$N"
exit "$FAILED"
