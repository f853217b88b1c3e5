variable "project_id" {
  description = "Google Cloud project that holds the lake, the image repository and the BigQuery dataset."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the bucket, the Artifact Registry repository and the BigQuery dataset (keep it the Dataproc region)."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 (not a zone, not a multi-region)."
  }
}

variable "bucket_name" {
  description = "Name of the lake bucket; empty: \"{project_id}-openlibrary-lake\"."
  type        = string
  default     = ""

  validation {
    condition     = var.bucket_name == "" || can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, hyphens or underscores (no dots), or empty for the default."
  }
}

variable "lake_prefix" {
  description = "Folder of the lake inside the bucket: the pipeline's lake root is gs://{bucket}/{lake_prefix}."
  type        = string
  default     = "lake"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$", var.lake_prefix))
    error_message = "lake_prefix must be a relative folder such as \"lake\" (letters, digits, _ and -, no leading or trailing slash)."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object's previous version is kept (bucket versioning) before it is deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_days >= 1 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of days, at least 1."
  }
}

variable "repository_id" {
  description = "Artifact Registry Docker repository the pipeline image is pushed to."
  type        = string
  default     = "openlibrary"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.repository_id))
    error_message = "repository_id must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "keep_image_versions" {
  description = "How many most recent image versions the repository's cleanup policy keeps; older ones are deleted after image_max_age_days."
  type        = number
  default     = 10

  validation {
    condition     = var.keep_image_versions >= 1 && floor(var.keep_image_versions) == var.keep_image_versions
    error_message = "keep_image_versions must be a whole number, at least 1."
  }
}

variable "image_max_age_days" {
  description = "Images older than this many days are deleted by the cleanup policy, unless among the keep_image_versions most recent."
  type        = number
  default     = 30

  validation {
    condition     = var.image_max_age_days >= 1 && floor(var.image_max_age_days) == var.image_max_age_days
    error_message = "image_max_age_days must be a whole number of days, at least 1."
  }
}

variable "create_bigquery" {
  description = "Create a BigQuery dataset with external tables over one release's curated and mart Parquet."
  type        = bool
  default     = false
}

variable "bigquery_release" {
  description = "Release (YYYY-MM-DD) the BigQuery external tables read; required when create_bigquery is true. Re-apply with another date to repoint them."
  type        = string
  default     = ""

  validation {
    condition     = var.bigquery_release == "" || can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.bigquery_release))
    error_message = "bigquery_release must be a release date such as 2026-10-31, or empty."
  }

  validation {
    condition     = !var.create_bigquery || var.bigquery_release != ""
    error_message = "create_bigquery = true needs bigquery_release (YYYY-MM-DD): the release whose Parquet the tables read."
  }
}

variable "bigquery_dataset" {
  description = "BigQuery dataset id of the external tables."
  type        = string
  default     = "openlibrary"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*$", var.bigquery_dataset)) && length(var.bigquery_dataset) <= 1024
    error_message = "bigquery_dataset must be at most 1024 letters, digits and underscores."
  }
}

variable "bigquery_readers" {
  description = "Members (\"user:a@example.com\", \"group:…\") who may query the external tables: BigQuery data viewer on the dataset and object viewer on the lake bucket (external tables read GCS with the caller's rights)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.bigquery_readers : can(regex("^(user|group|serviceAccount|domain):.+$", member))])
    error_message = "Each reader must be an IAM member such as user:a@example.com, group:team@example.com or serviceAccount:…"
  }
}

variable "labels" {
  description = "Labels put on every resource that takes them."
  type        = map(string)
  default     = { app = "openlibrary-pipeline" }
}
