output "lake_bucket" {
  description = "Name of the lake bucket (input lake_bucket of terraform/compute)."
  value       = google_storage_bucket.lake.name
}

output "lake_root" {
  description = "The pipeline's lake root, gs://{bucket}/{lake_prefix} (LAKE_ROOT; input lake_root of terraform/compute)."
  value       = local.lake_root
  depends_on  = [google_storage_bucket.lake]
}

output "image_repository" {
  description = "Artifact Registry Docker repository the image is pushed to: {region}-docker.pkg.dev/{project}/{repository}."
  value       = local.image_repository
  depends_on  = [google_artifact_registry_repository.images]
}

output "bigquery_dataset" {
  description = "project:dataset of the external tables, or empty when create_bigquery is false."
  value       = var.create_bigquery ? "${var.project_id}:${google_bigquery_dataset.lake[0].dataset_id}" : ""
}

output "bigquery_tables" {
  description = "External table -> the Parquet it reads (empty when create_bigquery is false)."
  value       = { for name, table in google_bigquery_table.lake : name => table.external_data_configuration[0].source_uris[0] }
}
