# Names, the Dataproc cluster's configuration and the VM's cloud-init, derived from the variables alone (no
# resource attributes), so the tests can evaluate them with `terraform console` without provider downloads.
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
  dataproc_sa_id      = "${var.name_prefix}-dataproc"
  dataproc_sa_email   = "${local.dataproc_sa_id}@${var.project_id}.iam.gserviceaccount.com"
  subnetwork_resource = "projects/${var.project_id}/regions/${var.region}/subnetworks/${local.subnet_name}"

  # REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG -> its registry host and repository.
  image_parts         = regex("^(([a-z0-9-]+)-docker\\.pkg\\.dev)/([^/]+)/([^/]+)/", var.image)
  registry_host       = local.image_parts[0]
  image_location      = local.image_parts[1]
  image_project       = local.image_parts[2]
  image_repository_id = local.image_parts[3]

  # The Dataproc cluster, described once: a ClusterConfig of the Dataproc REST API (camelCase field names,
  # https://cloud.google.com/dataproc/docs/reference/rest/v1/ClusterConfig). google_dataproc_cluster.spark
  # (dataproc.tf) takes every value from here, and the container gets it as DATAPROC_CLUSTER_CONFIG: the
  # runner creates the cluster again from it once Dataproc has deleted it for being idle, so the cluster
  # Terraform creates and the one the runner creates can't differ.
  #
  # internalIpOnly (no external IP on any node) is a local of its own because checkov resolves a plain local
  # but not a field of cluster_config, and its check that the cluster is private (CKV_GCP_103) reads it.
  cluster_internal_ip_only = true
  cluster_disk = {
    bootDiskType   = "pd-balanced"
    bootDiskSizeGb = var.dataproc_disk_gb
  }
  cluster_config = merge(
    {
      # Dataproc's staging bucket (job driver output) and temp bucket (Spark history, YARN logs): dataproc.tf.
      configBucket = local.staging_bucket_name
      tempBucket   = local.staging_bucket_name
      gceClusterConfig = {
        zoneUri              = local.zone
        subnetworkUri        = local.subnetwork_resource
        internalIpOnly       = local.cluster_internal_ip_only
        serviceAccount       = local.dataproc_sa_email
        serviceAccountScopes = ["https://www.googleapis.com/auth/cloud-platform"]
        shieldedInstanceConfig = {
          enableSecureBoot          = true
          enableVtpm                = true
          enableIntegrityMonitoring = true
        }
      }
      masterConfig = {
        numInstances   = 1
        machineTypeUri = var.master_machine_type
        diskConfig     = local.cluster_disk
      }
      softwareConfig = {
        imageVersion = var.dataproc_image_version
        # worker_count = 0: a single-node cluster, the master runs the executors.
        properties = local.single_node ? { "dataproc:dataproc.allow.zero.workers" = "true" } : {}
      }
      # Deleted after idle_delete_ttl without jobs; the cluster runner creates it again when it next runs.
      lifecycleConfig = {
        idleDeleteTtl = var.idle_delete_ttl
      }
      # No Component Gateway: no web UIs on public Google endpoints.
      endpointConfig = {
        enableHttpPortAccess = false
      }
    },
    # A single-node cluster has no workerConfig at all (Dataproc's rule for single node clusters: the
    # property above, and no worker groups in the request).
    local.single_node ? {} : {
      workerConfig = {
        numInstances   = var.worker_count
        machineTypeUri = var.worker_machine_type
        diskConfig     = local.cluster_disk
      }
    },
  )

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
    # One line of compact JSON (jsonencode writes no newline), which docker's --env-file passes on as is.
    # "{}" without a cluster: [dataproc] cluster_config's "no config" (it reads an empty value so too).
    DATAPROC_CLUSTER_CONFIG = local.use_cluster ? jsonencode(local.cluster_config) : "{}"
    # Labels are the Cluster's, not its ClusterConfig's: a cluster created again gets these too.
    DATAPROC_CLUSTER_LABELS = jsonencode(var.labels)
    # [dataproc] runtime_version: the Serverless for Apache Spark runtime of every batch.
    DATAPROC_RUNTIME_VERSION = var.serverless_runtime_version
  }

  cloud_init = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    image          = var.image
    registry_host  = local.registry_host
    container_env  = local.container_env
    host_state_dir = local.host_state_dir
    service_name   = var.name_prefix
  })

  # The APIs of a clean project this stack needs (apis.tf), by who calls them:
  services = toset([
    "cloudresourcemanager.googleapis.com", # the project IAM grants (google_project_iam_member)
    "iam.googleapis.com",                  # service accounts, their grants, the custom role
    "compute.googleapis.com",              # network, NAT, firewall, the VM; Dataproc's nodes
    "iap.googleapis.com",                  # the IAP SSH tunnel and its grant
    "oslogin.googleapis.com",              # OS Login on the VM (enable-oslogin)
    "storage.googleapis.com",              # the Dataproc staging bucket and its grants; the lake
    "artifactregistry.googleapis.com",     # the image pull grant; the VM pulls the image
    "dataproc.googleapis.com",             # the cluster; the runner's jobs, clusters and batches
    "logging.googleapis.com",              # the VM's and Dataproc's logs
    "monitoring.googleapis.com",           # the failed-run alert and its e-mail channel (alerting.tf)
  ])

  # The head of the container's failure summary (docker/failure_summary.py, docker/run-pipeline): what
  # the failed-run alert matches in the container's log.
  run_failed_marker = "PIPELINE RUN FAILED"

  # The Dataproc calls runners/dataproc.py makes as the VM's service account, each mapped to the permission
  # the Dataproc IAM page lists for it (https://cloud.google.com/dataproc/docs/concepts/iam/iam):
  #   dataproc: clusters.get -> dataproc.clusters.get; clusters.create (created again after an idle delete,
  #             from cluster_config) -> dataproc.clusters.create, and following its operation to report a
  #             failed creation -> dataproc.operations.get; jobs.submit -> dataproc.jobs.create and
  #             dataproc.clusters.use; jobs.get -> dataproc.jobs.get; jobs.cancel (a job past [dataproc]
  #             job_timeout_s) -> dataproc.jobs.cancel. Never update, delete or list.
  #   serverless: batches.create -> dataproc.batches.create; batches.get -> dataproc.batches.get (a batch
  #             past its execution_config.ttl is ended by Dataproc itself: no cancel).
  # Acting as the Dataproc service account is granted on that account alone (iam.tf).
  submitter_permissions = local.use_cluster ? [
    "dataproc.clusters.create",
    "dataproc.clusters.get",
    "dataproc.clusters.use",
    "dataproc.jobs.cancel",
    "dataproc.jobs.create",
    "dataproc.jobs.get",
    "dataproc.operations.get",
    ] : [
    "dataproc.batches.create",
    "dataproc.batches.get",
  ]

  # SSH to the VM through IAP (it has no public IP), then a tunnel to luigid or a command.
  iap_ssh                = "gcloud compute ssh ${local.vm_name} --project ${var.project_id} --zone ${local.zone} --tunnel-through-iap"
  luigid_tunnel_command  = "${local.iap_ssh} -- -N -L 8082:127.0.0.1:8082"
  container_logs_command = "${local.iap_ssh} --command 'sudo docker logs --follow --tail 200 openlibrary'"
}
