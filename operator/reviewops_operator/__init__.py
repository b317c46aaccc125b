"""ReviewOps Kubernetes operator (kopf)."""
