# Two service accounts, each with only what it uses.
#
# luigi (the VM): objects in the lake bucket, Dataproc job or batch submission and creating the cluster
# again after an idle delete (a custom role holding the exact permissions of runners/dataproc.py, plus
# actAs on the dataproc account alone), reading Dataproc driver output, pulling the image, writing logs.
# No project-wide storage role, no key. A Serverless batch stages its files in the lake bucket
# (execution_config.staging_bucket), which both accounts may use.
#
# dataproc (cluster nodes and Serverless batches): Dataproc Worker (what Dataproc requires of a node's
# service account) and objects in the lake and the Dataproc staging bucket.
#
# Every grant and the custom role wait for the APIs (apis.tf): in a clean project the project IAM grants
# need Cloud Resource Manager, the role and the accounts IAM, the bucket grants Cloud Storage.

resource "google_service_account" "luigi" {
  account_id   = local.vm_sa_id
  display_name = "Open Library pipeline: luigid + cron VM"

  depends_on = [google_project_service.compute]
}

resource "google_service_account" "dataproc" {
  account_id   = local.dataproc_sa_id
  display_name = "Open Library pipeline: Dataproc cluster and Serverless batches"

  depends_on = [google_project_service.compute]
}

# --- the lake: bucket-level grants only (objectUser: read, write, delete objects; no IAM changes) ---

resource "google_storage_bucket_iam_member" "lake_luigi" {
  bucket = var.lake_bucket
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.luigi.email}"

  depends_on = [google_project_service.compute]
}

resource "google_storage_bucket_iam_member" "lake_dataproc" {
  bucket = var.lake_bucket
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.dataproc.email}"

  depends_on = [google_project_service.compute]
}

# --- the Dataproc staging/temp bucket (dataproc.tf) ---

resource "google_storage_bucket_iam_member" "staging_dataproc" {
  bucket = google_storage_bucket.dataproc_staging.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.dataproc.email}"

  depends_on = [google_project_service.compute]
}

# The runner reads a failed job's driver output from there to show it in the task's error.
resource "google_storage_bucket_iam_member" "staging_luigi_read" {
  bucket = google_storage_bucket.dataproc_staging.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.luigi.email}"

  depends_on = [google_project_service.compute]
}

# --- Dataproc submission ---

resource "google_project_iam_custom_role" "submitter" {
  role_id     = replace("${var.name_prefix}_dataproc_submitter", "-", "_")
  title       = "Open Library pipeline: submit Dataproc ${var.spark_runner} work"
  description = "Exactly the Dataproc calls runners/dataproc.py makes for the ${var.spark_runner} runner."
  permissions = local.submitter_permissions

  depends_on = [google_project_service.compute]
}

resource "google_project_iam_member" "luigi_submitter" {
  project = var.project_id
  role    = google_project_iam_custom_role.submitter.id
  member  = "serviceAccount:${google_service_account.luigi.email}"

  depends_on = [google_project_service.compute]
}

# A Serverless batch runs as the Dataproc service account, and so does a cluster the runner creates again
# (gceClusterConfig.serviceAccount): whoever creates either must be allowed to act as that account
# (iam.serviceAccounts.actAs), and the VM's account may act as that one only (granted on the account, not
# the project). Nothing of Compute Engine is needed of the caller for a cluster in this project's subnet:
# Dataproc's own service agent creates the VMs and checks the image, firewall rules and buckets.
resource "google_service_account_iam_member" "luigi_acts_as_dataproc" {
  service_account_id = google_service_account.dataproc.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.luigi.email}"

  depends_on = [google_project_service.compute]
}

resource "google_project_iam_member" "dataproc_worker" {
  project = var.project_id
  role    = "roles/dataproc.worker"
  member  = "serviceAccount:${google_service_account.dataproc.email}"

  depends_on = [google_project_service.compute]
}

# --- the image and logs ---

resource "google_artifact_registry_repository_iam_member" "luigi_pull" {
  project    = local.image_project
  location   = local.image_location
  repository = local.image_repository_id
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.luigi.email}"

  depends_on = [google_project_service.compute]
}

resource "google_project_iam_member" "luigi_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.luigi.email}"

  depends_on = [google_project_service.compute]
}

# --- people: the IAP SSH tunnel to the VM (visualiser, logs) ---

resource "google_iap_tunnel_instance_iam_member" "operators" {
  for_each = toset(var.operators)

  project  = var.project_id
  zone     = local.zone
  instance = google_compute_instance.luigi.name
  role     = "roles/iap.tunnelResourceAccessor"
  member   = each.value

  depends_on = [google_project_service.compute]
}

# Admin login: on Container-Optimized OS reading the container's log (`sudo docker logs`) or restarting
# the unit needs root. It adds no identity: OS Login already requires actAs on the VM's account (below).
resource "google_compute_instance_iam_member" "operators" {
  for_each = toset(var.operators)

  project       = var.project_id
  zone          = local.zone
  instance_name = google_compute_instance.luigi.name
  role          = "roles/compute.osAdminLogin"
  member        = each.value

  depends_on = [google_project_service.compute]
}

# OS Login to a VM that runs as a service account needs actAs on that account.
resource "google_service_account_iam_member" "operators_on_vm_account" {
  for_each = toset(var.operators)

  service_account_id = google_service_account.luigi.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value

  depends_on = [google_project_service.compute]
}
