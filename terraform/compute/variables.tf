variable "project_id" {
  description = "Google Cloud project of the VM, the network and Dataproc."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the subnet, Cloud NAT and Dataproc (the lake bucket's region)."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 (not a zone)."
  }
}

variable "zone" {
  description = "Zone of the VM and the Dataproc cluster; empty: \"{region}-b\"."
  type        = string
  default     = ""

  validation {
    condition     = var.zone == "" || can(regex("^${var.region}-[a-z]$", var.zone))
    error_message = "zone must be a zone of the region (such as europe-west1-b), or empty for {region}-b."
  }
}

variable "lake_bucket" {
  description = "Name of the lake bucket (output lake_bucket of terraform/storage); the service accounts get object access on it alone."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.lake_bucket))
    error_message = "lake_bucket must be a bucket name (no gs:// prefix)."
  }
}

variable "lake_root" {
  description = "The pipeline's lake root, gs://{lake_bucket}/{prefix} (output lake_root of terraform/storage): LAKE_ROOT in the container."
  type        = string

  validation {
    condition     = can(regex("^gs://${var.lake_bucket}/[A-Za-z0-9_/-]*[A-Za-z0-9_-]$", var.lake_root))
    error_message = "lake_root must be gs://{lake_bucket}/{prefix} in the bucket given as lake_bucket, without a trailing slash."
  }
}

variable "image" {
  description = "The pipeline image in Artifact Registry, {region}-docker.pkg.dev/{project}/{repository}/{image}:{tag} (or @sha256:…)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev/[a-z][a-z0-9-]+/[a-z0-9-]+/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image))
    error_message = "image must be an Artifact Registry image with a tag or digest: REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG."
  }
}

variable "cron_schedule" {
  description = "When the pipeline runs: a 5-field cron schedule, in UTC (CRON in the container). The default, 06:00 on days 2-8, catches a release as soon as Open Library has finished uploading it; later runs that month find everything done."
  type        = string
  default     = "0 6 2-8 * *"

  validation {
    condition     = can(regex("^[0-9*/,-]+( [0-9A-Za-z*/,-]+){4}$", var.cron_schedule))
    error_message = "cron_schedule must be exactly 5 cron fields separated by single spaces, such as \"0 6 5 * *\" (no @monthly, no 6th field)."
  }
}

variable "spark_runner" {
  description = "Where Spark runs: \"dataproc\" (a cluster, created here) or \"serverless\" (Dataproc Serverless batches, no cluster)."
  type        = string
  default     = "dataproc"

  validation {
    condition     = contains(["dataproc", "serverless"], var.spark_runner)
    error_message = "spark_runner must be \"dataproc\" or \"serverless\"."
  }
}

variable "cluster_name" {
  description = "Name of the Dataproc cluster (spark_runner = \"dataproc\" only)."
  type        = string
  default     = "openlibrary"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,49}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name must be lowercase letters, digits and hyphens, starting with a letter, at most 51 characters."
  }
}

variable "name_prefix" {
  description = "Prefix of the names of the VM, network, service accounts, buckets and firewall rules made here."
  type        = string
  default     = "openlibrary"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,16}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-18 lowercase letters, digits or hyphens, starting with a letter (service account ids are at most 30 characters)."
  }
}

variable "vm_machine_type" {
  description = "Machine type of the VM running luigid and cron (the ingest streams through it; it needs network, not CPU)."
  type        = string
  default     = "e2-small"
}

variable "vm_disk_gb" {
  description = "Boot disk of the VM in GB (holds the image and luigid's state on the stateful partition)."
  type        = number
  default     = 20

  validation {
    condition     = var.vm_disk_gb >= 10
    error_message = "vm_disk_gb must be at least 10."
  }
}

variable "cos_image_family" {
  description = "Container-Optimized OS image family of the VM (project cos-cloud)."
  type        = string
  default     = "cos-stable"

  validation {
    condition     = can(regex("^cos-", var.cos_image_family))
    error_message = "cos_image_family must be a Container-Optimized OS family such as cos-stable or cos-121-lts."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the subnet of the VM, the Dataproc nodes and Serverless batches."
  type        = string
  default     = "10.42.0.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be an IPv4 CIDR range such as 10.42.0.0/24."
  }
}

