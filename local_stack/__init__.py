"""The local replica of production: real PostgreSQL, Hive Metastore, S3Proxy, Spark
standalone (master + workers) and Spark History Server processes on 127.0.0.1.

Entry points: `lakehouse stack up|status|down|logs` (cli/stack.py), `LocalStack` (lifecycle.py)
and `setup.prepare()` (fetch/unpack/compile what the services need). See
docs/local-stack.md.
"""
