"""Shared core: settings for the three runtimes, derived properties, jar pins, CLI, local stack."""
