# APIs this stack needs. Left enabled on destroy: other workloads of the project may use them.
resource "google_project_service" "compute" {
  for_each = toset([
    "compute.googleapis.com",
    "dataproc.googleapis.com",
    "iam.googleapis.com",
    "iap.googleapis.com",
    "logging.googleapis.com",
  ])

  service            = each.value
  disable_on_destroy = false
}
