# Optional (create_bigquery): a dataset of EXTERNAL tables over one release's curated and mart Parquet.
# Nothing is copied into BigQuery; queries read the lake. Repoint to another release by re-applying with
# bigquery_release = the new date (only the tables' source URIs change).
resource "google_bigquery_dataset" "lake" {
  #checkov:skip=CKV_GCP_81:The dataset holds only external table definitions; the data stays in the lake bucket.
  count = var.create_bigquery ? 1 : 0

  dataset_id                 = var.bigquery_dataset
  location                   = upper(var.region)
  description                = "Open Library release ${var.bigquery_release}: external tables over ${local.lake_root}"
  labels                     = var.labels
  delete_contents_on_destroy = true

  depends_on = [google_project_service.storage]
}

resource "google_bigquery_table" "lake" {
  #checkov:skip=CKV_GCP_80:External tables store no data in BigQuery; the Parquet stays in the lake bucket.
  #checkov:skip=CKV_GCP_121:External tables hold no data to protect, and `make down` must be able to delete them.
  for_each = local.bigquery_sources

  dataset_id          = google_bigquery_dataset.lake[0].dataset_id
  table_id            = each.key
  description         = "${each.key} of release ${var.bigquery_release} (external: ${each.value})"
  labels              = var.labels
  deletion_protection = false

  external_data_configuration {
    source_format = "PARQUET"
    source_uris   = [each.value]
    # Parquet carries its schema; list columns become REPEATED fields instead of list.element records.
    autodetect = true
    parquet_options {
      enable_list_inference = true
    }
  }
}

resource "google_bigquery_dataset_iam_member" "readers" {
  for_each = var.create_bigquery ? toset(var.bigquery_readers) : toset([])

  dataset_id = google_bigquery_dataset.lake[0].dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value

  depends_on = [google_project_service.storage]
}

# External tables read GCS with the caller's own rights.
resource "google_storage_bucket_iam_member" "bigquery_readers" {
  for_each = var.create_bigquery ? toset(var.bigquery_readers) : toset([])

  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.objectViewer"
  member = each.value

  depends_on = [google_project_service.storage]
}
