"""deploy/ checked without Docker or a cluster (neither runs here).

What is checked: every process the deploy files start (the Dockerfile's CMD, the compose
services, the Kubernetes containers, the systemd units) names a program of this project that the
image ships; every Envoy among them renders a config that Envoy itself accepts (`envoy --mode
validate`) and points at the servers of its own file; the ports agree (Envoy 8000, gRPC 50051,
metrics 9464); every image is built from deploy/Dockerfile or is a pinned public one; the
compose file validates against the compose specification, the manifests against Kubernetes'
schemas (strict), the Dockerfile passes hadolint, the units `systemd-analyze verify`, the
Prometheus config promtool; and every query of the Grafana dashboard names metrics a running
server exports. What is not: building the image, starting compose, applying to a cluster.
"""

from __future__ import annotations

import configparser
import dataclasses
import importlib.util
import json
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tomllib

import aiohttp
import promql_parser
import pytest
import yaml
from dockerfile_parse import DockerfileParser
from prometheus_client.parser import text_string_to_metric_families

from coordinator.settings import Settings
from devtools import envoy_config
from devtools.envoy_config import ROOT

DEPLOY = ROOT / "deploy"
TOOLS = pathlib.Path(sys.executable).parent  # hadolint, kubernetes-validate, check-jsonschema, envoy
OUR_IMAGE = "computepool"  # built from deploy/Dockerfile
PORTS = {"API_PORT": "8000", "GRPC_PORT": "50051", "METRICS_PORT": "9464"}
# A public image is pinned when its tag is a version (not latest, not a bare major) or a digest.
PINNED = re.compile(r"^[a-z0-9./_-]+(:v?\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$")
# The exposition format's sample names for a family (a counter "x" is sampled as x_total).
SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",),
                   "summary": ("", "_sum", "_count"), "untyped": ("",)}

DOCKERFILE = DockerfileParser(str(DEPLOY / "Dockerfile"))
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
MANIFEST_FILES = sorted(path for path in (DEPLOY / "kubernetes").glob("*.yaml") if path.name != "kustomization.yaml")
MANIFESTS = [document for path in MANIFEST_FILES for document in yaml.safe_load_all(path.read_text()) if document]
UNIT_FILES = sorted((DEPLOY / "systemd").glob("*.service"))
DASHBOARD = json.loads((DEPLOY / "grafana/dashboards/computepool.json").read_text())


@dataclasses.dataclass
class Process:
    """A process a deploy file starts from our image (or our installation, for systemd)."""
    where: str
    argv: list[str]
    env: dict[str, str]

    @property
    def module(self) -> str | None:
        return self.argv[2] if len(self.argv) > 2 and self.argv[1] == "-m" else None

    @property
    def is_envoy(self) -> bool:
        return self.module == "devtools.envoy_config"

    @property
    def is_server(self) -> bool:
        return pathlib.Path(self.argv[0]).name == "computepool-server"


def is_ours(image: str) -> bool:
    return image.split(":")[0] == OUR_IMAGE


def without_interpolation(value) -> str:
    """Compose's ${VAR:?message} and ${VAR:-default} stand for a value the operator gives."""
    return re.sub(r"\$\{[^}]*\}", "given-by-the-operator", str(value))


def compose_processes() -> list[Process]:
    return [Process(f"compose {name}", service.get("command", json.loads(DOCKERFILE.cmd)),
                    {**DOCKERFILE.envs, **{key: without_interpolation(value)
                                           for key, value in service.get("environment", {}).items()}})
            for name, service in COMPOSE["services"].items() if is_ours(service["image"])]


def pod_templates() -> list[tuple[dict, dict]]:
    """(the workload, its pod template) of every Deployment and Job."""
    return [(document, document["spec"]["template"]) for document in MANIFESTS
            if document["kind"] in ("Deployment", "Job")]


def kubernetes_processes() -> list[Process]:
    config_maps = {document["metadata"]["name"]: document["data"] for document in MANIFESTS
                   if document["kind"] == "ConfigMap"}
    processes = []
    for workload, template in pod_templates():
        for container in template["spec"]["containers"]:
            env = dict(DOCKERFILE.envs)
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    env.update(config_maps[source["configMapRef"]["name"]])
            env.update({item["name"]: item["value"] for item in container.get("env", []) if "value" in item})
            argv = container.get("command", json.loads(DOCKERFILE.cmd)) + container.get("args", [])
            processes.append(Process(f"kubernetes {workload['metadata']['name']}/{container['name']}", argv, env))
    return processes


