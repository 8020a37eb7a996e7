// Package deploy checks what ships to a cluster: the Helm chart in
// infra/helm (linted and rendered by the real helm, the rendered objects
// held against the binaries they run) and the Dockerfiles in infra/docker.
package deploy
