#!/usr/bin/env bash
# Validates specs against schemas/netspec.schema.json with check-jsonschema (PyPI) and
# shows that the schema and `netc check` agree on the schema corpus:
#   - specs/*.yaml and Tests/NetcDriverTests/Corpus/schema/valid/*.yaml pass both;
#   - each file listed in Tests/NetcDriverTests/Corpus/schema/invalid.txt (from ../broken)
#     fails both.
# check-jsonschema lives in a venv outside the repository: $NETC_CHECK_VENV, default
# ~/.cache/netc/check-venv, created on first use. netc is $NETC, default .build/debug/netc.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${NETC_CHECK_VENV:-$HOME/.cache/netc/check-venv}"
netc="${NETC:-.build/debug/netc}"
if [ ! -x "$venv/bin/check-jsonschema" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet check-jsonschema
fi
schema=schemas/netspec.schema.json
corpus=Tests/NetcDriverTests/Corpus
"$venv/bin/check-jsonschema" --check-metaschema "$schema"

valid=(specs/*.yaml specs/exercises/*.yaml "$corpus"/schema/valid/*.yaml)
"$venv/bin/check-jsonschema" --schemafile "$schema" "${valid[@]}"
NO_COLOR=1 "$netc" check --werror "${valid[@]}"

failures=0
count=0
while read -r name; do
  case "$name" in '' | '#'*) continue ;; esac
  file="$corpus/broken/$name"
  count=$((count + 1))
  if "$venv/bin/check-jsonschema" -q --schemafile "$schema" "$file" > /dev/null 2>&1; then
    echo "schema accepts $file, which it must reject" >&2
    failures=$((failures + 1))
  fi
  if "$netc" check "$file" > /dev/null 2>&1; then
    echo "netc check accepts $file, which it must reject" >&2
    failures=$((failures + 1))
  fi
done < "$corpus/schema/invalid.txt"
if [ "$failures" -gt 0 ]; then
  echo "$failures disagreements" >&2
  exit 1
fi
echo "schema and netc check agree: ${#valid[@]} valid specs pass both, $count invalid specs fail both"
