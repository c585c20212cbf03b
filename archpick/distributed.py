"""Several machines (or processes) through keras-tuner's own chief/worker mode: no home-made scheduler.

The chief serves each family's keras-tuner oracle over gRPC (keras-tuner's OracleServicer) on
``port + family_index``; workers are ordinary keras-tuner tuners whose oracle is keras-tuner's OracleClient,
selected by the environment variables KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT,
which archpick sets itself. archpick adds only what a budget needs: the chief stops serving when the budget
is spent, and a trial whose worker died (no result long after the per-trial limit) is ended as FAILED so the
search completes. Every wait has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

from archpick.errors import ArchpickError, OptionError

CONNECT_TIMEOUT = float(os.environ.get("ARCHPICK_CONNECT_TIMEOUT", 120))  # worker's wait for the chief
STALE_GRACE = 30.0  # seconds past the per-trial limit before a silent worker's trial is declared lost
ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def parse_address(text: str) -> tuple[str, int]:
    """Parse HOST:PORT (the chief's address)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise OptionError(f"--chief must be HOST:PORT, e.g. 127.0.0.1:8470, got {text!r}")
    return host, int(port)


@contextlib.contextmanager
def worker_env(host: str, port: int, tuner_id: str) -> Iterator[None]:
    """Set keras-tuner's distributed-tuning variables for one worker tuner, restoring them afterwards."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ.update(
        {"KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": host, "KERASTUNER_ORACLE_PORT": str(port)}
    )
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def wait_for_chief(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> None:
    """Block until the chief serves on host:port, or raise a clear error after `timeout` seconds."""
    import grpc

    channel = grpc.insecure_channel(f"{host}:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError as exc:
        raise ArchpickError(
            f"no archpick chief answered at {host}:{port} within {timeout:.0f}s; start "
            "`archpick fit DATA --chief-port PORT` first and check the address"
        ) from exc
    finally:
        channel.close()


def reap_lost_trials(oracle, now: float, limit: float) -> list[str]:
    """End as FAILED the running trials that have run longer than `limit` seconds (their worker is gone)."""
    from keras_tuner.src.engine import trial as trial_module

    lost = []
    for _tuner_id, trial in list(oracle.ongoing_trials.items()):
        started = oracle._started.get(trial.trial_id)
        if started is not None and now - started > limit:
            trial.status = trial_module.TrialStatus.FAILED
            trial.message = "worker lost: no result within the trial limit"
            oracle.end_trial(trial)
            lost.append(trial.trial_id)
    return lost


def serve_oracle(oracle, port: int, ip: str = "0.0.0.0", poll: float = 0.5) -> list[str]:
    """Serve `oracle` (a BudgetOracle) to workers until its budget is spent and no trial is running.

    Args:
        oracle: The family's BudgetOracle.
        port: TCP port.
        ip: Interface to bind (all by default; loopback in tests).
        poll: Seconds between checks.

    Returns:
        Trial ids ended because their worker was lost.

    Raises:
        ArchpickError: The port cannot be bound.
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    oracle.verbose = 0
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        bound = server.add_insecure_port(f"{ip}:{port}")
    except RuntimeError as exc:
        bound = 0
        cause: Exception | None = exc
    else:
        cause = None
    if not bound:
        raise ArchpickError(
            f"the chief cannot listen on {ip}:{port} (port in use or not allowed); choose another --chief-port"
        ) from cause
    server.start()
    lost: list[str] = []
    limit = oracle.trial_cap + STALE_GRACE
    hard_end = oracle.clock.remaining() + limit
    started = time.monotonic()
    try:
        while True:
            time.sleep(poll)
            lost += reap_lost_trials(oracle, time.monotonic(), limit)
            done = servicer.stop_triggered or oracle.clock.remaining() <= 0
            if done and not oracle.ongoing_trials:
                break
            if time.monotonic() - started > hard_end:
                break
    finally:
        server.stop(grace=2)
    return lost


def spawn_local_workers(
    n: int, data: str | Path, port: int, run_dir: Path, extra_args: list[str], gpus: int = 0
) -> list[subprocess.Popen]:
    """Start `n` worker processes on this machine: one GPU each (CUDA_VISIBLE_DEVICES) when GPUs exist, else
    an equal share of the CPU cores each (the chief only serves the oracle)."""
    from archpick.hardware import thread_env

    procs = []
    for i in range(n):
        env = dict(os.environ)
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(i % gpus)
        else:
            env.update(thread_env(os.cpu_count() or 1, n))
        log = open(run_dir / f"worker-{i}.log", "w")  # noqa: SIM115 - kept open for the child's lifetime
        cmd = [
            sys.executable,
            "-m",
            "archpick",
            "worker",
            str(data),
            "--chief",
            f"127.0.0.1:{port}",
            "--run-dir",
            str(run_dir),
            "--tuner-id",
            f"worker-{i}",
            "-q",
            *extra_args,
        ]
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
    return procs


def free_port() -> int:
    """A TCP port that is free on loopback now (for local workers)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
