# APIs this stack needs. Left enabled on destroy: other workloads of the project may use them.
resource "google_project_service" "storage" {
  for_each = toset(concat(
    ["storage.googleapis.com", "artifactregistry.googleapis.com"],
    var.create_bigquery ? ["bigquery.googleapis.com"] : [],
  ))

  service            = each.value
  disable_on_destroy = false
}
