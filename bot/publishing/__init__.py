"""Publishing versions and reading them: show, list, history, diff, export."""
