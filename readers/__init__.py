"""JVM-free readers of the lakehouse: tables through PyIceberg, ad hoc SQL with DuckDB, the
run history and the report views the CLI prints.
"""
