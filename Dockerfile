# wsgateway container image: a static binary on distroless, running as nonroot.
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t wsgateway .
# `make image` does exactly that. Base images are pinned by tag;
# scripts/check-dockerfile.sh (run by `make lint`) keeps GO_VERSION equal to
# the go directive of go.mod.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Build with exactly the toolchain of the image: never download another one.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
# Dependencies first, in their own layer: it is rebuilt only when go.mod or
# go.sum change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY service/ service/
ARG VERSION=dev
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/wsgateway ./service/cmd/wsgateway

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wsgateway /wsgateway
# nonroot is uid/gid 65532 in distroless; Kubernetes' runAsNonRoot can only
# verify a numeric user, so manifests set runAsUser/runAsGroup: 65532 too.
USER nonroot:nonroot
# 8080 clients (/ws), 8081 backend API, 9090 /metrics /healthz /readyz
EXPOSE 8080 8081 9090
ENTRYPOINT ["/wsgateway"]
