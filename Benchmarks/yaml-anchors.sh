#!/bin/sh
# Generates a YAML file with 160,000 anchors and 160,000 aliases and times netc reading it.
#
# Why: libyaml's document loader (yaml_parser_load) finds each alias's anchor by a linear
# search, so a file like this takes it minutes. YAMLReader walks libyaml's events and keeps
# anchors in a hash map; `YAMLReaderTests.manyAnchors` checks it reads such a file, and this
# script measures it end to end.
#
# No netc subcommand only reads YAML yet, so the timing step needs the command to run given
# in NETC (it gets the file's path as its last argument), for example once it exists:
#   NETC="netc check" Benchmarks/yaml-anchors.sh
# Without NETC the script only writes the file. COUNT changes the number of anchors.
set -eu

count=${COUNT:-160000}
out=${1:-${TMPDIR:-/tmp}/netc-yaml-anchors.yaml}

awk -v n="$count" 'BEGIN {
  print "items:"
  for (i = 0; i < n; i++) printf "  - &a%d {k: %d}\n  - *a%d\n", i, i, i
}' >"$out"
echo "wrote $out: $(wc -c <"$out") bytes, $count anchors, $count aliases"

if [ -n "${NETC:-}" ]; then
  # The spec is not a valid network, so a nonzero exit is expected; only the time matters.
  time $NETC "$out" >/dev/null 2>&1 || true
else
  echo "set NETC to a netc command to time it (see the comment at the top of $0)"
fi
