output "vm_name" {
  description = "Name of the VM running luigid and cron."
  value       = google_compute_instance.luigi.name
}

output "vm_zone" {
  description = "Zone of the VM (and of the Dataproc cluster)."
  value       = google_compute_instance.luigi.zone
}

output "vm_service_account" {
  description = "Service account of the VM (the pipeline's identity: ADC inside the container)."
  value       = google_service_account.luigi.email
}

output "dataproc_service_account" {
  description = "Service account of the Dataproc nodes and Serverless batches (DATAPROC_SERVICE_ACCOUNT)."
  value       = google_service_account.dataproc.email
}

output "cluster_name" {
  description = "The Dataproc cluster (DATAPROC_CLUSTER), or empty with spark_runner = \"serverless\"."
  value       = local.use_cluster ? google_dataproc_cluster.spark[0].name : ""
}

output "subnetwork" {
  description = "Subnet of the VM, the cluster and Serverless batches (DATAPROC_SUBNETWORK)."
  value       = google_compute_subnetwork.main.id
}

output "luigid_tunnel_command" {
  description = "Opens an SSH tunnel through IAP: the visualiser is then on http://127.0.0.1:8082 (Ctrl-C closes it)."
  value       = local.luigid_tunnel_command
}

output "container_logs_command" {
  description = "Follows the container's log (luigid, cron, every pipeline run) over IAP SSH."
  value       = local.container_logs_command
}
