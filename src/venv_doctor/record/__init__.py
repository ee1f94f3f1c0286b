"""What venv-doctor remembers: the state database, snapshots, requirements, history."""
