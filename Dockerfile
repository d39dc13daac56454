# The StackWatch image: one image for every component; the pod picks one with
# `stackwatch serve <gateway|auth|ingest|alarm|autoscale>` (see k8s/).
#
#   docker build -t stackwatch:0.1.0 .
#
# Runs as a numeric non-root user (10001), so Kubernetes can verify runAsNonRoot, and needs no
# writable root file system (the manifests mount an emptyDir on /tmp only).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 stackwatch \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin stackwatch

# Only what the wheel needs (pyproject's wheel target: stackwatch, gateway, services).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY stackwatch ./stackwatch
COPY gateway ./gateway
COPY services ./services
RUN pip install . \
 && cd / && rm -rf /src

WORKDIR /
USER 10001:10001
EXPOSE 8080 50051 50052 50053 50054
ENTRYPOINT ["stackwatch"]
CMD ["--help"]
