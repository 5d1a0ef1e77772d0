# Production image: one static hookd binary built with -tags nodev, which leaves the dev
# tools out (embedded Temporal server and UI, private PostgreSQL, hookd bench); hookd api
# and hookd worker talk to an external PostgreSQL and Temporal.
# The Go of go.mod's go line, so that no other toolchain is fetched during the build.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version hookd reports (hookd version, the User-Agent of webhook requests):
# docker build --build-arg VERSION=$(git describe --tags --always) (compose: HOOKD_VERSION).
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -tags nodev -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /hookd ./cmd/hookd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /hookd /hookd
ENTRYPOINT ["/hookd"]