def unit(path: pathlib.Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(path)
    return parser


def systemd_env() -> dict[str, str]:
    lines = (DEPLOY / "systemd/computepool.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def systemd_processes() -> list[Process]:
    return [Process(f"systemd {path.name} {key}", shlex.split(unit(path)["Service"][key]), systemd_env())
            for path in UNIT_FILES for key in ("ExecStartPre", "ExecStart") if key in unit(path)["Service"]]


PROCESSES = [Process("Dockerfile CMD", json.loads(DOCKERFILE.cmd), DOCKERFILE.envs),
             *compose_processes(), *kubernetes_processes(), *systemd_processes()]


def copied_into_image() -> set[str]:
    """The repository paths the runtime stage COPYs (the wheel is installed, not copied)."""
    sources = set()
    for instruction in DOCKERFILE.structure:
        words = instruction["value"].split()
        if instruction["instruction"] == "COPY" and not any(word.startswith("--from") for word in words):
            sources.update(words[:-1])
    return sources - {"."}  # the builder's whole tree


def test_the_deploy_files_start_the_server_migrations_and_envoy():
    """Guards the checks below against finding nothing to check."""
    for kind in ("compose", "kubernetes", "systemd"):
        started = [p for p in PROCESSES if p.where.startswith(kind)]
        assert any(p.is_server for p in started), kind
        assert any(p.is_envoy for p in started), kind
        assert any(p.module == "coordinator.storage.migrate" for p in started), kind


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.where)
def test_every_command_is_a_program_of_the_project_that_the_image_ships(process):
    # the server's wheel and the client wheel it depends on (computepool-miner is the client's)
    scripts = {name for pyproject in (ROOT / "pyproject.toml", ROOT / "clients/pyproject.toml")
               for name in tomllib.loads(pyproject.read_text())["project"]["scripts"]}
    program = pathlib.Path(process.argv[0])
    if process.where.startswith("systemd"):
        assert program.parent == pathlib.Path("/opt/computepool/venv/bin"), process.argv
    if process.module is not None:
        assert program.name == "python", process.argv
        spec = importlib.util.find_spec(process.module)
        assert spec is not None, f"{process.where}: no module {process.module}"
        origin = pathlib.Path(spec.origin).relative_to(ROOT)
        in_wheel = origin.parts[0] in ("server", "clients")
        assert in_wheel or str(origin) in copied_into_image(), f"{process.where}: the image lacks {origin}"
    else:
        assert program.name in scripts, f"{process.where}: {program.name} is no console script"


def placed_in_image() -> set[pathlib.Path]:
    """The files the runtime stage COPYs, as paths relative to /opt/computepool (the renderer's ROOT
    there); from the build context or from another stage (the npm assets)."""
    stages = [index for index, instruction in enumerate(DOCKERFILE.structure) if instruction["instruction"] == "FROM"]
    placed = set()
    for instruction in DOCKERFILE.structure[stages[-1]:]:
        words = [word for word in instruction["value"].split() if not word.startswith("--")]
        if instruction["instruction"] == "COPY":
            sources, destination = words[:-1], pathlib.PurePosixPath(words[-1])
            placed |= {(destination / pathlib.PurePosixPath(source).name).relative_to("/opt/computepool")
                       for source in sources}
    return placed


def test_the_image_holds_every_file_a_rendered_envoy_config_reads():
    """Descriptor, Lua filter, the API reference and its npm assets: each where the renderer names it."""
    config = envoy_config.render(listen_port=8000, grpc_ports=[50051], metrics_port=9464, rate_limits={})
    read = {pathlib.PurePosixPath(path).relative_to(ROOT)
            for path in re.findall(rf'"({re.escape(str(ROOT))}/[^"]+)"', config)}
    assert {pathlib.PurePosixPath(path) for path in (
        "envoy/filter.lua", "envoy/openapi.json", "node_modules/redoc/bundles/redoc.standalone.js")} <= read
    assert read <= placed_in_image(), read - placed_in_image()


def test_the_image_gets_the_renderer_and_every_envoy_file():
    envoy_files = {f"envoy/{path.name}" for path in (ROOT / "envoy").iterdir()}
    assert envoy_files <= copied_into_image()
    # what the renderer imports from devtools must be in the image too
    imported = set(re.findall(r"^from (devtools\.\w+) import", (ROOT / "devtools/envoy_config.py").read_text(), re.M))
    assert {f"{name.replace('.', '/')}.py" for name in imported} <= copied_into_image()
    for source in copied_into_image():
        assert (ROOT / source).exists(), source


def servers_named(process: Process, host: str) -> bool:
    """Whether `host`, as the Envoy of `process` sees it, is the servers of the same deploy file."""
    if process.where.startswith("compose"):
        service = COMPOSE["services"].get(host, {})
        return service.get("command") == ["computepool-server"]
    if process.where.startswith("kubernetes"):
        services = [d for d in MANIFESTS if d["kind"] == "Service" and d["metadata"]["name"] == host]
        servers = [t["metadata"]["labels"] for _, t in pod_templates()
                   if t["spec"]["containers"][0].get("command") == ["computepool-server"]]
        return any(s["spec"].get("clusterIP") == "None"  # every pod's address, not one virtual IP
                   and any(s["spec"]["selector"].items() <= labels.items() for labels in servers) for s in services)
    return host == "127.0.0.1" and process.env["GRPC_HOST"] in ("127.0.0.1", "0.0.0.0")


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.is_envoy], ids=lambda p: p.where)
def test_every_envoy_renders_a_config_envoy_accepts_pointing_at_its_servers(process, tmp_path):
    arguments = envoy_config.arguments().parse_args(process.argv[3:])
    assert servers_named(process, arguments.upstream_host), (process.where, arguments.upstream_host)
    config = tmp_path / "envoy.yaml"
    config.write_text(envoy_config.render_from_env(process.env, arguments.upstream_host))
    checked = subprocess.run([str(TOOLS / "envoy"), "--mode", "validate", "-c", str(config)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.is_envoy or p.is_server], ids=lambda p: p.where)
