# Cloud Storage Data Access audit logs: who read, listed, wrote or deleted which object, in Cloud Logging.
# They are off by default (only Admin Activity audit logs are always on); this turns them on for Cloud
# Storage in the project, so they cover the lake and the Dataproc staging bucket of terraform/compute. This
# resource is authoritative for storage.googleapis.com: it replaces any other Data Access setting of that
# service in the project (exempted members included). Each request is one log entry, billed as Cloud
# Logging ingestion beyond the free monthly allotment.
resource "google_project_iam_audit_config" "storage" {
  project = var.project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }

  audit_log_config {
    log_type = "DATA_WRITE"
  }

  depends_on = [google_project_service.storage]
}
