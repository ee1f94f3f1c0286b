#!/usr/bin/env bash
# Real Mach-O files for tests/test_libraries.py: the macOS wheels of a small package with a
# compiled extension (one arm64, one universal2 "fat" binary), downloaded once from PyPI
# into build/macho-wheels (git-ignored); the tests read their load commands offline.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=build/macho-wheels
mkdir -p "$dest"
for platform in macosx_11_0_arm64 macosx_10_9_universal2; do
    if ! ls "$dest"/*"$platform"*.whl >/dev/null 2>&1; then
        .venv/bin/pip download -q --disable-pip-version-check --only-binary=:all: --no-deps \
            --platform "$platform" --python-version 3.12 -d "$dest" "markupsafe>=2.1" 2>/dev/null
    fi
done
