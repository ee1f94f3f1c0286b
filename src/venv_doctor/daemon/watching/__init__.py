"""What the daemon watches and how: the watch set, one inotify reader on Linux, watchdog elsewhere, debouncing."""
