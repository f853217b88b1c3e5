# The APIs this stack's resources and the running pipeline call (local.services, locals.tf), enabled before
# anything that needs them: every other resource depends on them, directly or through what it references.
# Left enabled on destroy: other workloads of the project may use them.
resource "google_project_service" "compute" {
  for_each = local.services

  service            = each.value
  disable_on_destroy = false
}
