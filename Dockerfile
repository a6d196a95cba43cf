# Outpost in a container: the one `outpost` binary on Debian with ffmpeg.
# Written for Kubernetes (deploy/kubernetes/); not built in this repository's
# CI (its machines run no Docker engine).
#
#   docker build -t outpost .
#   docker run -p 8080:8080 -e OUTPOST_LISTEN=0.0.0.0:8080 outpost serve
#
# The same image runs every role: `serve` (API + UI, `--workers 0` for API
# only), `worker`, `migrate`, `export`.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X outpost/internal/cli.Version=${VERSION}" \
      -o /out/outpost ./cmd/outpost

FROM debian:bookworm-slim
# ffmpeg/ffprobe render; Noto fonts draw burned-in captions in every script;
# curl is the health check's client.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ffmpeg fonts-noto-core fonts-noto-cjk ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/outpost --create-home outpost
COPY --from=build /out/outpost /usr/local/bin/outpost
USER 10001:10001
WORKDIR /var/lib/outpost
ENV OUTPOST_DATA_DIR=/var/lib/outpost \
    OUTPOST_LISTEN=0.0.0.0:8080
EXPOSE 8080
# /healthz answers once the database does. Workers serve no HTTP: their
# manifests turn this check off.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["outpost"]
CMD ["serve"]
