"""Reference (c) of the transform benchmark: DuckDB reads the same .gz and writes the editions fields to
Parquet, as a single-machine user would.

python -m bench.duck DUMP.txt.gz OUT.parquet THREADS
"""

import sys

import duckdb

QUERY = """
COPY (
  SELECT
    key AS edition_key,
    json_extract_string(doc, '$.works[0].key') AS work_key,
    json_extract_string(doc, '$.title') AS title,
    json_extract_string(doc, '$.subtitle') AS subtitle,
    CAST(json_extract(doc, '$.publishers') AS VARCHAR[]) AS publishers,
    json_extract_string(doc, '$.publish_date') AS publish_date,
    TRY_CAST(json_extract_string(doc, '$.number_of_pages') AS INTEGER) AS number_of_pages,
    json_extract_string(doc, '$.physical_format') AS physical_format,
    json_extract_string(doc, '$.languages[*].key') AS languages,
    CAST(json_extract(doc, '$.isbn_10') AS VARCHAR[]) AS isbn_10,
    CAST(json_extract(doc, '$.isbn_13') AS VARCHAR[]) AS isbn_13,
    CAST(json_extract(doc, '$.lccn') AS VARCHAR[]) AS lccn,
    CAST(json_extract(doc, '$.oclc_numbers') AS VARCHAR[]) AS oclc_numbers,
    json_extract_string(doc, '$.ocaid') AS ocaid,
    TRY_CAST(revision AS INTEGER) AS revision,
    TRY_CAST(json_extract_string(doc, '$.created.value') AS TIMESTAMP) AS created,
    TRY_CAST(json_extract_string(doc, '$.last_modified.value') AS TIMESTAMP) AS last_modified,
    json_extract_string(doc, '$.authors[*].key') AS author_keys
  FROM read_csv(
    ?, delim = '\t', quote = '', escape = '', header = false, max_line_size = 100000000,
    columns = {'type': 'VARCHAR', 'key': 'VARCHAR', 'revision': 'VARCHAR', 'modified': 'VARCHAR',
               'doc': 'VARCHAR'}
  )
  WHERE type = '/type/edition'
) TO '{out}' (FORMAT parquet)
"""


def main(source: str, out: str, threads: int) -> None:
    connection = duckdb.connect()
    connection.execute(f"SET threads = {int(threads)}")
    connection.execute(QUERY.replace("{out}", out.replace("'", "''")), [source])
    connection.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
