"""Turning results into output, by kind of output.

``words``: the wording every message shares (plurals, "a, b and 3 more", ``~`` for
the home directory, times, control characters shown escaped); ``sanitize``: what
leaves venv-doctor has its secrets hidden. Both sit below the core, which writes
messages with them. Above the core: ``documents`` (the versioned JSON envelope for
scripts), ``layout`` (aligned, wrapped text for people: ``Out``, ``aligned``) and
``check_report`` (what `check` and `list` tell a person).

This module imports nothing, so a low layer importing ``render.words`` does not load
the rest.
"""
