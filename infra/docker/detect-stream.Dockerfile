# tributary-detect-stream: a static binary on a distroless base, run as a non-root
# user. Build from the repository root (the workspace spans every module):
#   docker build -f infra/docker/detect-stream.Dockerfile -t tributary-detect-stream .
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Module files first, so dependency downloads are cached across code edits.
COPY go.work go.work.sum* ./
COPY schemas/go.mod schemas/go.sum* schemas/
COPY infra/go.mod infra/go.sum infra/
COPY producers/go.mod producers/go.sum producers/
COPY consumers/go.mod consumers/go.sum consumers/
COPY processors/go.mod processors/go.sum processors/
COPY tests/go.mod tests/go.sum tests/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tributary-detect-stream ./processors/cmd/tributary-detect-stream

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tributary-detect-stream /usr/local/bin/tributary-detect-stream
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/tributary-detect-stream"]
