# One VPC with one subnet for the VM, the Dataproc nodes and Serverless batches. Nothing in it has a
# public IP: Google APIs (GCS, Dataproc, Artifact Registry, Logging) are reached through Private Google
# Access, the internet (archive.org, for the ingest) through Cloud NAT, and people come in only through
# IAP's TCP forwarding to SSH.
resource "google_compute_network" "main" {
  name                    = local.network_name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"

  depends_on = [google_project_service.compute]
}

resource "google_compute_subnetwork" "main" {
  name                     = local.subnet_name
  region                   = var.region
  network                  = google_compute_network.main.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  # Sampled flow logs: enough to see what talked to what, cheap at this traffic.
  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.1
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Egress without a public IP: the VM downloads the dumps from archive.org through Cloud NAT. Chosen over
# an ephemeral public IP because nothing on the internet can then reach the VM even if a firewall rule
# is added by mistake, the Dataproc nodes (internal IPs only) get the same egress, and a NAT gateway for
# one VM costs less than an in-use external IPv4 address (see the README).
resource "google_compute_router" "nat" {
  name    = "${var.name_prefix}-nat"
  region  = var.region
  network = google_compute_network.main.id
}

resource "google_compute_router_nat" "nat" {
  name                               = "${var.name_prefix}-nat"
  router                             = google_compute_router.nat.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.main.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# SSH from IAP's forwarding range only, to the VM only: the visualiser is reached through an SSH tunnel
# (output luigid_tunnel_command); luigid's port is bound to 127.0.0.1 on the VM and has no rule at all.
resource "google_compute_firewall" "iap_ssh" {
  name          = "${var.name_prefix}-allow-iap-ssh"
  network       = google_compute_network.main.id
  direction     = "INGRESS"
  source_ranges = ["35.235.240.0/20"]
  target_tags   = [local.vm_tag]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Dataproc nodes and Serverless executors talk to each other on any port (both run as the Dataproc
# service account); nothing outside the subnet is let in.
resource "google_compute_firewall" "dataproc_internal" {
  name                    = "${var.name_prefix}-allow-dataproc-internal"
  network                 = google_compute_network.main.id
  direction               = "INGRESS"
  source_ranges           = [var.subnet_cidr]
  target_service_accounts = [google_service_account.dataproc.email]

  allow {
    protocol = "tcp"
  }
  allow {
    protocol = "udp"
  }
  allow {
    protocol = "icmp"
  }
}
