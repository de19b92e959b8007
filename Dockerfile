# The ingressguard image: a static binary on distroless/static, running as
# the distroless "nonroot" user (65532), as manifests/base expects.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t ingressguard .
#
# VERSION is what `ingressguard version` prints. Multi-platform builds
# (docker buildx --platform linux/amd64,linux/arm64) cross-compile on the
# build machine's platform.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ingressguard ./cmd/ingressguard

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ingressguard /ingressguard
USER 65532:65532
ENTRYPOINT ["/ingressguard"]
