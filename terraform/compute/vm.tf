# The VM that runs luigid and cron (one container, started by cloud-init on Container-Optimized OS).
# No public IP (egress through Cloud NAT), shielded boot, OS Login, no project-wide SSH keys, serial
# port off. luigid listens on 127.0.0.1 only; reach it with output luigid_tunnel_command.

# A new image, schedule or environment replaces the VM (cloud-init applies user-data at boot), so
# `make apply-compute` after pushing an image deploys it. luigid's state lives on the VM's stateful
# partition and starts empty on a new VM; the lake's completion flags are what decide what runs.
resource "terraform_data" "cloud_init" {
  input = local.cloud_init
}

resource "google_compute_instance" "luigi" {
  #checkov:skip=CKV_GCP_38:Customer-supplied disk keys would have to be handed to every boot; the disk holds no secret, only luigid's state.
  name                      = local.vm_name
  machine_type              = var.vm_machine_type
  zone                      = local.zone
  tags                      = [local.vm_tag]
  labels                    = var.labels
  allow_stopping_for_update = true
  can_ip_forward            = false

  boot_disk {
    initialize_params {
      image = "projects/cos-cloud/global/images/family/${var.cos_image_family}"
      size  = var.vm_disk_gb
      type  = "pd-balanced"
    }
  }

  # No access_config block: no external IP.
  network_interface {
    subnetwork = google_compute_subnetwork.main.id
  }

  service_account {
    email  = google_service_account.luigi.email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    user-data              = local.cloud_init
    block-project-ssh-keys = "true"
    enable-oslogin         = "TRUE"
    serial-port-enable     = "false"
    google-logging-enabled = "true"
  }

  lifecycle {
    replace_triggered_by = [terraform_data.cloud_init]
  }

  # The unit pulls the image and the container talks to GCS and Dataproc from the first boot.
  depends_on = [
    google_artifact_registry_repository_iam_member.luigi_pull,
    google_storage_bucket_iam_member.lake_luigi,
    google_project_iam_member.luigi_submitter,
    google_service_account_iam_member.luigi_acts_as_dataproc,
    google_project_iam_member.luigi_logs,
    google_compute_router_nat.nat,
  ]
}
