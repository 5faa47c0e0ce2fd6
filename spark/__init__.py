"""The PySpark ETL: raw nginx logs -> staged Parquet -> Iceberg tables -> reports."""
