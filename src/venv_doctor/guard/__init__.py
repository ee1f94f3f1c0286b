"""Before it breaks: guards on the commands that remove interpreters."""
