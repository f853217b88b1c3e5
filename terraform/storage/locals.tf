# Names derived from the variables alone (no resource attributes), so the tests can evaluate them with
# `terraform console` without provider downloads.
locals {
  bucket_name      = var.bucket_name != "" ? var.bucket_name : "${var.project_id}-openlibrary-lake"
  lake_root        = "gs://${local.bucket_name}/${var.lake_prefix}"
  image_repository = "${var.region}-docker.pkg.dev/${var.project_id}/${var.repository_id}"

  # The APIs of a clean project this stack needs (apis.tf), by who calls them:
  services = toset(concat(
    [
      "cloudresourcemanager.googleapis.com", # the Data Access audit config (project IAM policy)
      "storage.googleapis.com",              # the lake bucket and its grants
      "artifactregistry.googleapis.com",     # the image repository
    ],
    var.create_bigquery ? ["bigquery.googleapis.com"] : [], # the dataset, its tables and grants
  ))

  # The table contract of spark/tables.py (CURATED and MARTS); a test keeps these lists equal to it.
  curated_tables = [
    "authors", "works", "work_authors", "editions", "edition_authors", "edition_isbns",
    "ratings", "reading_log", "redirects",
  ]
  marts = [
    "dim_author", "dim_work", "dim_subject", "fct_ratings", "fct_shelves", "dim_edition", "isbn_lookup",
    "data_quality",
  ]

  # External table -> its Parquet files for the chosen release (BigQuery allows one * per URI, so each
  # table reads one folder). Empty unless create_bigquery.
  bigquery_sources = var.create_bigquery ? merge(
    { for table in local.curated_tables : table => "${local.lake_root}/curated/${var.bigquery_release}/${table}/*.parquet" },
    { for mart in local.marts : mart => "${local.lake_root}/marts/${var.bigquery_release}/${mart}/*.parquet" },
  ) : {}
}
