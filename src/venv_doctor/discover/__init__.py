"""Finding venvs: the stores each tool keeps and the venvs the user tracks."""
