"""The transaction that keeps a repair safe: the journal, backups renamed aside, locks, and the user's files carried over."""
