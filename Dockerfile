# petitiond: one static binary (the API, the worker and the admin commands) on a distroless
# base, run as a non-root user. Build from the repository root:
#
#   docker build -t petitions/petitiond:local .
#
# The image runs `petitiond api` unless given another command (`worker`, `migrate`, `staff …`,
# `keys generate …`). Every setting comes from the environment (README, Configuration).
# There is no shell in the final image, so there is no HEALTHCHECK: let the orchestrator probe
# GET /healthz (liveness) and GET /readyz (readiness: PostgreSQL and Temporal reachable) on the
# API port; deploy/README.md shows how for Compose and Kubernetes.

# The builder is pinned to the Go release the project builds with (go.mod, README); bump both
# together. GOTOOLCHAIN=local: the build never fetches another toolchain.
FROM golang:1.26.8-bookworm AS build
ENV GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# -trimpath: no build machine paths in the binary; -s -w: no symbol tables (panics keep their
# stack traces). The image's version is its tag; nothing is stamped from git.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags='-s -w' -o /out/petitiond ./cmd/petitiond

# distroless/static: CA certificates (OIDC, webhooks, TLS to Temporal and PostgreSQL) and
# /etc/passwd with the nonroot user, nothing else. The binary embeds the time zone data.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/petitiond /petitiond
# 65532 is distroless's "nonroot". The keys file must be owned by this UID with mode 0600
# (petitiond refuses a keys file that group or others may read).
USER 65532:65532
ENV HTTP_ADDR=0.0.0.0:8080 LOG_FORMAT=json
EXPOSE 8080 9090
# petitiond stops gracefully on SIGTERM (in-flight requests, then the worker's running tasks).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/petitiond"]
CMD ["api"]
