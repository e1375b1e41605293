# One image for the four services; the command picks one:
#   docker run IMAGE python -m services.intake   (or chart, reader, status)
#
# Base image: pinned by tag. Pin it by digest as well where a registry is
# reachable (`docker buildx imagetools inspect python:3.11.14-slim-trixie`),
# then write `python:3.11.14-slim-trixie@sha256:<digest>` in both FROM lines
# and let a bot (Renovate/Dependabot) move the pair.

# --- build: install the project and its dependencies into /opt/venv ---------
FROM python:3.11.14-slim-trixie AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every dependency ships a wheel for linux/amd64 and linux/arm64: no compiler
# is installed. The venv has no pip of its own; the base image's pip fills it.
RUN python -m venv --without-pip /opt/venv

WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
# A regular (not editable) install: the code lands in the venv's
# site-packages, byte-compiled, so the final stage needs nothing from /src.
RUN pip --python /opt/venv/bin/python install --no-cache-dir . \
    && /opt/venv/bin/python -c "import services.intake, services.chart, services.reader.agents, services.status"

# --- final: the venv, a fixed non-root user, nothing else --------------------
FROM python:3.11.14-slim-trixie

LABEL org.opencontainers.image.title="hd-pipeline" \
      org.opencontainers.image.description="Human Design reading pipeline: intake, chart, reader, status" \
      org.opencontainers.image.licenses="Apache-2.0"

# Fixed UID/GID so Kubernetes' runAsUser/runAsGroup (10001) match the image.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json

# Nothing is written at run time; a read-only root file system works, with a
# writable /tmp (an emptyDir in Kubernetes, a tmpfs in compose).
WORKDIR /tmp
USER 10001:10001

# intake 8080, status 8081 (API + ops); chart 9101, reader 9102 (ops only)
EXPOSE 8080 8081 9101 9102

# No HEALTHCHECK here: the port depends on the service. docker-compose.yml
# and the Kubernetes probes check each service's /readyz and /healthz.
CMD ["python", "-m", "services.intake"]
