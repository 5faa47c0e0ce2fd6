"""The core every other package builds on: the settings model and the three runtimes,
derived properties, shared names (tables, stages, outcomes, reasons), jar pins, the Java
finder and errors. It imports none of the applications (checked by import-linter).
"""
