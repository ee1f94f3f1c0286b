"""The daemon: watching interpreter directories, batching events, acting on them."""
