#!/usr/bin/env bash
# Pack the executors' Python environment for `spark-submit --archives OUT#environment`:
# a fresh virtualenv (dist/env) with the pinned requirements and the refinery wheel from
# `make dist-code`, packed by venv-pack (relocatable: its scripts and python link are rewritten
# on unpacking). Executors need the same Python (3.11) at the same prefix as this machine's
# (`python3 -c 'import sys; print(sys.base_prefix)'`), as in a cluster built from one image.
#   scripts/pack_env.sh dist/refinery-env.tar.gz
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/dist/refinery-env.tar.gz}"
env="$root/dist/env"
wheel="$(ls "$root"/dist/refinery-*.whl 2>/dev/null | head -n 1)"
[ -n "$wheel" ] || { echo "pack_env.sh: no dist/refinery-*.whl; run: make dist-code" >&2; exit 2; }
rm -rf "$env"
"${PYTHON:-python3}" -m venv "$env"
"$env/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
"$env/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements.txt" -c "$root/constraints.txt"
"$env/bin/pip" install --quiet --disable-pip-version-check --no-deps "$wheel"
# level 1: the env is GBs of already-compressed wheels' contents; higher levels cost minutes for ~5%
"$root/.venv/bin/venv-pack" --prefix "$env" --output "$out" --compress-level 1 --force --quiet
chmod 644 "$out"
rm -rf "$env"
echo "$out: $(du -h "$out" | cut -f1)"
