{{/* Names and labels shared by every object. */}}
{{- define "tributary.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "tributary.labels" -}}
app.kubernetes.io/part-of: tributary
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
The settings file of one service: shared settings, the service's own, its
operator endpoint, and each mounted secret file. Later keys win.
*/}}
{{- define "tributary.settings" -}}
{{- $root := index . 0 -}}
{{- $svc := index . 1 -}}
{{- $s := merge (deepCopy $svc.settings) (deepCopy $root.Values.settings) -}}
{{- $_ := set $s "http" (printf "0.0.0.0:%v" $svc.httpPort) -}}
{{- range $setting, $key := $root.Values.secrets.files -}}
{{- $_ := set $s $setting (printf "/etc/tributary/secrets/%s" $key) -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}
