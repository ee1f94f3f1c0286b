"""The commands about what runs in the background: ``daemon`` and ``status`` (the daemon
and what it did), ``service`` (the user service that starts it), ``notify`` (the
notifications it sends)."""
