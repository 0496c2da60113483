"""The miner's configuration (TOML + COMPUTEPOOL_MINER_* environment) and its private state files."""

from __future__ import annotations

import stat

import pytest
from computepool_miner import state
from computepool_miner.config import ConfigError, load

MINIMAL = """
server = "pool.example:50051"
api_key = "cpk_x"
owner_wallet = "UQA..."
worker_name = "rig"
state_dir = "/var/lib/computepool-miner"
[jobs.echo]
executor = "echo"
"""


def config_file(tmp_path, text: str):
    path = tmp_path / "miner.toml"
    path.write_text(text)
    return path


def test_defaults_and_the_environment_over_the_file(tmp_path):
    config = load(config_file(tmp_path, MINIMAL), environ={})
    assert (config.max_concurrent_jobs, config.instance, config.metrics_port, config.price_coefficient) == (
        1, 0, 9400, 1.0)
    config = load(config_file(tmp_path, MINIMAL), environ={
        "COMPUTEPOOL_MINER_INSTANCE": "3", "COMPUTEPOOL_MINER_STATE_DIR": "/var/lib/computepool-miner/3",
        "COMPUTEPOOL_MINER_MAX_CONCURRENT_JOBS": "8"})
    assert (config.instance, str(config.state_dir), config.max_concurrent_jobs) == (
        3, "/var/lib/computepool-miner/3", 8)
    assert config.metrics_port == 9403  # one per GPU instance unless set


@pytest.mark.parametrize("change, environ, message", [
    (MINIMAL.replace('api_key = "cpk_x"', ""), {}, "api_key: required"),
    (MINIMAL.replace('worker_name = "rig"', 'worker_name = "rig"\nmax_concurrent_jobs = 0'), {},
     "max_concurrent_jobs: must be at least 1"),
    (MINIMAL.replace('executor = "echo"', 'executor = "cuda"'), {}, "jobs.echo.executor: one of echo, command, openai"),
    (MINIMAL.replace('worker_name = "rig"', 'worker_name = "rig"\nprice = 2'), {}, "price: unknown key"),
    (MINIMAL, {"COMPUTEPOOL_MINER_INSTANCE": "gpu0"}, "COMPUTEPOOL_MINER_INSTANCE: not a int: 'gpu0'"),
    ("server = ", {}, "is not TOML"),
])
def test_a_bad_config_names_the_key(tmp_path, change, environ, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load(config_file(tmp_path, change), environ=environ)


def test_the_key_and_identity_are_kept_private_and_reused(tmp_path):
    folder = tmp_path / "state"
    key = state.signing_key(folder)
    assert bytes(state.signing_key(folder)) == bytes(key)
    state.save_identity(folder, state.Identity("m-1", "token", 7, "pool:50051"))
    assert state.load_identity(folder) == state.Identity("m-1", "token", 7, "pool:50051")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {
        "ed25519.key": 0o600, "identity.json": 0o600}
