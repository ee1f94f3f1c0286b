"""The Python interpreters on the machine: versions, layouts, probing, choosing."""
