# Names and the VM's cloud-init, derived from the variables alone (no resource attributes), so the tests
# can evaluate them with `terraform console` without provider downloads.
locals {
  zone        = var.zone != "" ? var.zone : "${var.region}-b"
  use_cluster = var.spark_runner == "dataproc"
  single_node = var.worker_count == 0

  vm_name             = "${var.name_prefix}-luigi"
  vm_tag              = "${var.name_prefix}-luigi"
  network_name        = var.name_prefix
  subnet_name         = "${var.name_prefix}-${var.region}"
  staging_bucket_name = "${var.project_id}-${var.name_prefix}-dataproc"

  vm_sa_id            = "${var.name_prefix}-luigi"
  vm_sa_email         = "${local.vm_sa_id}@${var.project_id}.iam.gserviceaccount.com"
  dataproc_sa_id      = "${var.name_prefix}-dataproc"
  dataproc_sa_email   = "${local.dataproc_sa_id}@${var.project_id}.iam.gserviceaccount.com"
  subnetwork_resource = "projects/${var.project_id}/regions/${var.region}/subnetworks/${local.subnet_name}"

  # REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG -> its registry host and repository.
  image_parts         = regex("^(([a-z0-9-]+)-docker\\.pkg\\.dev)/([^/]+)/([^/]+)/", var.image)
  registry_host       = local.image_parts[0]
  image_location      = local.image_parts[1]
  image_project       = local.image_parts[2]
  image_repository_id = local.image_parts[3]

  # Where luigid keeps its state on the VM: the stateful partition survives reboots (not a new VM).
  host_state_dir = "/mnt/stateful_partition/${var.name_prefix}/luigid"

  # What the container reads (and nothing secret: credentials are the VM service account's, via ADC).
  container_env = {
    CRON                     = var.cron_schedule
    LAKE_ROOT                = var.lake_root
    SPARK_RUNNER             = var.spark_runner
    DATAPROC_PROJECT         = var.project_id
    DATAPROC_REGION          = var.region
    DATAPROC_CLUSTER         = local.use_cluster ? var.cluster_name : ""
    DATAPROC_SERVICE_ACCOUNT = local.dataproc_sa_email
    DATAPROC_SUBNETWORK      = local.subnetwork_resource
  }

  cloud_init = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    image          = var.image
    registry_host  = local.registry_host
    container_env  = local.container_env
    host_state_dir = local.host_state_dir
    service_name   = var.name_prefix
  })

  # Dataproc permissions the VM's service account uses (runners/dataproc.py): jobs on the cluster, or
  # Serverless batches.
  submitter_permissions = local.use_cluster ? [
    "dataproc.clusters.use",
    "dataproc.jobs.cancel",
    "dataproc.jobs.create",
    "dataproc.jobs.get",
    "dataproc.jobs.list",
    ] : [
    "dataproc.batches.create",
    "dataproc.batches.get",
    "dataproc.batches.list",
  ]

  luigid_tunnel_command = "gcloud compute ssh ${local.vm_name} --project ${var.project_id} --zone ${local.zone} --tunnel-through-iap -- -N -L 8082:127.0.0.1:8082"
}
