"""A second, throw-away Docker engine: the "remote" host of a stack whose `slipway:dockerHost`
is not the engine DOCKER_HOST points at (the laptop-and-VPS shape of docs/install.md).

`SecondEngine.start()` runs one more dockerd, in a network namespace of its own (its bridge
and iptables rules never meet the project's engine), with its data, exec root and socket
under a short folder in /tmp (unix socket paths are limited to 108 bytes). `load` copies
images from the project's engine into it (`docker save | docker load`: nothing can be
pulled); `stop` ends that dockerd by its pid and removes the folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class SecondEngine:
    dir: Path
    process: subprocess.Popen

    @property
    def host(self) -> str:
        return f"unix://{self.dir}/docker.sock"

    @classmethod
    def start(cls, wait_seconds: float = 60) -> SecondEngine:
        """Start the dockerd and wait (bounded) until it answers."""
        folder = Path(tempfile.mkdtemp(prefix="slw-eng-", dir="/tmp"))
        os.chmod(folder, 0o755)  # the vps-lab's `deploy` user passes through to the socket
        log = (folder / "dockerd.log").open("w")
        dockerd = (
            f"dockerd --data-root {folder}/root --exec-root {folder}/exec "
            f"-H unix://{folder}/docker.sock --pidfile {folder}/dockerd.pid "
            "--userland-proxy=false"
        )
        process = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", f"ip link set lo up && exec {dockerd}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        engine = cls(folder, process)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and process.poll() is None:
            if engine.docker("version").returncode == 0:
                return engine
            time.sleep(0.3)
        text = (folder / "dockerd.log").read_text(errors="replace")[-3000:]
        engine.stop()
        raise AssertionError(f"the second dockerd did not answer in {wait_seconds} s:\n{text}")

    def docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """The docker CLI against this engine."""
        return subprocess.run(
            ["docker", "-H", self.host, *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def load(self, *images: str) -> None:
        """Copy `images` from the project's engine (DOCKER_HOST) into this one."""
        saved = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        loaded = subprocess.run(
            ["docker", "-H", self.host, "load", "-q"], stdin=saved.stdout,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert saved.wait(timeout=60) == 0 and loaded.returncode == 0, loaded.stderr

    def has_image(self, reference: str) -> bool:
        return self.docker("image", "inspect", reference).returncode == 0

    def stop(self, wait_seconds: float = 60) -> None:
        """Stop this dockerd (its containers with it) and remove its folder."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=wait_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        subprocess.run(["umount", "-R", str(self.dir / "exec")], capture_output=True, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
