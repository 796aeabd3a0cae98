"""deploy/k8s: the kustomization builds, every object is valid for Kubernetes 1.28 to 1.32 (the
schemas kubernetes-validate ships, offline), and the pieces fit the image and each other.

The build is `kubectl kustomize` when kubectl is installed; otherwise the same composition the
kustomization asks for (namespace, labels, one ConfigMap generated from an env file, image) is
done here, and the test that compares both says whether that stand-in still matches.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import pytest
import yaml

from .conftest import ROOT
from .test_deployment import longest_task  # noqa: F401  (fixture)

K8S = ROOT / "deploy" / "k8s"
VERSIONS = ("1.28.0", "1.32.0")
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass"}
WORKLOADS = {"pricetracker-web": "web", "pricetracker-worker": "worker", "pricetracker-worker-llm": "worker-llm",
             "pricetracker-beat": "beat", "pricetracker-flower": "flower"}


def _env_file(path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def compose_here() -> list[dict]:
    """What the kustomization asks for, composed without kubectl (no name hash on the ConfigMap)."""
    spec = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    allowed = {"apiVersion", "kind", "namespace", "labels", "resources", "configMapGenerator", "images"}
    assert set(spec) <= allowed, f"this stand-in does not know {set(spec) - allowed}: extend it"
    docs: list[dict] = []
    for resource in spec["resources"]:
        docs += [doc for doc in yaml.safe_load_all((K8S / resource).read_text()) if doc]
    for generator in spec.get("configMapGenerator", []):
        data: dict[str, str] = {}
        for env in generator.get("envs", []):
            data.update(_env_file(K8S / env))
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data})
    images = {image["name"]: f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
              for image in spec.get("images", [])}
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = spec["namespace"]
        for group in spec.get("labels", []):
            doc["metadata"].setdefault("labels", {}).update(group["pairs"])
        for container in _containers(doc):
            container["image"] = images.get(container["image"], container["image"])
    return docs


def _kubectl_build() -> list[dict] | None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    done = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def _pod_spec(doc: dict) -> dict | None:
    if doc["kind"] in ("Deployment", "Job"):
        return doc["spec"]["template"]["spec"]
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def _containers(doc: dict) -> list[dict]:
    pod = _pod_spec(doc)
    return (pod.get("initContainers", []) + pod["containers"]) if pod else []


@pytest.fixture(scope="module")
def built() -> list[dict]:
    return _kubectl_build() or compose_here()


def _by(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def _unhashed(name: str) -> str:
    return re.sub(r"-[a-z0-9]{10}$", "", name)


def test_kubectls_build_and_the_stand_in_agree():
    by_kubectl = _kubectl_build()
    if by_kubectl is None:
        pytest.skip("kubectl is not installed: the stand-in composition is what the other tests use")
    ours = compose_here()
    key = lambda doc: (doc["kind"], _unhashed(doc["metadata"]["name"]))  # noqa: E731
    assert sorted(map(key, by_kubectl)) == sorted(map(key, ours))
    for theirs in by_kubectl:
        mine = next(doc for doc in ours if key(doc) == key(theirs))
        strip = copy.deepcopy(theirs)
        for ref in _refs(strip):
            ref["name"] = _unhashed(ref["name"])
        strip["metadata"]["name"] = _unhashed(strip["metadata"]["name"])
        assert strip == mine, key(theirs)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_against_the_bundled_kubernetes_schemas(built, version):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for doc in built:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(f"{doc['kind']}/{doc['metadata']['name']}: {exc}") from None


def test_web_workers_one_beat_and_flower_run_entrypoint_roles(built):
    deployments = _by(built, "Deployment")
    assert {name: doc["spec"]["template"]["spec"]["containers"][0]["args"][0] for name, doc in deployments.items()} == WORKLOADS
    roles = set(re.findall(r"^\s{4}([a-z-]+)\)\s*$", (ROOT / "docker" / "entrypoint.sh").read_text(), re.M))
    for doc in built:
        for container in _containers(doc):
            assert container["args"][0] in roles, doc["metadata"]["name"]
    beat = deployments["pricetracker-beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"


def _refs(doc: dict) -> list[dict]:
    found = []
    for container in _containers(doc):
        for source in container.get("envFrom", []):
            found += [source[k] for k in ("configMapRef", "secretRef") if k in source]
    return found


def test_config_comes_from_the_configmap_and_the_one_external_secret(built):
    config_maps = set(_by(built, "ConfigMap"))
    for doc in built:
        for container in _containers(doc):
            refs = container.get("envFrom", [])
            assert any("configMapRef" in ref for ref in refs) and any("secretRef" in ref for ref in refs)
            for ref in refs:
                if "configMapRef" in ref:
                    assert ref["configMapRef"]["name"] in config_maps
                else:
                    assert ref["secretRef"]["name"] == "pricetracker-secrets"
    # Every variable set there is one the project documents; no secret sits in the ConfigMap.
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    config = _env_file(K8S / "config.env")
    secrets = _env_file(K8S / "secrets.env.example")
    assert set(config) - documented == set()
    assert set(secrets) - documented == set()
    assert not set(config) & {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN", "FLOWER_BASIC_AUTH", "REDIS_URL"}
    assert {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY"} <= set(secrets)
    assert not (K8S / "secrets.env").exists() or "secrets.env" in (ROOT / ".gitignore").read_text()


def test_probes_come_from_the_existing_health_checks(built):
    deployments = _by(built, "Deployment")
    web = deployments["pricetracker-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/health"
    hosts = _env_file(K8S / "config.env")["ALLOWED_HOSTS"].split(",")
    probe_host = {h["name"]: h["value"] for h in web["readinessProbe"]["httpGet"]["httpHeaders"]}["Host"]
    assert probe_host in hosts  # else Django answers the kubelet 400
    healthcheck_roles = set(re.findall(r'role == "([a-z-]+)"', (ROOT / "docker" / "healthcheck.py").read_text()))
    for name, role in WORKLOADS.items():
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert "livenessProbe" in container, name
        command = container["livenessProbe"].get("exec", {}).get("command")
        if command:
            assert command[1:] == ["docker/healthcheck.py", role] and role in healthcheck_roles


def test_workers_get_longer_than_the_longest_task_to_stop(built, longest_task):  # noqa: F811
    for name in ("pricetracker-worker", "pricetracker-worker-llm"):
        assert _by(built, "Deployment")[name]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > longest_task


def test_services_select_pods_and_name_their_ports(built):
    deployments = _by(built, "Deployment")
    for service in _by(built, "Service").values():
        selector = service["spec"]["selector"]
        matches = [d for d in deployments.values()
                   if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matches) == 1, service["metadata"]["name"]
        ports = {p["name"] for p in matches[0]["spec"]["template"]["spec"]["containers"][0].get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_pods_run_unprivileged_without_the_api_token(built):
    for doc in built:
        pod = _pod_spec(doc)
        if pod is None:
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
