#!/usr/bin/env bash
# Real wheels for tests/test_verify.py: black (whose blackd module needs the absent [d]
# extra) and its dependencies for CPython 3.12, downloaded once from PyPI into
# build/real-wheels (git-ignored); the tests install them offline.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=build/real-wheels
if [ ! -e "$dest/.complete" ]; then
    mkdir -p "$dest"
    .venv/bin/pip download -q --disable-pip-version-check --only-binary=:all: \
        --python-version 3.12 -d "$dest" "black>=24" 2>/dev/null
    touch "$dest/.complete"
fi