variable "dataproc_image_version" {
  description = "Dataproc on Compute Engine image of the cluster (spark_runner = \"dataproc\"): 2.3-debian12 runs Spark 3.5.3, the pyspark pinned in pyproject.toml, on Python 3.11 (supported until 2027-06-09). major.minor[.subminor][-os] as in Dataproc's image version list."
  type        = string
  default     = "2.3-debian12"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)?(-(debian|ubuntu|rocky)[0-9]+)?$", var.dataproc_image_version))
    error_message = "dataproc_image_version must be a Dataproc image version such as 2.3-debian12 or 2.3.13-debian12 (major.minor[.subminor][-os]; without -os, Debian)."
  }
}

variable "serverless_runtime_version" {
  description = "Serverless for Apache Spark runtime of the batches (spark_runner = \"serverless\"; DATAPROC_RUNTIME_VERSION in the container): 2.3 runs Spark 3.5, the pyspark pinned in pyproject.toml, on Python 3.11 (LTS, supported until 2027-11-26). major.minor only: Dataproc does not pin subminor runtimes."
  type        = string
  default     = "2.3"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.serverless_runtime_version))
    error_message = "serverless_runtime_version must be a major.minor runtime version such as 2.3 (subminor versions can't be pinned)."
  }
}

variable "master_machine_type" {
  description = "Machine type of the Dataproc master."
  type        = string
  default     = "n2-standard-4"
}

variable "worker_machine_type" {
  description = "Machine type of the Dataproc workers."
  type        = string
  default     = "n2-standard-4"
}

variable "worker_count" {
  description = "Primary workers of the Dataproc cluster; 0 makes a single-node cluster (the master does the work)."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_count == 0 || (var.worker_count >= 2 && floor(var.worker_count) == var.worker_count)
    error_message = "worker_count must be 0 (single node) or a whole number of at least 2 (Dataproc's minimum for a standard cluster)."
  }
}

variable "dataproc_disk_gb" {
  description = "Boot disk of each Dataproc node in GB."
  type        = number
  default     = 100

  validation {
    condition     = var.dataproc_disk_gb >= 30
    error_message = "dataproc_disk_gb must be at least 30 (Dataproc's minimum)."
  }
}

variable "idle_delete_ttl" {
  description = "The Dataproc cluster deletes itself after this long without jobs (seconds, \"3600s\"); the cluster runner creates it again before its next job (from DATAPROC_CLUSTER_CONFIG), as would the next `make apply-compute`."
  type        = string
  default     = "3600s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.idle_delete_ttl)) && try(tonumber(trimsuffix(var.idle_delete_ttl, "s")) >= 600 && tonumber(trimsuffix(var.idle_delete_ttl, "s")) <= 1209600, false)
    error_message = "idle_delete_ttl must be seconds such as \"3600s\", between 600s (10 minutes) and 1209600s (14 days), Dataproc's limits."
  }
}

variable "operators" {
  description = "Members (\"user:a@example.com\", \"group:…\") who may reach the VM over IAP SSH (the visualiser tunnel, the container's log): IAP tunnel access and OS admin login on that VM alone."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.operators : can(regex("^(user|group|serviceAccount|domain):.+$", member))])
    error_message = "Each operator must be an IAM member such as user:a@example.com or group:ops@example.com."
  }
}

variable "labels" {
  description = "Labels put on every resource that takes them."
  type        = map(string)
  default     = { app = "openlibrary-pipeline" }
}

variable "alert_email" {
  description = "Address mailed when a pipeline run fails (the container printed its failure summary): a Cloud Monitoring email channel on the log-based alert of alerting.tf. Empty: no channel; the alert's incidents are still listed in the console."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be one e-mail address such as ops@example.com, or empty for no notification channel."
  }
}
