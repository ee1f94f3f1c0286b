"""Running the daemon as a user service: systemd units, launchd agents."""
