"""What the shell gets from the command line: completion of venv and store names
(``completion``), and the manual page generated from the commands (``manpage``)."""