def test_servers_and_envoys_use_the_ports_of_the_project(process):
    settings = Settings.from_env(process.env)  # what the process reads: its environment, else the defaults
    ports = {"API_PORT": settings.api_port, "GRPC_PORT": settings.grpc_port, "METRICS_PORT": settings.metrics_port}
    assert ports == {name: int(port) for name, port in PORTS.items()}, process.where
    assert settings.grpc_host == "0.0.0.0" or process.where.startswith("systemd"), "a container listens outside itself"


def test_ports_published_probed_and_scraped_are_the_same():
    exposed = [i["value"].split() for i in DOCKERFILE.structure if i["instruction"] == "EXPOSE"]
    assert sorted(sum(exposed, [])) == sorted(PORTS.values())
    assert COMPOSE["services"]["envoy"]["ports"] == [f"{PORTS['API_PORT']}:{PORTS['API_PORT']}"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert [c["port"] for job in prometheus["scrape_configs"] for c in job["dns_sd_configs"]] == [9464]
    for _, template in pod_templates():
        for container in template["spec"]["containers"]:
            ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
            if container.get("command") == ["computepool-server"]:
                assert ports == {"grpc": 50051, "metrics": 9464}
                for probe in ("readinessProbe", "livenessProbe"):  # the gRPC health protocol
                    assert container[probe]["grpc"]["port"] == 50051, probe
                assert template["metadata"]["annotations"]["prometheus.io/port"] == "9464"
            elif "devtools.envoy_config" in container.get("command", []):
                assert ports == {"http": 8000}
    for service in (d for d in MANIFESTS if d["kind"] == "Service"):
        for port in service["spec"]["ports"]:
            assert port["port"] == {"grpc": 50051, "metrics": 9464, "http": 8000}[port["targetPort"]], port


def test_every_image_is_built_here_or_a_pinned_public_one():
    ours = set()
    for name, service in COMPOSE["services"].items():
        if is_ours(service["image"]):
            assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
            ours.add(service["image"])
        else:
            assert PINNED.match(service["image"]), service["image"]
    for _, template in pod_templates():
        for container in template["spec"]["containers"]:
            assert is_ours(container["image"]), container["image"]
            ours.add(container["image"])
    assert len(ours) == 1, f"one tag of our image everywhere: {ours}"
    for image in DOCKERFILE.parent_images:
        assert PINNED.match(image), image


def test_the_compose_file_follows_the_compose_specification():
    checked = subprocess.run([str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                              str(DEPLOY / "compose.yaml")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_kubernetes_manifests_follow_the_kubernetes_schemas():
    kustomization = yaml.safe_load((DEPLOY / "kubernetes/kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [path.name for path in MANIFEST_FILES]
    checked = subprocess.run([str(TOOLS / "kubernetes-validate"), "--strict", *map(str, MANIFEST_FILES)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "Job", "PodDisruptionBudget", "ConfigMap"} == {
        document["kind"] for document in MANIFESTS}
    pods = [template["metadata"]["labels"] for _, template in pod_templates()]
    for document in MANIFESTS:
        if document["kind"] == "HorizontalPodAutoscaler":
            target = document["spec"]["scaleTargetRef"]
            assert any(d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"] for d in MANIFESTS)
        if document["kind"] in ("Service", "PodDisruptionBudget", "Deployment"):
            selector = document["spec"]["selector"]
            selector = selector if document["kind"] == "Service" else selector["matchLabels"]
            assert any(selector.items() <= labels.items() for labels in pods), document["metadata"]["name"]
    for _, template in pod_templates():  # non-root, as the image
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_dockerfile_passes_hadolint_and_runs_as_non_root():
    checked = subprocess.run([str(TOOLS / "hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    users = [i["value"] for i in DOCKERFILE.structure if i["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """verify also checks that every Exec path is an executable file: in a scratch root (--root),
    holding the system's own units and stand-ins for the installation's programs, which the test
    above checks are real programs of the project."""
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", tmp_path / "usr/lib/systemd/system", symlinks=True)
    installed = tmp_path / "etc/systemd/system"
    installed.mkdir(parents=True)
    for process in systemd_processes():
        program = tmp_path / process.argv[0].lstrip("/")
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    for path in UNIT_FILES:
        shutil.copy(path, installed)
    checked = subprocess.run(["systemd-analyze", "verify", f"--root={tmp_path}",
                              *(str(installed / path.name) for path in UNIT_FILES)], capture_output=True, text=True)
    # verify warns (unknown keys, bad values) without failing: a clean unit prints nothing
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_the_prometheus_config_passes_promtool():
    checked = subprocess.run(["promtool", "check", "config", str(DEPLOY / "prometheus/prometheus.yml")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def dashboard_queries() -> list[str]:
    panels = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_grafana_provisions_the_data_sources_and_dashboard_it_uses():
    provisioned = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/computepool.yaml").read_text())
    uids = {source["uid"] for source in provisioned["datasources"]}
    used = {p["datasource"]["uid"] for p in DASHBOARD["panels"] if "datasource" in p}
    assert used and used <= uids
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/computepool.yaml").read_text())
    mounts = COMPOSE["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in mounts


def metric_names(query: str) -> set[str]:
    # Grafana fills in $__rate_interval; the parser wants a duration there.
    expression = promql_parser.parse(query.replace("$__rate_interval", "1m"))
    names = set()
    promql_parser.walk(expression, lambda node: names.add(node.name)
                       if isinstance(node, promql_parser.VectorSelector) else None)
    return names


def exported_families(exposition: str) -> dict[str, set[str]]:
    """family -> the sample names the server exports for it (even a family with no sample yet)."""
    return {family.name: {family.name + suffix for suffix in SAMPLE_SUFFIXES[family.type]}
            for family in text_string_to_metric_families(exposition)}


async def test_every_dashboard_query_names_metrics_the_server_exports_and_shows_them_all(pool):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{pool.metrics_port}/metrics") as response:
            families = exported_families(await response.text())
    exported = set().union(*families.values())
    assert {"api_requests_total", "cocoon_worker_status", "active_jobs", "registered_miners"} <= exported
    queried = set()
    for query in dashboard_queries():
        names = metric_names(query)
        assert names and names <= exported, (query, names - exported)
        queried |= names
    # x_created is the time a series of counter or histogram x began (printed as a family of its own
    # once x has samples): a bookkeeping figure, not one to plot.
    plotted = [family for family in families
               if not (family.endswith("_created") and family.removesuffix("_created") in families)]
    assert not [family for family in plotted if not families[family] & queried], "a metric with no panel"


def test_the_readme_names_every_deploy_file_and_only_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`(deploy/[\w./@-]+)`", readme))  # @: systemd templates
    files = {str(path.relative_to(ROOT)) for path in DEPLOY.rglob("*") if path.is_file() and path.name != ".env"}
    assert named - files == set(), "the README names files that do not exist"
    assert files - named == set(), "deploy/ files the README does not name"
