# The lake: raw dumps, curated and mart Parquet, quarantine, reports and _staging (Dataproc job files).
resource "google_storage_bucket" "lake" {
  #checkov:skip=CKV_GCP_62:Usage logs would need a second bucket; who read or wrote which object is in Cloud Storage Data Access audit logs, which this stack turns on (audit.tf).
  name          = local.bucket_name
  location      = upper(var.region)
  storage_class = "STANDARD"
  labels        = var.labels

  # `make down` must be able to delete the bucket with everything in it.
  force_destroy = true

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  # An overwritten or deleted object's previous version is kept noncurrent_version_days, then deleted.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # Versioning already keeps deleted objects for a while; soft delete on top would bill them twice.
  soft_delete_policy {
    retention_duration_seconds = 0
  }

  depends_on = [google_project_service.storage]
}
