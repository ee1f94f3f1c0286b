"""What leaves venv-doctor: secrets removed, control characters shown, not obeyed.

``redact`` is the one function every boundary applies (text and JSON output,
events and journal rows in the state DB, logs, notifications, the debug log):
it hides URL userinfo (``https://user:****@host``), the values of token-like
query parameters (``?private_token=****``) and the path of index URLs given on
a command line or in an ``*INDEX_URL=`` setting (tokens often live in the path:
``https://pypi.fury.io/<token>/``).

``printable`` is for human output of user data (venv names and paths): a
newline, ``\\r``, an escape sequence or a lone surrogate is shown escaped, so a
venv's name can neither forge a line nor repaint the terminal. ``shell_word`` and
``command`` quote user data inside a command a person is told to run, so that the
pasted line names exactly that venv.
"""

from __future__ import annotations

import logging
import re
import shlex
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HIDDEN = "****"

# Query parameters whose value is a secret: these names, and any name containing
# one of SECRET_PARTS (access_token, X-Amz-Signature, client_secret, ...).
SECRET_PARAMS = frozenset({"key", "sig", "pwd", "pass", "auth", "code", "sas", "session"})
SECRET_PARTS = (
    "token",
    "password",
    "passwd",
    "secret",
    "signature",
    "credential",
    "apikey",
    "api_key",
    "api-key",
)

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/@?#'\"<>]*)@")
_QUERY_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[A-Za-z0-9_.~-]+)=(?P<value>[^&;#\s'\"<>]*)")
# an index URL on a command line (``--index-url URL``, ``-i URL``) or in a setting
# (``PIP_INDEX_URL=URL``, ``index-url = URL``): its path is hidden too
_INDEX_OPTION = re.compile(
    r"(?P<option>(?<![\w-])(?:--(?:extra-)?index-url|--index|--default-index|--find-links|-i|-f)(?:=|\s+)"
    r"|\b[A-Z_]*INDEX(?:_URL)?=|\b(?:extra-)?index-url\s*=\s*)"
    r"(?P<quote>['\"]?)(?P<url>[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+)"
)


def is_secret_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_PARAMS or any(part in lowered for part in SECRET_PARTS)


def _hide_userinfo(match: re.Match[str]) -> str:
    """``user:secret@`` -> ``user:****@``; a bare token -> ``****@``; ``git@`` (ssh) stays."""
    user, colon, _secret = match.group("userinfo").partition(":")
    if not colon and "ssh" in match.group("scheme").lower():
        return match.group(0)
    hidden = f"{user}:{HIDDEN}" if colon else HIDDEN
    return f"{match.group('scheme')}{hidden}@"


def _hide_param(match: re.Match[str]) -> str:
    if not is_secret_param(match.group("name")) or match.group("value") == HIDDEN:
        return match.group(0)
    return f"{match.group('lead')}{match.group('name')}={HIDDEN}"


def _hide_index_path(match: re.Match[str]) -> str:
    url = match.group("url")
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if not slash or not path or path == HIDDEN or scheme.lower() == "file":
        return match.group(0)
    return f"{match.group('option')}{match.group('quote')}{scheme}{sep}{host}/{HIDDEN}"


def redact(text: str) -> str:
    """``text`` with every credential venv-doctor can recognise replaced by ``****``."""
    url = "://" in text  # what userinfo and index URLs need: a check's long JSON has none
    if not url and "?" not in text and "=" not in text:
        return text  # the common case, at no cost
    if url:
        text = _USERINFO.sub(_hide_userinfo, text)
    text = _QUERY_PARAM.sub(_hide_param, text)
    return _INDEX_OPTION.sub(_hide_index_path, text) if url else text


def redact_url(url: str | None) -> str | None:
    """A URL as it may be shown or stored: userinfo and token parameters hidden."""
    if not url:
        return url
    return _QUERY_PARAM.sub(_hide_param, _USERINFO.sub(_hide_userinfo, url))


def strip_credentials(url: str) -> str:
    """The URL with its secrets removed entirely (pip then asks netrc / keyring):
    no ``user:secret@``, no token-like query parameter."""
    if redact_url(url) == url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc and _USERINFO.match(f"{parts.scheme}://{netloc}@") is not None:
        user, _, host = netloc.rpartition("@")
        keep_user = "ssh" in parts.scheme and ":" not in user
        netloc = netloc if keep_user else host
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not is_secret_param(k)
        ]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_data(data: Any) -> Any:
    """A JSON-like value with ``redact`` applied to every string in it."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, Mapping):
        return {k: redact_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(v) for v in data]
    return data


# --- control characters --------------------------------------------------------------------

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(char: str) -> str:
    """The escape of one character ``printable`` will not show as it is: ``\\n``,
    ``\\x1b``, ``\\u202e``; an undecodable byte of a file name as that byte (``\\xff``,
    which is why U+0080..U+00FF read ``\\u0085``: the same in bash's ``$'...'``)."""
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _shown(char: str) -> bool:
    return char == " " or char.isprintable()


def printable(text: str) -> str:
    """Untrusted text (a venv's name or path, a package's name) for a person: every
    character that is not printable (controls, escape sequences, line breaks, lone
    surrogates, bidirectional overrides, spaces other than " ") shown escaped, so no
    name can forge a line, repaint the terminal, or look like another. The one rule,
    used by every human output: the CLI, logs and notifications."""
    if text.isprintable():
        return text  # the common case, at C speed
    return "".join(c if _shown(c) else _escape_char(c) for c in text)


def printable_lines(text: str) -> str:
    """A message whose line breaks are meant (an output tail): each line ``printable``."""
    return "\n".join(printable(line) for line in text.split("\n"))


def shell_word(word: str) -> str:
    """``word`` quoted so that pasting it into bash or zsh gives back exactly ``word``,
    and nothing raw reaches the terminal: ``shlex.quote`` for printable text, ANSI-C
    quoting (``$'ev\\x1bil\\n'``) for text holding anything ``printable`` escapes."""
    if word.isprintable():
        return shlex.quote(word)
    inner = "".join(_ansi_c(c) for c in word)
    return f"$'{inner}'"


def _ansi_c(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    return char if _shown(char) else _escape_char(char)


def command(*words: str) -> str:
    """A command line to paste: each word ``shell_word``-quoted (``repair --all`` words
    that need no quotes stay as they are)."""
    return " ".join(shell_word(w) for w in words)


def encodable(text: str) -> str:
    """``text`` without lone surrogates (as ``\\xNN``), so UTF-8 can encode it: for
    JSON output and the state DB, which must not fail on an undecodable file name."""
    if text.isascii():
        return text
    return re.sub("[\ud800-\udfff]", lambda m: _escape_char(m.group(0)), text)


def json_encodable(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with each lone surrogate as its ``\\udcXX``
    escape: valid JSON that UTF-8 can encode, and that decodes to the same string."""
    if text.isascii():
        return text
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group(0)):04x}", text)


class SafeFormatter(logging.Formatter):
    """Log lines with credentials redacted and control characters escaped: a venv's path
    cannot forge a log line, nor a failed install's command leak a password."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        # one record, one line: a newline in a venv's name cannot start a forged line
        return printable(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        return printable_lines(redact(super().format(record)))  # a traceback keeps its lines


class StderrHandler(logging.Handler):
    """Safe lines to whatever ``sys.stderr`` is when a record comes (as logging's own
    last resort does, so a test's or a pager's swapped stderr gets them)."""

    def __init__(self, level: int = logging.NOTSET, fmt: str = "%(message)s") -> None:
        super().__init__(level)
        self.setFormatter(SafeFormatter(fmt))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)
