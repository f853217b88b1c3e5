# Spark on Dataproc: a small cluster that deletes itself when idle (spark_runner = "dataproc"), or no
# cluster at all (spark_runner = "serverless": the runner creates a Serverless batch per job, running as
# the Dataproc service account in the subnet of network.tf).

# Dataproc's staging bucket (job driver output, which the runner reads back on failure) and temp bucket
# (Spark history, YARN logs). Scratch data: expires after 30 days, no versioning.
resource "google_storage_bucket" "dataproc_staging" {
  #checkov:skip=CKV_GCP_62:Scratch bucket of Dataproc's own driver output and temp files; Cloud Audit Logs cover access.
  #checkov:skip=CKV_GCP_78:Scratch data that expires after 30 days; versions would only keep dead files longer.
  name                        = local.staging_bucket_name
  location                    = upper(var.region)
  storage_class               = "STANDARD"
  labels                      = var.labels
  force_destroy               = true
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  soft_delete_policy {
    retention_duration_seconds = 0
  }
}

resource "google_dataproc_cluster" "spark" {
  #checkov:skip=CKV_GCP_91:Google-managed encryption of the nodes' disks is enough for public Open Library data; CMEK adds KMS keys to run.
  count = local.use_cluster ? 1 : 0

  name                          = var.cluster_name
  region                        = var.region
  labels                        = var.labels
  graceful_decommission_timeout = "120s"

  cluster_config {
    staging_bucket = google_storage_bucket.dataproc_staging.name
    temp_bucket    = google_storage_bucket.dataproc_staging.name

    gce_cluster_config {
      zone                   = local.zone
      subnetwork             = google_compute_subnetwork.main.id
      internal_ip_only       = true
      service_account        = google_service_account.dataproc.email
      service_account_scopes = ["cloud-platform"]

      shielded_instance_config {
        enable_secure_boot          = true
        enable_vtpm                 = true
        enable_integrity_monitoring = true
      }
    }

    master_config {
      num_instances = 1
      machine_type  = var.master_machine_type
      disk_config {
        boot_disk_type    = "pd-balanced"
        boot_disk_size_gb = var.dataproc_disk_gb
      }
    }

    worker_config {
      num_instances = var.worker_count
      machine_type  = var.worker_machine_type
      disk_config {
        boot_disk_type    = "pd-balanced"
        boot_disk_size_gb = var.dataproc_disk_gb
      }
    }

    software_config {
      image_version = var.dataproc_image_version
      # worker_count = 0: a single-node cluster, the master runs the executors.
      override_properties = local.single_node ? { "dataproc:dataproc.allow.zero.workers" = "true" } : {}
    }

    # Deleted after idle_delete_ttl without jobs; `make apply-compute` recreates it.
    lifecycle_config {
      idle_delete_ttl = var.idle_delete_ttl
    }

    # No Component Gateway: no web UIs on public Google endpoints.
    endpoint_config {
      enable_http_port_access = false
    }
  }

  depends_on = [
    google_project_iam_member.dataproc_worker,
    google_storage_bucket_iam_member.lake_dataproc,
    google_storage_bucket_iam_member.staging_dataproc,
    google_compute_router_nat.nat,
  ]
}
