"""The `kubernetes` client the operator uses for objects kopf does not manage (ConfigMaps).

Configured once per process from settings: an explicit API URL (tests, proxies), otherwise the
kubeconfig named by KUBECONFIG, otherwise the in-cluster service account, otherwise the default
kubeconfig — the same order kopf's login follows (handlers.login).
"""

from __future__ import annotations

import os
from typing import Any

from reviewops_operator.errors import ExternalError


def api_client(api_url: str | None, *, verify_tls: bool = True) -> Any:
    """A configured `kubernetes.client.ApiClient`."""
    from kubernetes import client
    from kubernetes import config as kube_config

    config: Any = kube_config  # its loaders are untyped

    if api_url is not None:
        configuration = client.Configuration()
        configuration.host = api_url
        configuration.verify_ssl = verify_tls
        return client.ApiClient(configuration)
    explicit = os.environ.get("KUBECONFIG")  # read now: the client reads it only at import
    try:
        if explicit:
            raise config.ConfigException("KUBECONFIG is set: it wins over the in-cluster config")
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config(config_file=explicit or None)
        except (config.ConfigException, OSError) as exc:
            raise ExternalError(
                "Kubernetes",
                "KubernetesUnconfigured",
                "no Kubernetes API: not in a cluster and no usable kubeconfig "
                f"({exc}); set REVIEWOPS_KUBERNETES_API_URL or KUBECONFIG",
                transient=False,
            ) from exc
    return client.ApiClient()
