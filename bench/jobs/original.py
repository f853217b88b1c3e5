"""Reference (b) of the transform benchmark: the original project's approach, as a Spark job.

spark-submit bench/jobs/original.py TEXT_FILE RAW_PARQUET_DIR OUT_DIR

The dump, already gunzipped to plain text, is read as a 5-column tab-separated CSV, repartitioned into 24,
written as raw Parquet and read back; then each field of the editions table is pulled out of the JSON
column with its own get_json_object, and the result is written as Parquet.
"""

import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

COLUMNS = ("type", "key", "revision", "last_modified", "json")
FIELDS = {  # output column -> JSON path, the editions table's columns
    "work_key": "$.works[0].key",
    "title": "$.title",
    "subtitle": "$.subtitle",
    "publishers": "$.publishers",
    "publish_date": "$.publish_date",
    "number_of_pages": "$.number_of_pages",
    "physical_format": "$.physical_format",
    "languages": "$.languages",
    "isbn_10": "$.isbn_10",
    "isbn_13": "$.isbn_13",
    "lccn": "$.lccn",
    "oclc_numbers": "$.oclc_numbers",
    "ocaid": "$.ocaid",
    "created": "$.created.value",
    "last_modified_json": "$.last_modified.value",
    "authors": "$.authors",
}


def main(text_file: str, raw_dir: str, out_dir: str) -> None:
    spark = SparkSession.builder.appName("original approach").getOrCreate()
    schema = T.StructType([T.StructField(name, T.StringType()) for name in COLUMNS])
    raw = spark.read.csv(text_file, schema=schema, sep="\t", quote="", escape="")
    raw.repartition(24).write.mode("overwrite").parquet(raw_dir)
    stored = spark.read.parquet(raw_dir)
    editions = stored.where(F.col("type") == "/type/edition").select(
        F.col("key").alias("edition_key"),
        F.col("revision").cast("int").alias("revision"),
        *(F.get_json_object("json", path).alias(name) for name, path in FIELDS.items()),
    )
    editions.write.mode("overwrite").parquet(out_dir)
    spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
