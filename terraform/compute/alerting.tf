# Alerting: a log-based alert on the line every failed run ends with (docker/failure_summary.py prints
# "PIPELINE RUN FAILED" as the head of its one-screen summary; docker/run-pipeline prints it too when the
# summary itself fails). The VM sends the container's output to Cloud Logging (google-logging-enabled):
# log cos_containers, one entry per line, the line in jsonPayload.message.
#
# Each failed try opens an incident and mails alert_email (at most one mail an hour): with the default
# schedule (days 2-8), a month whose seven tries all fail sends seven, the first on the first failure. A
# later try that succeeds sends nothing; the incident closes itself after auto_close. luigid's [email] is
# the second way: it mails each failed task, with its traceback, from inside the container.

resource "google_monitoring_notification_channel" "email" {
  count = var.alert_email == "" ? 0 : 1

  display_name = "Open Library pipeline (${var.name_prefix}): ${var.alert_email}"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
  user_labels = var.labels

  depends_on = [google_project_service.compute]
}

resource "google_monitoring_alert_policy" "run_failed" {
  display_name = "Open Library pipeline run failed on ${local.vm_name}"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "The pipeline container printed its failure summary"
    condition_matched_log {
      filter = join(" AND ", [
        "resource.type=\"gce_instance\"",
        "resource.labels.instance_id=\"${google_compute_instance.luigi.instance_id}\"",
        "logName=\"projects/${var.project_id}/logs/cos_containers\"",
        "jsonPayload.message:\"${local.run_failed_marker}\"",
      ])
    }
  }

  alert_strategy {
    # Required for log-match conditions; one mail an hour at most (a run prints the line once).
    notification_rate_limit {
      period = "3600s"
    }
    auto_close = "86400s"
  }

  notification_channels = google_monitoring_notification_channel.email[*].id
  user_labels           = var.labels

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A run of the Open Library pipeline on VM ${local.vm_name} failed: the container printed its failure
      summary (failed tasks and why, the release, the exit code and its meaning). Read it with
      `${local.container_logs_command}`, or in Logs Explorer with the filter of this alert. The next
      scheduled try (${var.cron_schedule}, UTC) starts again where this one stopped.
    EOT
  }

  depends_on = [google_project_service.compute]
}
