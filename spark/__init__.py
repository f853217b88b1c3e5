"""PySpark jobs. Shipped alone (as files) to spark-submit or Dataproc: never import luigi or tasks/."""
