"""Static Dockerfile rules (target "dockerfile")."""
