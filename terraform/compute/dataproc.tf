# Spark on Dataproc: a small cluster that deletes itself when idle and that the cluster runner creates
# again when it next needs it (spark_runner = "dataproc"), or no cluster at all (spark_runner =
# "serverless": the runner creates a Serverless batch per job, running as the Dataproc service account in
# the subnet of network.tf).

# Dataproc's staging bucket (job driver output, which the runner reads back on failure) and temp bucket
# (Spark history, YARN logs). Scratch data: expires after 30 days, no versioning.
resource "google_storage_bucket" "dataproc_staging" {
  #checkov:skip=CKV_GCP_62:Scratch bucket of Dataproc's driver output and temp files; who read or wrote objects is in the project's Cloud Storage Data Access audit logs, which terraform/storage turns on (audit.tf), so no usage-log bucket.
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

  depends_on = [google_project_service.compute]
}

# The first cluster. Every value comes from local.cluster_config (locals.tf), the REST ClusterConfig the
# container gets as DATAPROC_CLUSTER_CONFIG: when Dataproc has deleted this cluster for being idle, the
# cluster runner creates the same cluster again from it (so does the next `make apply-compute`).
resource "google_dataproc_cluster" "spark" {
  #checkov:skip=CKV_GCP_91:Google-managed encryption of the nodes' disks is enough for public Open Library data; CMEK adds KMS keys to run.
  count = local.use_cluster ? 1 : 0

  name                          = var.cluster_name
  region                        = var.region
  labels                        = var.labels
  graceful_decommission_timeout = "120s"

  cluster_config {
    staging_bucket = local.cluster_config.configBucket
    temp_bucket    = local.cluster_config.tempBucket

    gce_cluster_config {
      zone                   = local.cluster_config.gceClusterConfig.zoneUri
      subnetwork             = local.cluster_config.gceClusterConfig.subnetworkUri
      internal_ip_only       = local.cluster_internal_ip_only
      service_account        = local.cluster_config.gceClusterConfig.serviceAccount
      service_account_scopes = local.cluster_config.gceClusterConfig.serviceAccountScopes

      shielded_instance_config {
        enable_secure_boot          = local.cluster_config.gceClusterConfig.shieldedInstanceConfig.enableSecureBoot
        enable_vtpm                 = local.cluster_config.gceClusterConfig.shieldedInstanceConfig.enableVtpm
        enable_integrity_monitoring = local.cluster_config.gceClusterConfig.shieldedInstanceConfig.enableIntegrityMonitoring
      }
    }

    master_config {
      num_instances = local.cluster_config.masterConfig.numInstances
      machine_type  = local.cluster_config.masterConfig.machineTypeUri
      disk_config {
        boot_disk_type    = local.cluster_config.masterConfig.diskConfig.bootDiskType
        boot_disk_size_gb = local.cluster_config.masterConfig.diskConfig.bootDiskSizeGb
      }
    }

    # Absent for a single-node cluster (worker_count = 0), as in cluster_config.
    dynamic "worker_config" {
      for_each = local.single_node ? [] : [local.cluster_config.workerConfig]
      content {
        num_instances = worker_config.value.numInstances
        machine_type  = worker_config.value.machineTypeUri
        disk_config {
          boot_disk_type    = worker_config.value.diskConfig.bootDiskType
          boot_disk_size_gb = worker_config.value.diskConfig.bootDiskSizeGb
        }
      }
    }

    software_config {
      image_version       = local.cluster_config.softwareConfig.imageVersion
      override_properties = local.cluster_config.softwareConfig.properties
    }

    lifecycle_config {
      idle_delete_ttl = local.cluster_config.lifecycleConfig.idleDeleteTtl
    }

    endpoint_config {
      enable_http_port_access = local.cluster_config.endpointConfig.enableHttpPortAccess
    }
  }

  # The values come from locals (names, not references): the bucket, subnet and service account they name
  # are listed here so they exist first.
  depends_on = [
    google_project_service.compute,
    google_storage_bucket.dataproc_staging,
    google_compute_subnetwork.main,
    google_service_account.dataproc,
    google_project_iam_member.dataproc_worker,
    google_storage_bucket_iam_member.lake_dataproc,
    google_storage_bucket_iam_member.staging_dataproc,
    google_compute_router_nat.nat,
  ]
}
