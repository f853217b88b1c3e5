terraform {
  required_version = "~> 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.30"
    }
  }

  # State stays in terraform/compute/terraform.tfstate on the machine that runs `make apply-compute`
  # (git-ignored). To share it, add a backend_override.tf with a "gcs" backend in a bucket that these
  # stacks do not manage and run `terraform init -migrate-state` (see the README).
  backend "local" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}
