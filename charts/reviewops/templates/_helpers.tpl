{{/* The release's full name, at most 63 characters. */}}
{{- define "reviewops.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "reviewops" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-reviewops" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "reviewops.labels" -}}
app.kubernetes.io/name: reviewops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "reviewops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "reviewops.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "reviewops.selectorLabels" -}}
app.kubernetes.io/name: reviewops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The `job` label of the operator's series (the metrics Service's name under a ServiceMonitor). */}}
{{- define "reviewops.job" -}}
{{- default (include "reviewops.fullname" .) .Values.metrics.job -}}
{{- end -}}

{{- define "reviewops.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where the analysis dashboard template is read from. */}}
{{- define "reviewops.templateDir" -}}
{{- default "/etc/reviewops/dashboards" .Values.grafana.dashboardTemplateDir -}}
{{- end -}}

{{/* Mount the chart's analysis.json (a ConfigMap) unless another folder is named. */}}
{{- define "reviewops.mountTemplate" -}}
{{- if and (ne .Values.grafana.mode "disabled") (not .Values.grafana.dashboardTemplateDir) -}}true{{- end -}}
{{- end -}}
