"""render.words: the wording every message shares."""

from __future__ import annotations

from venv_doctor.render.words import listed, tilde, tilde_in


def test_listed_names_all_up_to_most_then_counts_the_rest() -> None:
    assert listed([], 3) == ""
    assert listed(["a", "b", "c"], 3) == "a, b, c"
    assert listed(["a", "b", "c", "d"], 3) == "a, b, c and 1 more"
    assert listed([str(n) for n in range(20)], 2) == "0, 1 and 18 more"


def test_tilde_uses_the_home_it_is_given_only() -> None:
    assert tilde("/home/me/.virtualenvs/web", "/home/me") == "~/.virtualenvs/web"
    assert tilde("/home/me", "/home/me/") == "~"
    assert tilde("/home/meta/x", "/home/me") == "/home/meta/x"  # not a prefix of a name
    assert tilde("/home/me/x", "") == "/home/me/x"  # no home: paths stay whole


def test_tilde_in_leaves_quoted_paths_whole() -> None:
    text = "run `venv-doctor repair '/home/me/a b'` for /home/me/c"
    assert tilde_in(text, "/home/me") == "run `venv-doctor repair '/home/me/a b'` for ~/c"
