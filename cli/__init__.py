"""The `lakehouse` command: the top layer, wiring the core and every application."""
