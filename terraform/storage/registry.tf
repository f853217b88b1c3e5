# The Docker repository the pipeline image (luigid + cron) is pushed to and the VM pulls from.
resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Google-managed encryption is enough for a public-data pipeline image; a CMEK key would add KMS cost and rotation duties.
  repository_id = var.repository_id
  location      = var.region
  format        = "DOCKER"
  description   = "Open Library pipeline images (luigid + cron)"
  labels        = var.labels

  cleanup_policy_dry_run = false

  # Keep policies win over delete policies: the most recent versions stay whatever their age.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.keep_image_versions
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "${var.image_max_age_days * 86400}s"
    }
  }

  depends_on = [google_project_service.storage]
}
